"""Admin API additions for the simulated runtime (kubesim part 2), under /kubesim/v1/.

- `GET /clusters/{c}/clock`: `{"now", "timeFactor"}`.
- `POST /clusters/{c}/clock` `{"advance": s, "timeFactor": f}`: move the simulated clock
  s seconds forward, reconciling at every step on the way (deterministic), and/or set
  the speed (simulated seconds per real second; 0 freezes time).
- `PUT /clusters/{c}/nodes/{n}/ready` `{"status": "True"|"False"|"Unknown"}`: the node's
  kubelet reports NotReady (False), stops posting (Unknown) or recovers (True).
- `GET /clusters/{c}/load`, `PUT /clusters/{c}/load` `{"namespace", "kind", "name",
  "factor"}`: the load factor of a workload (simulated usage, metrics, HPA).
"""

from __future__ import annotations

from aiohttp import web

from kubesim import errors
from kubesim.clock import format_time
from kubesim.controllers import engine
from kubesim.controllers.nodes import lifecycle_of
from kubesim.handlers import json_response, status_response

PREFIX = "/kubesim/v1/clusters/{name}"
MAX_ADVANCE = 30 * 24 * 3600  # a month of simulated time per request
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{PREFIX}/clock", _guard(get_clock))
    r.add_post(f"{PREFIX}/clock", _guard(post_clock))
    r.add_put(f"{PREFIX}/nodes/{{node}}/ready", _guard(put_node_ready))
    r.add_get(f"{PREFIX}/load", _guard(get_load))
    r.add_put(f"{PREFIX}/load", _guard(put_load))


def _guard(handler):
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except errors.ApiError as exc:
            return status_response(exc)

    return wrapped


def _simulation(request: web.Request) -> engine.Simulation:
    from kubesim.app import HUB  # late: app imports the admin modules

    name = request.match_info["name"]
    cluster = request.app[HUB].clusters.get(name)
    if cluster is None:
        raise errors.not_found("clusters", "kubesim", name)
    return engine.simulation_of(cluster)


async def _body(request: web.Request) -> dict:
    try:
        body = await request.json() if await request.read() else {}
    except ValueError as exc:
        raise errors.bad_request(f"request body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise errors.bad_request("request body must be a JSON object")
    return body


def _number(body: dict, field: str, low: float, high: float) -> float | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise errors.invalid(
            "Clock",
            "kubesim",
            field,
            [
                {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {value!r}: must be a number {low:g}..{high:g}",
                    "field": field,
                }
            ],
        )
    return float(value)


def _clock(sim: engine.Simulation) -> dict:
    return {"now": format_time(sim.clock.now()), "timeFactor": sim.clock.factor}


async def get_clock(request: web.Request) -> web.Response:
    return json_response(_clock(_simulation(request)))


async def post_clock(request: web.Request) -> web.Response:
    sim = _simulation(request)
    body = await _body(request)
    factor = _number(body, "timeFactor", 0, 10_000)
    advance = _number(body, "advance", 0, MAX_ADVANCE)
    if factor is not None:
        sim.clock.set_factor(factor)
        sim.mark_dirty()
    if advance is not None:
        sim.advance(advance)  # 0 reconciles at the current time
    return json_response(_clock(sim))


async def put_node_ready(request: web.Request) -> web.Response:
    sim = _simulation(request)
    node = request.match_info["node"]
    body = await _body(request)
    status = body.get("status")
    if "ready" in body and status is None:
        status = "True" if body["ready"] else "False"
    if status not in ("True", "False", "Unknown"):
        raise errors.bad_request('status must be "True", "False" or "Unknown"')
    if sim.cluster.store.get(("", "nodes"), "", node) is None:
        raise errors.not_found("nodes", "", node)
    lifecycle = lifecycle_of(sim)
    if lifecycle is None:
        raise errors.internal_error("the node lifecycle controller is not running")
    lifecycle.set_down(node, status)
    sim.mark_dirty(lifecycle.name)
    sim.step()
    return json_response({"name": node, "status": status})


async def get_load(request: web.Request) -> web.Response:
    sim = _simulation(request)
    items = [
        {"namespace": ns, "kind": kind, "name": name, "factor": factor}
        for (ns, kind, name), factor in sorted(sim.load_factors.items())
    ]
    return json_response({"items": items})


async def put_load(request: web.Request) -> web.Response:
    sim = _simulation(request)
    body = await _body(request)
    kind = body.get("kind") or "Deployment"
    name = body.get("name")
    if kind not in WORKLOAD_KINDS:
        raise errors.bad_request(f"kind must be one of {', '.join(WORKLOAD_KINDS)}")
    if not isinstance(name, str) or not name:
        raise errors.bad_request("name is required")
    factor = _number(body, "factor", 0, 1000)
    if factor is None:
        raise errors.bad_request("factor is required")
    namespace = body.get("namespace") or "default"
    sim.set_load(namespace, kind, name, factor)
    return json_response({"namespace": namespace, "kind": kind, "name": name, "factor": factor})
