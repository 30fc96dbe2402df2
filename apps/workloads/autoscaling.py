"""Autoscaling a workload: one autoscaling/v2 HorizontalPodAutoscaler per Deployment or
StatefulSet, named after it (as ``kubectl autoscale`` names it).

The form's fields become the HPA's spec: replica bounds, average CPU and memory
utilisation targets (percent of the pods' requests) and the scaling behaviour (the
stabilisation window of each direction, and optionally how many pods a minute may be
added or removed). Kubernetes' controller does the scaling; the portal shows what it
reports (current metrics, desired replicas, conditions) and its recent decisions (the
HPA's events). Every write goes through the shared write path (``ObjectService``).
"""

import hashlib
import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.core import authz
from apps.core.audit import audited
from apps.kube.services import ObjectService

from . import events
from .models import HorizontalPodAutoscaler, Workload
from .sync import AUTOSCALERS

MAX_REPLICAS = 1000
MAX_WINDOW = 3600  # seconds, as the API allows
DEFAULT_DOWN_WINDOW = 300
POLICY_PERIOD = 60  # the rate limits are per minute
RESOURCES = ("cpu", "memory")

autoscalers = ObjectService(
    AUTOSCALERS,
    noun="autoscaler",
    detail=lambda row: {
        "target": f"{row.target_kind}/{row.target_name}",
        "min": row.min_replicas,
        "max": row.max_replicas,
        "cpu": row.cpu_target,
        "memory": row.memory_target,
    },
)


def autoscaler_of(workload: Workload) -> HorizontalPodAutoscaler | None:
    """The HPA that scales ``workload`` (whatever its name), if there is one."""
    return (
        HorizontalPodAutoscaler.objects.filter(
            cluster_id=workload.cluster_id,
            namespace_name=workload.namespace_name,
            target_kind=workload.kind,
            target_name=workload.name,
        )
        .order_by("name")
        .first()
    )


def get_autoscaler(actor, workload: Workload) -> HorizontalPodAutoscaler | None:
    authz.require(actor, "view", workload)
    return autoscaler_of(workload)


def settings_of(row: HorizontalPodAutoscaler | None) -> dict:
    """The form's values for an HPA (its defaults when there is none)."""
    if row is None:
        return {
            "min_replicas": 1,
            "max_replicas": 5,
            "cpu_target": 80,
            "memory_target": None,
            "scale_up_window": 0,
            "scale_down_window": DEFAULT_DOWN_WINDOW,
            "scale_up_pods": None,
            "scale_down_pods": None,
            "spec_hash": "",
        }
    behavior = row.behavior
    up, down = behavior.get("scaleUp") or {}, behavior.get("scaleDown") or {}
    return {
        "min_replicas": row.min_replicas,
        "max_replicas": row.max_replicas,
        "cpu_target": row.cpu_target,
        "memory_target": row.memory_target,
        "scale_up_window": up.get("stabilizationWindowSeconds", 0),
        "scale_down_window": down.get("stabilizationWindowSeconds", DEFAULT_DOWN_WINDOW),
        "scale_up_pods": _pods_policy(up),
        "scale_down_pods": _pods_policy(down),
        "spec_hash": spec_hash(row.manifest),
    }


def spec_hash(obj: dict) -> str:
    """A short fingerprint of an HPA's spec: what an edit checks it started from."""
    text = json.dumps(obj.get("spec") or {}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _pods_policy(rules: dict) -> int | None:
    for policy in rules.get("policies") or []:
        if policy.get("type") == "Pods" and policy.get("periodSeconds") == POLICY_PERIOD:
            return policy.get("value")
    return None


def _number(errors: dict, field: str, value, low: int, high: int, *, optional=False):
    if value in (None, "") and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = _("Give a whole number from %(low)s to %(high)s.") % {
            "low": low,
            "high": high,
        }
        return None
    return value


def _clean(workload: Workload, values: dict) -> dict:
    """The settings checked, or a ValidationError naming each bad field."""
    if not workload.scalable:
        raise ValidationError(
            _("A %(kind)s cannot be autoscaled; only Deployments and StatefulSets can.")
            % {"kind": workload.get_kind_display()}
        )
    errors: dict[str, str] = {}
    low = _number(errors, "min_replicas", values.get("min_replicas"), 1, MAX_REPLICAS)
    high = _number(errors, "max_replicas", values.get("max_replicas"), 1, MAX_REPLICAS)
    if low is not None and high is not None and low > high:
        errors["max_replicas"] = _("The maximum must be at least the minimum (%(n)s).") % {"n": low}
    targets = {
        name: _number(
            errors, f"{name}_target", values.get(f"{name}_target"), 1, 1000, optional=True
        )
        for name in RESOURCES
    }
    if not errors and not any(targets.values()):
        errors["cpu_target"] = _("Give a CPU or a memory target (or both).")
    up_window = _number(errors, "scale_up_window", values.get("scale_up_window", 0), 0, MAX_WINDOW)
    down_window = _number(
        errors,
        "scale_down_window",
        values.get("scale_down_window", DEFAULT_DOWN_WINDOW),
        0,
        MAX_WINDOW,
    )
    up_pods = _number(
        errors, "scale_up_pods", values.get("scale_up_pods"), 1, MAX_REPLICAS, optional=True
    )
    down_pods = _number(
        errors, "scale_down_pods", values.get("scale_down_pods"), 1, MAX_REPLICAS, optional=True
    )
    if errors:
        raise ValidationError(errors)
    return {
        "min": low,
        "max": high,
        "targets": targets,
        "up": (up_window, up_pods),
        "down": (down_window, down_pods),
    }


def _rules(window: int, pods: int | None) -> dict:
    rules = {"stabilizationWindowSeconds": window}
    if pods:
        rules.update(
            selectPolicy="Max",
            policies=[{"type": "Pods", "value": pods, "periodSeconds": POLICY_PERIOD}],
        )
    return rules


def manifest(workload: Workload, settings: dict, *, keep: dict | None = None) -> dict:
    """The HPA for ``workload``; ``keep`` is the live object an edit starts from (its
    metadata, and metrics of kinds the form does not show, are kept)."""
    keep = keep or {}
    metrics = [
        {
            "type": "Resource",
            "resource": {
                "name": name,
                "target": {"type": "Utilization", "averageUtilization": value},
            },
        }
        for name, value in settings["targets"].items()
        if value
    ]
    metrics += [
        m
        for m in (keep.get("spec") or {}).get("metrics") or []
        if m.get("type") != "Resource" or (m.get("resource") or {}).get("name") not in RESOURCES
    ]
    metadata = {
        k: v
        for k, v in (keep.get("metadata") or {}).items()
        if k in ("name", "namespace", "labels", "annotations", "resourceVersion")
    }
    metadata.setdefault("name", workload.name)
    metadata["namespace"] = workload.namespace_name
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata,
        "spec": {
            "scaleTargetRef": {
                "apiVersion": workload.api_version,
                "kind": workload.kind,
                "name": workload.name,
            },
            "minReplicas": settings["min"],
            "maxReplicas": settings["max"],
            "metrics": metrics,
            "behavior": {
                "scaleUp": _rules(*settings["up"]),
                "scaleDown": _rules(*settings["down"]),
            },
        },
    }


