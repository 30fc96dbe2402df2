"""Per-request context that follows an operation from the HTTP request into Celery.

The request id and client address live in context variables rather than being
threaded through every service signature: audit and logging read them here.
"""

import uuid
from contextlib import contextmanager
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")
client_ip: ContextVar[str] = ContextVar("client_ip", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def bound(*, rid: str = "", ip: str = ""):
    """Bind request id and client address for the duration of a block."""
    rid_token = request_id.set(rid)
    ip_token = client_ip.set(ip)
    try:
        yield
    finally:
        request_id.reset(rid_token)
        client_ip.reset(ip_token)


def snapshot() -> dict[str, str]:
    """What a Celery task needs to carry on in the same context.

    The language goes too, so that the steps a task records read in the
    language of the user who started it.
    """
    from django.utils import translation

    return {
        "request_id": request_id.get(),
        "client_ip": client_ip.get(),
        "language": translation.get_language() or "",
    }
