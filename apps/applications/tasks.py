"""The long parts of applications: applying an import object by object, and starting,
stopping, redeploying or deleting every component as one Operation.

Both are idempotent, so a redelivered or retried task is safe: an import continues from
the first object not yet applied (server-side apply of an applied object changes
nothing); a lifecycle step skips what is already as asked.
"""

import time

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.operations import operation_task, register_kind
from apps.kube import objects
from apps.kube.errors import KubeError, Stuck
from apps.kube.services import service_for
from apps.workloads import services as workload_services
from apps.workloads import tasks as rollouts
from apps.workloads.models import Workload

from . import components
from .models import Application, Import

K = Workload.Kind
POLL = 1.0
TIMEOUT = 900


class StepFailed(KubeError):
    """One object could not be applied: the message names it and Kubernetes' reason."""


@operation_task("application.import", _("Import an application"))
def apply_import(progress, import_id: int):
    record = Import.objects.select_related("namespace__cluster").get(pk=import_id)
    cluster = record.namespace.cluster
    documents = record.documents
    total = len(documents)
    kube = cluster.kube()
    if record.applied:
        progress.log(
            _("continuing from object %(n)s of %(total)s"), n=record.applied + 1, total=total
        )
    progress.step(_("Applying the objects"), int(100 * record.applied / max(total, 1)))
    for index in range(record.applied, total):
        progress.check_cancelled()
        obj = documents[index]
        kind, name = obj["kind"], obj["metadata"]["name"]
        try:
            applied = components.apply(kube, obj)
        except KubeError as exc:
            failed = StepFailed(
                f"{kind} {name}: {exc.message}", status=exc.status, reason=exc.reason
            )
            if not exc.transient:
                progress.log(
                    _("%(kind)s %(name)s refused: %(error)s"),
                    kind=kind,
                    name=name,
                    error=exc.message,
                )
            raise failed from exc
        components.store(cluster, applied)
        Import.objects.filter(pk=record.pk).update(applied=index + 1)
        progress.log(_("applied %(kind)s %(name)s"), kind=kind, name=name)
        progress._save(progress=int(100 * (index + 1) / total))
    Import.objects.filter(pk=record.pk).update(objects_json="")  # Secrets' data go


register_kind("application.create", _("Create an application"))
register_kind("application.start", _("Start an application"))
register_kind("application.stop", _("Stop an application"))
register_kind("application.redeploy", _("Redeploy an application"))
register_kind("application.delete", _("Delete an application"))


@operation_task("application.lifecycle", _("Application"))
def run_lifecycle(progress, application_id: int, verb: str, *args):
    application = Application.objects.select_related("cluster", "namespace__project").get(
        pk=application_id
    )
    actor = progress.operation.actor
    {
        "start": _start,
        "stop": _stop,
        "redeploy": _redeploy,
        "delete": _delete,
    }[verb](progress, actor, application, *args)


def _workloads(application) -> list[Workload]:
    return [
        workload
        for workload in Workload.objects.select_related("cluster", "namespace__project")
        .filter(cluster=application.cluster, namespace_name=application.namespace_name)
        .exclude(owner_kind="CronJob")
        .order_by("kind", "name")
        if application.selects(workload.labels or {})
    ]


def _each(progress, workloads, step, fn) -> None:
    """``fn(workload)`` for each, with progress; a refusal is logged, not fatal, unless
    every workload was refused."""
    if not workloads:
        progress.log(_("The application has no workloads."))
        return
    progress.step(step, 5)
    failures = 0
    for index, workload in enumerate(workloads, start=1):
        progress.check_cancelled()
        try:
            outcome = fn(workload)
        except ValidationError as exc:
            failures += 1
            progress.log(
                _("%(kind)s %(name)s: %(why)s"),
                kind=workload.kind,
                name=workload.name,
                why="; ".join(exc.messages),
            )
        else:
            if outcome:
                progress.log(outcome, kind=workload.kind, name=workload.name)
        progress._save(progress=5 + int(90 * index / len(workloads)))
    if failures == len(workloads):
        raise KubeError(str(_("No workload could be changed.")))


def _stop(progress, actor, application):
    def stop(workload):
        if workload.kind == K.DAEMONSET:
            return _("%(kind)s %(name)s keeps running: a DaemonSet cannot be stopped")
        if workload.kind in (K.JOB, K.CRONJOB):
            if workload.status == Workload.Status.SUSPENDED:
                return _("%(kind)s %(name)s was already suspended")
        elif workload.desired == 0:
            return _("%(kind)s %(name)s was already stopped")
        workload_services.stop(actor, workload)
        return _("stopped %(kind)s %(name)s")

    _each(progress, _workloads(application), _("Stopping the workloads"), stop)


