"""Writing the audit trail. Called by service functions, never by views.

A service records what it did with ``record``. What it refused or failed to do is
recorded by ``@audited`` (or ``attempt``) around it: one event with the result
"failure" and the reason, whichever surface called it, so refusals (permission,
validation, quota, a conflict, a Kubernetes error) are in the trail too.
"""

import functools
import logging
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions

from apps.kube import identity

from . import context
from .models import AuditEvent

log = logging.getLogger("kcsportal.audit")

# Set while an audited action runs: the services it calls are part of it, and their
# failure is the outer action's (one event, not one per layer).
_action: ContextVar[str] = ContextVar("kcs_audited_action", default="")


def where(obj) -> dict:
    """The project, cluster and namespace an object is in, as audit events name them."""
    from apps.clusters.models import Cluster
    from apps.namespaces.models import Namespace
    from apps.tenancy.models import Project

    if obj is None:
        return {}
    if isinstance(obj, Project):
        return {"project": obj}
    if isinstance(obj, Cluster):
        return {"project": obj.project, "cluster": obj.name}
    if isinstance(obj, Namespace):
        return {"project": obj.project, "cluster": obj.cluster.name, "namespace": obj.name}
    found = {}
    namespace = getattr(obj, "namespace", None)
    if isinstance(namespace, Namespace):
        found["project"] = namespace.project
    elif isinstance(getattr(obj, "project", None), Project):
        found["project"] = obj.project
    cluster = getattr(obj, "cluster", None)
    if isinstance(cluster, Cluster):
        found["cluster"] = cluster.name
    if getattr(obj, "namespace_name", ""):
        found["namespace"] = obj.namespace_name
    return found


def record(
    actor,
    action: str,
    target=None,
    *,
    project=None,
    result: str = AuditEvent.Result.SUCCESS,
    detail: dict | None = None,
    cluster: str = "",
    namespace: str = "",
    target_name: str = "",
    target_type: str = "",
    reason: str = "",
    operation=None,
) -> AuditEvent:
    """Append one audit event; the request id and source IP come from the context.

    Where the target is (project, cluster, namespace) is found from the target unless
    given. ``detail`` must never carry secret values: callers pass names and sizes,
    not contents.
    """
    found = where(target) if target is not None else {}
    project = project if project is not None else found.get("project")
    signed_in = actor is not None and actor.is_authenticated
    event = AuditEvent(
        actor=actor if signed_in else None,
        actor_name=actor.get_username() if signed_in else "",
        action=action,
        project=project,
        project_name=project.name if project is not None else "",
        cluster=cluster or found.get("cluster", ""),
        namespace=namespace or found.get("namespace", ""),
        result=result,
        detail=detail or {},
        reason=reason,
        operation=operation,
        source_ip=context.client_ip.get() or None,
        request_id=context.request_id.get(),
        target_name=target_name,
        target_type=target_type,
    )
    if isinstance(target, models.Model):
        event.target_type = target_type or f"{target._meta.app_label}.{target._meta.model_name}"
        event.target_id = str(target.pk or "")
        event.target_name = target_name or str(target)
    event.save()
    log.info(
        "audit %s %s %s",
        event.actor_name,
        action,
        event.target_name,
        extra={"action": action, "target": event.target_name, "result": result},
    )
    return event


def errors_reason(errors: dict) -> str:
    """A form's or serializer's errors ({field: [messages]}) as one reason."""
    return "; ".join(
        ", ".join(map(str, messages))
        if field in (NON_FIELD_ERRORS, "non_field_errors")
        else f"{field}: {', '.join(map(str, messages))}"
        for field, messages in errors.items()
    )


def reason(exc: Exception) -> str:
    """Why an action was refused or failed, in words a user reads (never a value)."""
    from apps.kube.errors import KubeError

    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(
                ", ".join(messages)
                if field == NON_FIELD_ERRORS
                else f"{field}: {', '.join(messages)}"
                for field, messages in exc.message_dict.items()
            )
        return "; ".join(exc.messages)
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("Permission denied.")
    if isinstance(exc, Http404 | exceptions.NotFound):
        return _("Not found, or not visible to this user.")
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        return errors_reason(detail) if isinstance(detail, dict) else "; ".join(map(str, detail))
    if isinstance(exc, exceptions.APIException):
        return str(exc.detail)
    if isinstance(exc, KubeError):
        return exc.message
    return _("Internal error (%(error)s).") % {"error": type(exc).__name__}


