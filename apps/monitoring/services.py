"""Chart data of a cluster, node, workload or pod, for the portal's charts and the API.

Surfaces fetch the object through ``restrict(user, "view")`` (a forbidden one is a 404
to a tenant) and ask ``charts``, which checks again and only reads.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.clusters.models import Cluster, Node
from apps.core import authz
from apps.kube import quantity
from apps.workloads.models import Pod, Workload

from .query import MetricsUnavailable, Scope, backend_for, range_query

# range -> (seconds shown, seconds per point)
RANGES = {"1h": (3600, 60), "6h": (6 * 3600, 300), "24h": (86400, 600), "7d": (7 * 86400, 3600)}
DEFAULT_RANGE = "1h"
TITLES = {
    "cpu": gettext_lazy("CPU"),
    "memory": gettext_lazy("Memory"),
    "pods": gettext_lazy("Pods"),
    "rx": gettext_lazy("Network in"),
    "tx": gettext_lazy("Network out"),
}
UNITS = {"cpu": "cores", "memory": "bytes", "pods": "pods", "rx": "bytes/s", "tx": "bytes/s"}


def parse_range(value: str | None) -> str:
    """The range asked for; none given is the default, but an empty one is refused
    like any other unknown one (a client that sent ``range=`` meant some range)."""
    if value is None:
        return DEFAULT_RANGE
    if value not in RANGES:
        raise ValidationError(
            _("Unknown range %(value)s; use one of %(choices)s.")
            % {"value": value, "choices": ", ".join(RANGES)}
        )
    return value


def _amount(value, scale=1) -> float | None:
    if value in (None, ""):
        return None
    with contextlib.suppress(ValueError):
        return float(quantity.parse(value)) * scale
    return None


def _capacity_lines(resources: dict, name: str) -> list[dict]:
    lines = []
    for part, label in (("capacity", _("capacity")), ("allocatable", _("allocatable"))):
        value = _amount((resources.get(part) or {}).get(name))
        if value is not None:
            lines.append({"label": label, "value": value})
    return lines


def _pod_limits(pods) -> dict[str, list[dict]]:
    """Requests and limits summed over the pods' containers: {"cpu": lines, "memory": lines}."""
    sums = {(name, kind): 0.0 for name in ("cpu", "memory") for kind in ("requests", "limits")}
    missing = set()
    for pod in pods:
        for container in (pod.manifest.get("spec") or {}).get("containers") or []:
            resources = container.get("resources") or {}
            for name, kind in sums:
                value = _amount((resources.get(kind) or {}).get(name))
                if value is None:
                    missing.add((name, kind))
                else:
                    sums[(name, kind)] += value
    labels = {"requests": _("requests"), "limits": _("limits")}
    out = {"cpu": [], "memory": []}
    for (name, kind), value in sums.items():
        if pods and (name, kind) not in missing:
            out[name].append({"label": labels[kind], "value": value})
    return out


def _target(obj) -> tuple[Cluster, Scope, list[str], dict[str, list[dict]]]:
    """(cluster, scope, metrics charted, reference lines per metric) of one object."""
    if isinstance(obj, Cluster):
        resources = {
            part: {name: (obj.resources.get(name) or {}).get(part) for name in UNITS}
            for part in ("capacity", "allocatable")
        }
        lines = {m: _capacity_lines(resources, m) for m in ("cpu", "memory", "pods")}
        return obj, Scope.cluster(), ["cpu", "memory", "pods"], lines
    if isinstance(obj, Node):
        resources = {"capacity": obj.capacity, "allocatable": obj.allocatable}
        lines = {m: _capacity_lines(resources, m) for m in ("cpu", "memory", "pods")}
        return obj.cluster, Scope.of_node(obj.name), ["cpu", "memory", "pods"], lines
    if isinstance(obj, Workload):
        pods = list(obj.pods().only("name", "manifest"))
        scope = Scope.of_pods(obj.namespace_name, [p.name for p in pods])
        return obj.cluster, scope, ["cpu", "memory", "rx", "tx"], _pod_limits(pods)
    if isinstance(obj, Pod):
        scope = Scope.of_pods(obj.namespace_name, [obj.name])
        return obj.cluster, scope, ["cpu", "memory", "rx", "tx"], _pod_limits([obj])
    raise TypeError(f"no charts for {type(obj).__name__}")


def charts(actor, obj, range_key: str = DEFAULT_RANGE, now=None) -> dict:
    """Every chart of the object over the range: series of (unix seconds, value) points
    with the reference lines (capacity/allocatable, or requests/limits) to draw.

    A user who may not view the object gets a 404 (``authz.require``); a bad range a
    ValidationError."""
    authz.require(actor, "view", obj)
    range_key = parse_range(range_key)
    seconds, step = RANGES[range_key]
    end = now or timezone.now()
    start = end - timedelta(seconds=seconds)
    cluster, scope, metrics, lines = _target(obj)
    out = {
        "range": range_key,
        "step": step,
        "start": start.timestamp(),
        "end": end.timestamp(),
        "backend": backend_for(cluster).name,
        "error": "",
        "charts": [],
    }
    for metric in metrics:
        try:
            points = range_query(cluster, metric, scope, start, end, step)
        except MetricsUnavailable as exc:
            out["error"] = str(exc)
            points = []
        out["charts"].append(
            {
                "metric": metric,
                "title": str(TITLES[metric]),
                "unit": UNITS[metric],
                "points": [[t, v] for t, v in points],
                "lines": lines.get(metric, []),
            }
        )
    return out
