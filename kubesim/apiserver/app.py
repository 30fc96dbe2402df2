"""One cluster's Kubernetes API on the process's aiohttp application.

Routes (added by `add_routes`):
- `/clusters/{name}/...` one cluster's Kubernetes API, handled in `handlers.py`;
- `/api`, `/apis`, `/version`, `/openapi` without the prefix (the token names the cluster);
- `/healthz`             liveness of the process itself.

The admin API (`kubesim.admin`) and the runtime's endpoints are wired in beside these by
`kubesim.server`.
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import format_datetime

from aiohttp import web

from kubesim.apiserver import authn, handlers, impersonation, responses
from kubesim.apiserver.hub import HUB, Hub
from kubesim.storage import errors
from kubesim.storage.cluster import Cluster

log = logging.getLogger("kubesim")


# -- cluster API entry -------------------------------------------------------------------


async def cluster_api(request: web.Request) -> web.StreamResponse:
    hub: Hub = request.app[HUB]
    cluster = hub.clusters.get(request.match_info["cluster"])
    return await _serve_cluster(request, cluster, request.match_info.get("tail", ""))


async def root_api(request: web.Request) -> web.StreamResponse:
    """`/api/...` without the /clusters/{name} prefix: the bearer token names the cluster.

    `kubectl get --raw /api/...` drops the server URL's path, so this keeps it working.
    """
    hub: Hub = request.app[HUB]
    token = authn.bearer(request)
    cluster = next(
        (c for c in hub.clusters.values() if authn.authenticate_token(c, token) is not None),
        None,
    )
    if cluster is None:
        return responses.negotiate(request, responses.status_response(errors.unauthorized()))
    return await _serve_cluster(request, cluster, request.path.lstrip("/"))


async def _serve_cluster(
    request: web.Request, cluster: Cluster | None, tail: str
) -> web.StreamResponse:
    try:
        if cluster is None:
            raise errors.resource_not_found()
        faults = cluster.faults
        if faults.refuse:
            # as close to a refused connection as an open socket can get
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        user = authn.authenticate(request, cluster)
        if user is None:
            raise errors.unauthorized()
        authn.remember(request, impersonation.impersonate(request, cluster, user))
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.error_rate and cluster.rng.random() < faults.error_rate:
            raise _injected_error(faults.error_code, faults.retry_after)
        response = await handlers.handle(request, cluster, tail)
    except errors.ApiError as exc:
        response = responses.status_response(exc)
    except (web.HTTPException, asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:
        # a kubesim bug: answer like an apiserver would, keep the traceback in the log
        log.exception("%s %s failed", request.method, request.path_qs)
        response = responses.status_response(
            errors.internal_error(f"Internal error occurred: {exc}")
        )
    if cluster is not None and not response.prepared:
        # the server's own clock, as on a real API server (clients read skew from it)
        response.headers["Date"] = format_datetime(cluster.clock.now(), usegmt=True)
    # built-in kinds, their lists and Status errors in protobuf when the client asks for it
    return responses.negotiate(request, response)


def _injected_error(code: int, retry_after: int) -> errors.ApiError:
    if code == 429:
        return errors.too_many_requests(retry_after)
    if code == 503:
        return errors.service_unavailable(retry_after)
    return errors.internal_error()


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_route("*", "/clusters/{cluster}/{tail:.*}", cluster_api)
    app.router.add_route("*", "/clusters/{cluster}", cluster_api)
    for root in ("api", "apis", "version", "openapi"):
        app.router.add_route("*", f"/{root}", root_api)
        app.router.add_route("*", f"/{root}/{{tail:.*}}", root_api)
