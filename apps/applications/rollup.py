"""An application's status, rolled up from the workloads it selects.

ready: every workload runs as asked; progressing: one is rolling out; degraded: one has
fewer pods ready than asked for, or failed; stopped: every workload is stopped or
suspended; empty: it selects none. Each workload notes the application it belongs to
(the first, by name, whose selector matches it). Recomputed for the touched namespaces
whenever their workloads or applications change: a few queries, however many rows.
"""

from apps.kube import changes
from apps.workloads.models import Workload

from .models import Application

W, A = Workload.Status, Application.Status


def status_of(statuses: list[str]) -> str:
    if not statuses:
        return A.EMPTY
    if any(s in (W.DEGRADED, W.FAILED) for s in statuses):
        return A.DEGRADED
    if any(s == W.UPDATING for s in statuses):
        return A.PROGRESSING
    if all(s in (W.STOPPED, W.SUSPENDED) for s in statuses):
        return A.STOPPED
    return A.READY


def refresh(cluster, namespaces) -> int:
    """Recompute the applications of these namespaces and their workloads' application;
    how many applications changed."""
    namespaces = set(namespaces)
    if not namespaces:
        return 0
    workloads = Workload.objects.filter(cluster=cluster, namespace_name__in=namespaces)
    applications = list(
        Application.objects.filter(cluster=cluster, namespace_name__in=namespaces)
        .order_by("name")
        .only("pk", "name", "namespace_name", "selector", "status", "workload_count")
    )
    if not applications:
        if workloads.exclude(application_name="").update(application_name=""):
            changes.bump(Workload)
        return 0
    rows = list(
        workloads.exclude(
            owner_kind="CronJob"
        ).values_list(  # a CronJob's Jobs count through the CronJob
            "pk", "namespace_name", "labels", "status", "application_name"
        )
    )
    statuses = {app.pk: [] for app in applications}
    moved = {}  # application name -> workload pks now in it
    for pk, namespace, labels, status, current in rows:
        found = ""
        for app in applications:
            if app.namespace_name == namespace and app.selects(labels or {}):
                statuses[app.pk].append(status)
                found = found or app.name
        if found != current:
            moved.setdefault(found, []).append(pk)
    for name, pks in moved.items():
        Workload.objects.filter(pk__in=pks).update(application_name=name)
    if moved:
        changes.bump(Workload)
    changed = []
    for app in applications:
        fields = (status_of(statuses[app.pk]), len(statuses[app.pk]))
        if fields != (app.status, app.workload_count):
            app.status, app.workload_count = fields
            changed.append(app)
    if changed:
        Application.objects.bulk_update(changed, ["status", "workload_count"])
        changes.bump(Application)
    return len(changed)
