"""A cluster's status page: API server health, node conditions, what is reserved on
each node and used against what it offers, the namespaces and workloads requesting and
using the most, recent Warnings.

Everything but the API server's health and the pods' usage (metrics.k8s.io, one call,
as ``kubectl top pods -A``) comes from mirrored rows, in a fixed number of queries
whatever the number of nodes, pods and events. Nodes' usage is the one the portal keeps
on their rows (``clusters.sync.record_usage``).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from apps.kube.errors import KubeError

from . import tables
from .models import Node

CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
# A condition's status that is good news: Ready is True, the pressures False.
HEALTHY = {"Ready": "True", "MemoryPressure": "False", "DiskPressure": "False"}
TOP = 10
# Pods that hold nothing on their node any more.
TERMINAL = ("Succeeded", "Failed")


@dataclass
class ApiHealth:
    healthy: bool
    detail: str
    version: str = ""


def api_health(cluster) -> ApiHealth:
    """Ask the API server itself: /readyz (falling back on /healthz), and its version."""
    try:
        kube = cluster.kube(retries=1)
        version = kube.version()
    except KubeError as exc:
        return ApiHealth(False, exc.message)
    for path in ("/readyz", "/healthz"):
        try:
            code, text = kube.call(_probe, kube, path, retry=False)
        except KubeError as exc:
            return ApiHealth(False, f"{path}: {exc.message}", version)
        if code == 404:
            continue  # (an API server too old to have /readyz)
        return ApiHealth(200 <= code < 300, f"{path}: {text or code}", version)
    return ApiHealth(True, "", version)


def _probe(kube, path: str, _request_timeout=None) -> tuple[int, str]:
    """(HTTP status, first line of the body) of a GET of one of the API server's probes."""
    client = kube.api_client
    request = client.param_serialize(
        method="GET", resource_path=path, auth_settings=["BearerToken"]
    )
    response = client.call_api(*request, _request_timeout=_request_timeout)
    response.read()
    text = (response.data or b"").decode(errors="replace").strip().splitlines()
    return response.status, (text[0][:200] if text else "")


@dataclass
class NodeStatus:
    node: Node
    conditions: list[tuple[str, str, bool, str]]  # (type, status, healthy, message)
    cpu: dict = field(default_factory=dict)
    memory: dict = field(default_factory=dict)
    pods: dict = field(default_factory=dict)


def _conditions(node: Node) -> list[tuple[str, str, bool, str]]:
    given = {c.get("type"): c for c in (node.manifest.get("status") or {}).get("conditions") or []}
    rows = []
    for name in CONDITIONS:
        condition = given.get(name) or {}
        status = condition.get("status") or "Unknown"
        rows.append(
            (name, status, status == HEALTHY.get(name, "False"), condition.get("message", ""))
        )
    return rows


def _parts(capacity, allocatable, requested, show, used=None) -> dict:
    return {
        "capacity": show(capacity),
        "allocatable": show(allocatable),
        "requested": show(requested),
        "percent": int(requested * 100 / allocatable) if allocatable else 0,
        "used": show(used) if used is not None else "",
        "used_percent": int(used * 100 / allocatable) if used is not None and allocatable else 0,
    }


def nodes(cluster) -> tuple[list[NodeStatus], dict]:
    """Each node with its conditions and capacity / allocatable / requested, and the totals
    (two queries: the nodes, and the pods' requests grouped by node)."""
    requests = {
        row["node_name"]: row
        for row in _live_pods(cluster)
        .exclude(node_name="")
        .values("node_name")
        .annotate(cpu=Sum("cpu_request"), memory=Sum("memory_request"), n=Count("pk"))
    }
    totals = {r: [Decimal(0)] * 3 for r in ("cpu", "memory", "pods")}
    measured = {"cpu": None, "memory": None, "pods": None}  # usage totals, when measured
    rows = []
    for node in Node.objects.filter(cluster=cluster).order_by("role", "name"):
        asked = requests.get(node.name) or {"cpu": 0, "memory": 0, "n": 0}
        status = NodeStatus(node, _conditions(node))
        for resource, requested in (
            ("cpu", Decimal(asked["cpu"] or 0) / 1000),
            ("memory", Decimal(asked["memory"] or 0)),
            ("pods", Decimal(asked["n"] or 0)),
        ):
            capacity = tables.quantity(node.capacity.get(resource)) or Decimal(0)
            allocatable = tables.quantity(node.allocatable.get(resource)) or Decimal(0)
            used = tables.quantity((node.usage or {}).get(resource)) if resource != "pods" else None
            for i, amount in enumerate((capacity, allocatable, requested)):
                totals[resource][i] += amount
            if used is not None:
                measured[resource] = (measured[resource] or Decimal(0)) + used
            setattr(
                status,
                resource,
                _parts(capacity, allocatable, requested, tables.FORMATS[resource], used),
            )
        rows.append(status)
    total = {r: _parts(*totals[r], tables.FORMATS[r], measured[r]) for r in totals}
    return rows, total


