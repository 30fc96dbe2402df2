"""kubesim's fluent-bit: a DaemonSet configured with an http output ships its nodes'
container lines (the ones kubectl logs shows) in fluent-bit's format, retrying on 429."""

from __future__ import annotations

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kubesim.runtime.controllers.logshipper import parse_config
from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401 (fixtures)

CONFIG = """[SERVICE]
    Flush 1

[INPUT]
    Name tail
    Path /var/log/containers/*.log

[OUTPUT]
    Name              http
    Match             *
    Host              127.0.0.1
    Port              {port}
    URI               /collect
    Format            json_lines
    Header            Authorization Bearer ${{TOKEN}}
    Header            X-Cluster demo
    Compress          gzip
"""


class Collector:
    """An HTTP endpoint that keeps what is posted; answers 429 to the first ``refuse``."""

    def __init__(self, refuse: int = 0):
        self.requests: list[dict] = []
        self.refuse = refuse
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if collector.refuse > 0:
                    collector.refuse -= 1
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                collector.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "records": [json.loads(line) for line in body.decode().splitlines()],
                    }
                )
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def records(self):
        return [r for request in self.requests for r in request["records"]]

    def close(self):
        self.server.shutdown()


@pytest.fixture
def collector():
    found = Collector(refuse=2)
    yield found
    found.close()


def shipper(port: int, node: str | None = None) -> list[dict]:
    spec = {
        "containers": [
            {
                "name": "fluent-bit",
                "image": "cr.fluentbit.io/fluent/fluent-bit:3.2.2",
                "env": [
                    {
                        "name": "TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "ingest", "key": "token"}},
                    }
                ],
            }
        ],
        "volumes": [{"name": "config", "configMap": {"name": "fluent-bit"}}],
        "tolerations": [{"operator": "Exists"}],
    }
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "ingest"},
            "stringData": {"token": "s3cret"},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "fluent-bit"},
            "data": {"fluent-bit.conf": CONFIG.format(port=port)},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "fluent-bit"},
            "spec": {
                "selector": {"matchLabels": {"app": "fluent-bit"}},
                "template": {"metadata": {"labels": {"app": "fluent-bit"}}, "spec": spec},
            },
        },
    ]


def wait_for(check, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_config_is_read_as_fluent_bit_reads_it():
    sections = parse_config(CONFIG.format(port=1234))
    output = sections["OUTPUT"][0]
    assert output["name"] == "http" and output["port"] == "1234" and output["uri"] == "/collect"
    assert [v for k, v in output.items() if k.startswith("header:")] == [
        "Authorization Bearer ${TOKEN}",
        "X-Cluster demo",
    ]


def test_a_node_with_the_shipper_sends_its_containers_lines(rt, collector):  # noqa: F811
    for manifest in shipper(collector.port, node="worker-1"):
        rt.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    rt.create_pod("here", nodeName="worker-1")
    rt.create_pod("there", nodeName="worker-2")
    rt.advance(5)
    rt.advance(60)
    wait_for(
        lambda: any(r["kubernetes"]["pod_name"] == "here" for r in collector.records),
        "lines of the pod on worker-1",
    )
    request = collector.requests[0]
    assert request["path"] == "/collect"
    assert request["headers"]["Authorization"] == "Bearer s3cret"  # ${TOKEN} from the Secret
    assert request["headers"]["X-Cluster"] == "demo"
    pods = {r["kubernetes"]["pod_name"] for r in collector.records}
    assert "there" not in pods  # worker-2 runs no shipper
    here = [r for r in collector.records if r["kubernetes"]["pod_name"] == "here"]
    meta = here[0]["kubernetes"]
    assert (meta["namespace_name"], meta["container_name"], meta["host"]) == (
        "default",
        "app",
        "worker-1",
    )
    assert isinstance(here[0]["date"], float) and here[0]["log"].endswith("\n")
    logs = rt.core.read_namespaced_pod_log("here", "default")
    shipped = [r["log"].rstrip("\n") for r in here]
    assert shipped and all(line in logs.splitlines() for line in shipped)
    # Each line once, in order, though the first two posts were refused with 429.
    assert len(shipped) == len(set(shipped)) and collector.refuse == 0
    before = len(here)
    rt.advance(60)
    wait_for(
        lambda: (
            len([r for r in collector.records if r["kubernetes"]["pod_name"] == "here"]) > before
        ),
        "the next minute's lines",
    )


def test_a_deleted_clusters_shipper_stops_sending(rt, collector):  # noqa: F811
    for manifest in shipper(collector.port):
        rt.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    rt.create_pod("chatty")
    rt.advance(5)
    rt.advance(60)
    wait_for(lambda: collector.records, "the first lines")
    shippers = [
        s for c in rt.cluster.simulation.controllers for s in getattr(c, "shippers", {}).values()
    ]
    assert shippers and all(s.sender.is_alive() for s in shippers)
    status, _body = rt.admin("DELETE", "")
    assert status == 200
    # Its fluent-bit goes with it: the threads that post its lines end.
    wait_for(lambda: not any(s.sender.is_alive() for s in shippers), "the senders to stop")