def _start(progress, actor, application):
    def start(workload):
        if workload.kind == K.DAEMONSET:
            return ""
        if workload.kind in (K.JOB, K.CRONJOB):
            if workload.status != Workload.Status.SUSPENDED:
                return _("%(kind)s %(name)s was already running")
        elif workload.desired:
            return _("%(kind)s %(name)s was already running")
        workload_services.start(actor, workload)
        return _("started %(kind)s %(name)s")

    _each(progress, _workloads(application), _("Starting the workloads"), start)


def _redeploy(progress, actor, application):
    rollable = [
        w for w in _workloads(application) if w.kind in (K.DEPLOYMENT, K.STATEFULSET, K.DAEMONSET)
    ]
    stamp = timezone.now().isoformat(timespec="seconds")
    body = {
        "spec": {
            "template": {
                "metadata": {"annotations": {workload_services.RESTARTED_ANNOTATION: stamp}}
            }
        }
    }

    def restart(workload):
        was = workload_services.pod_template_before(workload)  # for its revision list
        workload_services.service(workload).patch(actor, workload, body, verb="restart", **was)
        return _("restarting %(kind)s %(name)s")

    _each(progress, rollable, _("Restarting the workloads"), restart)
    if rollable:
        _follow(progress, application, rollable)


def _follow(progress, application, workloads) -> None:
    """Wait for every rollout to finish; fail naming the stuck ones and their pods' reasons."""
    progress.step(_("Following the rollouts"), 50)
    kube = application.cluster.kube()
    started = time.monotonic()
    waiting = {w.pk: w for w in workloads}
    while waiting:
        progress.check_cancelled()
        for pk, workload in list(waiting.items()):
            obj = objects.read(
                kube, workload.api_version, workload.kind, workload.name, workload.namespace_name
            )
            done, updated, desired, failure = rollouts.rollout_state(obj)
            if done:
                del waiting[pk]
                progress.log(
                    _("%(kind)s %(name)s: %(n)s of %(total)s pods up to date"),
                    kind=workload.kind,
                    name=workload.name,
                    n=updated,
                    total=desired,
                )
                continue
            if failure:  # past its progress deadline, as Kubernetes says
                troubles = rollouts.pod_troubles(kube, workload)
                pods = "; ".join(f"{pod}: {why}" for pod, why in sorted(troubles.items()))
                raise Stuck(f"{workload.kind} {workload.name}: {failure} {pods}".strip())
        done = len(workloads) - len(waiting)
        progress._save(progress=50 + int(45 * done / len(workloads)))
        if waiting and time.monotonic() - started > TIMEOUT:
            names = ", ".join(sorted(w.name for w in waiting.values()))
            raise Stuck(
                str(
                    _("Still rolling out after %(n)s s: %(names)s") % {"n": TIMEOUT, "names": names}
                )
            )
        if waiting:
            time.sleep(POLL)


def _delete(progress, actor, application, with_components: bool):
    from .services import applications

    if with_components:
        found = components.live_objects(application)
        progress.step(_("Deleting the components"), 5)
        for index, obj in enumerate(reversed(found), start=1):  # what refers first
            progress.check_cancelled()
            _delete_one(actor, application, obj)
            progress.log(
                _("deleted %(kind)s %(name)s"), kind=obj["kind"], name=obj["metadata"]["name"]
            )
            progress._save(progress=5 + int(85 * index / max(len(found), 1)))
    else:
        progress.log(_("The components stay, without an application."))
    progress.step(_("Deleting the application"), 95)
    try:
        applications.delete(actor, application)
    except ValidationError as exc:
        raise KubeError("; ".join(exc.messages)) from None


def _delete_one(actor, application, obj: dict) -> None:
    """Through the kind's service where the portal mirrors it (authorized, audited)."""
    kind, name = obj["kind"], obj["metadata"]["name"]
    service = service_for(obj["apiVersion"], kind)
    row = None
    if service is not None:
        row = (
            service.mirror.rows(application.cluster)
            .filter(namespace_name=application.namespace_name, name=name)
            .first()
        )
    try:
        if row is not None:
            service.delete(actor, row)
        else:
            objects.delete(
                application.cluster.kube(),
                obj["apiVersion"],
                kind,
                name,
                application.namespace_name,
            )
    except KubeError as exc:
        if not exc.not_found:
            raise
    except ValidationError as exc:
        raise KubeError(f"{kind} {name}: {'; '.join(exc.messages)}") from None
