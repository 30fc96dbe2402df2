"""kubesim's probes on the simulated clock: readiness thresholds, liveness restarts, the
startup probe gating the others, exec through the shell, and the answers switched by the
admin API (no rollout) or a pod annotation."""

from __future__ import annotations

import json

from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401 (fixtures)

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 2,
        "minReadySeconds": 5,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "readinessProbe": {
                            "httpGet": {"path": "/readyz", "port": "http"},
                            "periodSeconds": 5,
                            "successThreshold": 2,
                            "failureThreshold": 3,
                        },
                    }
                ]
            },
        },
    },
}


def _pods(rt, selector="app=web"):  # noqa: F811
    return rt.core.list_namespaced_pod("default", label_selector=selector).items


def _answer(rt, answers, kind="Deployment", name="web"):  # noqa: F811
    body = {"namespace": "default", "kind": kind, "name": name, "answers": answers}
    status, out = rt.admin("PUT", "/probes", body)
    assert status == 200, out


def _unhealthy(rt, name):  # noqa: F811
    return [e.message for e in rt.events(name) if e.reason == "Unhealthy"]


def test_a_failing_readiness_probe_keeps_a_deployment_unavailable_until_it_passes(rt):  # noqa: F811
    rt.apps.create_namespaced_deployment("default", DEPLOYMENT)
    service = {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}
    rt.core.create_namespaced_service("default", {"metadata": {"name": "web"}, "spec": service})
    _answer(rt, {"/readyz": 503})
    rt.advance(60)
    deployment = rt.apps.read_namespaced_deployment("web", "default")
    assert (deployment.status.ready_replicas or 0, deployment.status.available_replicas or 0) == (
        0,
        0,
    )
    pods = _pods(rt)
    assert len(pods) == 2
    for pod in pods:
        assert pod.status.phase == "Running"
        assert [c.ready for c in pod.status.container_statuses] == [False]
        ready = next(c for c in pod.status.conditions if c.type == "Ready")
        assert (ready.status, ready.reason) == ("False", "ContainersNotReady")
        assert pod.status.container_statuses[0].restart_count == 0  # readiness never restarts
        assert "Readiness probe failed: HTTP probe failed with statuscode: 503" in _unhealthy(
            rt, pod.metadata.name
        )
    slices = rt.kubectl_json("get", "endpointslices", "-n", "default")["items"]
    assert not any(
        e.get("conditions", {}).get("ready")
        for s in slices
        if s["metadata"]["labels"].get("kubernetes.io/service-name") == "web"
        for e in s.get("endpoints") or ()
    )

    # The container answers 200 from now on: two successes 5 s apart make it ready (the
    # next run is on the period's grid), then minReadySeconds (5) makes it available.
    _answer(rt, {})
    rt.advance(4)
    assert not any(p.status.container_statuses[0].ready for p in _pods(rt))
    rt.advance(6)
    assert all(p.status.container_statuses[0].ready for p in _pods(rt))
    deployment = rt.apps.read_namespaced_deployment("web", "default")
    assert deployment.status.ready_replicas == 2
    assert not deployment.status.available_replicas
    rt.advance(6)
    deployment = rt.apps.read_namespaced_deployment("web", "default")
    assert deployment.status.available_replicas == 2

    # Failing again: ready stays until failureThreshold (3) failures in a row.
    _answer(rt, {"/readyz": 500})
    rt.advance(6)
    assert all(p.status.container_statuses[0].ready for p in _pods(rt))
    rt.advance(10)
    assert not any(p.status.container_statuses[0].ready for p in _pods(rt))
    # Nothing rolled out: the same pods all along.
    assert len({p.metadata.name for p in _pods(rt)}) == 2


def test_a_failing_liveness_probe_restarts_the_container_with_back_off(rt):  # noqa: F811
    probe = {"tcpSocket": {"port": 5432}, "periodSeconds": 10, "failureThreshold": 3}
    container = {"name": "db", "image": "postgres:16", "livenessProbe": probe}
    container["ports"] = [{"containerPort": 5432}]
    rt.core.create_namespaced_pod(
        "default", {"metadata": {"name": "db"}, "spec": {"containers": [container]}}
    )
    rt.advance(30)
    cs = rt.pod("db").status.container_statuses[0]
    assert cs.ready and cs.restart_count == 0  # the declared port answers

    rt.kubectl(
        "annotate", "pod", "db", "kubesim.io/probe-answers=" + json.dumps({"5432": "refuse"})
    )
    rt.advance(15)
    cs = rt.pod("db").status.container_statuses[0]
    assert cs.restart_count == 0  # two failures so far: below the threshold
    rt.advance(10)
    cs = rt.pod("db").status.container_statuses[0]
    assert cs.restart_count == 1
    assert cs.last_state.terminated.exit_code == 137
    events = [(e.reason, e.message) for e in rt.events("db")]
    ip = rt.pod("db").status.pod_ip
    assert (
        "Unhealthy",
        f"Liveness probe failed: dial tcp {ip}:5432: connect: connection refused",
    ) in events
    assert ("Killing", "Container db failed liveness probe, will be restarted") in events
    # It keeps failing: each new container is killed after three runs (20 s), and the
    # restarts back off 10 s, then 20 s (CrashLoopBackOff meanwhile).
    rt.advance(60)
    cs = rt.pod("db").status.container_statuses[0]
    assert cs.restart_count == 3
    assert cs.state.waiting.reason == "CrashLoopBackOff"
    assert "back-off 20s restarting failed container=db" in cs.state.waiting.message


