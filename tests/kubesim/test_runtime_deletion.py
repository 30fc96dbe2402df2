"""Graceful pod deletion: Terminating, the kubelet's Killing, then gone; force deletion."""

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
  replicas: 2
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

SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
"""


def _gone(rt, name: str, namespace: str = "default") -> bool:  # noqa: F811
    try:
        rt.core.read_namespaced_pod(name, namespace)
    except kubernetes.client.ApiException as exc:
        assert exc.status == 404
        return True
    return False


def _status(rt, name: str) -> str:  # noqa: F811
    return rt.kubectl("get", "pod", name, "--no-headers").stdout.split()[2]


def _running(rt, name: str = "web", **kwargs):  # noqa: F811
    rt.create_pod(name, **kwargs)
    rt.advance(10)
    assert rt.pod(name).status.phase == "Running"


def test_kubectl_delete_shows_terminating_then_the_pod_is_gone(rt):  # noqa: F811
    _running(rt)
    out = rt.kubectl("delete", "pod", "web", "--wait=false").stdout
    assert out == 'pod "web" deleted\n'
    rt.advance(0)
    pod = rt.pod("web")
    assert pod.metadata.deletion_timestamp is not None
    assert pod.metadata.deletion_grace_period_seconds == 30  # terminationGracePeriodSeconds
    assert _status(rt, "web") == "Terminating"
    killing = [e for e in rt.events("web") if e.reason == "Killing"]
    assert [(e.type, e.message, e.source.component) for e in killing] == [
        ("Normal", "Stopping container app", "kubelet")
    ]
    assert killing[0].involved_object.field_path == "spec.containers{app}"
    described = rt.kubectl("describe", "pod", "web").stdout
    assert "Terminating (lasts" in described
    assert "Termination Grace Period:  30s" in described
    # a second delete changes nothing (the deletion is already under way)
    again = rt.core.delete_namespaced_pod("web", "default")
    assert again.metadata.deletion_timestamp == pod.metadata.deletion_timestamp
    rt.advance(1)
    assert _status(rt, "web") == "Terminating"
    rt.advance(1)  # the containers stopped (2 s): the kubelet deletes the pod for good
    assert _gone(rt, "web")
    assert [e.reason for e in rt.events("web")].count("Killing") == 1


def test_kubectl_delete_waits_until_the_pod_is_gone(rt):  # noqa: F811
    _running(rt)
    done = rt.kubectl_advancing("delete", "pod", "web")
    assert done.stdout == 'pod "web" deleted\n'
    assert _gone(rt, "web")


def test_grace_period_from_the_request_and_from_the_pod(rt):  # noqa: F811
    _running(rt, "short", terminationGracePeriodSeconds=1)
    _running(rt, "asked")
    pod = rt.core.delete_namespaced_pod("short", "default")
    assert pod.metadata.deletion_grace_period_seconds == 1
    asked = rt.core.delete_namespaced_pod("asked", "default", grace_period_seconds=5)
    assert asked.metadata.deletion_grace_period_seconds == 5
    rt.kubectl("delete", "pod", "nothing-here", "--ignore-not-found")
    rt.advance(1)  # min(grace 1 s, 2 s)
    assert _gone(rt, "short")
    assert not _gone(rt, "asked")
    rt.advance(1)
    assert _gone(rt, "asked")


def test_stop_seconds_annotation_is_capped_by_the_grace_period(rt):  # noqa: F811
    _running(rt, "slow", annotations={"kubesim.io/stop-seconds": "20"})
    _running(
        rt,
        "capped",
        annotations={"kubesim.io/stop-seconds": "20"},
        terminationGracePeriodSeconds=8,
    )
    rt.kubectl("delete", "pod", "slow", "capped", "--wait=false")
    rt.advance(7)
    assert _status(rt, "slow") == "Terminating" and _status(rt, "capped") == "Terminating"
    rt.advance(1)
    assert _gone(rt, "capped")
    assert not _gone(rt, "slow")
    rt.advance(12)
    assert _gone(rt, "slow")


def test_force_delete_is_immediate(rt):  # noqa: F811
    _running(rt)
    result = rt.kubectl("delete", "pod", "web", "--grace-period=0", "--force")
    assert result.stdout == 'pod "web" force deleted\n'
    assert "Immediate deletion does not wait for confirmation" in result.stderr
    assert _gone(rt, "web")
    # a terminating pod can be force-deleted too (a shorter grace period wins)
    _running(rt, "stuck")
    rt.kubectl("delete", "pod", "stuck", "--wait=false")
    assert rt.pod("stuck").metadata.deletion_timestamp is not None
    rt.kubectl("delete", "pod", "stuck", "--grace-period=0", "--force")
    assert _gone(rt, "stuck")


def test_unscheduled_pods_go_at_once(rt):  # noqa: F811
    rt.create_pod("nowhere", nodeSelector={"disk": "none"})
    rt.advance(5)
    assert rt.pod("nowhere").spec.node_name is None
    rt.kubectl("delete", "pod", "nowhere")  # waits, but there is nothing to wait for
    assert _gone(rt, "nowhere")


def test_deployment_replaces_a_terminating_pod_at_once(rt):  # noqa: F811
    rt.kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    rt.advance(10)
    before = {p.metadata.name for p in rt.core.list_namespaced_pod("default").items}
    assert len(before) == 2
    victim = sorted(before)[0]
    rt.kubectl("delete", "pod", victim, "--wait=false")
    rt.advance(0)
    pods = {p.metadata.name: p for p in rt.core.list_namespaced_pod("default").items}
    assert len(pods) == 3  # the replacement is there while the victim terminates
    assert pods[victim].metadata.deletion_timestamp is not None
    (replacement,) = set(pods) - before
    rs = rt.apps.list_namespaced_replica_set("default").items[0]
    assert rs.status.replicas == 2  # terminating pods do not count
    rows = {
        line.split()[0]: line.split()[2]
        for line in rt.kubectl("get", "pods", "--no-headers").stdout.splitlines()
    }
    assert rows[victim] == "Terminating"
    rt.advance(10)
    names = {p.metadata.name for p in rt.core.list_namespaced_pod("default").items}
    assert names == (before - {victim}) | {replacement}
    assert all(rt.pod(n).status.phase == "Running" for n in names)


def test_endpoints_drop_a_terminating_pod_at_once(rt):  # noqa: F811
    rt.kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    rt.kubectl("apply", "-f", "-", stdin=SERVICE)
    rt.advance(10)
    pods = {p.metadata.name: p.status.pod_ip for p in rt.core.list_namespaced_pod("default").items}

    def addresses() -> set[str]:
        endpoints = rt.core.read_namespaced_endpoints("web", "default")
        return {a.ip for s in endpoints.subsets or [] for a in s.addresses or []}

    assert addresses() == set(pods.values())
    victim = sorted(pods)[0]
    rt.core.delete_namespaced_pod(victim, "default")
    rt.advance(0)
    assert not _gone(rt, victim)
    assert pods[victim] not in addresses()
    rt.advance(10)
    assert len(addresses()) == 2 and pods[victim] not in addresses()


def test_namespace_deletion_waits_for_its_pods_to_terminate(rt):  # noqa: F811
    rt.core.create_namespace({"metadata": {"name": "team"}})
    rt.core.create_namespaced_pod(
        "team",
        {"metadata": {"name": "app"}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}},
    )
    rt.advance(10)
    rt.kubectl("delete", "namespace", "team", "--wait=false")
    rt.advance(0)
    assert rt.core.read_namespace("team").status.phase == "Terminating"
    assert rt.core.read_namespaced_pod("app", "team").metadata.deletion_timestamp is not None
    rt.advance(2)
    assert _gone(rt, "app", "team")
    with pytest.raises(kubernetes.client.ApiException) as gone:
        rt.core.read_namespace("team")
    assert gone.value.status == 404


def test_pods_on_a_down_node_stay_terminating_until_the_node_is_deleted(rt):  # noqa: F811
    for name in ("a", "b", "c", "d"):
        rt.create_pod(name)
    rt.advance(10)
    on_w1 = sorted(p.metadata.name for p in _pods_on(rt, "worker-1"))
    assert len(on_w1) >= 2
    status, _ = rt.admin("PUT", "/nodes/worker-1/ready", {"status": "False"})
    assert status == 200
    rt.advance(1)
    rt.kubectl("delete", "pod", *on_w1, "--wait=false")
    rt.advance(60)
    for name in on_w1:
        assert _status(rt, name) == "Terminating"
        assert "Killing" not in {e.reason for e in rt.events(name)}
    # force deletion does not need the kubelet
    rt.kubectl("delete", "pod", on_w1[0], "--grace-period=0", "--force")
    assert _gone(rt, on_w1[0])
    # the node goes: the pod garbage collector force-deletes what was left on it
    status, _ = rt.admin("DELETE", "/nodes/worker-1")
    assert status == 200
    rt.advance(1)
    assert all(_gone(rt, name) for name in on_w1)


def _pods_on(rt, node: str):  # noqa: F811
    return [p for p in rt.core.list_namespaced_pod("default").items if p.spec.node_name == node]
