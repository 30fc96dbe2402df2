"""The kubelet's /metrics/cadvisor and /metrics/resource through the API server's node proxy,
read with Prometheus' own text parser (prometheus_client)."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.rest import ApiException
from prometheus_client.parser import text_string_to_metric_families

from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401 (fixtures)

RESOURCES = {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}


def _busy_pod(rt):  # noqa: F811
    rt.core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "busy"},
            "spec": {
                "containers": [{"name": "app", "image": "nginx:1.27", "resources": RESOURCES}]
            },
        },
    )
    rt.advance(5)
    pod = rt.pod("busy")
    assert pod.status.phase == "Running"
    return pod.spec.node_name


def _scrape(rt, node: str, endpoint: str) -> dict:  # noqa: F811
    """{metric family name: family} as Prometheus would parse the node's endpoint."""
    response = rt.core.connect_get_node_proxy_with_path(
        node, f"metrics/{endpoint}", _preload_content=False
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.data.decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def _sample(family, **labels):
    matches = [s for s in family.samples if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matches) == 1, (labels, family.samples)
    return matches[0]


def test_cadvisor_reports_containers_pods_and_network_with_cadvisors_labels(rt):  # noqa: F811
    node = _busy_pod(rt)
    rt.advance(60)
    families = _scrape(rt, node, "cadvisor")
    # prometheus_client strips a counter's _total from the family name, keeps it on samples
    cpu = families["container_cpu_usage_seconds"]
    assert cpu.type == "counter"
    row = _sample(cpu, namespace="default", pod="busy", container="app")
    assert row.name == "container_cpu_usage_seconds_total"
    assert row.labels["image"] == "nginx:1.27" and row.labels["cpu"] == "total"
    # 30% of 500m for ~65 simulated seconds, within the ±5% wobble
    assert 0.15 * 0.95 * 60 <= row.value <= 0.15 * 1.05 * 70
    pod_row = _sample(cpu, namespace="default", pod="busy", container="")
    assert pod_row.labels["image"] == ""  # the pod cgroup, which KubeSphere's image!="" drops
    memory = _sample(
        families["container_memory_working_set_bytes"], pod="busy", container="app"
    ).value
    assert 0.38 * 256 * 2**20 <= memory <= 0.42 * 256 * 2**20
    rx = _sample(families["container_network_receive_bytes"], pod="busy", interface="eth0")
    tx = _sample(families["container_network_transmit_bytes"], pod="busy", interface="eth0")
    assert rx.value > tx.value > 0
    assert _sample(cpu, id="/").value >= row.value  # the node's root cgroup


def _within(value: float, low: float, high: float) -> bool:
    """Whether ``value`` is in [low, high], counting a sum of floats that reaches the bound
    (usage wobbles by up to ±5%, and may wobble the whole 5%) as in."""
    return low - 1e-6 <= value <= high + 1e-6


def test_resource_endpoint_counters_follow_the_simulated_clock_and_load(rt):  # noqa: F811
    node = _busy_pod(rt)
    first = _scrape(rt, node, "resource")
    assert set(first) >= {
        "container_cpu_usage_seconds",
        "container_memory_working_set_bytes",
        "node_cpu_usage_seconds",
        "node_memory_working_set_bytes",
        "pod_cpu_usage_seconds",
        "pod_memory_working_set_bytes",
    }
    before = _sample(first["pod_cpu_usage_seconds"], namespace="default", pod="busy").value
    node_before = first["node_cpu_usage_seconds"].samples[0].value
    rt.advance(100)
    again = _scrape(rt, node, "resource")
    after = _sample(again["pod_cpu_usage_seconds"], namespace="default", pod="busy").value
    assert _within(after - before, 0.142 * 100, 0.158 * 100)  # 150m for 100 s
    assert again["node_cpu_usage_seconds"].samples[0].value - node_before >= after - before
    # the memory gauge is what metrics.k8s.io reports for the same pod at the same instant
    status, _ = rt.admin(
        "PUT", "/load", {"namespace": "default", "kind": "Pod", "name": "busy", "factor": 2}
    )
    assert status == 200
    rt.advance(100)
    doubled = _scrape(rt, node, "resource")
    later = _sample(doubled["pod_cpu_usage_seconds"], namespace="default", pod="busy").value
    assert _within(later - after, 0.285 * 100, 0.315 * 100)  # twice the load, twice the rate
    metrics = json.loads(rt.kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/pods").stdout)
    (item,) = [i for i in metrics["items"] if i["metadata"]["name"] == "busy"]
    reported = int(item["containers"][0]["usage"]["memory"].rstrip("Ki")) * 1024
    gauge = _sample(doubled["pod_memory_working_set_bytes"], pod="busy").value
    assert abs(gauge - reported) < 1024


def test_kubectl_get_raw_reads_the_node_proxy_and_unknown_paths_are_404(rt):  # noqa: F811
    node = _busy_pod(rt)
    out = rt.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/metrics/resource").stdout
    assert 'pod_memory_working_set_bytes{namespace="default",pod="busy"}' in out
    with pytest.raises(ApiException) as missing:
        rt.core.connect_get_node_proxy_with_path("nope", "metrics/cadvisor")
    assert missing.value.status == 404
    with pytest.raises(ApiException) as unknown:
        rt.core.connect_get_node_proxy_with_path(node, "configz")
    assert unknown.value.status == 404


def test_a_not_ready_nodes_kubelet_does_not_answer(rt):  # noqa: F811
    node = _busy_pod(rt)
    status, _ = rt.admin("PUT", f"/nodes/{node}/ready", {"status": "False"})
    assert status == 200
    rt.advance(1)
    with pytest.raises(ApiException) as down:
        rt.core.connect_get_node_proxy_with_path(node, "metrics/resource")
    assert down.value.status == 503
    rt.admin("PUT", f"/nodes/{node}/ready", {"status": "True"})
    rt.advance(1)
    assert "node_cpu_usage_seconds_total" in rt.core.connect_get_node_proxy_with_path(
        node, "metrics/resource"
    )
