"""Nodes mirrored from every cluster, and what the cluster's row derives from them."""

import contextlib
from decimal import Decimal

from django.db.models import Count, Q

from apps.kube import bulk, quantity
from apps.kube.metrics import node_usage
from apps.kube.mirror import Mirror, register
from apps.kube.nodes import ZONE_LABEL, is_control_plane, is_ready

from .models import Cluster, Node

ARCH_LABEL = "kubernetes.io/arch"


def _address(status: dict, kind="InternalIP") -> str:
    return next((a["address"] for a in status.get("addresses") or [] if a.get("type") == kind), "")


def node_summary(obj: dict) -> dict:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    info = status.get("nodeInfo") or {}
    return {
        "role": Node.Role.MASTER if is_control_plane(obj) else Node.Role.WORKER,
        "zone": labels.get(ZONE_LABEL, ""),
        "arch": labels.get(ARCH_LABEL, info.get("architecture", "")),
        "os_image": info.get("osImage", ""),
        "kernel_version": info.get("kernelVersion", ""),
        "kubelet_version": info.get("kubeletVersion", ""),
        "container_runtime": info.get("containerRuntimeVersion", ""),
        "internal_ip": _address(status),
        "schedulable": not spec.get("unschedulable"),
        "ready": is_ready(obj),
        "taints": [
            {k: t[k] for k in ("key", "value", "effect") if t.get(k)}
            for t in spec.get("taints") or []
        ],
        "capacity": dict(status.get("capacity") or {}),
        "allocatable": dict(status.get("allocatable") or {}),
    }


RESOURCES = ("cpu", "memory", "pods")
PARTS = ("capacity", "allocatable", "usage")


def totals(nodes) -> dict:
    """CPU, memory and pods summed over the nodes: capacity, allocatable, usage (as text)."""
    sums = {name: {part: Decimal(0) for part in PARTS} for name in RESOURCES}
    seen = {name: set() for name in RESOURCES}
    for values in nodes.values(*PARTS):
        for part in PARTS:
            for name in RESOURCES:
                amount = (values[part] or {}).get(name)
                if amount not in (None, ""):
                    with contextlib.suppress(ValueError):
                        sums[name][part] += quantity.parse(amount)
                        seen[name].add(part)
    return {
        name: {part: str(sums[name][part]) for part in PARTS if part in seen[name]}
        for name in RESOURCES
    }


def summarize_cluster(cluster, *_args) -> None:
    """What the cluster's row says of its nodes: counts, zones, architectures and totals.

    Kept as nodes change (a handful of queries, whatever the number of nodes), so the
    cluster's page reads them from one row instead of from every node.
    """
    nodes = Node.objects.filter(cluster=cluster)
    counts = nodes.aggregate(total=Count("pk"), ready=Count("pk", filter=Q(ready=True)))
    fields = {
        "nodes_total": counts["total"],
        "nodes_ready": counts["ready"],
        "zones": sorted(set(nodes.exclude(zone="").values_list("zone", flat=True))),
        "architectures": sorted(set(nodes.exclude(arch="").values_list("arch", flat=True))),
        "resources": totals(nodes),
    }
    Cluster.objects.filter(pk=cluster.pk).update(**fields)
    for name, value in fields.items():
        setattr(cluster, name, value)


def record_usage(cluster, kube) -> None:
    """Each node's current CPU and memory use, from the metrics API (not part of the Node)."""
    usage = node_usage(kube)
    rows = Node.objects.filter(cluster=cluster).values_list("pk", "name")
    bulk.update(Node, [{"pk": pk, "usage": usage.get(name, {})} for pk, name in rows])
    summarize_cluster(cluster)


NODES = register(
    Mirror(Node, "v1", "Node", summary=node_summary, after=summarize_cluster, order=10)
)


# Clusters the informer keeps live: those working, including while they scale.
WATCHED = (Cluster.Status.RUNNING, Cluster.Status.DEGRADED, Cluster.Status.SCALING)


def watched_clusters():
    return list(Cluster.objects.filter(status__in=WATCHED).exclude(kubeconfig=""))
