"""Server-side `Table` output (meta.k8s.io/v1) so `kubectl get` prints real columns.

The columns and cell rules follow the apiserver's printers (kubernetes
pkg/printers/internalversion) for Kubernetes 1.32; custom resources follow the CRD table
convertor (additionalPrinterColumns). The apiserver always fills every column, including
the priority-1 ones that kubectl shows only with `-o wide`; `wide=True` (the default) does
the same, `wide=False` drops them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

# --- time -----------------------------------------------------------------------------


def human_duration(seconds: float) -> str:
    """Kubernetes' duration.HumanDuration: 45s, 5m12s, 3h4m, 2d3h, 120d, 3y45d."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24 % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _parse_time(value) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


class _Ctx:
    """What every printer needs besides the object: the clock and the wide flag."""

    def __init__(self, now: datetime):
        self.now = now

    def since(self, value) -> str:
        """translateTimestampSince: "<unknown>" for a missing time, else a human duration."""
        t = _parse_time(value)
        if t is None:
            return "<unknown>"
        return human_duration((self.now - t).total_seconds())

    def between(self, start, end) -> str:
        a, b = _parse_time(start), _parse_time(end)
        if a is None or b is None:
            return ""
        return human_duration((b - a).total_seconds())


# --- column definitions -----------------------------------------------------------------


def _col(
    name: str, type_: str = "string", description: str = "", priority: int = 0, format_: str = ""
) -> dict:
    return {
        "name": name,
        "type": type_,
        "format": format_,
        "description": description,
        "priority": priority,
    }


_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is "
    "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
NAME = _col("Name", description=_NAME_DOC, format_="name")
AGE = _col("Age", description=_AGE_DOC)
CREATED_AT = _col("Created At", "date", _AGE_DOC)


def _wide(*names: str) -> list[dict]:
    return [_col(n, priority=1) for n in names]


