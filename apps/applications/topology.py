"""An application's topology: what reaches what, drawn as columns.

Ingresses → Services (and autoscalers) → workloads → pods, and the ConfigMaps, Secrets
and claims the workloads use on the right. Edges come from the objects themselves: an
Ingress's backends, a Service's selector against a workload's pod labels, an HPA's
target, a pod template's volumes and env references. A reference to an object that does
not exist is drawn as a missing node: it is usually why something does not start.

The graph is computed here and drawn as SVG by the template; node positions are plain
numbers, so it renders without JavaScript and updates with the page's live region.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from apps.kube.errors import KubeError
from apps.workloads.models import Pod, Workload

from . import components

WIDTH, HEIGHT, GAP_X, GAP_Y, PAD = 190, 46, 70, 14, 10
MAX_PODS = 8  # per workload; the rest are one "+N more" node
COLUMNS = [
    ("Ingress",),
    ("Service", "HorizontalPodAutoscaler"),
    tuple(Workload.Kind.values),
    ("Pod",),
    ("ConfigMap", "Secret", "PersistentVolumeClaim"),
]
COLUMN_OF = {kind: index for index, kinds in enumerate(COLUMNS) for kind in kinds}
W = Workload.Status
WORKLOAD_HEALTH = {
    W.RUNNING: "ok",
    W.COMPLETED: "ok",
    W.UPDATING: "warn",
    W.DEGRADED: "bad",
    W.FAILED: "bad",
    W.STOPPED: "idle",
    W.SUSPENDED: "idle",
}


@dataclass
class Node:
    kind: str
    name: str
    health: str = "ok"  # ok, warn, bad, idle, missing
    note: str = ""
    url: str = ""
    x: int = 0
    y: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.name


@dataclass
class Edge:
    source: Node
    target: Node
    dashed: bool = False  # a reference (volume, env), not traffic

    @property
    def path(self) -> str:
        x1, y1 = self.source.x + WIDTH, self.source.y + HEIGHT // 2
        x2, y2 = self.target.x, self.target.y + HEIGHT // 2
        if x2 <= x1:  # same column: loop around the right side
            x2, bend = self.target.x + WIDTH, x1 + GAP_X // 2
            return f"M{x1},{y1} C{bend},{y1} {bend},{y2} {x2},{y2}"
        middle = (x1 + x2) // 2
        return f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"


@dataclass
class Graph:
    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # what could not be read
    width: int = 0
    height: int = 0

    def add(self, node: Node) -> Node:
        return self.nodes.setdefault(node.key, node)

    def link(self, source, target, dashed=False) -> None:
        if source is not None and target is not None:
            self.edges.append(Edge(source, target, dashed))

    def ref(self, kind: str, name: str) -> Node:
        """The node of ``kind/name``: a missing one when the application has no such object."""
        return self.nodes.get((kind, name)) or self.add(Node(kind, name, "missing", _("not found")))

    @property
    def is_empty(self) -> bool:
        return not self.nodes

    def layout(self) -> "Graph":
        columns = [[] for _ in COLUMNS]
        for node in self.nodes.values():
            columns[COLUMN_OF.get(node.kind, len(COLUMNS) - 1)].append(node)
        used = [c for c in columns if c]
        for index, column in enumerate(used):
            for row, node in enumerate(column):
                node.x = PAD + index * (WIDTH + GAP_X)
                node.y = PAD + row * (HEIGHT + GAP_Y)
        self.width = PAD * 2 + max(len(used), 1) * (WIDTH + GAP_X) - GAP_X
        tallest = max((len(c) for c in used), default=1)
        self.height = PAD * 2 + tallest * (HEIGHT + GAP_Y) - GAP_Y
        return self


def of(application) -> Graph:
    """The application's graph, laid out."""
    graph = Graph()
    found = _components(application, graph)
    workloads = _workloads(application)
    for row in found.get("ConfigMap", []) + found.get("Secret", []):
        graph.add(Node(row.kind_name, row.name, url=row.get_absolute_url()))
    made = _claims_of(application, workloads)
    for row in [*found.get("PersistentVolumeClaim", []), *(r for rs in made.values() for r in rs)]:
        health = {"Bound": "ok", "Pending": "warn", "Lost": "bad"}.get(row.phase, "warn")
        graph.add(
            Node("PersistentVolumeClaim", row.name, health, row.phase, row.get_absolute_url())
        )
    for workload in workloads:
        graph.add(
            Node(
                workload.kind,
                workload.name,
                WORKLOAD_HEALTH.get(workload.status, "warn"),
                f"{workload.get_status_display()} · {workload.replicas_display}",
                workload.get_absolute_url(),
            )
        )
    _pods(application, graph, workloads)
    for workload in workloads:
        claims = [
            graph.nodes[("PersistentVolumeClaim", r.name)] for r in made.get(workload.name, [])
        ]
        _references(graph, workload, claims)
    for obj, url in found.get("HorizontalPodAutoscaler", []):
        hpa = graph.add(Node("HorizontalPodAutoscaler", _name(obj), note=_hpa_note(obj), url=url))
        target = (obj.get("spec") or {}).get("scaleTargetRef") or {}
        if target.get("name"):
            graph.link(hpa, graph.ref(target.get("kind", "Deployment"), target["name"]))
    for obj, url in found.get("Service", []):
        _service(graph, obj, workloads).url = url
    for obj, url in found.get("Ingress", []):
        _ingress(graph, obj).url = url
    return graph.layout()


