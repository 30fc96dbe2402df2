"""Writing the audit trail. Called by service functions, never by views."""

import logging

from . import context
from .models import AuditEvent

log = logging.getLogger("kcsportal.audit")


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
) -> AuditEvent:
    """Append one audit event; the request id and source IP come from the context.

    ``detail`` must never carry secret values: callers pass names and sizes,
    not contents.
    """
    event = AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "",
        action=action,
        project=project,
        project_name=project.name if project is not None else "",
        cluster=cluster,
        namespace=namespace,
        result=result,
        detail=detail or {},
        source_ip=context.client_ip.get() or None,
        request_id=context.request_id.get(),
    )
    if target is not None:
        event.target_type = f"{target._meta.app_label}.{target._meta.model_name}"
        event.target_id = str(target.pk or "")
        event.target_name = target_name or str(target)
    else:
        event.target_name = target_name
    event.save()
    log.info(
        "audit %s %s %s",
        event.actor_name,
        action,
        event.target_name,
        extra={"action": action, "target": event.target_name, "result": result},
    )
    return event
