"""One query interface for charts, two backends.

``range_query(cluster, metric, scope, start, end, step)`` answers a list of
``(unix seconds, value)`` points, the sum over the scope at each step:

- metrics: ``cpu`` (cores), ``memory`` (working set, bytes), ``pods`` (running pods;
  cluster and node scopes), ``rx`` / ``tx`` (network bytes per second received / sent;
  pod scopes);
- scopes: the whole cluster, one node, or a set of pods of one namespace (a pod, or a
  workload's pods).

A cluster with a ``prometheus_url`` is asked with PromQL (``PrometheusBackend``: the
kubelet's cadvisor and resource metrics, filtered as KubeSphere filters them); any other
from the portal's own samples (``SamplerBackend``, see ``apps.monitoring.sampler``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from .models import Sample

METRICS = ("cpu", "memory", "pods", "rx", "tx")


class MetricsUnavailable(Exception):
    """The backend could not answer (Prometheus down, refused, or an error)."""


@dataclass(frozen=True)
class Scope:
    level: str  # "cluster" | "node" | "pods"
    node: str = ""
    namespace: str = ""
    pods: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def cluster(cls) -> Scope:
        return cls("cluster")

    @classmethod
    def of_node(cls, name: str) -> Scope:
        return cls("node", node=name)

    @classmethod
    def of_pods(cls, namespace: str, names) -> Scope:
        return cls("pods", namespace=namespace, pods=tuple(sorted(names)))


def backend_for(cluster):
    return PrometheusBackend(cluster) if cluster.prometheus_url else SamplerBackend(cluster)


def range_query(cluster, metric: str, scope: Scope, start: datetime, end: datetime, step: int):
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    if scope.level == "pods" and not scope.pods:
        return []
    return backend_for(cluster).range_query(metric, scope, start, end, int(step))


def _ts(at: datetime) -> float:
    return at.timestamp()


# -- the embedded sampler -------------------------------------------------------------------


class SamplerBackend:
    name = "sampler"

    def __init__(self, cluster) -> None:
        self.cluster = cluster

    def _resolution(self, start: datetime, step: int) -> int:
        raw_since = datetime.now(UTC) - timedelta(hours=settings.MONITORING_RAW_RETENTION_HOURS)
        if step >= settings.MONITORING_COARSE_STEP or start < raw_since:
            return settings.MONITORING_COARSE_STEP
        return settings.MONITORING_RAW_STEP

    def range_query(self, metric, scope, start, end, step):
        resolution = self._resolution(start, step)
        rows = Sample.objects.filter(
            cluster=self.cluster, step=resolution, at__gte=start, at__lte=end
        )
        if scope.level == "pods":
            rows = rows.filter(kind=Sample.Kind.POD, namespace=scope.namespace, name__in=scope.pods)
        elif metric == "pods":
            rows = rows.filter(kind=Sample.Kind.POD)
            if scope.level == "node":
                rows = rows.filter(node=scope.node)
        else:
            rows = rows.filter(kind=Sample.Kind.NODE)
            if scope.level == "node":
                rows = rows.filter(name=scope.node)
        if metric in ("rx", "tx"):
            return self._rates(rows.order_by("at").values_list("name", "at", metric), step)
        # per instant: the sum over the scope's objects (or how many pods there were)
        by_instant: dict[datetime, float] = defaultdict(float)
        for at, value in rows.values_list("at", "memory" if metric == "pods" else metric):
            by_instant[at] += 1 if metric == "pods" else value
        return _bucket(sorted(by_instant.items()), step)

    def _rates(self, rows, step):
        """Bytes per second from each pod's cumulative counter, summed per instant."""
        last: dict[str, tuple[datetime, int]] = {}
        by_instant: dict[datetime, float] = defaultdict(float)
        for name, at, value in rows:
            if value is None:
                continue
            before = last.get(name)
            last[name] = (at, value)
            if before is None or at <= before[0]:
                continue
            grown = value - before[1] if value >= before[1] else value  # a reset
            by_instant[at] += grown / (at - before[0]).total_seconds()
        return _bucket(sorted(by_instant.items()), step)


