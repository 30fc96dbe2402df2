"""The embedded metrics store's writer: sample metrics.k8s.io, fold, prune.

Beat runs ``monitoring.sample_all`` every MONITORING_RAW_STEP seconds: for each running
cluster without a Prometheus, one NodeMetrics list, one PodMetrics list (all
namespaces) and, per node, the kubelet's network counters (/metrics/cadvisor through the
node proxy) become one bulk insert of raw rows. ``downsample`` (every 10 minutes) folds
complete MONITORING_COARSE_STEP buckets of raw rows into one row per object (mean CPU
and memory, last network counters) and deletes rows past their retention.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Max
from django.utils import timezone

from apps.clusters.models import Cluster
from apps.kube import metrics as kube_metrics
from apps.kube import quantity
from apps.kube.errors import KubeError, NotConfigured
from apps.workloads.models import Pod

from .models import Sample

log = logging.getLogger(__name__)


def sampled_clusters():
    return Cluster.objects.filter(
        status__in=[Cluster.Status.RUNNING, Cluster.Status.DEGRADED], prometheus_url=""
    ).exclude(kubeconfig="")


def sample(cluster: Cluster, now: datetime | None = None) -> int:
    """Record one raw sample of every node and pod of the cluster; the rows written."""
    at = (now or timezone.now()).replace(microsecond=0)
    step = settings.MONITORING_RAW_STEP
    try:
        kube = cluster.kube()
        nodes = kube_metrics.node_usage(kube)
        pods = kube_metrics.pod_usage_all(kube)
        network = {}
        for node in nodes:
            network.update(kube_metrics.pod_network(kube, node))
    except (KubeError, NotConfigured) as exc:
        log.info("no metrics sample of %s: %s", cluster.name, exc)
        return 0
    placed = {
        (namespace, name): node
        for namespace, name, node in Pod.objects.filter(cluster=cluster).values_list(
            "namespace_name", "name", "node_name"
        )
    }
    rows = [
        Sample(
            cluster=cluster,
            kind=Sample.Kind.NODE,
            name=name,
            step=step,
            at=at,
            cpu=float(quantity.parse(usage.get("cpu", "0"))),
            memory=int(quantity.parse(usage.get("memory", "0"))),
        )
        for name, usage in nodes.items()
    ]
    for (namespace, name), usage in pods.items():
        counters = network.get((namespace, name)) or {}
        rows.append(
            Sample(
                cluster=cluster,
                kind=Sample.Kind.POD,
                namespace=namespace,
                name=name,
                node=placed.get((namespace, name), ""),
                step=step,
                at=at,
                cpu=usage["cpu"],
                memory=usage["memory"],
                rx=counters.get("rx"),
                tx=counters.get("tx"),
            )
        )
    Sample.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def downsample(now: datetime | None = None) -> int:
    """Fold complete coarse buckets of raw rows, then prune; the coarse rows written."""
    now = now or timezone.now()
    coarse = settings.MONITORING_COARSE_STEP
    raw = settings.MONITORING_RAW_STEP
    written = 0
    current = datetime.fromtimestamp(int(now.timestamp()) // coarse * coarse, UTC)
    for cluster_id in Sample.objects.filter(step=raw).values_list("cluster", flat=True).distinct():
        done = Sample.objects.filter(cluster_id=cluster_id, step=coarse).aggregate(Max("at"))
        first = Sample.objects.filter(cluster_id=cluster_id, step=raw)
        if done["at__max"]:
            first = first.filter(at__gte=done["at__max"] + timedelta(seconds=coarse))
        oldest = first.order_by("at").values_list("at", flat=True).first()
        if oldest is None:
            continue
        bucket = datetime.fromtimestamp(int(oldest.timestamp()) // coarse * coarse, UTC)
        while bucket < current:
            end = bucket + timedelta(seconds=coarse)
            groups = (
                Sample.objects.filter(cluster_id=cluster_id, step=raw, at__gte=bucket, at__lt=end)
                .values("kind", "namespace", "name", "node")
                .annotate(cpu_avg=Avg("cpu"), memory_avg=Avg("memory"), rx_max=Max("rx"))
                .annotate(tx_max=Max("tx"))
            )
            rows = [
                Sample(
                    cluster_id=cluster_id,
                    kind=g["kind"],
                    namespace=g["namespace"],
                    name=g["name"],
                    node=g["node"],
                    step=coarse,
                    at=bucket,
                    cpu=g["cpu_avg"],
                    memory=int(g["memory_avg"]),
                    rx=g["rx_max"],
                    tx=g["tx_max"],
                )
                for g in groups
            ]
            Sample.objects.bulk_create(rows, batch_size=1000)
            written += len(rows)
            bucket = end
    prune(now)
    return written


def prune(now: datetime | None = None) -> int:
    """Delete raw rows older than MONITORING_RAW_RETENTION_HOURS and coarse rows older than
    MONITORING_COARSE_RETENTION_DAYS (one DELETE each)."""
    now = now or timezone.now()
    raw_cutoff = now - timedelta(hours=settings.MONITORING_RAW_RETENTION_HOURS)
    coarse_cutoff = now - timedelta(days=settings.MONITORING_COARSE_RETENTION_DAYS)
    deleted = Sample.objects.filter(step=settings.MONITORING_RAW_STEP, at__lt=raw_cutoff).delete()
    deleted_coarse = Sample.objects.filter(
        step=settings.MONITORING_COARSE_STEP, at__lt=coarse_cutoff
    ).delete()
    return deleted[0] + deleted_coarse[0]
