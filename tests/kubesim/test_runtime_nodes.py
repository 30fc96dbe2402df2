"""Nodes: readiness, NotReady eviction, cordon and drain, PodDisruptionBudgets."""

from __future__ import annotations

import kubernetes
import pytest

from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401 (fixtures)

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
"""


def test_nodes_are_ready_with_roles_and_version(rt):  # noqa: F811
    rt.advance(1)
    rows = [line.split() for line in rt.kubectl("get", "nodes", "--no-headers").stdout.splitlines()]
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("master-1", "Ready", "control-plane", "v1.32.0"),
        ("worker-1", "Ready", "<none>", "v1.32.0"),
        ("worker-2", "Ready", "<none>", "v1.32.0"),
    ]
    node = rt.core.read_node("master-1")
    assert [(c.type, c.status) for c in node.status.conditions] == [
        ("MemoryPressure", "False"),
        ("DiskPressure", "False"),
        ("PIDPressure", "False"),
        ("Ready", "True"),
    ]
    assert node.metadata.labels["node-role.kubernetes.io/control-plane"] == ""
    assert node.spec.taints[0].key == "node-role.kubernetes.io/control-plane"
    assert node.status.node_info.container_runtime_version.startswith("containerd://")
    beat = node.status.conditions[-1].last_heartbeat_time
    rt.advance(301)
    assert rt.core.read_node("master-1").status.conditions[-1].last_heartbeat_time > beat


def test_not_ready_node_taints_and_evicts_after_toleration_seconds(rt):  # noqa: F811
    for i in range(4):
        rt.create_pod(f"p{i}")
    rt.advance(5)
    on_w1 = {p.metadata.name for p in _pods(rt) if p.spec.node_name == "worker-1"}
    assert on_w1
    status, _ = rt.admin("PUT", "/nodes/worker-1/ready", {"status": "Unknown"})
    assert status == 200
    rows = dict(
        line.split()[:2] for line in rt.kubectl("get", "nodes", "--no-headers").stdout.splitlines()
    )
    assert rows["worker-1"] == "NotReady"
    node = rt.core.read_node("worker-1")
    assert {(t.key, t.effect) for t in node.spec.taints} == {
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    }
    for name in on_w1:
        ready = next(c for c in rt.pod(name).status.conditions if c.type == "Ready")
        assert ready.status == "False"
    rt.advance(290)  # default tolerationSeconds: 300
    assert on_w1 <= {p.metadata.name for p in _pods(rt) if not p.metadata.deletion_timestamp}
    rt.advance(15)
    # evicted, but no kubelet runs on the node to stop them: they stay Terminating
    terminating = {p.metadata.name for p in _pods(rt) if p.metadata.deletion_timestamp}
    assert terminating == on_w1
    rows = rt.kubectl("get", "pods", "--no-headers").stdout.splitlines()
    assert {r.split()[0] for r in rows if r.split()[2] == "Terminating"} == on_w1
    reasons = {e.reason for name in on_w1 for e in rt.events(name)}
    assert "TaintManagerEviction" in reasons
    assert "Killing" not in reasons
    rt.admin("PUT", "/nodes/worker-1/ready", {"status": "True"})
    rt.advance(1)
    assert not rt.core.read_node("worker-1").spec.taints
    # the kubelet is back: it stops the containers and the pods go
    rt.advance(5)
    left = {p.metadata.name for p in _pods(rt)}
    assert not on_w1 & left


def _pods(rt):  # noqa: F811
    return rt.core.list_namespaced_pod("default").items


def test_cordon_and_drain_move_the_pods(rt):  # noqa: F811
    rt.kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    rt.advance(10)
    pods = _pods(rt)
    assert len(pods) == 4 and all(p.status.phase == "Running" for p in pods)
    rt.kubectl("cordon", "worker-1")
    assert "SchedulingDisabled" in rt.kubectl("get", "node", "worker-1").stdout
    # kubectl drain waits for the evicted pods to be gone: simulated time has to pass
    drained = rt.kubectl_advancing(
        "drain",
        "worker-1",
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=20s",
    )
    assert "node/worker-1 drained" in drained.stdout
    rt.advance(10)
    pods = _pods(rt)
    assert len(pods) == 4
    assert {p.spec.node_name for p in pods} == {"worker-2"}
    assert all(p.status.phase == "Running" for p in pods)
    rt.kubectl("uncordon", "worker-1")
    assert not rt.core.read_node("worker-1").spec.unschedulable


def test_eviction_honours_pod_disruption_budgets(rt):  # noqa: F811
    rt.kubectl("apply", "-f", "-", stdin=DEPLOYMENT.replace("replicas: 4", "replicas: 2"))
    rt.policy.create_namespaced_pod_disruption_budget(
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
        },
    )
    rt.advance(10)
    pdb = rt.policy.read_namespaced_pod_disruption_budget("web", "default")
    assert (pdb.status.current_healthy, pdb.status.desired_healthy) == (2, 2)
    assert pdb.status.disruptions_allowed == 0
    victim = _pods(rt)[0].metadata.name
    eviction = {"metadata": {"name": victim, "namespace": "default"}}
    with pytest.raises(kubernetes.client.ApiException) as refused:
        rt.core.create_namespaced_pod_eviction(victim, "default", eviction)
    assert refused.value.status == 429
    assert "Cannot evict pod as it would violate the pod's disruption budget." in (
        refused.value.body
    )
    assert "The disruption budget web needs 2 healthy pods and has 2 currently" in (
        refused.value.body
    )
    rt.policy.patch_namespaced_pod_disruption_budget(
        "web", "default", {"spec": {"minAvailable": 1}}
    )
    rt.advance(1)
    rt.core.create_namespaced_pod_eviction(victim, "default", eviction)
    assert rt.pod(victim).metadata.deletion_timestamp is not None  # Terminating
    rt.advance(10)
    assert victim not in {p.metadata.name for p in _pods(rt)}
    assert len([p for p in _pods(rt) if p.status.phase == "Running"]) == 2
