"""Deletion semantics: garbage collection, propagation policies, finalizers, namespaces."""

from __future__ import annotations

import json

import pytest
from kubernetes.client import ApiException


def _owner_ref(owner, kind: str, api_version: str = "apps/v1") -> dict:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": owner.metadata.name,
        "uid": owner.metadata.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


@pytest.fixture
def tree(apps, core):
    """A Deployment owning a ReplicaSet owning two Pods, as the controllers would make them."""
    labels = {"app": "web"}
    template = {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
    }
    deploy = apps.create_namespaced_deployment(
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": template},
        },
    )
    rs = apps.create_namespaced_replica_set(
        "default",
        {
            "metadata": {
                "name": "web-abc",
                "labels": labels,
                "ownerReferences": [_owner_ref(deploy, "Deployment")],
            },
            "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": template},
        },
    )
    for i in range(2):
        core.create_namespaced_pod(
            "default",
            {
                "metadata": {
                    "name": f"web-abc-{i}",
                    "labels": labels,
                    "ownerReferences": [_owner_ref(rs, "ReplicaSet")],
                },
                "spec": template["spec"],
            },
        )
    return deploy, rs


def _names(listing) -> list[str]:
    return [o.metadata.name for o in listing.items]


@pytest.mark.parametrize("policy", [None, "Background", "Foreground"])
def test_deleting_a_deployment_collects_its_replicasets_and_pods(apps, core, tree, policy):
    apps.delete_namespaced_deployment("web", "default", propagation_policy=policy)
    assert _names(apps.list_namespaced_deployment("default")) == []
    assert _names(apps.list_namespaced_replica_set("default")) == []
    assert _names(core.list_namespaced_pod("default")) == []


def test_orphan_keeps_dependents_without_the_owner_reference(apps, core, tree):
    apps.delete_namespaced_deployment("web", "default", propagation_policy="Orphan")
    assert _names(apps.list_namespaced_deployment("default")) == []
    rs = apps.read_namespaced_replica_set("web-abc", "default")
    assert rs.metadata.owner_references is None
    assert len(core.list_namespaced_pod("default").items) == 2


def test_a_dependent_with_a_living_second_owner_survives(apps, core, tree):
    _, rs = tree
    other = core.create_namespaced_config_map("default", {"metadata": {"name": "other-owner"}})
    second = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "other-owner",
        "uid": other.metadata.uid,
    }
    refs = [_owner_ref(rs, "ReplicaSet"), second]
    core.patch_namespaced_pod("web-abc-0", "default", {"metadata": {"ownerReferences": refs}})
    apps.delete_namespaced_deployment("web", "default")
    assert _names(core.list_namespaced_pod("default")) == ["web-abc-0"]


def test_namespace_termination(core):
    core.create_namespace({"metadata": {"name": "team"}})
    core.create_namespaced_config_map("team", {"metadata": {"name": "plain"}})
    core.create_namespaced_config_map(
        "team", {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    )
    core.delete_namespace("team")
    ns = core.read_namespace("team")
    assert ns.status.phase == "Terminating"
    assert ns.metadata.deletion_timestamp is not None
    assert _names(core.list_namespaced_config_map("team")) == ["held"]

    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("team", {"metadata": {"name": "late"}})
    body = json.loads(info.value.body)
    assert info.value.status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == (
        'configmaps "late" is forbidden: unable to create new content in namespace team '
        "because it is being terminated"
    )

    core.patch_namespaced_config_map("held", "team", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        core.read_namespace("team")
    assert gone.value.status == 404


def test_delete_preconditions(core):
    cm = core.create_namespaced_config_map("default", {"metadata": {"name": "pre"}})
    with pytest.raises(ApiException) as info:
        core.delete_namespaced_config_map(
            "pre", "default", body={"preconditions": {"uid": "not-the-uid"}}
        )
    assert info.value.status == 409
    core.delete_namespaced_config_map(
        "pre", "default", body={"preconditions": {"uid": cm.metadata.uid}}
    )


def test_python_api_for_controllers(sim):
    """What part 2's controllers use: the same semantics, called from Python."""
    seen = []
    unsubscribe = sim.on_change(
        lambda event: seen.append((event.type, event.obj["metadata"]["name"]))
    )
    try:
        created = sim.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py"}})
        assert created["metadata"]["namespace"] == "default"
        obj = sim.get("v1", "ConfigMap", "py", "default")
        obj["data"] = {"k": "v"}
        sim.update(obj)
        assert [o["metadata"]["name"] for o in sim.list("v1", "ConfigMap", "default")] == ["py"]
        sim.delete("v1", "ConfigMap", "py", "default")
    finally:
        unsubscribe()
    assert seen == [("ADDED", "py"), ("MODIFIED", "py"), ("DELETED", "py")]


def test_python_patch_and_event_queue(kubesim_server, sim):
    async def scenario() -> list[tuple[str, str]]:
        queue, unsubscribe = sim.event_queue(("v1", "ConfigMap"))
        try:
            sim.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "q"}})
            sim.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ignored"}})
            sim.patch("v1", "ConfigMap", "q", "default", {"data": {"a": "1"}})
            events = [await queue.get() for _ in range(2)]
            assert queue.empty()
            return [(e.type, e.obj.get("data", {}).get("a", "")) for e in events]
        finally:
            unsubscribe()

    assert kubesim_server.call(scenario) == [("ADDED", ""), ("MODIFIED", "1")]


def test_system_namespaces_cannot_be_deleted(core):
    with pytest.raises(ApiException) as info:
        core.delete_namespace("kube-system")
    assert info.value.status == 403
    assert json.loads(info.value.body)["message"] == (
        'namespaces "kube-system" is forbidden: this namespace may not be deleted'
    )
