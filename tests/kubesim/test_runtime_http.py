"""pods/log, pods/exec and metrics.k8s.io through kubectl and the official client."""

from __future__ import annotations

import subprocess
import time

from kubernetes.stream import stream

from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401 (fixtures)


def _running_pod(rt, name="web", image="nginx:1.27", **spec):  # noqa: F811
    rt.core.create_namespaced_pod(
        "default",
        {"metadata": {"name": name}, "spec": {"containers": [{"name": "app", "image": image}]}}
        if not spec
        else {"metadata": {"name": name}, "spec": spec},
    )
    rt.advance(5)
    assert rt.pod(name).status.phase == "Running"


def test_kubectl_logs_are_deterministic_with_tail_and_timestamps(rt):  # noqa: F811
    _running_pod(rt)
    rt.advance(120)
    first = rt.kubectl("logs", "web").stdout
    assert first == rt.kubectl("logs", "web").stdout  # the same lines every time
    lines = first.splitlines()
    assert len(lines) > 20
    assert "/docker-entrypoint.sh" in first  # nginx's banner
    assert "GET /" in first
    tail = rt.kubectl("logs", "web", "--tail=3").stdout.splitlines()
    assert tail == lines[-3:]
    stamped = rt.kubectl("logs", "web", "--tail=1", "--timestamps").stdout
    assert stamped.split(" ", 1)[1].rstrip("\n") == lines[-1]
    assert stamped[:4].isdigit() and stamped[10] == "T"
    rt.advance(60)
    later = rt.kubectl("logs", "web").stdout
    assert later.startswith(first)  # a later read extends the earlier one
    # the python client gets the same text
    assert rt.core.read_namespaced_pod_log("web", "default") == later


def test_log_errors_have_the_apiservers_messages(rt):  # noqa: F811
    rt.core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "two"},
            "spec": {
                "containers": [
                    {"name": "a", "image": "nginx"},
                    {"name": "b", "image": "nginx:doesnotexist"},
                ]
            },
        },
    )
    rt.advance(10)
    out = rt.kubectl("logs", "two", "-c", "b", check=False)
    assert out.returncode != 0
    assert 'container "b" in pod "two" is waiting to start: trying and failing to pull image' in (
        out.stderr
    )
    out = rt.kubectl("logs", "two", "-c", "a", "--previous", check=False)
    assert 'previous terminated container "a" in pod "two" not found' in out.stderr


def test_kubectl_logs_follow_streams_new_lines(rt):  # noqa: F811
    _running_pod(rt)
    status, _ = rt.admin("POST", "/clock", {"timeFactor": 60})  # a simulated minute per second
    assert status == 200
    process = subprocess.Popen(
        ["kubectl", "--kubeconfig", str(rt.config_file), "logs", "-f", "web"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"HOME": str(rt.home), "PATH": "/usr/bin:/bin"},
    )
    try:
        time.sleep(2.5)
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert len(out.splitlines()) > 10  # about 15 lines a simulated minute
    rt.admin("POST", "/clock", {"timeFactor": 0})
    assert rt.kubectl("logs", "web").stdout.startswith(out.rsplit("\n", 2)[0])


def _config_pod(rt):  # noqa: F811
    rt.core.create_namespaced_config_map(
        "default",
        {"metadata": {"name": "app-config"}, "data": {"mode": "blue", "app.properties": "a=1\n"}},
    )
    _running_pod(
        rt,
        "cfg",
        containers=[
            {
                "name": "app",
                "image": "nginx",
                "volumeMounts": [{"name": "config", "mountPath": "/etc/config"}],
                "env": [{"name": "GREETING", "value": "hello"}],
            }
        ],
        volumes=[{"name": "config", "configMap": {"name": "app-config"}}],
    )


def test_kubectl_exec_cat_shows_the_configmap_and_its_changes(rt):  # noqa: F811
    _config_pod(rt)
    out = rt.kubectl("exec", "cfg", "--", "cat", "/etc/config/mode")
    assert out.stdout == "blue"
    listing = rt.kubectl("exec", "cfg", "--", "ls", "/etc/config").stdout.split()
    assert listing == ["app.properties", "mode"]
    rt.core.patch_namespaced_config_map("app-config", "default", {"data": {"mode": "green"}})
    assert rt.kubectl("exec", "cfg", "--", "cat", "/etc/config/mode").stdout == "green"
    assert rt.kubectl("exec", "cfg", "--", "sh", "-c", "echo $GREETING").stdout == "hello\n"
    failed = rt.kubectl("exec", "cfg", "--", "sh", "-c", "exit 3", check=False)
    assert failed.returncode == 3
    missing = rt.kubectl("exec", "cfg", "--", "cat", "/nope", check=False)
    assert missing.returncode == 1
    assert "No such file or directory" in missing.stderr


def test_python_stream_exec(rt):  # noqa: F811
    _config_pod(rt)
    out = stream(
        rt.core.connect_get_namespaced_pod_exec,
        "cfg",
        "default",
        command=["cat", "/etc/config/app.properties"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert out == "a=1\n"
    assert (
        stream(
            rt.core.connect_get_namespaced_pod_exec,
            "cfg",
            "default",
            command=["hostname"],
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
        )
        == "cfg\n"
    )


def test_kubectl_top_reads_the_metrics_api(rt):  # noqa: F811
    _running_pod(
        rt,
        "busy",
        containers=[
            {
                "name": "app",
                "image": "nginx",
                "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}},
            }
        ],
    )
    pods = rt.kubectl("top", "pods", "--no-headers").stdout.split()
    assert pods[0] == "busy"
    cpu = int(pods[1].rstrip("m"))
    assert 140 <= cpu <= 160  # 30% of the request at load 1
    nodes = rt.kubectl("top", "nodes", "--no-headers").stdout.splitlines()
    assert {line.split()[0] for line in nodes} == {"master-1", "worker-1", "worker-2"}
    status, _ = rt.admin(
        "PUT", "/load", {"namespace": "default", "kind": "Pod", "name": "busy", "factor": 2}
    )
    assert status == 200
    cpu2 = int(rt.kubectl("top", "pods", "--no-headers").stdout.split()[1].rstrip("m"))
    assert 280 <= cpu2 <= 320


def test_kubectl_logs_follow_shows_a_configmap_change(rt):  # noqa: F811
    _config_pod(rt)
    rt.admin("POST", "/clock", {"timeFactor": 1})
    process = subprocess.Popen(
        ["kubectl", "--kubeconfig", str(rt.config_file), "logs", "-f", "cfg"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"HOME": str(rt.home), "PATH": "/usr/bin:/bin"},
    )
    try:
        time.sleep(1.0)
        rt.core.patch_namespaced_config_map("app-config", "default", {"data": {"mode": "red"}})
        time.sleep(1.0)
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert "signal 1 (SIGHUP) received from 1, reconfiguring" in out
    assert "reconfiguring" in rt.kubectl("logs", "cfg", "--tail=5").stdout
    assert rt.kubectl("exec", "cfg", "--", "cat", "/etc/config/mode").stdout == "red"
