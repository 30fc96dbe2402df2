"""Resource usage from the metrics API (metrics.k8s.io), when the cluster serves it."""

import re

from kubernetes import client as k8s

from . import quantity
from .client import Kube
from .errors import KubeError


def node_usage(kube: Kube) -> dict[str, dict[str, str]]:
    """{node name: {"cpu": ..., "memory": ...}}; empty when no metrics server answers."""
    api = k8s.CustomObjectsApi(kube.api_client)
    try:
        answer = kube.call(
            api.list_cluster_custom_object, "metrics.k8s.io", "v1beta1", "nodes", retry=False
        )
    except KubeError as exc:
        if exc.status in (404, 503):  # no metrics API here, or not ready yet
            return {}
        raise
    return {item["metadata"]["name"]: dict(item.get("usage") or {}) for item in answer["items"]}


def pod_usage_all(kube: Kube) -> dict[tuple[str, str], dict[str, float]]:
    """{(namespace, pod): {"cpu": cores, "memory": bytes}} of every pod the metrics API
    reports (summed over containers); empty when no metrics server answers."""
    api = k8s.CustomObjectsApi(kube.api_client)
    try:
        answer = kube.call(
            api.list_cluster_custom_object, "metrics.k8s.io", "v1beta1", "pods", retry=False
        )
    except KubeError as exc:
        if exc.status in (404, 503):
            return {}
        raise
    out = {}
    for item in answer.get("items") or []:
        meta = item["metadata"]
        containers = [c.get("usage") or {} for c in item.get("containers") or []]
        out[(meta.get("namespace", ""), meta["name"])] = {
            "cpu": float(sum(quantity.parse(u.get("cpu", "0")) for u in containers)),
            "memory": int(sum(quantity.parse(u.get("memory", "0")) for u in containers)),
        }
    return out


_NETWORK = re.compile(
    r"^container_network_(receive|transmit)_bytes_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)"
)
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def pod_network(kube: Kube, node: str) -> dict[tuple[str, str], dict[str, int]]:
    """{(namespace, pod): {"rx": bytes, "tx": bytes}} cumulative, from the node's kubelet
    (/metrics/cadvisor through the API server's node proxy); empty when it does not answer."""
    try:
        text = kube.call(
            kube.core.connect_get_node_proxy_with_path, node, "metrics/cadvisor", retry=False
        )
    except KubeError:
        return {}
    out: dict[tuple[str, str], dict[str, int]] = {}
    for line in str(text).splitlines():
        match = _NETWORK.match(line)
        if match is None:
            continue
        labels = dict(_LABEL.findall(match["labels"]))
        if not labels.get("pod"):
            continue
        entry = out.setdefault((labels.get("namespace", ""), labels["pod"]), {"rx": 0, "tx": 0})
        key = "rx" if match[1] == "receive" else "tx"
        entry[key] += int(float(match["value"]))
    return out
