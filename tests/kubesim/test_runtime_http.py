"""pods/log, pods/exec and metrics.k8s.io through kubectl and the official client."""

from __future__ import annotations

import json
import subprocess
import threading
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


class _Following:
    """`kubectl logs -f` in the background; its lines as they arrive.

    The cluster's clock stays frozen: the test moves simulated time itself, so what
    kubectl shows does not depend on how fast the machine runs, and waits poll with a
    generous bound instead of sleeping for a fixed time.
    """

    def __init__(self, rt, *args: str) -> None:  # noqa: F811
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            ["kubectl", "--kubeconfig", str(rt.config_file), "logs", "-f", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"HOME": str(rt.home), "PATH": "/usr/bin:/bin"},
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while not predicate(list(self.lines)):
            if self.process.poll() is not None and not self.reader.is_alive():
                raise AssertionError(f"kubectl logs -f ended: {self.process.stderr.read()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"kubectl logs -f did not show it: {self.lines[-5:]}")
            time.sleep(0.05)
        return list(self.lines)

    def __enter__(self) -> _Following:
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.communicate(timeout=10)
        self.reader.join(timeout=10)


def test_kubectl_logs_follow_streams_new_lines(rt):  # noqa: F811
    _running_pod(rt)
    with _Following(rt, "web") as following:
        shown = len(following.wait_for(bool))  # the log so far: kubectl now follows
        rt.advance(180)  # about 15 lines a simulated minute
        lines = following.wait_for(lambda lines: len(lines) > shown + 10)
    assert rt.kubectl("logs", "web").stdout.startswith("\n".join(lines) + "\n")


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
    with _Following(rt, "cfg") as following:
        following.wait_for(bool)  # the log so far: kubectl now follows
        rt.advance(1)  # the change comes after what kubectl has shown
        rt.core.patch_namespaced_config_map("app-config", "default", {"data": {"mode": "red"}})
        rt.advance(1)
        lines = following.wait_for(lambda lines: any("reconfiguring" in x for x in lines))
    out = "\n".join(lines)
    assert "signal 1 (SIGHUP) received from 1, reconfiguring" in out
    assert "reconfiguring" in rt.kubectl("logs", "cfg", "--tail=5").stdout
    assert rt.kubectl("exec", "cfg", "--", "cat", "/etc/config/mode").stdout == "red"


def test_exec_v5_close_channel_ends_stdin(rt):  # noqa: F811
    """The official client's e2e test_pod_exec_close_channel: `cat` reads stdin until the
    v5 close frame for channel 0, then exits 0 with what it read."""
    _running_pod(rt, "cat", containers=[{"name": "app", "image": "busybox"}])
    resp = stream(
        rt.core.connect_get_namespaced_pod_exec,
        "cat",
        "default",
        command=["/bin/sh", "-c", "cat"],
        stderr=True,
        stdin=True,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    assert resp.subprotocol == "v5.channel.k8s.io"
    resp.write_stdin("test string 1\n")
    resp.write_stdin("test string 2\n")
    resp.close_channel(0)
    resp.run_forever(timeout=10)
    assert resp.read_stdout() == "test string 1\ntest string 2\n"
    assert resp.returncode == 0


def test_interactive_exec_of_a_missing_shell_fails_and_resize_sets_the_size(rt):  # noqa: F811
    _running_pod(rt, "box", containers=[{"name": "app", "image": "busybox"}])

    def shell(command):
        return stream(
            rt.core.connect_get_namespaced_pod_exec,
            "box",
            "default",
            command=command,
            stderr=True,
            stdin=True,
            stdout=True,
            tty=True,
            _preload_content=False,
        )

    bash = shell(["bash"])
    bash.run_forever(timeout=10)
    status = json.loads(bash.read_channel(3))  # busybox has no bash, as on a real cluster
    assert status["status"] == "Failure"
    assert 'exec: "bash": executable file not found in $PATH' in status["message"]
    sh = shell(["sh"])
    sh.write_channel(4, '{"Width": 100, "Height": 30}')
    sh.write_stdin("echo $COLUMNS/$LINES\r")
    output = ""
    deadline = time.monotonic() + 10
    while "100/30" not in output and time.monotonic() < deadline:
        sh.update(timeout=1)
        output += sh.read_stdout() if sh.peek_stdout() else ""
    assert "100/30" in output
    sh.write_stdin("exit\r")
    sh.run_forever(timeout=10)
    assert sh.returncode == 0
