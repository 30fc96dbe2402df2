"""Kubernetes `Status` error objects.

Every failure the API answers is a `meta/v1 Status` whose reason, code, message and
details match what a real kube-apiserver sends, because clients (kubectl, the official
Python client, the portal) branch on them. Raise `ApiError` anywhere below the HTTP layer;
the handlers turn it into a response.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API failure carrying its full Status body."""

    def __init__(self, status: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status.get("message", ""))
        self.status = status
        self.code: int = status["code"]
        self.headers = headers or {}


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def success_status(name: str, group: str, plural: str, uid: str) -> dict:
    """What DELETE answers when the object is gone at once."""
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = plural
    details["uid"] = uid
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def qualified(plural: str, group: str) -> str:
    """`deployments.apps`, or just `pods` for the core group."""
    return f"{plural}.{group}" if group else plural


def _details(name: str, group: str, plural: str) -> dict:
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = plural
    return details


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        status_body(
            404,
            "NotFound",
            f'{qualified(plural, group)} "{name}" not found',
            _details(name, group, plural),
        )
    )


def resource_not_found() -> ApiError:
    """An unknown path: the server has no such resource at all."""
    return ApiError(
        status_body(404, "NotFound", "the server could not find the requested resource", {})
    )


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        status_body(
            409,
            "AlreadyExists",
            f'{qualified(plural, group)} "{name}" already exists',
            _details(name, group, plural),
        )
    )


def conflict(plural: str, group: str, name: str, reason: str | None = None) -> ApiError:
    reason = reason or (
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    return ApiError(
        status_body(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": {reason}',
            _details(name, group, plural),
        )
    )


def apply_conflict(message: str, conflicts: list[tuple[str, str]], api_version: str) -> ApiError:
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f'conflict with "{manager}" using {api_version}',
            "field": field,
        }
        for field, manager in conflicts
    ]
    return ApiError(status_body(409, "Conflict", message, {"causes": causes}))


def invalid(kind: str, group: str, name: str, causes: list[dict]) -> ApiError:
    """422 Invalid, in the apiserver's shape: `Kind.group "name" is invalid: a, b`."""
    qualified_kind = f"{kind}.{group}" if group else kind
    summary = ", ".join(
        f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes
    )
    if len(causes) > 1:
        summary = f"[{summary}]"
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = causes
    return ApiError(
        status_body(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {summary}', details)
    )


def forbidden(plural: str, group: str, name: str, reason: str) -> ApiError:
    return ApiError(
        status_body(
            403,
            "Forbidden",
            f'{qualified(plural, group)} "{name}" is forbidden: {reason}',
            _details(name, group, plural),
        )
    )


def method_not_allowed() -> ApiError:
    return ApiError(
        status_body(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            {},
        )
    )


def expired(message: str) -> ApiError:
    """410: a watch or continue token older than the kept history."""
    return ApiError(status_body(410, "Expired", message))


def gone(message: str) -> ApiError:
    return ApiError(status_body(410, "Gone", message))


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(
        status_body(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(accepted)}",
        )
    )


def bad_request(message: str) -> ApiError:
    return ApiError(status_body(400, "BadRequest", message))


def unauthorized() -> ApiError:
    return ApiError(status_body(401, "Unauthorized", "Unauthorized"))


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        status_body(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
            {"retryAfterSeconds": retry_after},
        ),
        headers={"Retry-After": str(retry_after)},
    )


def internal_error(message: str = "Internal error occurred: injected fault") -> ApiError:
    return ApiError(status_body(500, "InternalError", message, {"causes": [{"message": message}]}))


def service_unavailable(retry_after: int | None = None) -> ApiError:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    details = {"retryAfterSeconds": retry_after} if retry_after else None
    return ApiError(
        status_body(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
            details,
        ),
        headers=headers,
    )