@audited("autoscaler.create", HorizontalPodAutoscaler)
def create_autoscaler(actor, workload: Workload, **values) -> HorizontalPodAutoscaler:
    """Autoscale ``workload`` (it must not have an HPA yet)."""
    authz.require(actor, "change", workload)
    settings = _clean(workload, values)
    if autoscaler_of(workload) is not None:
        raise ValidationError(_("It is autoscaled already: edit its autoscaler."))
    body = manifest(workload, settings)
    return autoscalers.create(actor, workload.namespace, body)


@audited("autoscaler.update")
def update_autoscaler(
    actor, autoscaler: HorizontalPodAutoscaler, workload: Workload, **values
) -> HorizontalPodAutoscaler:
    """Change an HPA's settings.

    ``spec_hash`` is the fingerprint of the spec the user saw (``settings_of``): an HPA's
    status (and with it its resourceVersion) changes every 15 seconds, so the edit is
    refused only when its spec changed since ("changed by someone else, reload"); the
    write itself carries the resourceVersion just read, so a change in between is a 409
    and refused too, never overwritten.
    """
    authz.require(actor, "change", autoscaler)
    authz.require(actor, "change", workload)
    settings = _clean(workload, values)
    live = autoscalers.read(autoscaler)
    if live is None:
        raise ValidationError(_("Kubernetes is unavailable; try again in a moment."))
    seen = values.get("spec_hash")
    if seen and seen != spec_hash(live):
        raise ValidationError(
            _(
                "Someone else changed this autoscaler since you opened it: reload to see "
                "their change."
            )
        )
    return autoscalers.replace(actor, autoscaler, manifest(workload, settings, keep=live))


def set_autoscaling(actor, workload: Workload, **values) -> HorizontalPodAutoscaler:
    """Create the workload's HPA, or change the one it has."""
    current = autoscaler_of(workload)
    if current is None:
        return create_autoscaler(actor, workload, **values)
    return update_autoscaler(actor, current, workload, **values)


@audited("autoscaler.delete")
def delete_autoscaler(actor, autoscaler: HorizontalPodAutoscaler) -> HorizontalPodAutoscaler:
    """Stop autoscaling: the workload keeps the replicas it has now."""
    return autoscalers.delete(actor, autoscaler)


def decisions(autoscaler: HorizontalPodAutoscaler) -> list[dict]:
    """The HPA's recent decisions and complaints (its events), newest first."""
    rows = events.of_object(autoscaler, "HorizontalPodAutoscaler")
    return list(reversed(rows))


def current_metrics(autoscaler: HorizontalPodAutoscaler) -> list[dict]:
    """[{"name", "current" (percent or None), "value", "target"}] for the page."""
    spec = autoscaler.manifest.get("spec") or {}
    status = autoscaler.manifest.get("status") or {}
    current = {
        (m.get("resource") or {}).get("name"): (m.get("resource") or {}).get("current") or {}
        for m in status.get("currentMetrics") or []
        if m.get("type") == "Resource"
    }
    rows = []
    for metric in spec.get("metrics") or []:
        if metric.get("type") != "Resource":
            continue
        resource = metric.get("resource") or {}
        name = resource.get("name", "")
        target = resource.get("target") or {}
        now = current.get(name, {})
        rows.append(
            {
                "name": name,
                "current": now.get("averageUtilization"),
                "value": now.get("averageValue", ""),
                "target": target.get("averageUtilization"),
                "target_value": target.get("averageValue", ""),
            }
        )
    return rows
