"""What a workload is doing, from what its controller reports: the summary of its row.

Each kind reports differently (a Deployment's replicas and conditions, a DaemonSet's
scheduled nodes, a Job's completions); the portal shows one status for all of them,
with the reason when it is not simply running: stopped (scaled to zero), updating (a
rollout under way), degraded (fewer pods ready than asked for), failed (a rollout past
its deadline, a Job that failed), completed, suspended.
"""

from datetime import datetime, timedelta

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from .manifest import DEADLINE_ANNOTATION
from .models import Workload

S = Workload.Status
REVISION = "deployment.kubernetes.io/revision"

DEFAULT_DEADLINE = 600  # the Deployment's own default, for StatefulSets and DaemonSets


def progress_deadline(obj: dict) -> int:
    """A StatefulSet's or DaemonSet's progress deadline in seconds (its annotation)."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(DEADLINE_ANNOTATION, "")
    return int(value) if str(value).isdigit() and int(value) > 0 else DEFAULT_DEADLINE


def unfollowable(obj: dict) -> str:
    """Why kubectl rollout status refuses to follow it ("" when it follows it): a
    StatefulSet or DaemonSet that replaces its pods only when they are deleted."""
    if obj.get("kind") not in ("StatefulSet", "DaemonSet"):
        return ""
    strategy = ((obj.get("spec") or {}).get("updateStrategy") or {}).get("type") or "RollingUpdate"
    if strategy == "RollingUpdate":
        return ""
    return str(
        _(
            "%(kind)s %(name)s has the %(strategy)s update strategy: Kubernetes replaces its "
            "pods only when they are deleted, so there is no rollout to follow (rollout "
            "status is only available for RollingUpdate strategy)."
        )
        % {
            "kind": obj.get("kind"),
            "name": (obj.get("metadata") or {}).get("name", ""),
            "strategy": strategy,
        }
    )


def _condition(status: dict, kind: str) -> dict:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), {})


def _images(template: dict) -> list[str]:
    spec = (template or {}).get("spec") or {}
    return [c.get("image", "") for c in spec.get("containers") or []]


def _replicated(obj: dict, spec: dict, status: dict) -> dict:
    """Deployments and StatefulSets: replicas asked for, ready, available, up to date."""
    desired = spec.get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    # The API leaves out a zero availableReplicas (omitempty): absent is none available.
    available = status.get("availableReplicas", 0)
    updated = status.get("updatedReplicas", 0)
    progressing = _condition(status, "Progressing")
    behind = status.get("observedGeneration", 0) < (obj.get("metadata") or {}).get("generation", 0)
    if obj.get("kind") == Workload.Kind.STATEFULSET:
        rolling = _set_rolling(spec, status, desired, behind)
    else:
        rolling = behind or updated < desired or status.get("replicas", 0) > desired
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        state, reason = S.FAILED, progressing.get("message") or "ProgressDeadlineExceeded"
    elif desired == 0:
        state, reason = S.STOPPED, ""
    elif rolling:
        state, reason = S.UPDATING, progressing.get("message", "")
    elif ready < desired:
        # (the pods' own reasons are added when they are mirrored: explain_degraded)
        state, reason = S.DEGRADED, pods_reason(desired, ready, [])
    else:
        state, reason = S.RUNNING, ""
    return {
        "desired": desired,
        "ready": ready,
        "available": available,
        "updated": updated,
        "status": state,
        "reason": reason[:255],
    }


def _set_rolling(spec: dict, status: dict, desired: int, behind: bool) -> bool:
    """Whether a StatefulSet rolls out, as kubectl rollout status judges: until the pods
    from its partition up run the new revision (a partitioned one then rests, half
    updated, by design) and, without a partition, until its update revision is the
    current one (its last new pod is counted updated before it is ready)."""
    update = spec.get("updateStrategy") or {}
    partition = int((update.get("rollingUpdate") or {}).get("partition") or 0)
    wanted = max(desired - partition, 0)
    if behind or status.get("updatedReplicas", 0) < wanted or status.get("replicas", 0) > desired:
        return True
    if (update.get("type") or "RollingUpdate") != "RollingUpdate" or partition:
        return False
    current, target = status.get("currentRevision"), status.get("updateRevision")
    return bool(target and current != target)


def _daemon(spec: dict, status: dict) -> dict:
    desired = status.get("desiredNumberScheduled", 0)
    ready = status.get("numberReady", 0)
    updated = status.get("updatedNumberScheduled", 0)
    if updated < desired:
        state, reason = S.UPDATING, ""
    elif ready < desired:
        state, reason = S.DEGRADED, pods_reason(desired, ready, [])
    else:
        state, reason = S.RUNNING, ""
    return {
        "desired": desired,
        "ready": ready,
        "available": status.get("numberAvailable", 0),
        "updated": updated,
        "status": state,
        "reason": reason,
    }


def _job(spec: dict, status: dict) -> dict:
    completions = spec.get("completions", 1)
    succeeded, active = status.get("succeeded", 0), status.get("active", 0)
    failed = _condition(status, "Failed")
    if _condition(status, "Complete").get("status") == "True":
        state, reason = S.COMPLETED, ""
    elif failed.get("status") == "True":
        state, reason = S.FAILED, failed.get("message") or failed.get("reason", "")
    elif spec.get("suspend"):
        state, reason = S.SUSPENDED, ""
    else:
        state, reason = S.RUNNING, ""
    return {
        "desired": completions,
        "ready": status.get("ready", active),
        "available": active,
        "updated": succeeded,
        "status": state,
        "reason": reason[:255],
    }


def _cron(spec: dict, status: dict) -> dict:
    active = len(status.get("active") or [])
    last = status.get("lastScheduleTime", "")
    return {
        "desired": None,
        "ready": active,
        "available": active,
        "updated": 0,
        "status": S.SUSPENDED if spec.get("suspend") else S.RUNNING,
        "reason": f"last run {last}" if last else "",
        "schedule": spec.get("schedule", ""),
    }


def _last_change(obj: dict) -> datetime | None:
    """When the object (its spec, or the status its controller writes as pods come up)
    last changed, on the cluster's clock: the latest time in its managedFields, which the
    API server stamps whenever a manager changes a field."""
    times = [
        parse_datetime(entry.get("time") or "")
        for entry in (obj.get("metadata") or {}).get("managedFields") or []
        if isinstance(entry, dict)
    ]
    times = [t for t in times if t is not None]
    if times:
        return max(times)
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    return parse_datetime(created) if isinstance(created, str) else None


def rollout_deadline(obj: dict, state: str) -> datetime | None:
    """When a StatefulSet's or DaemonSet's rollout under way is stuck, on the cluster's
    clock: its progress deadline after its last change (None when not rolling out)."""
    if obj.get("kind") not in (Workload.Kind.STATEFULSET, Workload.Kind.DAEMONSET):
        return None
    if state != S.UPDATING or unfollowable(obj):
        return None
    changed = _last_change(obj)
    return changed + timedelta(seconds=progress_deadline(obj)) if changed else None


def workload_summary(obj: dict) -> dict:
    kind = obj.get("kind")
    metadata = obj.get("metadata") or {}
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if kind == Workload.Kind.CRONJOB:
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    else:
        template = spec.get("template") or {}
    if kind in (Workload.Kind.DEPLOYMENT, Workload.Kind.STATEFULSET):
        counts = _replicated(obj, spec, status)
    elif kind == Workload.Kind.DAEMONSET:
        counts = _daemon(spec, status)
    elif kind == Workload.Kind.JOB:
        counts = _job(spec, status)
    else:
        counts = _cron(spec, status)
    owner = next((r for r in metadata.get("ownerReferences") or [] if r.get("controller")), {})
    revision = (metadata.get("annotations") or {}).get(REVISION) or status.get(
        "currentRevision", ""
    )
    return {
        "schedule": "",
        **counts,
        "images": _images(template),
        "revision": str(revision)[:64],
        "selector": dict((spec.get("selector") or {}).get("matchLabels") or {}),
        "owner_kind": owner.get("kind", ""),
        "owner_name": owner.get("name", ""),
        "progress_deadline": rollout_deadline(obj, counts["status"]),
    }


# --- a degraded workload's reason, in its pods' words ----------------------------------

REASON_LENGTH = 255  # the column's size


def pods_reason(desired: int, ready: int, troubles: list[tuple[str, str]]) -> str:
    """ "2 of 3 pods not ready: CrashLoopBackOff (web-abc), ImagePullBackOff (web-def)":
    each reason with its pods (in the order given), as many as fit in the column, then
    how many pods are left out."""
    return _listed(f"{max(desired - ready, 0)} of {desired} pods not ready", troubles)


def rollout_reason(progress: str, troubles: list[tuple[str, str]]) -> str:
    """An updating workload's reason: Kubernetes' own ("ReplicaSet "web-5f…" is
    progressing."), or, when pods of the rollout cannot start, theirs: "Rolling out;
    1 pod cannot start: ImagePullBackOff (web-5f…-x2k)" (a rollout that will wait until
    its deadline says why now, not ten minutes later)."""
    stuck = [(pod, why) for pod, why in troubles if why not in STARTING]
    if not stuck:
        return progress[:REASON_LENGTH]
    pods = "pod cannot" if len(stuck) == 1 else "pods cannot"
    return _listed(f"Rolling out; {len(stuck)} {pods} start", stuck)


# A pod on its way up, not in trouble (what kubectl's STATUS column shows meanwhile).
STARTING = frozenset(
    {"Pending", "ContainerCreating", "PodInitializing", "Running, not ready", "Terminating"}
)


def _listed(text: str, troubles: list[tuple[str, str]]) -> str:
    groups: dict[str, list[str]] = {}
    for pod, why in troubles:
        groups.setdefault(why, []).append(pod)
    parts: list[str] = []
    for shown, (why, pods) in enumerate(groups.items()):
        names: list[str] = []
        for pod in pods:
            candidate = f"{why} ({', '.join([*names, pod])})"
            left = (
                sum(len(p) for p in list(groups.values())[shown + 1 :]) + len(pods) - len(names) - 1
            )
            tail = f", … +{left}" if left else ""
            if len(f"{text}: {', '.join([*parts, candidate])}{tail}") > REASON_LENGTH:
                break
            names.append(pod)
        if names:
            parts.append(f"{why} ({', '.join(names)})")
        if len(names) < len(pods):
            left = len(pods) - len(names) + sum(len(p) for p in list(groups.values())[shown + 1 :])
            parts.append(f"… +{left}")
            break
    return (f"{text}: {', '.join(parts)}" if parts else text)[:REASON_LENGTH]


def _pod_trouble(pod) -> str:
    if pod.status == "Running":
        return "Running, not ready"
    return pod.status or "Pending"


def explain_degraded(cluster, namespaces) -> int:
    """Give the degraded and updating workloads of these namespaces their pods' reasons
    (three reads and one write at most, whatever their number); the number changed."""
    from django.db.models import Q

    from .models import Pod

    explained = list(
        Workload.objects.filter(
            cluster=cluster, namespace_name__in=namespaces, status__in=(S.DEGRADED, S.UPDATING)
        ).only("pk", "namespace_name", "kind", "name", "status", "desired", "ready", "reason")
    )
    if not explained:
        return 0
    wanted = Q()
    for w in explained:
        wanted |= Q(namespace_name=w.namespace_name, workload_kind=w.kind, workload_name=w.name)
    troubles: dict[tuple, list] = {}
    pods = (
        Pod.objects.filter(cluster=cluster, ready=False)
        .filter(wanted)
        .exclude(status="Terminating")
        .only("namespace_name", "workload_kind", "workload_name", "name", "status")
        .order_by("name")
    )
    for pod in pods:
        key = (pod.namespace_name, pod.workload_kind, pod.workload_name)
        troubles.setdefault(key, []).append((pod.name, _pod_trouble(pod)))
    updating = [w.pk for w in explained if w.status == S.UPDATING]
    # Kubernetes' own words for a rollout (its Progressing condition), read only for the
    # rows rolling out: the reason column holds the pods' words once they are given.
    progress = (
        {
            pk: _condition(status or {}, "Progressing").get("message", "")
            for pk, status in Workload.objects.filter(pk__in=updating).values_list(
                "pk", "manifest__status"
            )
        }
        if updating
        else {}
    )
    changed = []
    for w in explained:
        found = troubles.get((w.namespace_name, w.kind, w.name), [])
        if w.status == S.DEGRADED:
            reason = pods_reason(w.desired or 0, w.ready or 0, found)
        else:
            reason = rollout_reason(progress.get(w.pk, ""), found)
        if reason != w.reason:
            w.reason = reason
            changed.append(w)
    if changed:
        Workload.objects.bulk_update(changed, ["reason"])
    return len(changed)


# --- a StatefulSet's or DaemonSet's rollout past its deadline ---------------------------


def stuck_reason(deadline: int) -> str:
    return _("The rollout is stuck: no progress for %(n)s s (its %(annotation)s annotation).") % {
        "n": deadline,
        "annotation": DEADLINE_ANNOTATION,
    }


def mark_stuck(cluster, namespaces, now=None) -> int:
    """Call failed the StatefulSets and DaemonSets of these namespaces (None: every one)
    whose rollout is past its progress deadline (Kubernetes has none for them, so no
    condition says so), at ``now`` on the cluster's clock (by default the portal's clock
    and the offset last read: no request). One read, and one write when any is; the
    number changed."""
    from apps.kube import clock

    now = now or clock.estimated_now(cluster)
    rows = Workload.objects.filter(cluster=cluster, status=S.UPDATING, progress_deadline__lt=now)
    if namespaces is not None:
        rows = rows.filter(namespace_name__in=namespaces)
    stuck = list(rows.only("pk", "status", "reason", "manifest"))
    for row in stuck:
        row.status = S.FAILED
        row.reason = stuck_reason(progress_deadline(row.manifest or {}))[:REASON_LENGTH]
    if stuck:
        Workload.objects.bulk_update(stuck, ["status", "reason"])
    return len(stuck)


def mark_all_stuck() -> int:
    """Beat: call stuck the StatefulSets and DaemonSets past their deadline on every cluster.

    A rollout that stops making progress may change nothing more (its new pod Pending for
    good), so no watch event has the informer look again once its deadline passes; this
    look, on each cluster's own clock (read once a cluster that has one rolling out), does.
    """
    from apps.clusters.models import Cluster
    from apps.kube import changes, clock
    from apps.kube.errors import KubeError

    rolling = Workload.objects.filter(status=S.UPDATING, progress_deadline__isnull=False)
    changed = 0
    for cluster in Cluster.objects.filter(pk__in=rolling.values("cluster")):
        try:
            now = clock.now(cluster)
        except KubeError:
            continue  # away: its next look, or the informer once it answers
        changed += mark_stuck(cluster, None, now)
    if changed:
        changes.bump(Workload)
    return changed
