import logging
import re
import time

from . import context

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
        with context.bound(rid=rid, ip=request.META.get("REMOTE_ADDR", "")):
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
