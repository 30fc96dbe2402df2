"""kubesim's failure switches for readiness and memory: a readiness probe that never
passes, OOMKilled when memory use passes the limit (or on demand), per container by env."""

from __future__ import annotations

from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401 (fixtures)

PROBE = {"httpGet": {"path": "/ready", "port": 80}, "periodSeconds": 5}


def _pod(rt, name, containers, annotations=None):  # noqa: F811
    body = {
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"containers": containers},
    }
    return rt.core.create_namespaced_pod("default", body)


def _status(rt, name):  # noqa: F811
    return rt.kubectl("get", "pod", name, "--no-headers").stdout.split()


def test_readiness_switch_keeps_the_pod_running_but_not_ready(rt):  # noqa: F811
    _pod(
        rt,
        "unready",
        [{"name": "app", "image": "nginx", "readinessProbe": PROBE}],
        annotations={"kubesim.io/fail": "readiness"},
    )
    rt.advance(60)
    pod = rt.pod("unready")
    assert pod.status.phase == "Running"
    cs = pod.status.container_statuses[0]
    assert not cs.ready and cs.restart_count == 0
    ready = next(c for c in pod.status.conditions if c.type == "Ready")
    assert ready.status == "False" and ready.reason == "ContainersNotReady"
    assert _status(rt, "unready")[1:3] == ["0/1", "Running"]
    unhealthy = [e for e in rt.events("unready") if e.reason == "Unhealthy"]
    assert unhealthy and unhealthy[0].message == (
        "Readiness probe failed: HTTP probe failed with statuscode: 500"
    )


def test_the_env_switch_fails_one_container_only(rt):  # noqa: F811
    failing = {
        "name": "sidecar",
        "image": "busybox",
        "readinessProbe": PROBE,
        "env": [{"name": "KUBESIM_FAIL", "value": "readiness"}],
    }
    _pod(rt, "mixed", [{"name": "app", "image": "nginx", "readinessProbe": PROBE}, failing])
    rt.advance(30)
    statuses = {c.name: c.ready for c in rt.pod("mixed").status.container_statuses}
    assert statuses == {"app": True, "sidecar": False}
    assert _status(rt, "mixed")[1] == "1/2"


def test_memory_over_the_limit_is_oomkilled_and_backs_off(rt):  # noqa: F811
    resources = {"requests": {"memory": "100Mi"}, "limits": {"memory": "100Mi"}}
    _pod(rt, "hungry", [{"name": "app", "image": "nginx", "resources": resources}])
    rt.advance(30)
    cs = rt.pod("hungry").status.container_statuses[0]
    assert cs.ready and cs.restart_count == 0  # 40% of the request at load 1

    status, body = rt.admin(
        "PUT", "/load", {"namespace": "default", "kind": "Pod", "name": "hungry", "factor": 5}
    )
    assert status == 200, body
    rt.advance(10)
    cs = rt.pod("hungry").status.container_statuses[0]
    assert cs.restart_count >= 1
    assert cs.last_state.terminated.reason == "OOMKilled"
    assert cs.last_state.terminated.exit_code == 137
    rt.advance(60)
    cs = rt.pod("hungry").status.container_statuses[0]
    assert _status(rt, "hungry")[2] in ("CrashLoopBackOff", "OOMKilled", "Running")
    first = cs.restart_count
    rt.advance(600)
    later = rt.pod("hungry").status.container_statuses[0].restart_count
    assert first < later <= first + 6  # the crash back-off, doubling to 300 s

    # load back to normal: the next start stays up
    rt.admin("PUT", "/load", {"namespace": "default", "kind": "Pod", "name": "hungry", "factor": 1})
    rt.advance(310)
    cs = rt.pod("hungry").status.container_statuses[0]
    assert "running" in cs.state.to_dict() and cs.state.running is not None
    steady = cs.restart_count
    rt.advance(120)
    assert rt.pod("hungry").status.container_statuses[0].restart_count == steady


def test_oom_switch(rt):  # noqa: F811
    _pod(rt, "oom", [{"name": "app", "image": "nginx"}], annotations={"kubesim.io/fail": "oom"})
    rt.advance(9)
    cs = rt.pod("oom").status.container_statuses[0]
    assert cs.last_state.terminated.reason == "OOMKilled" and cs.restart_count == 1
    rt.advance(30)
    assert _status(rt, "oom")[2] == "CrashLoopBackOff"
