"""Writing answers: JSON bodies, Status errors, and content negotiation.

What kube-apiserver's response writers and negotiation do for every handler: a Table when
`Accept` asks `as=Table`, protobuf when the client lists it first (built-in kinds only),
JSON otherwise. The cluster API's handlers, its watch streams and the admin API all answer
through these.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from aiohttp import web

from kubesim.apiserver import protobuf, tables
from kubesim.storage import errors
from kubesim.storage.resources import ResourceType
from kubesim.storage.store import dumps

log = logging.getLogger("kubesim")
JSON = "application/json"
PROTOBUF = protobuf.CONTENT_TYPE


def json_response(body: object, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(body=dumps(body), status=status, content_type=JSON, headers=headers)


def status_response(exc: errors.ApiError) -> web.Response:
    # kube-apiserver's JSON encoder ends the body with a newline; clients that print the
    # body (the python client's FailToCreateError) show it
    body = dumps(exc.status) + b"\n"
    return web.Response(body=body, status=exc.code, content_type=JSON, headers=exc.headers)


def wants_protobuf(request: web.Request) -> bool:
    """Whether the first media type of `Accept` kubesim can serve is protobuf (not a Table)."""
    for part in request.headers.get("Accept", "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if any(p.replace(" ", "") in ("q=0", "q=0.0") for p in params):
            continue
        if media == PROTOBUF:
            return not any(p.startswith("as=") for p in params)
        if media in (JSON, "application/*", "*/*", "application/yaml"):
            return False
    return False


def negotiate(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """A JSON answer re-encoded as protobuf when the client asked for protobuf first.

    Built-in kinds, their lists, Status errors, Scale and reviews have a message; custom
    resources, Tables, discovery without one, and watch streams stay JSON.
    """
    if (
        not isinstance(response, web.Response)
        or response.content_type != JSON
        or not isinstance(response.body, bytes)
        or not wants_protobuf(request)
    ):
        return response
    try:
        obj = json.loads(response.body)
        encoded = protobuf.encode_object(obj) if isinstance(obj, dict) else None
    except (ValueError, TypeError, AttributeError):  # ProtobufError is a ValueError
        log.exception("encoding %s as protobuf failed; answering JSON", request.path)
        return response
    if encoded is None:
        return response
    out = web.Response(body=encoded, status=response.status, content_type=PROTOBUF)
    for name, value in response.headers.items():
        if name.lower() not in ("content-type", "content-length"):
            out.headers.add(name, value)
    return out


def wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    for part in accept.split(","):
        params = {p.strip() for p in part.split(";")[1:]}
        if "as=Table" in params:
            return True
    return False


def to_table(
    request: web.Request, rt: ResourceType, objs: list[dict], now: datetime | None = None
) -> dict:
    """The Table of `objs`; `now` (the cluster's simulated time) is what ages count from."""
    include = request.query.get("includeObject", "Metadata")
    columns = rt.printer_columns if rt.custom else None
    return tables.to_table(
        rt.api_version, rt.kind, objs, include_object=include, now=now, printer_columns=columns
    )
