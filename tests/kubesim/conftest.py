"""Fixtures for kubesim tests: an in-process server, a fresh cluster per test, clients.

Run with `.venv/bin/pytest tests/kubesim -p no:django`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import kubernetes
import pytest
import yaml
from kubernetes.dynamic import DynamicClient

# `pytest` (unlike `python -m pytest`) does not put the repository root on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kubesim.testing import KubesimServer, unique_cluster_name


@pytest.fixture(scope="session")
def kubesim_server():
    """The API server alone: these tests pin its semantics, so no controllers run.

    (`kubesim.testing.kubesim_server`, for other suites, runs part 2's controllers.)
    """
    server = KubesimServer(controllers=[])
    yield server
    server.stop()


@pytest.fixture
def kubesim_cluster(kubesim_server):
    """A fresh cluster (the admin API's answer, with "kubeconfig"), deleted afterwards."""
    cluster = kubesim_server.create_cluster(unique_cluster_name(), workers=2)
    yield cluster
    kubesim_server.admin("DELETE", f"/clusters/{cluster['name']}")


@pytest.fixture
def api(kubesim_cluster):
    client = kubernetes.config.new_client_from_config_dict(kubesim_cluster["kubeconfig"])
    yield client
    client.close()


@pytest.fixture
def core(api):
    return kubernetes.client.CoreV1Api(api)


@pytest.fixture
def apps(api):
    return kubernetes.client.AppsV1Api(api)


@pytest.fixture
def dynamic(api):
    return DynamicClient(api)


@pytest.fixture
def sim(kubesim_server, kubesim_cluster):
    """The in-process Cluster object behind the test's cluster."""
    return kubesim_server.cluster(kubesim_cluster["name"])


KubectlRun = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def kubectl(kubesim_cluster, tmp_path) -> KubectlRun:
    """Run kubectl against the test's cluster: kubectl("get", "pods", stdin=..., check=True)."""
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(kubesim_cluster["kubeconfig"]))

    def run(*args: str, stdin: str | None = None, check: bool = True, timeout: float = 60):
        # A fresh HOME keeps kubectl's discovery and OpenAPI cache per test.
        result = subprocess.run(
            ["kubectl", "--kubeconfig", str(config), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    return run


def kubectl_json(run: KubectlRun, *args: str) -> dict:
    return json.loads(run(*args, "-o", "json").stdout)
