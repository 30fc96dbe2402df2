"""The admin API: clusters, nodes, fault injection; and --state persistence."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import kubernetes
import pytest
import requests
from kubernetes.client import ApiException
from kubernetes.dynamic import DynamicClient

from kubesim.testing import KubesimServer, unique_cluster_name
from tests.kubesim.test_crd import crd

REPO = Path(__file__).resolve().parents[2]


def _core(cluster: dict) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(
        kubernetes.config.new_client_from_config_dict(cluster["kubeconfig"])
    )


def test_cluster_create_list_get_delete(kubesim_server):
    name = unique_cluster_name("admin")
    created = kubesim_server.create_cluster(
        name, version="1.31", masters=3, workers=2, zones=["a", "b"], arch="arm64"
    )
    assert created["name"] == name and created["version"] == "1.31.0"
    assert created["nodes"] == ["master-1", "master-2", "master-3", "worker-1", "worker-2"]
    core = _core(created)
    zones = [n.metadata.labels["topology.kubernetes.io/zone"] for n in core.list_node().items]
    assert zones == ["a", "b", "a", "a", "b"]
    assert core.read_node("worker-1").status.node_info.architecture == "arm64"

    status, listed = kubesim_server.admin("GET", "/clusters")
    assert status == 200 and name in [c["name"] for c in listed["items"]]
    status, one = kubesim_server.admin("GET", f"/clusters/{name}")
    assert status == 200 and one["kubeconfig"] == created["kubeconfig"]

    status, body = kubesim_server.admin("POST", "/clusters", {"name": name})
    assert (status, body["reason"]) == (409, "AlreadyExists")
    status, body = kubesim_server.admin("POST", "/clusters", {"name": "Not_Valid"})
    assert (status, body["reason"]) == (422, "Invalid")

    assert kubesim_server.admin("DELETE", f"/clusters/{name}")[0] == 200
    assert kubesim_server.admin("GET", f"/clusters/{name}")[0] == 404
    with pytest.raises(ApiException) as info:
        core.list_namespace()
    assert info.value.status == 404


def test_add_and_remove_nodes(kubesim_server, kubesim_cluster, core):
    name = kubesim_cluster["name"]
    status, body = kubesim_server.admin(
        "POST", f"/clusters/{name}/nodes", {"count": 2, "role": "worker", "zone": "z1"}
    )
    assert status == 201 and body["nodes"] == ["worker-3", "worker-4"]
    assert core.read_node("worker-3").metadata.labels["topology.kubernetes.io/zone"] == "z1"
    assert kubesim_server.admin("DELETE", f"/clusters/{name}/nodes/worker-3")[0] == 200
    assert "worker-3" not in [n.metadata.name for n in core.list_node().items]
    assert kubesim_server.admin("DELETE", f"/clusters/{name}/nodes/worker-3")[0] == 404


# -- fault injection -----------------------------------------------------------------------


@pytest.fixture
def faults(kubesim_server, kubesim_cluster):
    def set_faults(**spec):
        status, body = kubesim_server.admin(
            "PUT", f"/clusters/{kubesim_cluster['name']}/faults", spec
        )
        assert status == 200, body
        return body

    yield set_faults
    set_faults()  # back to normal


@pytest.fixture
def http(kubesim_server, kubesim_cluster):
    token = kubesim_cluster["kubeconfig"]["users"][0]["user"]["token"]
    base = f"{kubesim_server.url}/clusters/{kubesim_cluster['name']}"
    return base, {"Authorization": f"Bearer {token}"}


def test_error_rate_answers_503_for_a_share_of_requests(faults, http):
    faults(error_rate=0.3, error_code=503, seed=7)
    base, auth = http
    codes = [
        requests.get(f"{base}/api/v1/namespaces", headers=auth, timeout=5).status_code
        for _ in range(200)
    ]
    assert set(codes) == {200, 503}
    assert 40 <= codes.count(503) <= 80
    failed = requests.get(f"{base}/api/v1/namespaces", headers=auth, timeout=5)
    while failed.status_code != 503:
        failed = requests.get(f"{base}/api/v1/namespaces", headers=auth, timeout=5)
    assert failed.json()["reason"] == "ServiceUnavailable"


def test_429_with_retry_after(faults, http):
    faults(error_rate=1.0, error_code=429, retry_after=7)
    base, auth = http
    # (the official client honours Retry-After itself, so look at the raw answer)
    response = requests.get(f"{base}/api/v1/namespaces", headers=auth, timeout=5)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    body = response.json()
    assert (body["reason"], body["details"]["retryAfterSeconds"]) == ("TooManyRequests", 7)


def test_latency(faults, http):
    base, auth = http
    faults(latency_ms=300)
    started = time.monotonic()
    assert requests.get(f"{base}/api/v1/namespaces", headers=auth, timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_refuse_drops_connections(faults, http):
    base, auth = http
    faults(refuse=True)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/api/v1/namespaces", headers=auth, timeout=5)


def test_expire_watches_ends_open_watches_with_410(faults, http, core):
    base, auth = http
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    lines: list[dict] = []
    opened = threading.Event()

    def watch() -> None:
        response = requests.get(
            f"{base}/api/v1/namespaces/default/configmaps",
            headers=auth,
            params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "10"},
            stream=True,
            timeout=15,
        )
        opened.set()
        lines.extend(json.loads(line) for line in response.iter_lines() if line)

    thread = threading.Thread(target=watch)
    thread.start()
    opened.wait(5)
    core.create_namespaced_config_map("default", {"metadata": {"name": "seen"}})
    faults(expire_watches=True)
    thread.join(10)
    assert not thread.is_alive()
    assert [e["type"] for e in lines] == ["ADDED", "ERROR"]
    assert lines[-1]["object"]["code"] == 410
    # a resume from the old version now needs a relist
    again = requests.get(
        f"{base}/api/v1/namespaces/default/configmaps",
        headers=auth,
        params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "1"},
        timeout=5,
    )
    assert json.loads(again.text.splitlines()[0])["object"]["reason"] == "Expired"


# -- persistence -----------------------------------------------------------------------------


def test_state_survives_a_restart(tmp_path):
    state = tmp_path / "state.json"
    server = KubesimServer(state_path=state)
    try:
        cluster = server.create_cluster("keep", workers=1)
        core = _core(cluster)
        core.create_namespaced_config_map(
            "default", {"metadata": {"name": "kept"}, "data": {"a": "1"}}
        )
        api = core.api_client
        kubernetes.client.ApiextensionsV1Api(api).create_custom_resource_definition(
            crd("widgets", "Widget")
        )
        widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
        DynamicClient(api).resources.get(api_version="example.com/v1", kind="Widget").create(
            body={**widget, "spec": {"size": 2}}, namespace="default"
        )
        before = int(core.list_namespaced_config_map("default").metadata.resource_version)
        later = server.call(server.cluster("keep").clock.advance, 86400)  # a simulated day
    finally:
        server.stop()
    saved = json.loads(state.read_text())
    assert saved["format"] == "kubesim-state" and saved["clusters"][0]["name"] == "keep"

    server = KubesimServer(state_path=state)
    try:
        status, again = server.admin("GET", "/clusters/keep")
        assert status == 200
        assert again["kubeconfig"]["users"] == cluster["kubeconfig"]["users"]  # same token
        assert (
            again["kubeconfig"]["clusters"][0]["cluster"]["certificate-authority-data"]
            == cluster["kubeconfig"]["clusters"][0]["cluster"]["certificate-authority-data"]
        )
        core = _core(again)
        assert core.read_namespaced_config_map("kept", "default").data == {"a": "1"}
        dynamic = DynamicClient(core.api_client)
        dynamic.resources.invalidate_cache()
        widgets = dynamic.resources.get(api_version="example.com/v1", kind="Widget")
        assert widgets.get(name="w", namespace="default").spec.size == 2
        made = core.create_namespaced_config_map("default", {"metadata": {"name": "new"}})
        assert int(made.metadata.resource_version) > before
        # simulated time went on from where it was, not back to the wall clock
        assert made.metadata.creation_timestamp >= later.replace(microsecond=0)
    finally:
        server.stop()


def test_state_is_written_soon_after_a_change(tmp_path):
    state = tmp_path / "state.json"
    server = KubesimServer(state_path=state)
    try:
        core = _core(server.create_cluster("live"))
        core.create_namespaced_config_map("default", {"metadata": {"name": "soon"}})
        deadline = time.monotonic() + 30  # generous: a loaded machine is slow
        while time.monotonic() < deadline:
            if state.exists() and '"soon"' in state.read_text():
                break
            time.sleep(0.1)
        assert '"soon"' in state.read_text()
        assert not list(tmp_path.glob(".state.json.*"))  # no temp file left behind
    finally:
        server.stop()


def test_corrupt_state_file_is_reported_not_discarded(tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"format": "kubesim-state", "version": 1, "clusters": [')
    result = subprocess.run(
        [sys.executable, "-m", "kubesim", "--state", str(state), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert "is corrupt" in result.stderr and str(state) in result.stderr
    assert state.read_text() == '{"format": "kubesim-state", "version": 1, "clusters": ['


def test_command_line_server_persists_on_sigterm(tmp_path):
    state = tmp_path / "state.json"

    def start() -> tuple[subprocess.Popen, str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "kubesim", "--port", "0", "--state", str(state)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        line = process.stdout.readline()
        assert line.startswith("kubesim listening on http://127.0.0.1:"), line
        return process, line.split()[3]

    process, url = start()
    try:
        response = requests.post(f"{url}/kubesim/v1/clusters", json={"name": "cli"}, timeout=10)
        assert response.status_code == 201
        assert response.json()["kubeconfig"]["clusters"][0]["cluster"]["server"].startswith(
            "https://127.0.0.1:"
        )
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
    process, url = start()
    try:
        names = [
            c["name"]
            for c in requests.get(f"{url}/kubesim/v1/clusters", timeout=10).json()["items"]
        ]
        assert names == ["cli"]
    finally:
        process.terminate()
        process.wait(timeout=10)
