"""Nodes mirrored from every cluster, and the cluster's node health from them."""

from django.db.models import Count, Q

from apps.kube.metrics import node_usage
from apps.kube.nodes import ZONE_LABEL, is_control_plane, is_ready
from apps.kube.sync import Mirror, register

from .models import Cluster, Node


def _address(node, kind="InternalIP") -> str:
    addresses = (node.status.addresses if node.status else None) or []
    return next((a.address for a in addresses if a.type == kind), "")


def _fetch(kube):
    usage = node_usage(kube)
    return [(node, usage.get(node.metadata.name, {})) for node in kube.list_nodes()]


def node_values(node, usage=None) -> dict:
    labels = node.metadata.labels or {}
    info = node.status.node_info if node.status else None
    return {
        "name": node.metadata.name,
        "role": Node.Role.MASTER if is_control_plane(node) else Node.Role.WORKER,
        "zone": labels.get(ZONE_LABEL, ""),
        "arch": labels.get("kubernetes.io/arch", info.architecture if info else ""),
        "os_image": info.os_image if info else "",
        "kernel_version": info.kernel_version if info else "",
        "kubelet_version": info.kubelet_version if info else "",
        "container_runtime": info.container_runtime_version if info else "",
        "internal_ip": _address(node),
        "schedulable": not (node.spec and node.spec.unschedulable),
        "ready": is_ready(node),
        "labels": labels,
        "taints": [
            {k: v for k, v in {"key": t.key, "value": t.value, "effect": t.effect}.items() if v}
            for t in (node.spec.taints or [])
        ]
        if node.spec
        else [],
        "capacity": dict(node.status.capacity or {}) if node.status else {},
        "allocatable": dict(node.status.allocatable or {}) if node.status else {},
        # Usage comes with a sync; a single node read leaves the last known usage.
        **({"usage": usage} if usage is not None else {}),
        "resource_version": node.metadata.resource_version or "",
        "created": node.metadata.creation_timestamp,
    }


def _count_nodes(cluster, result) -> None:
    counts = Node.objects.filter(cluster=cluster).aggregate(
        total=Count("pk"), ready=Count("pk", filter=Q(ready=True))
    )
    Cluster.objects.filter(pk=cluster.pk).update(
        nodes_total=counts["total"], nodes_ready=counts["ready"]
    )
    cluster.nodes_total, cluster.nodes_ready = counts["total"], counts["ready"]


register(
    Mirror(
        kind="Node",
        model=Node,
        fetch=_fetch,
        key_fields=("name",),
        key=lambda item: (item[0].metadata.name,),
        values=lambda item: node_values(*item),
        after=_count_nodes,
        order=10,
    )
)
