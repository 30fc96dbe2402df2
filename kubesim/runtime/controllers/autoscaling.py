"""The HorizontalPodAutoscaler controller (autoscaling/v2), after kube-controller-manager v1.32.

Every 15 simulated seconds each HPA reads its target (Deployment, StatefulSet or
ReplicaSet), the simulated usage of the target's pods (`ctx.pod_usage`, the same numbers
metrics.k8s.io serves: requests x the workload's load factor) and computes the replica
count per Resource metric (cpu/memory, Utilization or AverageValue): desired =
ceil(ready pods x current / target), kept when within the 10% tolerance, with pods that
are not ready yet counted as idle when scaling up. The highest recommendation wins, is
bounded by min/maxReplicas (ScalingLimited), by the behavior's rate policies (default:
up by max(4 pods, 100%) per 15 s, down by 100% per 15 s) and by the stabilization windows
(default 0 s up, 300 s down: the highest recommendation of the last five minutes). Status:
currentReplicas, desiredReplicas, currentMetrics, lastScaleTime and the AbleToScale,
ScalingActive and ScalingLimited conditions with the real reasons; SuccessfulRescale and
FailedGetResourceMetric events.

Simplified: no Pods/Object/External/ContainerResource metrics (ScalingActive False with
reason InvalidMetricSourceType); no CPU initialization period beyond readiness.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from datetime import datetime, timedelta

from kubesim.runtime.controllers.base import Controller
from kubesim.runtime.controllers.common import (
    fmt_time,
    is_active,
    is_ready,
    record,
    set_condition,
    write_status,
)
from kubesim.storage import errors
from kubesim.storage.quantity import bytes_, cpu_millicores, format_quantity
from kubesim.storage.selectors import selector_from_object

MANAGER = "kube-controller-manager"
SYNC_PERIOD = 15
TOLERANCE = 0.1
DEFAULT_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
DEFAULT_DOWN = {
    "stabilizationWindowSeconds": 300,
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}
SCALABLE = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "ReplicaSet": "apps/v1"}


class MetricError(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class HorizontalPodAutoscalerController(Controller):
    name = "horizontalpodautoscaler"
    component = "horizontal-pod-autoscaler"
    watches = ("HorizontalPodAutoscaler",)

    def __init__(self) -> None:
        # per HPA uid: [(time, recommendation)] and [(time, replica change)]
        self.recommendations: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        self.scale_events: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        self.next_sync: dict[str, datetime] = {}

    def reconcile(self, ctx) -> None:
        now = ctx.clock.now()
        hpas = ctx.cluster.list("autoscaling/v2", "HorizontalPodAutoscaler")
        alive = set()
        changed = {(e.namespace, e.obj["metadata"]["name"]) for e in ctx.changed()}
        for hpa in hpas:
            uid = hpa["metadata"]["uid"]
            alive.add(uid)
            key = (hpa["metadata"]["namespace"], hpa["metadata"]["name"])
            due = self.next_sync.get(uid)
            spec_changed = key in changed and (hpa.get("status") or {}).get(
                "observedGeneration"
            ) != hpa["metadata"].get("generation")
            if due is not None and now < due and not spec_changed:
                ctx.requeue_after((due - now).total_seconds())
                continue
            self.next_sync[uid] = now + timedelta(seconds=SYNC_PERIOD)
            try:
                self.sync(ctx, hpa, now)
            except errors.ApiError as exc:
                if exc.code not in (404, 409):
                    raise
            ctx.requeue_after(SYNC_PERIOD)
        for gone in set(self.next_sync) - alive:
            self.next_sync.pop(gone, None)
            self.recommendations.pop(gone, None)
            self.scale_events.pop(gone, None)

    # -- one HPA -----------------------------------------------------------------------

    def sync(self, ctx, hpa: dict, now: datetime) -> None:
        cluster = ctx.cluster
        spec = hpa.get("spec") or {}
        ns = hpa["metadata"]["namespace"]
        ref = spec.get("scaleTargetRef") or {}
        status = copy.deepcopy(hpa.get("status") or {})
        status["observedGeneration"] = hpa["metadata"].get("generation", 1)
        conditions = list(status.get("conditions") or [])
        api_version = ref.get("apiVersion") or SCALABLE.get(ref.get("kind", ""), "")
        try:
            target = cluster.get(api_version, ref.get("kind", ""), ref.get("name", ""), ns)
        except errors.ApiError:
            message = (
                f"the HPA controller was unable to get the target's current scale: "
                f"{ref.get('kind', '').lower()}s.{api_version.split('/')[0]} "
                f'"{ref.get("name", "")}" not found'
            )
            conditions = _set(conditions, "AbleToScale", "False", "FailedGetScale", message, now)
            record(ctx, hpa, "Warning", "FailedGetScale", message)
            status["conditions"] = conditions
            status.setdefault("currentReplicas", 0)
            status.setdefault("desiredReplicas", 0)
            write_status(cluster, hpa, status)
            return
        current = int((target.get("spec") or {}).get("replicas", 1))
        min_replicas = int(spec.get("minReplicas", 1))
        max_replicas = int(spec.get("maxReplicas", 1))
        status["currentReplicas"] = int((target.get("status") or {}).get("replicas", current))
        uid = hpa["metadata"]["uid"]

        if current == 0 and min_replicas != 0:
            conditions = _set(
                conditions,
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
                now,
            )
            status.update(desiredReplicas=0, conditions=conditions)
            write_status(cluster, hpa, status)
            return

        pods = self.target_pods(cluster, target, ns)
        proposals: list[tuple[int, str]] = []
        metrics_status: list[dict] = []
        failure: MetricError | None = None
        for metric in spec.get("metrics") or []:
            try:
                replicas, current_metric, description = self.compute(ctx, metric, pods, current)
            except MetricError as exc:
                failure = exc
                metrics_status.append(_empty_metric(metric))
                continue
            proposals.append((replicas, description))
            metrics_status.append(current_metric)
        status["currentMetrics"] = metrics_status or None
        if status["currentMetrics"] is None:
            del status["currentMetrics"]

        if failure is not None and not proposals:
            conditions = _set(
                conditions,
                "AbleToScale",
                "True",
                "SucceededGetScale",
                "the HPA controller was able to get the target's current scale",
                now,
            )
            conditions = _set(
                conditions,
                "ScalingActive",
                "False",
                failure.reason,
                f"the HPA was unable to compute the replica count: {failure.message}",
                now,
            )
            record(ctx, hpa, "Warning", failure.reason, failure.message)
            record(
                ctx,
                hpa,
                "Warning",
                "FailedComputeMetricsReplicas",
                f"invalid metrics ({len(spec.get('metrics') or [])} invalid out of "
                f"{len(spec.get('metrics') or [])}), first error is: failed to get "
                f"{failure.message}",
            )
            status.update(desiredReplicas=current, conditions=conditions)
            write_status(cluster, hpa, status)
            return

        recommendation, reason = max(proposals, key=lambda p: p[0])
        if all(r < current for r, _ in proposals):
            reason = "All metrics below target"
        conditions = _set(
            conditions,
            "ScalingActive",
            "True",
            "ValidMetricFound",
            "the HPA was able to successfully calculate a replica count from "
            + metric_description(spec),
            now,
        )
        desired, able_reason, able_message = self.normalize(uid, spec, current, recommendation, now)
        limited = None
        if desired > max_replicas:
            desired = max_replicas
            limited = (
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        elif desired < min_replicas:
            desired = min_replicas
            limited = (
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        if limited:
            conditions = _set(conditions, "ScalingLimited", "True", *limited, now)
        else:
            conditions = _set(
                conditions,
                "ScalingLimited",
                "False",
                "DesiredWithinRange",
                "the desired count is within the acceptable range",
                now,
            )
        if desired != current and self.rescale(cluster, target, desired):
            self.scale_events[uid].append((now, desired - current))
            status["lastScaleTime"] = fmt_time(now)
            record(
                ctx,
                hpa,
                "Normal",
                "SuccessfulRescale",
                f"New size: {desired}; reason: {reason}",
            )
            able_reason = "SucceededRescale"
            able_message = f"the HPA controller was able to update the target scale to {desired}"
        conditions = _set(conditions, "AbleToScale", "True", able_reason, able_message, now)
        status["desiredReplicas"] = desired
        status["conditions"] = _ordered(conditions)
        write_status(cluster, hpa, status)

    def target_pods(self, cluster, target: dict, ns: str) -> list[dict]:
        selector = selector_from_object((target.get("spec") or {}).get("selector"))
        if not selector:
            return []
        return [
            p
            for p in cluster.list("v1", "Pod", ns)
            if is_active(p) and selector.matches(p["metadata"].get("labels"))
        ]

    # -- metrics -----------------------------------------------------------------------

    def compute(self, ctx, metric: dict, pods: list[dict], current: int):
        kind = metric.get("type")
        if kind != "Resource":
            raise MetricError(
                "InvalidMetricSourceType",
                f'unsupported metric source type "{kind}" in kubesim',
            )
        resource = metric.get("resource") or {}
        name = resource.get("name", "cpu")
        target = resource.get("target") or {}
        parse = cpu_millicores if name == "cpu" else bytes_
        ready, unready, usage, requests, missing_request = [], [], 0, 0, False
        for pod in pods:
            running = (pod.get("status") or {}).get("phase") == "Running"
            if not (running and is_ready(pod)):
                unready.append(pod)
                continue
            ready.append(pod)
            usage += int(ctx.pod_usage(pod).get(name, 0))
            pod_request = pod_requests(pod, name, parse)
            if pod_request is None:
                missing_request = True
            requests += pod_request or 0
        if not ready:
            raise MetricError(
                "FailedGetResourceMetric",
                f"resource metric {name}: no metrics returned from resource metrics API"
                if not pods
                else f"resource metric {name}: did not receive metrics for targeted pods "
                "(pods might be unready)",
            )
        average = usage / len(ready)
        if target.get("type") == "AverageValue":
            want = parse(target.get("averageValue", "0"))
            ratio = average / want if want else 0
            current_metric = {"averageValue": _format(name, average)}
            description = f"{name} resource"
        else:
            if missing_request or not requests:
                raise MetricError(
                    "FailedGetResourceMetric", f"missing request for {name} in container"
                )
            utilization = int(usage * 100 / requests)
            want = int(target.get("averageUtilization", 80))
            ratio = utilization / want if want else 0
            current_metric = {
                "averageUtilization": utilization,
                "averageValue": _format(name, average),
            }
            description = f"{name} resource utilization (percentage of request) " + (
                "above target" if ratio > 1 else "below target"
            )
        replicas = replica_count(ratio, len(ready), len(unready), current)
        return (
            replicas,
            {"type": "Resource", "resource": {"name": name, "current": current_metric}},
            description,
        )

    # -- behavior ----------------------------------------------------------------------

    def normalize(self, uid: str, spec: dict, current: int, recommendation: int, now):
        behavior = spec.get("behavior") or {}
        up = {**DEFAULT_UP, **(behavior.get("scaleUp") or {})}
        down = {**DEFAULT_DOWN, **(behavior.get("scaleDown") or {})}
        history = self.recommendations[uid]
        history.append((now, recommendation))
        longest = max(
            int(up["stabilizationWindowSeconds"]), int(down["stabilizationWindowSeconds"])
        )
        history[:] = [(t, r) for t, r in history if (now - t).total_seconds() <= longest]
        up_window = now - timedelta(seconds=int(up["stabilizationWindowSeconds"]))
        down_window = now - timedelta(seconds=int(down["stabilizationWindowSeconds"]))
        up_floor = min((r for t, r in history if t >= up_window), default=recommendation)
        down_ceiling = max((r for t, r in history if t >= down_window), default=recommendation)
        stabilized = current
        if up_floor > current:
            stabilized = up_floor
        if down_ceiling < current:
            stabilized = down_ceiling
        reason, message = "ReadyForNewScale", "recommended size matches current size"
        if stabilized != recommendation:
            reason = "ScaleDownStabilized" if recommendation < current else "ScaleUpStabilized"
            message = (
                "recent recommendations were higher than current one, applying the highest "
                "recent recommendation"
                if recommendation < current
                else "recent recommendations were lower than current one, applying the lowest "
                "recent recommendation"
            )
        events = self.scale_events[uid]
        events[:] = [(t, d) for t, d in events if (now - t).total_seconds() <= 1800]
        if stabilized > current:
            limit = self.rate_limit(up, events, current, now, up=True)
            if stabilized > limit:
                stabilized = limit
                reason, message = (
                    "ScaleUpLimit",
                    ("the desired replica count is increasing faster than the maximum scale rate"),
                )
        elif stabilized < current:
            limit = self.rate_limit(down, events, current, now, up=False)
            if stabilized < limit:
                stabilized = limit
                reason, message = (
                    "ScaleDownLimit",
                    ("the desired replica count is decreasing faster than the maximum scale rate"),
                )
        return stabilized, reason, message

    def rate_limit(self, rules: dict, events, current: int, now, up: bool) -> int:
        if rules.get("selectPolicy") == "Disabled":
            return current
        limits = []
        for policy in rules.get("policies") or []:
            period = int(policy.get("periodSeconds", 15))
            changed = sum(
                d for t, d in events if (now - t).total_seconds() < period and (d > 0) == up
            )
            start = current - changed
            value = int(policy.get("value", 0))
            if policy.get("type") == "Pods":
                limits.append(start + value if up else start - value)
            elif up:
                limits.append(math.ceil(start * (1 + value / 100)))
            else:
                limits.append(math.ceil(start * (1 - value / 100)))
        if not limits:
            return current
        pick_most = rules.get("selectPolicy", "Max") == "Max"
        if up:
            return max(limits) if pick_most else min(limits)
        return min(limits) if pick_most else max(limits)

    def rescale(self, cluster, target: dict, replicas: int) -> bool:
        updated = copy.deepcopy(target)
        updated["spec"]["replicas"] = replicas
        try:
            cluster.update(updated, MANAGER)
        except errors.ApiError as exc:
            if exc.code in (404, 409):
                return False
            raise
        return True


def pod_requests(pod: dict, name: str, parse) -> int | None:
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or ():
        value = ((container.get("resources") or {}).get("requests") or {}).get(name)
        if value is None:
            return None
        total += parse(value)
    return total


def replica_count(ratio: float, ready: int, unready: int, current: int) -> int:
    """GetResourceReplicas: tolerance, and not-yet-ready pods as idle when scaling up."""
    if unready == 0 or ratio <= 1:
        if abs(1 - ratio) <= TOLERANCE:
            return current
        return math.ceil(ratio * ready)
    new_ratio = ratio * ready / (ready + unready)
    if abs(1 - new_ratio) <= TOLERANCE or new_ratio < 1:
        return current
    return math.ceil(new_ratio * (ready + unready))


def metric_description(spec: dict) -> str:
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource":
            name = resource.get("name", "cpu")
            if (resource.get("target") or {}).get("type") == "AverageValue":
                return f"{name} resource"
            return f"{name} resource utilization (percentage of request)"
    return "metrics"


def _format(name: str, value: float) -> str:
    if name == "cpu":
        return f"{round(value)}m"
    return format_quantity(int(value))


def _empty_metric(metric: dict) -> dict:
    if metric.get("type") == "Resource":
        return {
            "type": "Resource",
            "resource": {"name": (metric.get("resource") or {}).get("name", "cpu"), "current": {}},
        }
    return {"type": ""}


def _set(conditions, kind, status, reason, message, now) -> list[dict]:
    return set_condition(conditions, kind, status, reason, message, now)


def _ordered(conditions: list[dict]) -> list[dict]:
    order = {"AbleToScale": 0, "ScalingActive": 1, "ScalingLimited": 2}
    return sorted(conditions, key=lambda c: order.get(c.get("type"), 3))


CONTROLLERS = [HorizontalPodAutoscalerController]