@contextmanager
def attempt(actor, action: str, target=None, *, model=None, name: str = ""):
    """Record a failure of the action run inside, with its reason, then let it go on.

    ``target`` is the object acted on, or for a create the place (a namespace, a
    cluster) where the new object of ``model`` named ``name`` was to be.

    The action is the actor's in Kubernetes too: a tenant's reaches the cluster
    impersonating them (``apps.kube.identity``), a cloud admin's with the portal's own
    identity.
    """
    if _action.get():
        yield  # part of an action already being audited
        return
    token = _action.set(action)
    try:
        with identity.acting_as(actor):
            yield
    except Exception as exc:
        _action.reset(token)
        token = None
        refused(actor, action, target, model=model, name=name, reason=reason(exc))
        exc.kcs_audited = True  # surfaces that audit what reaches them leave it be
        raise
    finally:
        if token is not None:
            _action.reset(token)


def refused(actor, action: str, target=None, *, model=None, name: str = "", reason: str) -> None:
    """Record that ``action`` was refused, or failed, for ``reason``; never raises."""
    if _action.get():
        return  # the action being audited records it
    found = where(target)
    if model is not None and not isinstance(target, model):
        target_type = f"{model._meta.app_label}.{model._meta.model_name}"
        recorded = None
    else:
        target_type, recorded = "", target
    try:
        record(
            actor,
            action,
            recorded,
            project=found.get("project"),
            cluster=found.get("cluster", ""),
            namespace=found.get("namespace", ""),
            target_name=name or ("" if recorded is not None or target is None else str(target)),
            target_type=target_type,
            result=AuditEvent.Result.FAILURE,
            reason=reason[:2000],
        )
    except Exception:  # the refusal itself must reach the user, whatever happens here
        log.exception("could not record the failure of %s", action)


def audited(action: str, model=None):
    """Declare a service function's audit action; its refusals and failures are recorded.

    The function is called as ``fn(actor, target_or_scope, ...)``; a create names the new
    object with a ``name`` keyword. Success is recorded by the function itself, with the
    details only it knows.
    """

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(actor, *args, **kwargs):
            target = args[0] if args else _scope(kwargs)
            with attempt(actor, action, target, model=model, name=kwargs.get("name") or ""):
                return fn(actor, *args, **kwargs)

        return wrapper

    return decorator


def _scope(kwargs) -> models.Model | None:
    for key in ("namespace", "cluster", "project", "department"):
        if isinstance(kwargs.get(key), models.Model):
            return kwargs[key]
    return None


# --- reading the trail --------------------------------------------------------------------

EXPORT_MAX_ROWS = 10_000
CSV_COLUMNS = (
    "created",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_name",
    "project_name",
    "cluster",
    "namespace",
    "result",
    "reason",
    "source_ip",
    "request_id",
    "operation_id",
)
# Bucket sizes of the histogram, the smallest that keeps it at about a hundred bars.
_BUCKETS = (
    ("minute", 2 * 3600, 60),
    ("hour", 5 * 86400, 3600),
    ("day", 180 * 86400, 86400),
    ("week", None, 7 * 86400),
)


def histogram(queryset) -> list[dict]:
    """Events per minute, hour, day or week over the span of ``queryset`` (two queries)."""
    from datetime import timedelta

    from django.db.models import Count, Max, Min
    from django.db.models.functions import Trunc

    span = queryset.order_by().aggregate(first=Min("created"), last=Max("created"))
    if span["first"] is None:
        return []
    seconds = (span["last"] - span["first"]).total_seconds()
    kind, step = next((k, s) for k, limit, s in _BUCKETS if limit is None or seconds <= limit)
    rows = (
        queryset.order_by()
        .annotate(bucket=Trunc("created", kind))
        .values("bucket")
        .annotate(count=Count("pk"))
        .order_by("bucket")
    )
    counts = {row["bucket"]: row["count"] for row in rows}
    if not counts:
        return []
    start, end = min(counts), max(counts)
    bars, at = [], start
    while at <= end and len(bars) < 400:
        bars.append({"start": at, "count": counts.get(at, 0)})
        at += timedelta(seconds=step)
    return bars


def export_csv(actor, queryset):
    """The events as CSV (newest first, at most EXPORT_MAX_ROWS), the export itself recorded."""
    import csv
    import io

    rows = list(queryset.values_list(*CSV_COLUMNS)[:EXPORT_MAX_ROWS])
    record(
        actor,
        "audit.export",
        target_type="core.auditevent",
        detail={"rows": len(rows)},
    )

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow(
                [value.isoformat() if hasattr(value, "isoformat") else value for value in row]
            )
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return lines()
