"""Workloads and pods mirrored from every cluster.

Pods carry the summary ``kubectl get pods`` prints and the workload they belong to;
workloads a status worked out from what their controllers report (``status.py``).
"""

import contextlib
from decimal import Decimal

from django.utils.dateparse import parse_datetime

from apps.kube import changes, quantity
from apps.kube.mirror import Mirror, register
from apps.kube.signals import mirrored

from .models import HorizontalPodAutoscaler, Pod, Workload
from .status import explain_degraded, mark_stuck, workload_summary


def _state(status: dict) -> tuple[str, str]:
    """(state, reason) of one container status: ("waiting", "CrashLoopBackOff"), ..."""
    state = status.get("state") or {}
    for name in ("waiting", "terminated", "running"):
        if name in state:
            detail = state[name] or {}
            reason = detail.get("reason") or ""
            if name == "terminated" and not reason:
                reason = (
                    f"Signal:{detail['signal']}"
                    if detail.get("signal")
                    else f"ExitCode:{detail.get('exitCode', 0)}"
                )
            return name, reason
    return "waiting", ""


def _containers(spec: dict, status: dict) -> list[dict]:
    statuses = {
        s["name"]: s
        for s in [
            *(status.get("initContainerStatuses") or []),
            *(status.get("containerStatuses") or []),
        ]
    }
    entries = []
    for init, container in [
        *((True, c) for c in spec.get("initContainers") or []),
        *((False, c) for c in spec.get("containers") or []),
    ]:
        current = statuses.get(container["name"], {})
        state, reason = _state(current) if current else ("waiting", "")
        last = (current.get("lastState") or {}).get("terminated") or {}
        entries.append(
            {
                "name": container["name"],
                "image": container.get("image", ""),
                "init": init,
                "ready": bool(current.get("ready")),
                "restarts": current.get("restartCount", 0),
                "state": state,
                "reason": reason,
                # why the previous run ended (OOMKilled, Error, ...) and its exit code
                "last_reason": last.get("reason") or "",
                "last_exit_code": last.get("exitCode"),
            }
        )
    return entries


def pod_status(obj: dict, containers: list[dict]) -> str:
    """What kubectl prints in the STATUS column (its printPod, in short)."""
    status = obj.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Pending"
    init = [c for c in containers if c["init"]]
    for i, container in enumerate(init):
        if container["state"] == "terminated" and container["reason"] == "Completed":
            continue
        failed = container["state"] == "terminated"
        if failed or container["reason"] not in ("", "PodInitializing"):
            reason = f"Init:{container['reason']}"
        else:
            reason = f"Init:{i}/{len(init)}"
        break
    else:
        running = False
        for container in reversed([c for c in containers if not c["init"]]):
            if container["state"] in ("waiting", "terminated") and container["reason"]:
                reason = container["reason"]
            elif container["state"] == "running" and container["ready"]:
                running = True
        if reason == "Completed" and running:
            reason = "Running"
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _owner(metadata: dict) -> dict:
    return next((r for r in metadata.get("ownerReferences") or [] if r.get("controller")), {})


def workload_of(metadata: dict) -> tuple[str, str]:
    """(kind, name) of the workload a pod belongs to, from its controller reference.

    A Deployment's pods are owned by a ReplicaSet named after it plus the template's
    hash (which the pods carry as ``pod-template-hash``); the others own theirs.
    """
    owner = _owner(metadata)
    kind, name = owner.get("kind", ""), owner.get("name", "")
    if kind == "ReplicaSet":
        digest = (metadata.get("labels") or {}).get("pod-template-hash", "")
        if digest and name.endswith(f"-{digest}"):
            return Workload.Kind.DEPLOYMENT, name.removesuffix(f"-{digest}")
        return "", ""  # a ReplicaSet of its own: not one of the kinds the portal runs
    if kind in Workload.Kind.values:
        return kind, name
    return "", ""


def _request(containers: list[dict], resource: str) -> Decimal:
    total = Decimal(0)
    for container in containers:
        amount = ((container.get("resources") or {}).get("requests") or {}).get(resource)
        if amount not in (None, ""):
            with contextlib.suppress(ValueError):
                total += quantity.parse(amount)
    return total


