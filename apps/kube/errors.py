"""Kubernetes failures, translated once into errors the portal can explain."""

import json
import socket
import ssl

import urllib3
from django.utils.translation import gettext as _
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

# Status codes worth trying again: the API server is busy, restarting or throttling.
TRANSIENT = {429, 500, 502, 503, 504}


class KubeError(Exception):
    """A failed call to a cluster's API.

    ``status`` is the HTTP status (0 when the server was not reached), ``reason``
    the Kubernetes Status reason (NotFound, Conflict, Invalid, Forbidden ...),
    ``message`` what to show the user, ``retry_after`` seconds suggested by
    the server, ``causes`` a 422's field causes.
    """

    def __init__(self, message, *, status=0, reason="", retry_after=None, causes=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        self.causes = causes or []

    @property
    def transient(self) -> bool:
        return self.status == 0 or self.status in TRANSIENT

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409 and self.reason == "Conflict"

    def field_errors(self) -> dict[str, list[str]]:
        """A 422's causes by field (e.g. {"data.key": ["Invalid value ..."]})."""
        errors: dict[str, list[str]] = {}
        for cause in self.causes:
            errors.setdefault(cause.get("field", ""), []).append(cause.get("message", ""))
        return errors


class Unreachable(KubeError):
    pass


class NotConfigured(KubeError):
    """The portal has no way to reach the cluster yet (no kubeconfig): not an outage that a
    retry in a moment would fix."""

    @property
    def transient(self) -> bool:
        return False


class Stuck(KubeError):
    """A rollout that stopped making progress, or one that cannot be followed: trying again
    in a moment would only wait out the same deadline, so the operation fails at once with
    the reason."""

    @property
    def transient(self) -> bool:
        return False


def translate(exc: Exception) -> KubeError:
    """Turn what the kubernetes client raises into a KubeError."""
    if isinstance(exc, KubeError):
        return exc
    if isinstance(exc, ApiException):
        return _from_api_exception(exc)
    if isinstance(exc, ConfigException):
        return KubeError(_("The kubeconfig is not usable: %(error)s") % {"error": exc})
    if isinstance(exc, urllib3.exceptions.MaxRetryError | urllib3.exceptions.HTTPError):
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, urllib3.exceptions.SSLError | ssl.SSLError):
            return Unreachable(
                _("The API server's TLS certificate could not be verified: %(error)s")
                % {"error": _short(reason)}
            )
        return Unreachable(
            _("The API server cannot be reached: %(error)s") % {"error": _short(reason)}
        )
    if isinstance(exc, OSError | socket.timeout | TimeoutError):
        return Unreachable(_("The API server cannot be reached: %(error)s") % {"error": exc})
    raise exc


def _from_api_exception(exc: ApiException) -> KubeError:
    status = exc.status or 0
    reason, message, causes = exc.reason or "", "", []
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    if isinstance(body, dict) and body.get("kind") == "Status":
        reason = body.get("reason", reason)
        message = body.get("message", "")
        causes = (body.get("details") or {}).get("causes", [])
    retry_after = None
    headers = exc.headers or {}
    if headers.get("Retry-After", "").isdigit():
        retry_after = int(headers["Retry-After"])
    if status == 409 and reason == "Conflict":
        message = _(
            "It was changed by someone else since you loaded it. Reload and apply "
            "your change again."
        )
    elif status == 401:
        message = _("The cluster refused the credentials (401 Unauthorized).")
    elif not message:
        message = f"{status} {exc.reason or ''}".strip()
    return KubeError(message, status=status, reason=reason, retry_after=retry_after, causes=causes)


def _short(error) -> str:
    text = str(error)
    # urllib3 wraps the real cause in long reprs; the last clause is the useful part.
    return text.rsplit(": ", 1)[-1].strip("')\"") if len(text) > 160 else text
