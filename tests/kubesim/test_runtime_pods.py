"""Pods through the simulated scheduler and kubelet, seen through the client and kubectl."""

from __future__ import annotations

from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401 (fixtures)


def _row(rt, name: str) -> list[str]:  # noqa: F811
    out = rt.kubectl("get", "pod", name, "--no-headers").stdout.split()
    return out


def test_bare_pod_becomes_running_with_an_ip(rt):  # noqa: F811
    rt.create_pod("web")
    pod = rt.pod("web")
    assert pod.status.phase == "Pending"
    rt.advance(10)
    pod = rt.pod("web")
    assert pod.status.phase == "Running"
    assert pod.spec.node_name in ("worker-1", "worker-2")
    assert pod.status.pod_ip.startswith("10.244.")
    assert pod.status.host_ip.startswith("172.18.0.")
    assert pod.status.start_time is not None
    status = pod.status.container_statuses[0]
    assert status.ready and status.started and status.restart_count == 0
    assert status.container_id.startswith("containerd://")
    assert status.image == "docker.io/library/nginx:1.27"
    assert status.state.running.started_at is not None
    conditions = {c.type: c.status for c in pod.status.conditions}
    assert conditions == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }
    reasons = [e.reason for e in rt.events("web")]
    assert reasons[0] == "Scheduled"
    assert {"Pulling", "Pulled", "Created", "Started"} <= set(reasons)
    assert _row(rt, "web")[:4] == ["web", "1/1", "Running", "0"]
    described = rt.kubectl("describe", "pod", "web").stdout
    assert "Successfully assigned default/web to worker-" in described
    assert "Started container app" in described
    events = rt.kubectl("get", "events", "--field-selector", "involvedObject.name=web").stdout
    assert "Scheduled" in events and "pod/web" in events


def test_readiness_follows_the_probes_initial_delay(rt):  # noqa: F811
    probe = {"httpGet": {"path": "/", "port": 80}, "initialDelaySeconds": 30}
    rt.core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "slow"},
            "spec": {"containers": [{"name": "app", "image": "nginx", "readinessProbe": probe}]},
        },
    )
    rt.advance(10)
    pod = rt.pod("slow")
    assert pod.status.phase == "Running"
    assert not pod.status.container_statuses[0].ready
    assert _row(rt, "slow")[:3] == ["slow", "0/1", "Running"]
    rt.advance(30)
    assert rt.pod("slow").status.container_statuses[0].ready


def test_unschedulable_pod_stays_pending_with_the_schedulers_message(rt):  # noqa: F811
    rt.core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "huge"},
            "spec": {
                "containers": [
                    {"name": "app", "image": "nginx", "resources": {"requests": {"cpu": "64"}}}
                ]
            },
        },
    )
    rt.advance(30)
    pod = rt.pod("huge")
    assert pod.status.phase == "Pending"
    scheduled = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    expected = (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes "
        "are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims "
        "found for incoming pod."
    )
    assert scheduled.message == expected
    failed = [e for e in rt.events("huge") if e.reason == "FailedScheduling"]
    assert failed and failed[0].type == "Warning" and failed[0].message == expected
    assert failed[0].source.component == "default-scheduler"
    # more room: a new, bigger node makes it schedulable
    status, _ = rt.server.admin("POST", f"/clusters/{rt.name}/nodes", {"count": 1})
    assert status == 201
    rt.server.call(_grow_node, rt.cluster, "worker-3")
    rt.advance(5)
    assert rt.pod("huge").spec.node_name == "worker-3"


def _grow_node(cluster, name: str) -> None:
    node = cluster.get("v1", "Node", name)
    node["status"]["capacity"]["cpu"] = node["status"]["allocatable"]["cpu"] = "128"
    cluster.update_status(node)