# Kinds drawn from their rows' columns; the others from their manifests (selectors,
# backends, targets), mirrored or read live.
ROW_KINDS = {"ConfigMap", "Secret", "PersistentVolumeClaim"}


def _components(application, graph: Graph) -> dict[str, list]:
    """Every grouped non-workload kind's objects: rows (ROW_KINDS) or (manifest, url)
    pairs; from the mirror where the portal mirrors the kind, else read live."""
    found = {}
    for kind in components.grouped_kinds(application):
        if kind.workload:
            continue
        try:
            if kind.kind in ROW_KINDS and kind.mirror is not None:
                rows = components.rows_of(application, kind)
                for row in rows:
                    row.kind_name = kind.kind
                found[kind.kind] = rows
            elif kind.mirror is not None:
                rows = components.rows_of(application, kind, manifest=True)
                found[kind.kind] = [(row.manifest or {}, _url(row)) for row in rows]
            elif kind.kind not in ROW_KINDS:
                found[kind.kind] = [(obj, "") for obj in components.live_of(application, kind)]
        except KubeError as exc:
            graph.notes.append(
                _("%(kind)s could not be read: %(error)s") % {"kind": kind.kind, "error": exc}
            )
    return found


def _url(row) -> str:
    return row.get_absolute_url() if hasattr(row, "get_absolute_url") else ""


def _workloads(application) -> list[Workload]:
    rows = (
        Workload.objects.filter(
            cluster_id=application.cluster_id, namespace_name=application.namespace_name
        )
        .exclude(owner_kind="CronJob")
        .order_by("kind", "name")
    )
    listed = {k.kind for k in components.grouped_kinds(application) if k.workload}
    return [w for w in rows if w.kind in listed and application.selects(w.labels or {})]


def _pods(application, graph: Graph, workloads) -> None:
    by_workload = {(w.kind, w.name): graph.nodes[(w.kind, w.name)] for w in workloads}
    jobs_of = {
        job.name: job.owner_name
        for job in Workload.objects.filter(
            cluster_id=application.cluster_id,
            namespace_name=application.namespace_name,
            owner_kind="CronJob",
        ).only("name", "owner_name")
    }
    shown: dict[tuple, int] = {}
    pods = Pod.objects.filter(
        cluster_id=application.cluster_id, namespace_name=application.namespace_name
    ).order_by("name")
    for pod in pods.only(
        "pk", "name", "status", "ready", "phase", "workload_kind", "workload_name"
    ):
        owner = (pod.workload_kind, pod.workload_name)
        if pod.workload_kind == "Job" and pod.workload_name in jobs_of:
            owner = ("CronJob", jobs_of[pod.workload_name])
        parent = by_workload.get(owner)
        if parent is None:
            continue
        shown[owner] = shown.get(owner, 0) + 1
        if shown[owner] > MAX_PODS:
            more = graph.add(Node("Pod", f"{parent.name} …", "idle"))
            more.note = _("%(n)s more pods") % {"n": shown[owner] - MAX_PODS}
            if shown[owner] == MAX_PODS + 1:
                graph.link(parent, more)
            continue
        graph.link(
            parent,
            graph.add(Node("Pod", pod.name, _pod_health(pod), pod.status, pod.get_absolute_url())),
        )


def _pod_health(pod) -> str:
    if pod.phase == "Succeeded":
        return "idle"
    if pod.ready:
        return "ok"
    if pod.phase == "Failed" or pod.status in _STUCK:
        return "bad"
    return "warn"


_STUCK = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "OOMKilled",
    "CreateContainerConfigError",
    "Error",
}


def _template(workload: Workload) -> dict:
    spec = (workload.manifest or {}).get("spec") or {}
    if workload.kind == Workload.Kind.CRONJOB:
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return spec.get("template") or {}


