"""Fixtures for the runtime tests: a kubesim server with its controllers, one frozen cluster.

The cluster's time factor is 0, so simulated time moves only when a test calls
`rt.advance(seconds)`: deterministic, and no test sleeps for simulated minutes.
"""

from __future__ import annotations

import json
import subprocess
import time

import kubernetes
import pytest
import yaml

from kubesim.testing import KubesimServer, unique_cluster_name


class Runtime:
    def __init__(self, server: KubesimServer, cluster: dict, home) -> None:
        self.server = server
        self.name = cluster["name"]
        self.kubeconfig = cluster["kubeconfig"]
        self.api = kubernetes.config.new_client_from_config_dict(self.kubeconfig)
        self.core = kubernetes.client.CoreV1Api(self.api)
        self.apps = kubernetes.client.AppsV1Api(self.api)
        self.policy = kubernetes.client.PolicyV1Api(self.api)
        self.home = home
        self.config_file = home / "kubeconfig"
        self.config_file.write_text(yaml.safe_dump(self.kubeconfig))

    @property
    def cluster(self):
        return self.server.cluster(self.name)

    def admin(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        return self.server.admin(method, f"/clusters/{self.name}{path}", body)

    def advance(self, seconds: float) -> None:
        status, body = self.admin("POST", "/clock", {"advance": seconds})
        assert status == 200, body

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True, timeout=60):
        result = subprocess.run(
            ["kubectl", "--kubeconfig", str(self.config_file), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"HOME": str(self.home), "PATH": "/usr/bin:/bin"},
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def kubectl_advancing(self, *args: str, step: float = 1, timeout: float = 60):
        """Run kubectl while simulated time passes (`step` seconds every 0.1 s), for commands
        that wait for something the controllers do, like `kubectl delete` or `drain`."""
        process = subprocess.Popen(
            ["kubectl", "--kubeconfig", str(self.config_file), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"HOME": str(self.home), "PATH": "/usr/bin:/bin"},
        )
        deadline = time.monotonic() + timeout
        try:
            while process.poll() is None:
                if time.monotonic() > deadline:
                    raise AssertionError(f"kubectl {' '.join(args)} did not finish")
                self.advance(step)
                time.sleep(0.1)
            stdout, stderr = process.communicate()
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        if process.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {stderr}")
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def kubectl_json(self, *args: str) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def pod(self, name: str, namespace: str = "default"):
        return self.core.read_namespaced_pod(name, namespace)

    def create_pod(self, name: str, image: str = "nginx:1.27", annotations=None, **spec):
        body = {
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"containers": [{"name": "app", "image": image}], **spec},
        }
        return self.core.create_namespaced_pod("default", body)

    def events(self, name: str, namespace: str = "default") -> list:
        items = self.core.list_namespaced_event(
            namespace, field_selector=f"involvedObject.name={name}"
        ).items
        return sorted(items, key=lambda e: (e.first_timestamp, e.metadata.name))

    def close(self) -> None:
        self.api.close()


@pytest.fixture(scope="session")
def runtime_server():
    server = KubesimServer()  # the default controllers: nodes, scheduler, kubelet, ...
    yield server
    server.stop()


@pytest.fixture
def rt(runtime_server, tmp_path):
    cluster = runtime_server.create_cluster(unique_cluster_name("rt"), workers=2)
    status, body = runtime_server.admin(
        "POST", f"/clusters/{cluster['name']}/clock", {"timeFactor": 0}
    )
    assert status == 200, body
    runtime = Runtime(runtime_server, cluster, tmp_path)
    yield runtime
    runtime.close()
    runtime_server.admin("DELETE", f"/clusters/{cluster['name']}")