# --- shared formatting ------------------------------------------------------------------


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _format_labels(labels: dict | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _selector_string(selector: dict | None) -> str:
    """metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key."""
    if selector is None:
        return "<none>"
    reqs: list[tuple[str, str]] = []
    for k, v in (selector.get("matchLabels") or {}).items():
        reqs.append((k, f"{k}={v}"))
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key", ""), e.get("operator", ""), sorted(e.get("values") or [])
        if op == "In":
            reqs.append((key, f"{key} in ({','.join(values)})"))
        elif op == "NotIn":
            reqs.append((key, f"{key} notin ({','.join(values)})"))
        elif op == "Exists":
            reqs.append((key, key))
        elif op == "DoesNotExist":
            reqs.append((key, f"!{key}"))
    return ",".join(text for _, text in sorted(reqs))


def _containers(pod_spec: dict | None) -> tuple[str, str]:
    containers = (pod_spec or {}).get("containers") or []
    names = ",".join(c.get("name", "") for c in containers)
    images = ",".join(c.get("image", "") for c in containers)
    return names, images


def _template_spec(obj: dict) -> dict:
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


def _lb_status(status: dict | None) -> str:
    ingress = ((status or {}).get("loadBalancer") or {}).get("ingress") or []
    out = []
    for i in ingress:
        if i.get("ip"):
            out.append(i["ip"])
        elif i.get("hostname"):
            out.append(i["hostname"])
    return ",".join(out)


def _access_modes(modes: list | None) -> str:
    modes = modes or []
    short = [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    return ",".join(abbr for mode, abbr in short if mode in modes)


def _has_condition(conditions: list | None, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in conditions or [])


# --- printers: each returns (columns, row function) -------------------------------------

Row = tuple[list, list | None]  # cells, row conditions


def _pod_row(pod: dict, ctx: _Ctx) -> Row:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    containers = spec.get("containers") or []
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(containers)
    restartable = {n for n, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    total += len(restartable)
    ready = restarts = restartable_restarts = 0
    last_restart: datetime | None = None
    last_restartable: datetime | None = None
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for c in status.get("conditions") or []:
        if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    conditions = None
    if phase == "Succeeded":
        conditions = [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    elif phase == "Failed":
        conditions = [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Failed",
                "message": "The pod failed.",
            }
        ]

    def finished(cs: dict) -> datetime | None:
        term = (cs.get("lastState") or {}).get("terminated")
        return _parse_time(term.get("finishedAt")) if term else None

    def later(a: datetime | None, b: datetime | None) -> datetime | None:
        return b if b and (a is None or b > a) else a

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += cs.get("restartCount", 0)
        last_restart = later(last_restart, finished(cs))
        is_restartable = cs.get("name") in restartable
        if is_restartable:
            restartable_restarts += cs.get("restartCount", 0)
            last_restartable = later(last_restartable, finished(cs))
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        if term and term.get("exitCode", 0) == 0:
            continue
        if is_restartable and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if term:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode', 0)}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    initialized = _has_condition(status.get("conditions"), "Initialized")
    if not initializing or initialized:
        restarts, last_restart = restartable_restarts, last_restartable
        has_running = False
        # Reverse order, so the first container's state wins, as in kubectl.
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount", 0)
            last_restart = later(last_restart, finished(cs))
            state = cs.get("state") or {}
            term, waiting = state.get("terminated"), state.get("waiting")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                if term.get("signal"):
                    reason = f"Signal:{term['signal']}"
                else:
                    reason = f"ExitCode:{term.get('exitCode', 0)}"
            elif cs.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            ready_cond = _has_condition(status.get("conditions"), "Ready")
            reason = "Running" if ready_cond else "NotReady"

    deleting = _meta(pod).get("deletionTimestamp")
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        ago = human_duration((ctx.now - last_restart).total_seconds())
        restarts_text = f"{restarts} ({ago} ago)"

    ips = status.get("podIPs") or []
    pod_ip = (ips[0].get("ip") if ips else "") or status.get("podIP") or "<none>"
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        by_type = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        true = sum(1 for g in gates if by_type.get(g.get("conditionType")) == "True")
        gates_text = f"{true}/{len(gates)}"
    cells = [
        _meta(pod).get("name", ""),
        f"{ready}/{total}",
        reason,
        restarts_text,
        ctx.since(_meta(pod).get("creationTimestamp")),
        pod_ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]
    return cells, conditions


POD_COLUMNS = [
    NAME,
    _col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", description="The aggregate status of the containers in this pod."),
    _col(
        "Restarts",
        description="The number of times the containers in this pod have been "
        "restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    *_wide("IP", "Node", "Nominated Node", "Readiness Gates"),
]


def _node_row(node: dict, ctx: _Ctx) -> Row:
    status = node.get("status") or {}
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    states = ["Ready" if c.get("status") == "True" else "NotReady" for c in ready[:1]]
    states = states or ["Unknown"]
    if (node.get("spec") or {}).get("unschedulable"):
        states.append("SchedulingDisabled")
    roles = set()
    for key, value in (_meta(node).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key.split("/", 1)[1]:
            roles.add(key.split("/", 1)[1])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        for a in status.get("addresses") or []:
            if a.get("type") == kind:
                return a.get("address", "")
        return "<none>"

    cells = [
        _meta(node).get("name", ""),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        ctx.since(_meta(node).get("creationTimestamp")),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]
    return cells, None


NODE_COLUMNS = [
    NAME,
    _col("Status", description="The status of the node"),
    _col("Roles", description="The roles of the node"),
    AGE,
    _col("Version", description="Kubelet Version reported by the node."),
    *_wide("Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"),
]


def _service_row(svc: dict, ctx: _Ctx) -> Row:
    spec = svc.get("spec") or {}
    type_ = spec.get("type") or "ClusterIP"
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    external = spec.get("externalIPs") or []
    if type_ in ("ClusterIP", "NodePort"):
        external_text = ",".join(external) or "<none>"
    elif type_ == "LoadBalancer":
        lb = _lb_status(svc.get("status"))
        parts = ([*lb.split(",")] if lb else []) + external
        external_text = ",".join(parts) or "<pending>"
    elif type_ == "ExternalName":
        external_text = spec.get("externalName", "")
    else:
        external_text = "<unknown>"
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            ports.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            ports.append(f"{p.get('port')}/{proto}")
    cells = [
        _meta(svc).get("name", ""),
        type_,
        ips[0] if ips else "<none>",
        external_text,
        ",".join(ports) or "<none>",
        ctx.since(_meta(svc).get("creationTimestamp")),
        _format_labels(spec.get("selector")),
    ]
    return cells, None


SERVICE_COLUMNS = [
    NAME,
    _col("Type"),
    _col("Cluster-IP"),
    _col("External-IP"),
    _col("Port(s)"),
    AGE,
    *_wide("Selector"),
]


def _endpoints_row(ep: dict, ctx: _Ctx) -> Row:
    subsets = ep.get("subsets") or []
    text = "<none>"
    if subsets:
        shown: list[str] = []
        count, more, limit = 0, False, 3
        for ss in subsets:
            addrs = ss.get("addresses") or []
            ports = ss.get("ports") or []
            for port in ports or [None]:
                count += len(addrs)
                for a in addrs:
                    if len(shown) == limit:
                        more = True
                        break
                    ip = a.get("ip", "")
                    if port is None:
                        shown.append(ip)
                    else:
                        host = f"[{ip}]" if ":" in ip else ip
                        shown.append(f"{host}:{port.get('port')}")
        text = ",".join(shown)
        if more:
            text = f"{text} + {count - limit} more..."
    return [_meta(ep).get("name", ""), text, ctx.since(_meta(ep).get("creationTimestamp"))], None


def _endpointslice_row(eps: dict, ctx: _Ctx) -> Row:
    ports = [str(p.get("port")) for p in eps.get("ports") or [] if p.get("port") is not None]
    addresses = [a for e in eps.get("endpoints") or [] for a in e.get("addresses") or []]
    shown = ",".join(addresses[:3]) or "<unset>"
    if len(addresses) > 3:
        shown += f" + {len(addresses) - 3} more..."
    return [
        _meta(eps).get("name", ""),
        eps.get("addressType", ""),
        ",".join(ports) or "<unset>",
        shown,
        ctx.since(_meta(eps).get("creationTimestamp")),
    ], None


def _deployment_row(d: dict, ctx: _Ctx) -> Row:
    spec, status = d.get("spec") or {}, d.get("status") or {}
    names, images = _containers(_template_spec(d))
    desired = spec.get("replicas", 1)
    cells = [
        _meta(d).get("name", ""),
        f"{status.get('readyReplicas', 0)}/{desired}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        ctx.since(_meta(d).get("creationTimestamp")),
        names,
        images,
        _selector_string(spec.get("selector")),
    ]
    return cells, None


def _replicaset_row(rs: dict, ctx: _Ctx) -> Row:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    names, images = _containers(_template_spec(rs))
    cells = [
        _meta(rs).get("name", ""),
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        ctx.since(_meta(rs).get("creationTimestamp")),
        names,
        images,
        _selector_string(spec.get("selector")),
    ]
    return cells, None


def _replication_controller_row(rc: dict, ctx: _Ctx) -> Row:
    selector = (rc.get("spec") or {}).get("selector")
    spec = {**(rc.get("spec") or {}), "selector": None}
    if selector is not None:  # a plain label map
        spec["selector"] = {"matchLabels": selector}
    return _replicaset_row({**rc, "spec": spec}, ctx)


def _statefulset_row(ss: dict, ctx: _Ctx) -> Row:
    spec, status = ss.get("spec") or {}, ss.get("status") or {}
    names, images = _containers(_template_spec(ss))
    cells = [
        _meta(ss).get("name", ""),
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        ctx.since(_meta(ss).get("creationTimestamp")),
        names,
        images,
    ]
    return cells, None


def _daemonset_row(ds: dict, ctx: _Ctx) -> Row:
    spec, status = ds.get("spec") or {}, ds.get("status") or {}
    names, images = _containers(_template_spec(ds))
    cells = [
        _meta(ds).get("name", ""),
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        _format_labels(_template_spec(ds).get("nodeSelector")),
        ctx.since(_meta(ds).get("creationTimestamp")),
        names,
        images,
        _selector_string(spec.get("selector")),
    ]
    return cells, None


def _job_row(job: dict, ctx: _Ctx) -> Row:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    succeeded = status.get("succeeded", 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif (spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    duration = ""
    if status.get("startTime"):
        end = status.get("completionTime")
        start = status["startTime"]
        duration = ctx.between(start, end) if end else ctx.since(start)
    conds = status.get("conditions")
    if _has_condition(conds, "Complete"):
        state = "Complete"
    elif _has_condition(conds, "Failed"):
        state = "Failed"
    elif _meta(job).get("deletionTimestamp"):
        state = "Terminating"
    elif _has_condition(conds, "Suspended"):
        state = "Suspended"
    elif _has_condition(conds, "FailureTarget"):
        state = "FailureTarget"
    elif _has_condition(conds, "SuccessCriteriaMet"):
        state = "SuccessCriteriaMet"
    else:
        state = "Running"
    names, images = _containers(_template_spec(job))
    cells = [
        _meta(job).get("name", ""),
        state,
        completions,
        duration,
        ctx.since(_meta(job).get("creationTimestamp")),
        names,
        images,
        _selector_string(spec.get("selector")),
    ]
    return cells, None


def _cronjob_row(cj: dict, ctx: _Ctx) -> Row:
    spec, status = cj.get("spec") or {}, cj.get("status") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    names, images = _containers((job_spec.get("template") or {}).get("spec"))
    suspend = spec.get("suspend")
    last = status.get("lastScheduleTime")
    cells = [
        _meta(cj).get("name", ""),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        "<unset>" if suspend is None else str(bool(suspend)),
        len(status.get("active") or []),
        ctx.since(last) if last else "<none>",
        ctx.since(_meta(cj).get("creationTimestamp")),
        names,
        images,
        _selector_string(job_spec.get("selector")),
    ]
    return cells, None


def _simple(*fields: Callable[[dict, _Ctx], object]) -> Callable[[dict, _Ctx], Row]:
    """A row of name, the given cells, then age."""

    def row(obj: dict, ctx: _Ctx) -> Row:
        cells = [_meta(obj).get("name", "")]
        cells += [f(obj, ctx) for f in fields]
        cells.append(ctx.since(_meta(obj).get("creationTimestamp")))
        return cells, None

    return row


def _created_at(obj: dict, ctx: _Ctx) -> Row:
    t = _parse_time(_meta(obj).get("creationTimestamp"))
    text = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else "<unknown>"
    return [_meta(obj).get("name", ""), text], None


def _pv_row(pv: dict, ctx: _Ctx) -> Row:
    spec, status = pv.get("spec") or {}, pv.get("status") or {}
    ref = spec.get("claimRef")
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""
    phase = "Terminating" if _meta(pv).get("deletionTimestamp") else status.get("phase", "")
    storage_class = (_meta(pv).get("annotations") or {}).get(
        "volume.beta.kubernetes.io/storage-class", spec.get("storageClassName", "")
    )
    cells = [
        _meta(pv).get("name", ""),
        (spec.get("capacity") or {}).get("storage", "0"),
        _access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        phase,
        claim,
        storage_class,
        spec.get("volumeAttributesClassName") or "<unset>",
        status.get("reason", ""),
        ctx.since(_meta(pv).get("creationTimestamp")),
        spec.get("volumeMode") or "<unset>",
    ]
    return cells, None


def _pvc_row(pvc: dict, ctx: _Ctx) -> Row:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    phase = "Terminating" if _meta(pvc).get("deletionTimestamp") else status.get("phase", "")
    capacity = modes = ""
    if spec.get("volumeName"):
        modes = _access_modes(status.get("accessModes"))
        capacity = (status.get("capacity") or {}).get("storage", "0")
    storage_class = (_meta(pvc).get("annotations") or {}).get(
        "volume.beta.kubernetes.io/storage-class", spec.get("storageClassName") or ""
    )
    cells = [
        _meta(pvc).get("name", ""),
        phase,
        spec.get("volumeName", ""),
        capacity,
        modes,
        storage_class,
        spec.get("volumeAttributesClassName") or "<unset>",
        ctx.since(_meta(pvc).get("creationTimestamp")),
        spec.get("volumeMode") or "<unset>",
    ]
    return cells, None


def _storageclass_row(sc: dict, ctx: _Ctx) -> Row:
    annotations = _meta(sc).get("annotations") or {}
    name = _meta(sc).get("name", "")
    if "true" in (
        annotations.get("storageclass.kubernetes.io/is-default-class"),
        annotations.get("storageclass.beta.kubernetes.io/is-default-class"),
    ):
        name += " (default)"
    cells = [
        name,
        sc.get("provisioner", ""),
        sc.get("reclaimPolicy") or "Delete",
        sc.get("volumeBindingMode") or "Immediate",
        bool(sc.get("allowVolumeExpansion")),
        ctx.since(_meta(sc).get("creationTimestamp")),
    ]
    return cells, None


def _ingress_row(ing: dict, ctx: _Ctx) -> Row:
    spec = ing.get("spec") or {}
    hosts = [r["host"] for r in spec.get("rules") or [] if r.get("host")]
    hosts_text = ",".join(hosts[:3]) or "*"
    if len(hosts) > 3:
        hosts_text += f" + {len(hosts) - 3} more..."
    cells = [
        _meta(ing).get("name", ""),
        spec.get("ingressClassName") or "<none>",
        hosts_text,
        _lb_status(ing.get("status")),
        "80, 443" if spec.get("tls") else "80",
        ctx.since(_meta(ing).get("creationTimestamp")),
    ]
    return cells, None


def _hpa_metrics(api_version: str, hpa: dict) -> str:
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    if api_version == "autoscaling/v1":
        # v1 only knows a CPU utilisation target; render it as v2 would after conversion.
        target = spec.get("targetCPUUtilizationPercentage")
        current = status.get("currentCPUUtilizationPercentage")
        current_text = "<unknown>" if current is None else f"{current}%"
        target_text = "<auto>" if target is None else f"{target}%"
        return f"cpu: {current_text}/{target_text}"
    specs, statuses = spec.get("metrics") or [], status.get("currentMetrics") or []
    if not specs:
        return "<none>"
    out = []
    for i, m in enumerate(specs):
        cur = statuses[i] if i < len(statuses) else {}
        kind = m.get("type")
        key = {
            "Resource": "resource",
            "ContainerResource": "containerResource",
            "Pods": "pods",
            "Object": "object",
            "External": "external",
        }.get(kind)
        if key is None:
            out.append("<unknown type>")
            continue
        target = (m.get(key) or {}).get("target") or {}
        current = ((cur.get(key) or {}).get("current")) or {}
        if kind in ("Resource", "ContainerResource"):
            name = (m.get(key) or {}).get("name", "")
            if target.get("averageValue") is not None:
                out.append(
                    f"{name}: {current.get('averageValue', '<unknown>')}/{target['averageValue']}"
                )
            else:
                util = current.get("averageUtilization")
                cur_text = "<unknown>" if util is None else f"{util}%"
                goal = target.get("averageUtilization")
                out.append(f"{name}: {cur_text}/{'<auto>' if goal is None else f'{goal}%'}")
        else:
            value_key = "averageValue" if target.get("averageValue") is not None else "value"
            cur_text = current.get(value_key, "<unknown>")
            shown = target.get(value_key, "")
            suffix = " (avg)" if value_key == "averageValue" and kind != "Pods" else ""
            out.append(f"{cur_text}/{shown}{suffix}")
    if len(out) > 2:
        return f"{', '.join(out[:2])} + {len(out) - 2} more..."
    return ", ".join(out)


def _hpa_row_for(api_version: str):
    def row(hpa: dict, ctx: _Ctx) -> Row:
        spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
        ref = spec.get("scaleTargetRef") or {}
        min_pods = spec.get("minReplicas")
        cells = [
            _meta(hpa).get("name", ""),
            f"{ref.get('kind', '')}/{ref.get('name', '')}",
            _hpa_metrics(api_version, hpa),
            "<unset>" if min_pods is None else str(min_pods),
            spec.get("maxReplicas", 0),
            status.get("currentReplicas", 0),
            ctx.since(_meta(hpa).get("creationTimestamp")),
        ]
        return cells, None

    return row


def _quota_row(rq: dict, ctx: _Ctx) -> Row:
    hard = (rq.get("spec") or {}).get("hard") or {}
    used = (rq.get("status") or {}).get("used") or {}
    requests, limits = [], []
    for name in sorted(hard):
        target = limits if name.split(".")[0] == "limits" and "." in name else requests
        target.append(f"{name}: {used.get(name, '0')}/{hard[name]}")
    cells = [
        _meta(rq).get("name", ""),
        ctx.since(_meta(rq).get("creationTimestamp")),
        ", ".join(requests),
        ", ".join(limits),
    ]
    return cells, None


def _event_row(ev: dict, ctx: _Ctx) -> Row:
    # events.k8s.io/v1 names the same fields differently; read either spelling.
    first = ev.get("firstTimestamp") or ev.get("deprecatedFirstTimestamp")
    last = ev.get("lastTimestamp") or ev.get("deprecatedLastTimestamp")
    first_text = ctx.since(first) if first else ctx.since(ev.get("eventTime"))
    last_text = ctx.since(last) if last else first_text
    count = ev.get("count") or ev.get("deprecatedCount") or 0
    series = ev.get("series")
    if series:
        last_text = ctx.since(series.get("lastObservedTime"))
        count = series.get("count", 0)
    elif not count:
        count = 1
    involved = ev.get("involvedObject") or ev.get("regarding") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or ev.get("deprecatedSource") or {}
    component = source.get("component") or ev.get("reportingController", "")
    host = source.get("host") or ev.get("reportingInstance", "")
    message = (ev.get("message") or ev.get("note") or "").strip()
    cells = [
        last_text,
        ev.get("type", ""),
        ev.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component,
        message,
        first_text,
        count,
        _meta(ev).get("name", ""),
    ]
    return cells, None


EVENT_COLUMNS = [
    _col("Last Seen"),
    _col("Type"),
    _col("Reason"),
    _col("Object"),
    _col("Subobject", priority=1),
    _col("Source", priority=1),
    _col("Message"),
    _col("First Seen", priority=1),
    _col("Count", "integer", priority=1),
    _col("Name", priority=1),
]


def _binding_row(obj: dict, ctx: _Ctx) -> Row:
    ref = obj.get("roleRef") or {}
    users, groups, sas = [], [], []
    for s in obj.get("subjects") or []:
        if s.get("kind") == "User":
            users.append(s.get("name", ""))
        elif s.get("kind") == "Group":
            groups.append(s.get("name", ""))
        elif s.get("kind") == "ServiceAccount":
            sas.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
    cells = [
        _meta(obj).get("name", ""),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        ctx.since(_meta(obj).get("creationTimestamp")),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(sas),
    ]
    return cells, None


def _controller_revision_row(cr: dict, ctx: _Ctx) -> Row:
    owner = next((o for o in _meta(cr).get("ownerReferences") or [] if o.get("controller")), None)
    controller = "<none>"
    if owner:
        api_version = owner.get("apiVersion", "")
        group = api_version.split("/")[0] if "/" in api_version else ""
        kind = owner.get("kind", "") + (f".{group}" if group else "")
        controller = f"{kind.lower()}/{owner.get('name', '')}"
    cells = [
        _meta(cr).get("name", ""),
        controller,
        cr.get("revision", 0),
        ctx.since(_meta(cr).get("creationTimestamp")),
    ]
    return cells, None


def _pdb_row(pdb: dict, ctx: _Ctx) -> Row:
    spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
    min_a, max_u = spec.get("minAvailable"), spec.get("maxUnavailable")
    cells = [
        _meta(pdb).get("name", ""),
        "N/A" if min_a is None else str(min_a),
        "N/A" if max_u is None else str(max_u),
        status.get("disruptionsAllowed", 0),
        ctx.since(_meta(pdb).get("creationTimestamp")),
    ]
    return cells, None


def _ingressclass_params(obj: dict, ctx: _Ctx) -> str:
    p = (obj.get("spec") or {}).get("parameters")
    if not p:
        return "<none>"
    kind = f"{p.get('kind', '')}.{p['apiGroup']}" if p.get("apiGroup") else p.get("kind", "")
    return f"{kind}/{p.get('name', '')}"


def _apiservice_row(svc: dict, ctx: _Ctx) -> Row:
    """kube-aggregator's ConvertToTable: the Service ("Local" for a built-in group) and the
    Available condition, with its reason when it is not True."""
    ref = (svc.get("spec") or {}).get("service")
    service = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else "Local"
    available = "Unknown"
    for cond in (svc.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Available":
            status = cond.get("status", "")
            reason = cond.get("reason", "")
            available = f"{status} ({reason})" if status != "True" and reason else status
            break
    meta = _meta(svc)
    return [
        meta.get("name", ""),
        service,
        available,
        ctx.since(meta.get("creationTimestamp")),
    ], None


def _priorityclass_row(pc: dict, ctx: _Ctx) -> Row:
    meta = _meta(pc)
    return [
        meta.get("name", ""),
        int(pc.get("value") or 0),
        bool(pc.get("globalDefault")),
        ctx.since(meta.get("creationTimestamp")),
        pc.get("preemptionPolicy") or "",
    ], None


# (group, kind) -> (columns, row function). Group "" is core.
PRINTERS: dict[tuple[str, str], tuple[list[dict], Callable[[dict, _Ctx], Row]]] = {
    ("", "Pod"): (POD_COLUMNS, _pod_row),
    ("", "Node"): (NODE_COLUMNS, _node_row),
    ("", "Namespace"): (
        [NAME, _col("Status", description="The status of the namespace"), AGE],
        _simple(lambda o, c: (o.get("status") or {}).get("phase", "")),
    ),
    ("", "Service"): (SERVICE_COLUMNS, _service_row),
    ("", "Endpoints"): ([NAME, _col("Endpoints"), AGE], _endpoints_row),
    ("discovery.k8s.io", "EndpointSlice"): (
        [NAME, _col("AddressType"), _col("Ports"), _col("Endpoints"), AGE],
        _endpointslice_row,
    ),
    ("", "ConfigMap"): (
        [NAME, _col("Data", "integer"), AGE],
        _simple(lambda o, c: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
    ),
    ("", "Secret"): (
        [NAME, _col("Type"), _col("Data", "integer"), AGE],
        _simple(lambda o, c: o.get("type") or "Opaque", lambda o, c: len(o.get("data") or {})),
    ),
    ("", "ServiceAccount"): (
        [NAME, _col("Secrets", "integer"), AGE],
        _simple(lambda o, c: len(o.get("secrets") or [])),
    ),
    ("", "PersistentVolume"): (
        [
            NAME,
            _col("Capacity"),
            _col("Access Modes"),
            _col("Reclaim Policy"),
            _col("Status"),
            _col("Claim"),
            _col("StorageClass"),
            _col("VolumeAttributesClass"),
            _col("Reason"),
            AGE,
            *_wide("VolumeMode"),
        ],
        _pv_row,
    ),
    ("", "PersistentVolumeClaim"): (
        [
            NAME,
            _col("Status"),
            _col("Volume"),
            _col("Capacity"),
            _col("Access Modes"),
            _col("StorageClass"),
            _col("VolumeAttributesClass"),
            AGE,
            *_wide("VolumeMode"),
        ],
        _pvc_row,
    ),
    ("", "ResourceQuota"): ([NAME, AGE, _col("Request"), _col("Limit")], _quota_row),
    ("", "LimitRange"): ([NAME, CREATED_AT], _created_at),
    ("", "Event"): (EVENT_COLUMNS, _event_row),
    ("events.k8s.io", "Event"): (EVENT_COLUMNS, _event_row),
    ("apps", "Deployment"): (
        [
            NAME,
            _col("Ready", description="Number of the pod with ready state"),
            _col("Up-to-date", "integer"),
            _col("Available", "integer"),
            AGE,
            *_wide("Containers", "Images", "Selector"),
        ],
        _deployment_row,
    ),
    ("apps", "ReplicaSet"): (
        [
            NAME,
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            AGE,
            *_wide("Containers", "Images", "Selector"),
        ],
        _replicaset_row,
    ),
    ("", "ReplicationController"): (
        [
            NAME,
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            AGE,
            *_wide("Containers", "Images", "Selector"),
        ],
        _replication_controller_row,
    ),
    ("apps", "StatefulSet"): (
        [
            NAME,
            _col("Ready", description="Number of the pod with ready state"),
            AGE,
            *_wide("Containers", "Images"),
        ],
        _statefulset_row,
    ),
    ("apps", "DaemonSet"): (
        [
            NAME,
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            _col("Up-to-date", "integer"),
            _col("Available", "integer"),
            _col("Node Selector"),
            AGE,
            *_wide("Containers", "Images", "Selector"),
        ],
        _daemonset_row,
    ),
    ("apps", "ControllerRevision"): (
        [NAME, _col("Controller"), _col("Revision", "integer"), AGE],
        _controller_revision_row,
    ),
    ("batch", "Job"): (
        [
            NAME,
            _col("Status"),
            _col("Completions"),
            _col("Duration"),
            AGE,
            *_wide("Containers", "Images", "Selector"),
        ],
        _job_row,
    ),
    ("batch", "CronJob"): (
        [
            NAME,
            _col("Schedule"),
            _col("Timezone"),
            _col("Suspend", "boolean"),
            _col("Active", "integer"),
            _col("Last Schedule"),
            AGE,
            *_wide("Containers", "Images", "Selector"),
        ],
        _cronjob_row,
    ),
    ("networking.k8s.io", "Ingress"): (
        [NAME, _col("Class"), _col("Hosts"), _col("Address"), _col("Ports"), AGE],
        _ingress_row,
    ),
    ("networking.k8s.io", "IngressClass"): (
        [NAME, _col("Controller"), _col("Parameters"), AGE],
        _simple(lambda o, c: (o.get("spec") or {}).get("controller", ""), _ingressclass_params),
    ),
    ("networking.k8s.io", "NetworkPolicy"): (
        [NAME, _col("Pod-Selector"), AGE],
        _simple(
            lambda o, c: (
                _selector_string((o.get("spec") or {}).get("podSelector") or {}) or "<none>"
            )
        ),
    ),
    ("storage.k8s.io", "StorageClass"): (
        [
            NAME,
            _col("Provisioner"),
            _col("ReclaimPolicy"),
            _col("VolumeBindingMode"),
            _col("AllowVolumeExpansion"),
            AGE,
        ],
        _storageclass_row,
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): (
        [
            NAME,
            _col("Reference"),
            _col("Targets"),
            _col("MinPods"),
            _col("MaxPods", "integer"),
            _col("Replicas", "integer"),
            AGE,
        ],
        _hpa_row_for("autoscaling/v2"),
    ),
    ("rbac.authorization.k8s.io", "Role"): ([NAME, CREATED_AT], _created_at),
    ("rbac.authorization.k8s.io", "ClusterRole"): ([NAME, CREATED_AT], _created_at),
    ("rbac.authorization.k8s.io", "RoleBinding"): (
        [NAME, _col("Role"), AGE, *_wide("Users", "Groups", "ServiceAccounts")],
        _binding_row,
    ),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): (
        [NAME, _col("Role"), AGE, *_wide("Users", "Groups", "ServiceAccounts")],
        _binding_row,
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): ([NAME, CREATED_AT], _created_at),
    ("policy", "PodDisruptionBudget"): (
        [
            NAME,
            _col("Min Available"),
            _col("Max Unavailable"),
            _col("Allowed Disruptions", "integer"),
            AGE,
        ],
        _pdb_row,
    ),
    ("apiregistration.k8s.io", "APIService"): (
        [
            NAME,
            _col(
                "Service", description="The reference to the service that hosts this API endpoint."
            ),
            _col("Available", description="Whether this service is available."),
            AGE,
        ],
        _apiservice_row,
    ),
    ("scheduling.k8s.io", "PriorityClass"): (
        [
            NAME,
            _col(
                "Value",
                "integer",
                "value represents the integer value of this priority class. This is the actual "
                "priority that pods receive when they have the name of this class in their pod "
                "spec.",
            ),
            _col(
                "Global-Default",
                "boolean",
                "globalDefault specifies whether this PriorityClass should be considered as the "
                "default priority for pods that do not have any priority class.",
            ),
            AGE,
            _col(
                "PreemptionPolicy",
                description="preemptionPolicy is the Policy for preempting pods with lower "
                "priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority "
                "if unset.",
            ),
        ],
        _priorityclass_row,
    ),
    ("coordination.k8s.io", "Lease"): (
        [NAME, _col("Holder"), AGE],
        _simple(lambda o, c: (o.get("spec") or {}).get("holderIdentity", "")),
    ),
}


# --- custom resources: additionalPrinterColumns -----------------------------------------

_TOKEN = re.compile(
    r"""\.(?P<name>[A-Za-z0-9_\-$]+)          # .field
      | \[\s*'(?P<q1>[^']*)'\s*\]             # ['field.with.dots']
      | \[\s*"(?P<q2>[^"]*)"\s*\]
      | \[(?P<index>-?\d+)\]                  # [0]
      | \[(?P<star>\*)\]                      # [*]
      | \[\?\(@\.(?P<fkey>[A-Za-z0-9_.\-]+)\s*==\s*["'](?P<fval>[^"']*)["']\)\]
    """,
    re.VERBOSE,
)


def jsonpath(obj, path: str) -> list:
    """Evaluate the JSONPath subset CRD printer columns use (.a.b, [0], [*], filters)."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    path = path.lstrip("$")
    values = [obj]
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            return []
        pos = m.end()
        nxt = []
        for v in values:
            key = m.group("name") or m.group("q1") or m.group("q2")
            if key is not None:
                if isinstance(v, dict) and key in v:
                    nxt.append(v[key])
            elif m.group("index") is not None:
                i = int(m.group("index"))
                if isinstance(v, list) and -len(v) <= i < len(v):
                    nxt.append(v[i])
            elif m.group("star"):
                if isinstance(v, list):
                    nxt.extend(v)
                elif isinstance(v, dict):
                    nxt.extend(v.values())
            elif isinstance(v, list):
                for item in v:
                    found = jsonpath(item, "." + m.group("fkey"))
                    if found and str(found[0]) == m.group("fval"):
                        nxt.append(item)
        values = nxt
    return values


def _printer_cell(col: dict, obj: dict, ctx: _Ctx):
    found = jsonpath(obj, col.get("jsonPath", ""))
    if not found or found[0] is None:
        return None
    value, type_ = found[0], col.get("type", "string")
    if type_ == "string":
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if type_ == "integer" and isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if type_ == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if type_ == "boolean" and isinstance(value, bool):
        return value
    if type_ == "date" and isinstance(value, str):
        return ctx.since(value) if _parse_time(value) else "<invalid>"
    return None


_DEFAULT_PRINTER_COLUMNS = [
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
]


def _custom_printer(columns: list[dict]):
    defs = [NAME] + [
        _col(
            c["name"],
            c.get("type", "string"),
            c.get("description", ""),
            c.get("priority", 0),
            c.get("format", ""),
        )
        for c in columns
    ]

    def row(obj: dict, ctx: _Ctx) -> Row:
        return [_meta(obj).get("name", "")] + [_printer_cell(c, obj, ctx) for c in columns], None

    return defs, row


# --- the Table --------------------------------------------------------------------------


def _row_object(obj: dict, include_object: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": _meta(obj)}


def to_table(
    api_version: str,
    kind: str,
    objects: list[dict],
    include_object: str = "Metadata",
    wide: bool = True,
    now: datetime | None = None,
    printer_columns: list[dict] | None = None,
) -> dict:
    """A meta.k8s.io/v1 Table of `objects` (all of one kind) as the apiserver prints them.

    include_object: "Metadata" (PartialObjectMetadata rows, kubectl's default), "Object"
    or "None". printer_columns: a CRD version's additionalPrinterColumns; pass them (or [])
    for custom resources, None for built-in kinds. `wide=False` drops priority>0 columns.
    """
    ctx = _Ctx(now or datetime.now(UTC))
    group = api_version.split("/")[0] if "/" in api_version else ""
    if printer_columns is not None:
        columns, row_fn = _custom_printer(printer_columns or _DEFAULT_PRINTER_COLUMNS)
    elif (group, kind) in PRINTERS:
        columns, row_fn = PRINTERS[(group, kind)]
        if (group, kind) == ("autoscaling", "HorizontalPodAutoscaler"):
            row_fn = _hpa_row_for(api_version)
    else:
        columns, row_fn = [NAME, AGE], _simple()
    keep = [i for i, c in enumerate(columns) if wide or c["priority"] == 0]
    rows = []
    for obj in objects:
        cells, conditions = row_fn(obj, ctx)
        row: dict = {"cells": [cells[i] for i in keep]}
        if conditions:
            row["conditions"] = conditions
        shown = _row_object(obj, include_object)
        if shown is not None:
            row["object"] = shown
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": [dict(columns[i]) for i in keep],
        "rows": rows,
    }
