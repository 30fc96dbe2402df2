"""Paged lists are one snapshot, as kube-apiserver reads them from etcd: every page at the
first page's resourceVersion; resourceVersionMatch; 410 once the revision is compacted."""

from __future__ import annotations

import base64
import json

import pytest
from kubernetes.client.rest import ApiException

from kubesim.storage.cluster import CONTINUE_EXPIRED


def configmap(name: str, value: str = "1") -> dict:
    return {"metadata": {"name": name}, "data": {"v": value}}


@pytest.fixture
def five(core):
    for name in ("a", "b", "c", "d", "e"):
        core.create_namespaced_config_map("default", configmap(name))
    return core


def names(answer) -> list[str]:
    return [o.metadata.name for o in answer.items]


def decoded(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def error(exc: ApiException) -> dict:
    return json.loads(exc.body)


def test_later_pages_show_the_first_pages_snapshot(five):
    core = five
    first = core.list_namespaced_config_map("default", limit=2)
    assert names(first) == ["a", "b"]
    assert first.metadata.remaining_item_count == 3
    token = decoded(first.metadata._continue)
    assert token == {
        "v": "meta.k8s.io/v1",
        "rv": int(first.metadata.resource_version),
        "start": "b\x00",
    }

    # meanwhile: one created among the rest, one changed, one deleted
    core.create_namespaced_config_map("default", configmap("cc"))
    core.patch_namespaced_config_map("d", "default", {"data": {"v": "2"}})
    core.delete_namespaced_config_map("e", "default")

    second = core.list_namespaced_config_map("default", limit=2, _continue=first.metadata._continue)
    assert second.metadata.resource_version == first.metadata.resource_version
    assert names(second) == ["c", "d"]
    assert second.items[1].data == {"v": "1"}  # as it was when the first page was read
    third = core.list_namespaced_config_map("default", limit=2, _continue=second.metadata._continue)
    assert names(third) == ["e"] and third.metadata._continue is None
    listed = int(first.metadata.resource_version)
    assert all(int(o.metadata.resource_version) <= listed for o in [*second.items, *third.items])

    # a new list sees the present
    assert names(core.list_namespaced_config_map("default")) == ["a", "b", "c", "cc", "d"]


def test_paging_across_namespaces_resumes_after_namespace_and_name(core):
    core.create_namespace({"metadata": {"name": "other"}})
    core.create_namespaced_config_map("default", configmap("z"))
    core.create_namespaced_config_map("other", configmap("a"))
    seen, token = [], None
    while True:
        page = core.list_config_map_for_all_namespaces(limit=1, _continue=token)
        seen += [(o.metadata.namespace, o.metadata.name) for o in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert ("default", "z") in seen and ("other", "a") in seen
    assert len(seen) == len(set(seen)) == len(core.list_config_map_for_all_namespaces().items)


def test_resource_version_match(five):
    core = five
    before = core.list_namespaced_config_map("default").metadata.resource_version
    core.patch_namespaced_config_map("a", "default", {"data": {"v": "2"}})
    core.delete_namespaced_config_map("b", "default")

    exact = core.list_namespaced_config_map(
        "default", resource_version=before, resource_version_match="Exact"
    )
    assert exact.metadata.resource_version == before
    assert names(exact) == ["a", "b", "c", "d", "e"] and exact.items[0].data == {"v": "1"}

    newer = core.list_namespaced_config_map(
        "default", resource_version=before, resource_version_match="NotOlderThan"
    )
    assert int(newer.metadata.resource_version) > int(before)
    assert names(newer) == ["a", "c", "d", "e"] and newer.items[0].data == {"v": "2"}

    # the legacy form with a limit reads at that revision too (it goes to etcd)
    legacy = core.list_namespaced_config_map("default", resource_version=before, limit=10)
    assert names(legacy) == ["a", "b", "c", "d", "e"]

    future = str(int(newer.metadata.resource_version) + 100)
    with pytest.raises(ApiException) as too_new:
        core.list_namespaced_config_map(
            "default", resource_version=future, resource_version_match="NotOlderThan"
        )
    assert too_new.value.status == 504
    body = error(too_new.value)
    assert body["reason"] == "Timeout"
    assert body["message"].startswith(f"Timeout: Too large resource version: {future}, current:")

    with pytest.raises(ApiException) as missing:
        core.list_namespaced_config_map("default", resource_version_match="Exact")
    assert missing.value.status == 422
    assert error(missing.value)["message"] == (
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
        "resourceVersionMatch is forbidden unless resourceVersion is provided"
    )
    with pytest.raises(ApiException) as unknown:
        core.list_namespaced_config_map(
            "default", resource_version="1", resource_version_match="Newest"
        )
    assert unknown.value.status == 422
    assert 'Unsupported value: "Newest"' in error(unknown.value)["message"]


def test_a_compacted_continue_token_is_410_with_a_token_for_the_rest(kubesim_server, sim, five):
    core = five
    first = core.list_namespaced_config_map("default", limit=2)

    def churn() -> None:  # more changes than the store keeps (its compaction window)
        for i in range(sim.history + 1):
            sim.patch("v1", "ConfigMap", "a", "default", {"data": {"v": str(i)}})

    kubesim_server.call(churn)
    core.create_namespaced_config_map("default", configmap("f"))
    with pytest.raises(ApiException) as expired:
        core.list_namespaced_config_map("default", limit=2, _continue=first.metadata._continue)
    assert expired.value.status == 410
    body = error(expired.value)
    assert (body["reason"], body["code"], body["message"]) == ("Expired", 410, CONTINUE_EXPIRED)
    assert body["message"].startswith(
        "The provided continue parameter is too old to display a consistent list result."
    )
    # the Status's own token continues after "b" at the latest revision (inconsistent)
    assert decoded(body["metadata"]["continue"])["rv"] == -1
    rest = core.list_namespaced_config_map(
        "default", limit=10, _continue=body["metadata"]["continue"]
    )
    assert names(rest) == ["c", "d", "e", "f"]

    with pytest.raises(ApiException) as old:
        core.list_namespaced_config_map(
            "default",
            resource_version=first.metadata.resource_version,
            resource_version_match="Exact",
        )
    assert old.value.status == 410
    assert error(old.value)["message"] == "The resourceVersion for the provided list is too old."


def test_a_bad_continue_token_is_400(core):
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_config_map("default", limit=1, _continue="not-a-token")
    assert bad.value.status == 400
    assert error(bad.value)["message"].startswith(
        "invalid continue token: continue key is not valid"
    )
    token = base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":5,"start":"a\\u0000"}').decode()
    with pytest.raises(ApiException) as with_rv:
        core.list_namespaced_config_map("default", limit=1, _continue=token, resource_version="5")
    assert with_rv.value.status == 400
    assert error(with_rv.value)["message"] == (
        "specifying resource version is not allowed when using continue"
    )
