"""Following a rollout to its end, as ``kubectl rollout status`` does, with progress.

The operation succeeds when every pod runs the new template and is available; it fails
when Kubernetes says the rollout is stuck — the Deployment's Progressing condition turned
False with reason ProgressDeadlineExceeded after ``spec.progressDeadlineSeconds`` without
progress, on the cluster's own clock — naming why in the pods' own words (crashing,
unable to pull their image, unschedulable...). Until then the pods' troubles are logged
as the operation waits. StatefulSets and DaemonSets have no progress deadline in
Kubernetes: theirs is the portal's (``kcs.io/progress-deadline-seconds``, see status.py),
also on the cluster's clock. Following is idempotent: a redelivered task looks at the
workload as it is now.
"""

import logging
import time

from celery import shared_task
from django.utils.translation import gettext_lazy as _

from apps.core.operations import operation_task
from apps.kube import changes, clock, objects
from apps.kube.errors import KubeError, Stuck

from .models import Workload
from .status import (
    DEADLINE_ANNOTATION,
    DEFAULT_DEADLINE,
    mark_stuck,
    progress_deadline,
    unfollowable,
)
from .sync import WORKLOADS

log = logging.getLogger("kcsportal.workloads")

POLL = 1.0
TIMEOUT = 900
STUCK_REASONS = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "RunContainerError",
    "OOMKilled",
    "Unschedulable",
}


def progress_counts(obj: dict) -> tuple[int, int]:
    """(up to date, ready): what changes while a rollout makes progress."""
    status = obj.get("status") or {}
    if obj.get("kind") == "DaemonSet":
        return status.get("updatedNumberScheduled", 0), status.get("numberReady", 0)
    return status.get("updatedReplicas", 0), status.get("readyReplicas", 0)


def rollout_state(obj: dict) -> tuple[bool, int, int, str]:
    """(done, up to date, desired, message) of a rollout, as kubectl rollout status sees it.

    An OnDelete StatefulSet or DaemonSet is done at once (nothing rolls out by itself; see
    ``unfollowable``). A partitioned StatefulSet's rollout is of the ordinals from the
    partition up: ``desired`` counts those.
    """
    kind = obj.get("kind")
    metadata, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    generation, observed = metadata.get("generation", 0), status.get("observedGeneration", 0)
    if kind in ("StatefulSet", "DaemonSet") and unfollowable(obj):
        return True, progress_counts(obj)[0], 0, ""
    if kind == "DaemonSet":
        # kubectl's DaemonSetStatusViewer
        desired = status.get("desiredNumberScheduled", 0)
        updated = status.get("updatedNumberScheduled", 0)
        available = status.get("numberAvailable", 0)
        done = generation <= observed and updated >= desired and available >= desired
        return done, updated, desired, ""
    desired = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    if kind == "StatefulSet":
        # kubectl's StatefulSetStatusViewer: the spec observed, every replica ready, then
        # either the pods from the partition up updated or, without a rollingUpdate, the
        # update revision current
        if not observed or generation > observed:
            return False, updated, desired, ""
        if status.get("readyReplicas", 0) < desired:
            return False, updated, desired, ""
        rolling = (spec.get("updateStrategy") or {}).get("rollingUpdate")
        if rolling is not None and rolling.get("partition") is not None:
            wanted = max(desired - int(rolling["partition"]), 0)
            return updated >= wanted, updated, wanted, ""
        done = status.get("currentRevision") == status.get("updateRevision")
        return done, updated, desired, ""
    progressing = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "Progressing"), {}
    )
    # (as kubectl: a condition of the previous spec, not yet observed, says nothing)
    observed = observed >= generation
    if observed and progressing.get("reason") == "ProgressDeadlineExceeded":
        message = progressing.get("message") or ""
        return False, updated, desired, f"ProgressDeadlineExceeded: {message}".strip(" :")
    done = (
        observed
        and updated >= desired
        and status.get("replicas", 0) <= updated
        and available >= updated
    )
    return done, updated, desired, ""


