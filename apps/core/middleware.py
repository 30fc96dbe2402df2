import logging
import re
import time

from django.core.exceptions import BadRequest
from django.http import JsonResponse
from django.utils.translation import gettext as _

from . import authz, context

log = logging.getLogger("kcsportal.request")

# Accept a caller's id only if it looks like one, so logs cannot be forged.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Give every request an id (or keep the caller's X-Request-ID) and log it."""

    header = "HTTP_X_REQUEST_ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(self.header, "")
        rid = incoming if _VALID_ID.match(incoming) else context.new_request_id()
        request.id = rid
        started = time.monotonic()
        with (
            context.bound(rid=rid, ip=request.META.get("REMOTE_ADDR", "")),
            authz.request_scope(),  # the user's grants are read once per request
        ):
            response = self.get_response(request)
            user = getattr(request, "user", None)
            log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "user": user.get_username() if user and user.is_authenticated else "",
                },
            )
        response["X-Request-ID"] = rid
        return response


class ProbeMiddleware:
    """Answer ``/healthz`` and ``/readyz`` before host validation and the HTTPS redirect.

    The kubelet calls its probes by the pod's address (``Host: 10.244.1.7:8000``) over
    plain HTTP, which ``ALLOWED_HOSTS`` would refuse with a 400 and
    ``SECURE_SSL_REDIRECT`` would turn into a redirect (a success, to the kubelet,
    whatever /readyz would have said). So the probes are answered here, right after
    the request id, and nothing else is.
    """

    def __init__(self, get_response):
        from . import views

        self.get_response = get_response
        self.probes = {"/healthz": views.healthz, "/readyz": views.readyz}

    def __call__(self, request):
        probe = self.probes.get(request.path_info)
        if probe is not None:
            return probe(request)
        return self.get_response(request)


class NullCharacterMiddleware:
    """Refuse a query string that carries a NUL character, in every surface at once.

    PostgreSQL cannot hold NUL in text, so such a value reaching a query was a 500
    wherever a view filtered by a raw parameter (the log centre's filters) and a
    differently shaped 400 wherever DRF's own filters caught it first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or "\x00" in value for key, value in _items(request.GET)):
            message = _("Null characters are not allowed.")
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            raise BadRequest(message)
        return self.get_response(request)


def _items(query):
    for key, values in query.lists():
        for value in values:
            yield key, value