def _live_pods(cluster):
    from apps.workloads.models import Pod

    return Pod.objects.filter(cluster=cluster).exclude(phase__in=TERMINAL)


BY = {  # how the top consumers may be ordered (?top=...): a key of their rows
    "cpu": "cpu_request",
    "memory": "memory_request",
    "cpu_usage": "cpu_used",
    "memory_usage": "memory_used",
}


def pod_usage(cluster) -> dict[tuple[str, str], tuple[int, int]]:
    """What each pod uses now, in millicores and bytes, from the metrics API ({} when it
    cannot say)."""
    from apps.kube.metrics import pod_usage_all

    try:
        usage = pod_usage_all(cluster.kube(retries=1))
    except KubeError:
        return {}
    return {pod: (int(u["cpu"] * 1000), u["memory"]) for pod, u in usage.items()}


def _mem(value: int | None) -> str:
    if value is None:
        return "—"
    if value < 2**30:
        return f"{round(value / 2**20)} Mi"
    return tables.memory(Decimal(value))


def _shown(row: dict, measured: bool) -> dict:
    return {
        **row,
        "cpu_display": f"{row['cpu_request']}m",
        "memory_display": _mem(row["memory_request"]),
        "cpu_used_display": f"{row['cpu_used']}m" if measured else "—",
        "memory_used_display": _mem(row["memory_used"]) if measured else "—",
    }


def top_consumers(user, cluster, usage: dict, by: str = "cpu", limit: int = TOP):
    """(namespaces, workloads): those requesting or using the most of ``by`` (a key of
    ``BY``), with pods, CPU and memory requested and used — of the namespaces the user
    may see (one query: the pods' requests and owners; usage as the metrics API said)."""
    from apps.core import authz
    from apps.namespaces.models import Namespace

    pods = _live_pods(cluster)
    if not authz.is_cloud_admin(user):
        pods = pods.filter(namespace__in=Namespace.objects.restrict(user, "view"))
    namespaces: dict[str, dict] = {}
    workloads: dict[tuple, dict] = {}
    for ns, name, kind, workload, cpu, memory in pods.values_list(
        "namespace_name", "name", "workload_kind", "workload_name", "cpu_request", "memory_request"
    ):
        cpu_used, memory_used = usage.get((ns, name), (0, 0))
        keys = [(namespaces, ns, {"namespace": ns})]
        if workload:
            keys.append(
                (workloads, (ns, kind, workload), {"namespace": ns, "kind": kind, "name": workload})
            )
        for table, key, start in keys:
            row = table.setdefault(
                key,
                {**start, "pods": 0, "cpu_request": 0, "memory_request": 0}
                | {"cpu_used": 0, "memory_used": 0},
            )
            row["pods"] += 1
            row["cpu_request"] += cpu or 0
            row["memory_request"] += memory or 0
            row["cpu_used"] += cpu_used
            row["memory_used"] += memory_used
    key = BY.get(by, BY["cpu"])

    def top(rows):
        ordered = sorted(
            rows, key=lambda r: (-r[key], -r["pods"], r["namespace"], r.get("name", ""))
        )
        return [_shown(r, bool(usage)) for r in ordered[:limit]]

    shown = top(workloads.values())
    if shown:  # each links to its page (one query for the few shown)
        from django.db.models import Q

        from apps.workloads.models import Workload

        wanted = Q()
        for row in shown:
            wanted |= Q(namespace_name=row["namespace"], kind=row["kind"], name=row["name"])
        pages = {
            (w.namespace_name, w.kind, w.name): w.get_absolute_url()
            for w in Workload.objects.filter(cluster=cluster)
            .filter(wanted)
            .only("pk", "namespace_name", "kind", "name")
        }
        for row in shown:
            row["url"] = pages.get((row["namespace"], row["kind"], row["name"]), "")
    return top(namespaces.values()), shown


def not_ready(node_rows: list[NodeStatus]) -> int:
    return sum(1 for row in node_rows if not row.conditions[0][2])


__all__ = ["BY", "CONDITIONS", "api_health", "nodes", "not_ready", "pod_usage", "top_consumers"]
