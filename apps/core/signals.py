"""Carry the request context (request id, client IP) into Celery tasks."""

from celery.signals import task_postrun, task_prerun
from django.utils import translation

from . import context

_tokens = {}


@task_prerun.connect
def bind_task_context(task_id=None, task=None, **kwargs):
    carried = getattr(task.request, "kcs", None) or {}
    _tokens[task_id] = (
        context.request_id.set(carried.get("request_id") or context.new_request_id()),
        context.client_ip.set(carried.get("client_ip", "")),
    )
    if carried.get("language"):
        translation.activate(carried["language"])


@task_postrun.connect
def unbind_task_context(task_id=None, **kwargs):
    translation.deactivate()
    tokens = _tokens.pop(task_id, None)
    if tokens:
        context.request_id.reset(tokens[0])
        context.client_ip.reset(tokens[1])