def pod_troubles(kube, workload: Workload) -> dict[str, str]:
    """{pod: why it is not coming up} for the workload's pods that are stuck."""
    selector = ",".join(f"{k}={v}" for k, v in sorted(workload.selector.items()))
    pods = objects.list_(kube, "v1", "Pod", workload.namespace_name, label_selector=selector)
    troubles = {}
    for pod in pods.get("items") or []:
        name = pod["metadata"]["name"]
        status = pod.get("status") or {}
        for condition in status.get("conditions") or []:
            if (
                condition.get("type") == "PodScheduled"
                and condition.get("reason") == "Unschedulable"
            ):
                troubles[name] = f"Unschedulable: {condition.get('message', '')}".strip()
        for container in [
            *(status.get("initContainerStatuses") or []),
            *(status.get("containerStatuses") or []),
        ]:
            state = container.get("state") or {}
            last = (container.get("lastState") or {}).get("terminated") or {}
            waiting = state.get("waiting") or {}
            reason = waiting.get("reason") or last.get("reason")
            if reason in STUCK_REASONS:
                message = waiting.get("message") or ""
                if last.get("reason") and last.get("reason") != reason:
                    # what a CrashLoopBackOff is backing off from: OOMKilled, Error ...
                    message = f"last run: {last['reason']}, exit code {last.get('exitCode')}" + (
                        f"; {message}" if message else ""
                    )
                troubles[name] = f"{container['name']}: {reason}" + (
                    f" ({message})" if message else ""
                )
        terminating = pod["metadata"].get("deletionTimestamp")
        if name not in troubles and status.get("phase") == "Running" and not terminating:
            ready = next(
                (c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {}
            )
            if ready.get("status") == "False":
                # running but failing its readiness probe (or still starting: only a
                # rollout past its progress deadline is called stuck)
                troubles[name] = f"not ready: {ready.get('message') or ready.get('reason', '')}"
    return troubles


def _reread(workload_id: int, *args):
    """When following ends, in any way: the workload as Kubernetes has it now."""
    workload = Workload.objects.select_related("cluster").filter(pk=workload_id).first()
    if workload is None:
        return
    try:
        obj = objects.read(
            workload.cluster.kube(retries=1),
            workload.api_version,
            workload.kind,
            workload.name,
            workload.namespace_name,
        )
    except KubeError as exc:
        log.warning("workload %s could not be re-read: %s", workload.name, exc.message)
        return
    WORKLOADS[workload.kind].apply(workload.cluster, [obj])


@operation_task("workload.rollout", _("Roll out"), on_finish=_reread)
def follow_rollout(progress, workload_id: int, _version: str = "", generation: int = 0):
    """Follow the workload's rollout until kubectl rollout status would say it is done (of
    ``generation`` at least: the spec the action that started it wrote)."""
    workload = Workload.objects.select_related("cluster").get(pk=workload_id)
    kube = workload.cluster.kube()
    mirror = WORKLOADS[workload.kind]
    progress.step(_("Following the rollout"), 5)
    progress.log(_("%(kind)s %(name)s"), kind=workload.kind, name=workload.name)
    started = time.monotonic()
    reported = ""
    # StatefulSets and DaemonSets: when their counts last moved, on the cluster's clock
    counts, moved = None, None
    while True:
        progress.check_cancelled()
        obj = objects.read(
            kube, workload.api_version, workload.kind, workload.name, workload.namespace_name
        )
        mirror.apply(workload.cluster, [obj])
        refusal = unfollowable(obj)
        if refusal:
            raise Stuck(refusal)
        done, updated, desired, failure = rollout_state(obj)
        if desired:
            progress._save(progress=5 + int(90 * min(updated, desired) / desired))
        if done and obj["metadata"].get("generation", 0) >= _wanted(progress, generation):
            progress.log(
                _("%(n)s of %(total)s pods up to date and available"), n=updated, total=desired
            )
            return
        troubles = pod_troubles(kube, workload)
        if failure:
            raise Stuck(_stuck_message(failure, troubles))
        if workload.kind in (Workload.Kind.STATEFULSET, Workload.Kind.DAEMONSET):
            now = clock.now(workload.cluster)
            if progress_counts(obj) != counts:
                counts, moved = progress_counts(obj), now
            deadline = progress_deadline(obj)
            if (now - moved).total_seconds() > deadline:
                # the row says so too (nothing the cluster sends will: it has stopped)
                if mark_stuck(workload.cluster, [workload.namespace_name], now):
                    changes.bump(Workload)
                raise Stuck(
                    _stuck_message(
                        _(
                            "No progress for %(n)s s (the %(annotation)s annotation, "
                            "%(default)s s unless set)."
                        )
                        % {
                            "n": deadline,
                            "annotation": DEADLINE_ANNOTATION,
                            "default": DEFAULT_DEADLINE,
                        },
                        troubles,
                    )
                )
        summary = "; ".join(f"{pod}: {why}" for pod, why in sorted(troubles.items()))
        if summary and summary != reported:
            progress.log(_("waiting: %(why)s"), why=summary)
        reported = summary
        if time.monotonic() - started > TIMEOUT:
            # (a last resort: the deadlines above are on the cluster's clock)
            raise Stuck(
                _stuck_message(
                    _("The rollout did not finish in %(n)s s.") % {"n": TIMEOUT}, troubles
                )
            )
        pause()


def _wanted(progress, generation: int) -> int:
    """The generation to see rolled out: the one given, or a later change's that joined the
    operation meanwhile (``services.follow`` writes it into the task's arguments)."""
    args = (
        type(progress.operation)
        .objects.filter(pk=progress.operation.pk)
        .values_list("task_args", flat=True)
    )
    stored = next(iter(args), None) or []
    later = stored[2] if len(stored) > 2 and isinstance(stored[2], int) else 0
    return max(generation, later)


def pause() -> None:
    """Between two looks at the rollout (tests move the cluster's clock here instead)."""
    time.sleep(POLL)


def _stuck_message(failure: str, troubles: dict[str, str]) -> str:
    """The rollout is stuck: Kubernetes' own words, then each pod's reason."""
    pods = "; ".join(f"{pod}: {why}" for pod, why in sorted(troubles.items()))
    return " ".join(str(part) for part in (_("The rollout is stuck."), failure, pods) if part)


@shared_task(name="workloads.mark_stuck", acks_late=True, ignore_result=True)
def mark_all_stuck():
    """Beat: StatefulSets and DaemonSets past their progress deadline show failed."""
    from .status import mark_all_stuck

    return mark_all_stuck()