def test_a_startup_probe_gates_liveness_and_readiness(rt):  # noqa: F811
    container = {
        "name": "app",
        "image": "nginx:1.27",
        "ports": [{"containerPort": 80}],
        "startupProbe": {"httpGet": {"path": "/started", "port": 80}, "periodSeconds": 2},
        "livenessProbe": {"httpGet": {"path": "/alive", "port": 80}, "failureThreshold": 1},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 80}},
    }
    annotations = {"kubesim.io/probe-answers": json.dumps({"/started": 503, "/alive": 500})}
    rt.core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "slow", "annotations": annotations},
            "spec": {"containers": [container]},
        },
    )
    rt.advance(5)
    cs = rt.pod("slow").status.container_statuses[0]
    # starting: the failing liveness probe is not run yet, so nothing is killed
    assert (cs.started, cs.ready, cs.restart_count) == (False, False, 0)
    messages = _unhealthy(rt, "slow")
    assert "Startup probe failed: HTTP probe failed with statuscode: 503" in messages
    assert not any(m.startswith("Liveness") for m in messages)

    # Three startup failures (2 s apart) kill it as a failed liveness probe would.
    rt.advance(2)
    cs = rt.pod("slow").status.container_statuses[0]
    assert cs.restart_count == 1
    assert ("Killing", "Container app failed startup probe, will be restarted") in [
        (e.reason, e.message) for e in rt.events("slow")
    ]
    rt.kubectl(
        "annotate",
        "pod",
        "slow",
        "--overwrite",
        "kubesim.io/probe-answers=" + json.dumps({"/ready": 200}),
    )
    rt.advance(30)
    cs = rt.pod("slow").status.container_statuses[0]
    assert (cs.started, cs.ready) == (True, True)


def test_exec_probes_run_in_the_shell_and_http_probes_of_undeclared_ports_are_refused(rt):  # noqa: F811
    containers = [
        {
            "name": "cat",
            "image": "busybox",
            "ports": [{"containerPort": 80}],
            "readinessProbe": {"exec": {"command": ["cat", "/etc/app/ready"]}},
        },
        {
            "name": "tool",
            "image": "postgres:16",
            "readinessProbe": {"exec": {"command": ["pg_isready", "-U", "postgres"]}},
        },
        {
            "name": "grpc",
            "image": "registry.example.com/api:1",
            "ports": [{"containerPort": 9000}],
            "readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 5},
        },
        {
            "name": "wrongport",
            "image": "nginx",
            "readinessProbe": {"httpGet": {"path": "/", "port": 9090}},
        },
    ]
    rt.core.create_namespaced_pod(
        "default", {"metadata": {"name": "mixed"}, "spec": {"containers": containers}}
    )
    rt.advance(30)
    ready = {c.name: c.ready for c in rt.pod("mixed").status.container_statuses}
    assert ready == {"cat": False, "tool": True, "grpc": True, "wrongport": False}
    messages = _unhealthy(rt, "mixed")
    assert any(
        "Readiness probe failed: cat: /etc/app/ready: No such file or directory" in m
        for m in messages
    )
    ip = rt.pod("mixed").status.pod_ip
    assert (
        f'Readiness probe failed: Get "http://{ip}:9090/": dial tcp {ip}:9090: connect: '
        "connection refused" in messages
    )

    status, body = rt.admin(
        "PUT", "/probes", {"kind": "Pod", "name": "mixed", "answers": {"/": "x"}}
    )
    assert status == 422 and "an HTTP status 100..599" in body["message"], body
    _answer(rt, {"exec": 0}, kind="Pod", name="mixed")
    rt.advance(20)
    body = {"kind": "Pod", "name": "mixed", "container": "grpc"}
    status, out = rt.admin("PUT", "/probes", {**body, "answers": {"9000": "NOT_SERVING"}})
    assert status == 200, out
    rt.advance(20)
    ready = {c.name: c.ready for c in rt.pod("mixed").status.container_statuses}
    assert ready == {"cat": True, "tool": True, "grpc": False, "wrongport": False}
    assert 'Readiness probe failed: service unhealthy (responded with "NOT_SERVING")' in (
        _unhealthy(rt, "mixed")
    )
    rt.admin("PUT", "/probes", {**body, "answers": {}})
    status, listed = rt.admin("GET", "/probes")
    assert listed["items"] == [  # the grpc container's rule is gone
        {
            "namespace": "default",
            "kind": "Pod",
            "name": "mixed",
            "container": "",
            "answers": {"exec": 0},
        }
    ]