def pod_requests(spec: dict) -> dict:
    """CPU (millicores) and memory (bytes) the scheduler reserves for the pod: the sum
    of its containers' requests, or its largest init container's if that is more."""
    values = {}
    for resource, field, scale in (("cpu", "cpu_request", 1000), ("memory", "memory_request", 1)):
        regular = _request(spec.get("containers") or [], resource)
        init = max(
            (_request([c], resource) for c in spec.get("initContainers") or []),
            default=Decimal(0),
        )
        values[field] = int(max(regular, init) * scale)
    return values


def pod_summary(obj: dict) -> dict:
    metadata, spec, status = (
        obj.get("metadata") or {},
        obj.get("spec") or {},
        obj.get("status") or {},
    )
    containers = _containers(spec, status)
    regular = [c for c in containers if not c["init"]]
    owner = _owner(metadata)
    workload_kind, workload_name = workload_of(metadata)
    conditions = status.get("conditions") or []
    return {
        "phase": status.get("phase") or "",
        "status": pod_status(obj, containers),
        "ready": any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions),
        "ready_containers": sum(c["ready"] for c in regular),
        "container_count": len(regular),
        "restarts": sum(c["restarts"] for c in regular),
        "node_name": spec.get("nodeName") or "",
        "owner_kind": owner.get("kind", ""),
        "owner_name": owner.get("name", ""),
        "workload_kind": workload_kind,
        "workload_name": workload_name,
        "pod_ip": status.get("podIP") or "",
        "host_ip": status.get("hostIP") or "",
        "containers": containers,
        **pod_requests(spec),
    }


PODS = register(Mirror(Pod, "v1", "Pod", summary=pod_summary, order=300))

WORKLOADS = {
    kind: register(
        Mirror(
            Workload,
            Workload.API_VERSIONS[kind],
            kind,
            summary=workload_summary,
            fixed={"kind": kind},
            order=250,
        )
    )
    for kind in Workload.Kind.values
}


def _utilization(metrics: list[dict], resource: str, field: str = "target") -> int | None:
    """The average utilisation (percent of requests) of one resource metric, or None."""
    for metric in metrics or []:
        source = metric.get("resource") or {}
        if metric.get("type") == "Resource" and source.get("name") == resource:
            value = (
                (source.get(field) or {}).get("averageUtilization")
                if field == "target"
                else (source.get("current") or {}).get("averageUtilization")
            )
            return value if isinstance(value, int) and value >= 0 else None
    return None


def autoscaler_summary(obj: dict) -> dict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    target = spec.get("scaleTargetRef") or {}
    last = status.get("lastScaleTime")
    return {
        "target_kind": target.get("kind", ""),
        "target_name": target.get("name", ""),
        "min_replicas": spec.get("minReplicas", 1),
        "max_replicas": spec.get("maxReplicas", 1),
        "cpu_target": _utilization(spec.get("metrics"), "cpu"),
        "memory_target": _utilization(spec.get("metrics"), "memory"),
        "cpu_current": _utilization(status.get("currentMetrics"), "cpu", "current"),
        "memory_current": _utilization(status.get("currentMetrics"), "memory", "current"),
        "current_replicas": status.get("currentReplicas"),
        "desired_replicas": status.get("desiredReplicas"),
        "last_scale_time": parse_datetime(last) if isinstance(last, str) else None,
    }


AUTOSCALERS = register(
    Mirror(
        HorizontalPodAutoscaler,
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        summary=autoscaler_summary,
        order=260,
    )
)


def _explain(sender, cluster, namespaces, **kwargs) -> None:
    """Pods or workloads changed in these namespaces: degraded workloads quote their pods,
    rollouts past their deadline are called stuck."""
    if sender not in (Workload, Pod) or not namespaces:
        return
    if explain_degraded(cluster, namespaces) + mark_stuck(cluster, namespaces):
        changes.bump(Workload)


mirrored.connect(_explain, dispatch_uid="workloads.explain_degraded")