def _bucket(points, step: int) -> list[tuple[float, float]]:
    """The mean of the points in each `step`-second bucket, stamped at the bucket's start."""
    sums: dict[int, list[float]] = {}
    for at, value in points:
        key = int(_ts(at)) // step * step
        entry = sums.setdefault(key, [0.0, 0])
        entry[0] += value
        entry[1] += 1
    return [(float(key), total / count) for key, (total, count) in sorted(sums.items())]


# -- Prometheus -----------------------------------------------------------------------------

# KubeSphere's filter of virtual interfaces on pod network queries.
INTERFACES = "^(cali.+|tunl.+|dummy.+|kube.+|flannel.+|cni.+|docker.+|veth.+|lo.*)"


def _matchers(**labels) -> str:
    parts = []
    for key, value in labels.items():
        op, text = value if isinstance(value, tuple) else ("=", value)
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'{key}{op}"{escaped}"')
    return "{" + ",".join(parts) + "}"


def promql(metric: str, scope: Scope) -> str:
    """The PromQL of one chart: KubeSphere's queries over the kubelet's own endpoints
    (cadvisor for containers and network, /metrics/resource for nodes)."""
    node = {"node": scope.node} if scope.level == "node" else {}
    if scope.level != "pods":
        if metric == "cpu":
            return f"sum(irate(node_cpu_usage_seconds_total{_matchers(**node)}[5m]))"
        if metric == "memory":
            return f"sum(node_memory_working_set_bytes{_matchers(**node)})"
        if metric == "pods":
            return f"count(pod_memory_working_set_bytes{_matchers(**node)})"
        raise ValueError(f"{metric} is charted for pods only")
    pods = ("=~", "|".join(re.escape(p) for p in scope.pods))
    containers = _matchers(
        namespace=scope.namespace, pod=pods, image=("!=", ""), container=("!=", "")
    )
    if metric == "cpu":
        return f"sum(irate(container_cpu_usage_seconds_total{containers}[5m]))"
    if metric == "memory":
        return f"sum(container_memory_working_set_bytes{containers})"
    if metric in ("rx", "tx"):
        name = "receive" if metric == "rx" else "transmit"
        net = _matchers(namespace=scope.namespace, pod=pods, interface=("!~", INTERFACES))
        return f"sum(irate(container_network_{name}_bytes_total{net}[5m]))"
    raise ValueError(f"{metric} is charted for clusters and nodes only")


class PrometheusBackend:
    name = "prometheus"

    def __init__(self, cluster) -> None:
        self.cluster = cluster

    def _auth(self) -> dict:
        cluster = self.cluster
        if cluster.prometheus_username:
            return {"auth": (cluster.prometheus_username, cluster.prometheus_secret or "")}
        if cluster.prometheus_secret:
            return {"headers": {"Authorization": f"Bearer {cluster.prometheus_secret}"}}
        return {}

    def range_query(self, metric, scope, start, end, step):
        url = self.cluster.prometheus_url.rstrip("/") + "/api/v1/query_range"
        params = {
            "query": promql(metric, scope),
            "start": f"{_ts(start):.3f}",
            "end": f"{_ts(end):.3f}",
            "step": str(step),
        }
        try:
            response = requests.get(
                url, params=params, timeout=settings.MONITORING_PROMETHEUS_TIMEOUT, **self._auth()
            )
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise MetricsUnavailable(_("Prometheus did not answer: %s") % exc) from exc
        if response.status_code != 200 or body.get("status") != "success":
            raise MetricsUnavailable(
                _("Prometheus answered %(code)s: %(error)s")
                % {"code": response.status_code, "error": body.get("error", "")}
            )
        result = (body.get("data") or {}).get("result") or []
        if not result:
            return []
        return [(float(t), float(v)) for t, v in result[0].get("values") or []]
