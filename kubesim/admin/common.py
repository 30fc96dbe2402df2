"""What every admin API handler shares: the prefix, errors as Status, bodies, lookups."""

from __future__ import annotations

import json

from aiohttp import web

from kubesim.apiserver.hub import HUB
from kubesim.apiserver.responses import status_response
from kubesim.runtime.controllers import engine
from kubesim.storage import errors
from kubesim.storage.cluster import Cluster

PREFIX = "/kubesim/v1"
CLUSTER = PREFIX + "/clusters/{name}"


def guard(handler):
    """The handler with its ApiErrors answered as Status objects."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except errors.ApiError as exc:
            return status_response(exc)

    return wrapped


async def body(request: web.Request) -> dict:
    """The request's JSON object body ({} when empty)."""
    try:
        parsed = json.loads(await request.read() or b"{}")
    except ValueError as exc:
        raise errors.bad_request(f"request body is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise errors.bad_request("request body must be a JSON object")
    return parsed


def cluster_of(request: web.Request) -> Cluster:
    """The cluster the URL's {name} names, or a 404."""
    name = request.match_info["name"]
    cluster = request.app[HUB].clusters.get(name)
    if cluster is None:
        raise errors.not_found("clusters", "kubesim", name)
    return cluster


def simulation_of(request: web.Request) -> engine.Simulation:
    """The simulation (controllers, clock, load) of the URL's cluster."""
    return engine.simulation_of(cluster_of(request))
