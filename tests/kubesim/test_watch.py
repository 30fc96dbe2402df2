"""Watch: initial events, resume from a resourceVersion, selectors, 410 for expired history."""

from __future__ import annotations

import json

import pytest
import requests
from kubernetes import watch
from kubernetes.client import ApiException


@pytest.fixture
def http(kubesim_server, kubesim_cluster):
    token = kubesim_cluster["kubeconfig"]["users"][0]["user"]["token"]
    base = f"{kubesim_server.url}/clusters/{kubesim_cluster['name']}"
    return base, {"Authorization": f"Bearer {token}"}


def _events(http, path: str, **params) -> list[dict]:
    base, auth = http
    params.setdefault("timeoutSeconds", "1")
    response = requests.get(
        f"{base}{path}", headers=auth, params={"watch": "1", **params}, stream=True, timeout=10
    )
    assert response.status_code == 200
    return [json.loads(line) for line in response.iter_lines() if line]


def test_watch_from_now_sees_added_modified_deleted(core):
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "w"}})
    core.patch_namespaced_config_map("w", "default", {"data": {"a": "1"}})
    core.delete_namespaced_config_map("w", "default")
    stream = watch.Watch().stream(
        core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=1
    )
    events = [(e["type"], e["object"].metadata.name) for e in stream]
    assert events == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_watch_without_resource_version_starts_with_current_objects(core, http):
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "b"}})
    events = _events(http, "/api/v1/namespaces/default/configmaps")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]


def test_resume_replays_only_later_events(core, http):
    first = core.create_namespaced_config_map("default", {"metadata": {"name": "one"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "two"}})
    events = _events(
        http,
        "/api/v1/namespaces/default/configmaps",
        resourceVersion=first.metadata.resource_version,
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "two")]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs[0] > int(first.metadata.resource_version)


def test_label_selector_turns_leaving_objects_into_deleted(core, http):
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "s", "labels": {"on": "y"}}})
    core.patch_namespaced_config_map("s", "default", {"metadata": {"labels": {"on": "n"}}})
    core.patch_namespaced_config_map("s", "default", {"metadata": {"labels": {"on": "y"}}})
    events = _events(
        http, "/api/v1/namespaces/default/configmaps", resourceVersion=rv, labelSelector="on=y"
    )
    assert [e["type"] for e in events] == ["ADDED", "DELETED", "ADDED"]


def test_too_old_resource_version_is_410_expired(kubesim_server, kubesim_cluster, core, http):
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "early"}})
    # forget the history, as if more than the kept window of writes had happened since
    cluster = kubesim_server.cluster(kubesim_cluster["name"])
    kubesim_server.call(cluster.store.compact)
    core.create_namespaced_config_map("default", {"metadata": {"name": "late"}})
    events = _events(http, "/api/v1/namespaces/default/configmaps", resourceVersion=rv)
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith(f"too old resource version: {rv} (")

    with pytest.raises(ApiException) as info:
        list(
            watch.Watch().stream(
                core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=1
            )
        )
    assert info.value.status == 410


def test_history_window_is_bounded(sim):
    sim.store.compact()  # the bootstrap objects' events would outnumber the window
    sim.store._history_size = 5  # a tiny window for the test
    start = sim.store.resource_version
    for i in range(10 + len(sim.store._history)):  # the new cluster's own objects first
        sim.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"h{i}"}})
    with pytest.raises(Exception, match="too old resource version"):
        list(sim.store.events_since(start))
    assert len(list(sim.store.events_since(sim.store.resource_version - 3))) == 3


def test_watch_a_single_object_by_field_selector(core, http):
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "y"}})
    events = _events(
        http,
        "/api/v1/namespaces/default/configmaps",
        resourceVersion=rv,
        fieldSelector="metadata.name=y",
    )
    assert [e["object"]["metadata"]["name"] for e in events] == ["y"]


def test_bookmarks_when_allowed(core, http, monkeypatch):
    from kubesim.apiserver import watch as watch_module

    monkeypatch.setattr(watch_module, "BOOKMARK_INTERVAL", 0.0)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    events = _events(
        http,
        "/api/v1/namespaces/default/configmaps",
        resourceVersion=rv,
        allowWatchBookmarks="true",
    )
    assert events and {e["type"] for e in events} == {"BOOKMARK"}
    assert events[0]["object"]["metadata"]["resourceVersion"] == rv