def test_crash_switch_gives_crashloopbackoff_with_growing_restarts(rt):  # noqa: F811
    rt.create_pod("crash", annotations={"kubesim.io/fail": "crash"})
    rt.advance(60)
    status, restarts = _row(rt, "crash")[2:4]
    assert status == "CrashLoopBackOff"
    first = int(restarts)
    assert first >= 2
    pod = rt.pod("crash")
    cs = pod.status.container_statuses[0]
    assert cs.last_state.terminated.exit_code == 1
    assert cs.last_state.terminated.reason == "Error"
    assert "back-off" in cs.state.waiting.message
    backoffs = [e for e in rt.events("crash") if e.reason == "BackOff"]
    assert backoffs and backoffs[0].message.startswith(
        "Back-off restarting failed container app in pod crash_default("
    )
    rt.advance(600)
    later = rt.pod("crash").status.container_statuses[0].restart_count
    # back-off doubles up to 300 s: a handful more restarts in ten minutes, not dozens
    assert first < later <= first + 6


def test_pull_switch_gives_errimagepull_then_imagepullbackoff(rt):  # noqa: F811
    rt.create_pod("pull", image="nginx:doesnotexist")
    rt.advance(4)
    assert _row(rt, "pull")[2] == "ErrImagePull"
    rt.advance(2)
    assert _row(rt, "pull")[2] == "ImagePullBackOff"
    waiting = rt.pod("pull").status.container_statuses[0].state.waiting
    assert waiting.message.startswith('Back-off pulling image "nginx:doesnotexist"')
    messages = [e.message for e in rt.events("pull") if e.reason == "Failed"]
    assert "Error: ErrImagePull" in messages and "Error: ImagePullBackOff" in messages
    rt.create_pod("pull2", image="nginx", annotations={"kubesim.io/fail": "pull"})
    rt.advance(6)
    assert _row(rt, "pull2")[2] in ("ErrImagePull", "ImagePullBackOff")


def test_liveness_switch_restarts_the_container(rt):  # noqa: F811
    probe = {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 5}
    rt.core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "live", "annotations": {"kubesim.io/fail": "liveness"}},
            "spec": {"containers": [{"name": "app", "image": "nginx", "livenessProbe": probe}]},
        },
    )
    # started at 3 s, probed at 3, 8 and 13 s: the third failure kills it
    rt.advance(12)
    assert rt.pod("live").status.container_statuses[0].restart_count == 0
    rt.advance(3)
    cs = rt.pod("live").status.container_statuses[0]
    assert cs.restart_count == 1
    assert cs.last_state.terminated.exit_code == 137
    reasons = {e.reason: e for e in rt.events("live")}
    assert reasons["Unhealthy"].message == (
        "Liveness probe failed: HTTP probe failed with statuscode: 500"
    )
    assert reasons["Killing"].message == "Container app failed liveness probe, will be restarted"


def test_run_to_completion_pods_finish_after_their_duration(rt):  # noqa: F811
    rt.create_pod("ok", restartPolicy="Never", annotations={"kubesim.io/duration": "30s"})
    rt.create_pod(
        "bad",
        restartPolicy="Never",
        annotations={"kubesim.io/duration": "5s", "kubesim.io/exit-code": "1"},
    )
    rt.advance(20)
    assert rt.pod("ok").status.phase == "Running"
    assert rt.pod("bad").status.phase == "Failed"
    assert _row(rt, "bad")[2] == "Error"
    rt.advance(20)
    pod = rt.pod("ok")
    assert pod.status.phase == "Succeeded"
    assert pod.status.container_statuses[0].state.terminated.reason == "Completed"
    assert _row(rt, "ok")[:3] == ["ok", "0/1", "Completed"]


def test_init_containers_run_first(rt):  # noqa: F811
    rt.core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "init"},
            "spec": {
                "initContainers": [{"name": "setup", "image": "busybox"}],
                "containers": [{"name": "app", "image": "nginx"}],
            },
        },
    )
    rt.advance(4)
    assert _row(rt, "init")[2] == "Init:0/1"
    rt.advance(10)
    pod = rt.pod("init")
    assert pod.status.phase == "Running"
    assert pod.status.init_container_statuses[0].state.terminated.reason == "Completed"
