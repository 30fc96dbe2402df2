"""Resource usage from the metrics API (metrics.k8s.io), when the cluster serves it."""

from kubernetes import client as k8s

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
