"""DaemonSets: one pod per eligible node, following nodes, cordon and taints."""

from __future__ import annotations

import json

import kubernetes
import pytest

from tests.kubesim.workload_support import World


@pytest.fixture
def world(kubesim_server, sim):
    return World(kubesim_server, sim)


def daemonset(name="agent", tolerations=None) -> dict:
    spec = {"containers": [{"name": "agent", "image": "fluent/fluent-bit:3.0"}]}
    if tolerations:
        spec["tolerations"] = tolerations
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def placement(sim, name="agent") -> dict[str, str]:
    """node -> phase of the DaemonSet's pods."""
    return {
        p["spec"].get("nodeName", ""): p["status"].get("phase", "")
        for p in sim.list("v1", "Pod", "default", label_selector=f"app={name}")
        if not p["metadata"].get("deletionTimestamp")
    }


def status(apps, name="agent"):
    found = apps.read_namespaced_daemon_set(name, "default").status
    return found or kubernetes.client.V1DaemonSetStatus(
        current_number_scheduled=0,
        desired_number_scheduled=0,
        number_misscheduled=0,
        number_ready=0,
    )


def test_daemonset_follows_nodes(world, kubectl, apps, sim, kubesim_server, kubesim_cluster):
    kubectl("apply", "-f", "-", stdin=json.dumps(daemonset()))
    world.until(lambda: (status(apps).number_ready or 0) == 2)
    assert placement(sim) == {"worker-1": "Running", "worker-2": "Running"}
    s = status(apps)
    assert (s.desired_number_scheduled, s.current_number_scheduled, s.number_available) == (2, 2, 2)
    assert s.updated_number_scheduled == 2 and s.number_misscheduled == 0

    pod = sim.list("v1", "Pod", "default", label_selector="app=agent")[0]
    terms = pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    field = terms["nodeSelectorTerms"][0]["matchFields"][0]
    assert field["key"] == "metadata.name" and field["values"] == [pod["spec"]["nodeName"]]
    keys = {t["key"] for t in pod["spec"]["tolerations"]}
    assert "node.kubernetes.io/unschedulable" in keys and "node.kubernetes.io/not-ready" in keys
    assert pod["metadata"]["labels"]["controller-revision-hash"]
    assert pod["metadata"]["labels"]["pod-template-generation"] == "1"

    # a new node gets a pod, a removed node's pod goes away
    code, body = kubesim_server.admin(
        "POST", f"/clusters/{kubesim_cluster['name']}/nodes", {"count": 1}
    )
    assert code == 201, body
    new_node = body["nodes"][0]
    world.until(lambda: placement(sim).get(new_node) == "Running")
    kubesim_server.admin("DELETE", f"/clusters/{kubesim_cluster['name']}/nodes/worker-1")
    world.until(lambda: "worker-1" not in placement(sim))
    world.until(lambda: (status(apps).desired_number_scheduled or 0) == 2)

    # cordon does not matter to daemon pods; a NoExecute taint evicts them
    kubectl("cordon", "worker-2")
    world.advance(5)
    assert placement(sim).get("worker-2") == "Running"
    kubectl("taint", "node", "worker-2", "dedicated=db:NoExecute")
    world.until(lambda: "worker-2" not in placement(sim))
    assert status(apps).desired_number_scheduled == 1

    out = kubectl("get", "ds", "agent").stdout.splitlines()[1].split()
    assert out[1:6] == ["1", "1", "1", "1", "1"]


def test_daemonset_tolerating_the_control_plane_and_rolling_update(world, kubectl, apps, sim):
    ds = daemonset(
        tolerations=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    )
    kubectl("apply", "-f", "-", stdin=json.dumps(ds))
    world.until(lambda: (status(apps).number_ready or 0) == 3)
    assert set(placement(sim)) == {"master-1", "worker-1", "worker-2"}

    ds["spec"]["template"]["spec"]["containers"][0]["image"] = "fluent/fluent-bit:3.1"
    kubectl("apply", "-f", "-", stdin=json.dumps(ds))
    world.until(
        lambda: (
            status(apps).observed_generation == 2
            and (status(apps).updated_number_scheduled or 0) == 3
            and (status(apps).number_available or 0) == 3
        )
    )
    result = kubectl("rollout", "status", "daemonset/agent", "--timeout=10s")
    assert 'daemon set "agent" successfully rolled out' in result.stdout
    images = {
        p["spec"]["containers"][0]["image"]
        for p in sim.list("v1", "Pod", "default", label_selector="app=agent")
    }
    assert images == {"fluent/fluent-bit:3.1"}
    history = kubectl("rollout", "history", "daemonset/agent").stdout
    assert [line.split()[0] for line in history.strip().splitlines()[2:]] == ["1", "2"]
