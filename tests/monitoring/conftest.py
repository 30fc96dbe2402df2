"""Fixtures for monitoring: a cluster with a namespace per project, and a real Prometheus.

``prometheus`` starts Debian's Prometheus (``/usr/bin/prometheus``, which ``.ci/run``
installs) scraping the test cluster's kubelets through kubesim's node proxy every 3 s (a scrape is
stamped when it starts and kubesim answers a little later: a longer interval keeps that
jitter small against a rate).
Without the binary the tests that need it skip, except in CI (``CI=true``), where a
missing Prometheus fails them.
"""

import os
import shutil
import socket
import subprocess

import pytest
import requests
import yaml

from apps.clusters.models import Node
from apps.monitoring.prometheus import scrape_config
from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.configs.conftest import lab, shop  # noqa: F401
from tests.kube.conftest import eventually
from tests.namespaces.conftest import cluster  # noqa: F401
from tests.portal.conftest import _fast_password_hashing, api, org, portal  # noqa: F401


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Prometheus:
    def __init__(self, url: str, process: subprocess.Popen, log_path) -> None:
        self.url = url
        self.process = process
        self.log_path = log_path

    def query(self, promql: str) -> list:
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=5)
        return answer.json()["data"]["result"]

    def scraped_twice(self) -> bool:
        """Every target is up and was scraped at least twice (a rate needs two samples)."""
        answer = requests.get(f"{self.url}/api/v1/targets", timeout=5).json()
        active = answer["data"]["activeTargets"]
        if not active or any(t["health"] != "up" for t in active):
            return False
        counts = self.query("count_over_time(up[5m]) >= 2")
        return len(counts) == len(active)


@pytest.fixture
def prometheus(cluster, tmp_path):  # noqa: F811
    binary = shutil.which("prometheus")
    if binary is None:
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail("prometheus is not installed, and CI must chart from a real one")
        pytest.skip("prometheus is not installed (apt-get install prometheus); CI runs this")
    nodes = list(Node.objects.filter(cluster=cluster).values_list("name", flat=True))
    assert nodes, "the cluster's nodes are not mirrored"
    config = {"global": {"scrape_interval": "3s", "evaluation_interval": "3s"}}
    config.update(scrape_config(cluster, nodes, tmp_path, interval="3s"))
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = _free_port()
    log_path = tmp_path / "prometheus.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(f"http://127.0.0.1:{port}", process, log_path)

    def ready():
        """Prometheus answers /-/ready"""
        if process.poll() is not None:
            raise AssertionError(f"prometheus exited: {log_path.read_text()}")
        try:
            return requests.get(f"{server.url}/-/ready", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        eventually(ready, timeout=60, interval=0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