def _references(graph: Graph, workload: Workload, claims=()) -> None:
    """Edges from a workload to the ConfigMaps, Secrets and claims its pods use."""
    node = graph.nodes[(workload.kind, workload.name)]
    spec = _template(workload).get("spec") or {}
    wanted = set()
    for volume in spec.get("volumes") or []:
        if (volume.get("configMap") or {}).get("name"):
            wanted.add(("ConfigMap", volume["configMap"]["name"]))
        if (volume.get("secret") or {}).get("secretName"):
            wanted.add(("Secret", volume["secret"]["secretName"]))
        if (volume.get("persistentVolumeClaim") or {}).get("claimName"):
            wanted.add(("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
        for source in (volume.get("projected") or {}).get("sources") or []:
            if (source.get("configMap") or {}).get("name"):
                wanted.add(("ConfigMap", source["configMap"]["name"]))
            if (source.get("secret") or {}).get("name"):
                wanted.add(("Secret", source["secret"]["name"]))
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for env in container.get("env") or []:
            source = env.get("valueFrom") or {}
            if (source.get("configMapKeyRef") or {}).get("name"):
                wanted.add(("ConfigMap", source["configMapKeyRef"]["name"]))
            if (source.get("secretKeyRef") or {}).get("name"):
                wanted.add(("Secret", source["secretKeyRef"]["name"]))
        for env_from in container.get("envFrom") or []:
            if (env_from.get("configMapRef") or {}).get("name"):
                wanted.add(("ConfigMap", env_from["configMapRef"]["name"]))
            if (env_from.get("secretRef") or {}).get("name"):
                wanted.add(("Secret", env_from["secretRef"]["name"]))
    for secret in spec.get("imagePullSecrets") or []:
        if secret.get("name"):
            wanted.add(("Secret", secret["name"]))
    for kind, name in sorted(wanted):
        graph.link(node, graph.ref(kind, name), dashed=True)
    for claim in claims:
        graph.link(node, claim, dashed=True)


def _claims_of(application, workloads) -> dict[str, list]:
    """The claims each StatefulSet made from its templates (``<template>-<name>-<n>``):
    they carry the template's labels, not the application's."""
    prefixes = {
        f"{(claim.get('metadata') or {}).get('name')}-{w.name}-": w.name
        for w in workloads
        if w.kind == Workload.Kind.STATEFULSET
        for claim in ((w.manifest or {}).get("spec") or {}).get("volumeClaimTemplates") or []
    }
    if not prefixes:
        return {}
    from apps.storage.models import PersistentVolumeClaim

    rows = PersistentVolumeClaim.objects.filter(
        cluster_id=application.cluster_id, namespace_name=application.namespace_name
    ).only("pk", "name", "phase")
    found = {}
    for row in rows:
        for prefix, owner in prefixes.items():
            if row.name.startswith(prefix):
                found.setdefault(owner, []).append(row)
    return found


def _name(obj: dict) -> str:
    return obj["metadata"]["name"]


def _hpa_note(obj: dict) -> str:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return _("%(current)s pods (%(min)s to %(max)s)") % {
        "current": status.get("currentReplicas", "?"),
        "min": spec.get("minReplicas", 1),
        "max": spec.get("maxReplicas", "?"),
    }


def _service(graph: Graph, obj: dict, workloads) -> Node:
    spec = obj.get("spec") or {}
    ports = ", ".join(str(p.get("port")) for p in spec.get("ports") or [])
    node = graph.add(Node("Service", _name(obj), note=f"{spec.get('type', 'ClusterIP')} {ports}"))
    selector = spec.get("selector") or {}
    reached = 0
    for workload in workloads:
        labels = (_template(workload).get("metadata") or {}).get("labels") or {}
        if selector and all(labels.get(k) == v for k, v in selector.items()):
            graph.link(node, graph.nodes[(workload.kind, workload.name)])
            reached += 1
    if selector and not reached:
        node.health, node.note = "warn", _("selects no workload")
    return node


def _ingress(graph: Graph, obj: dict) -> Node:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    addresses = [
        entry.get("ip") or entry.get("hostname")
        for entry in (status.get("loadBalancer") or {}).get("ingress") or []
    ]
    hosts = [rule.get("host") for rule in spec.get("rules") or [] if rule.get("host")]
    node = graph.add(
        Node(
            "Ingress",
            _name(obj),
            "ok" if addresses else "warn",
            ", ".join(hosts) or (", ".join(filter(None, addresses)) or _("no address yet")),
        )
    )
    backends = [spec.get("defaultBackend") or {}]
    for rule in spec.get("rules") or []:
        backends += [
            path.get("backend") or {} for path in (rule.get("http") or {}).get("paths") or []
        ]
    for name in sorted({(b.get("service") or {}).get("name") for b in backends} - {None}):
        graph.link(node, graph.ref("Service", name))
    return node
