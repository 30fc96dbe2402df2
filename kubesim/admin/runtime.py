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

from kubesim.admin.common import CLUSTER, guard, simulation_of
from kubesim.admin.common import body as read_body
from kubesim.apiserver.responses import json_response
from kubesim.runtime.controllers import engine
from kubesim.runtime.controllers.nodes import lifecycle_of
from kubesim.storage import errors
from kubesim.storage.clock import format_time

MAX_ADVANCE = 30 * 24 * 3600  # a month of simulated time per request
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{CLUSTER}/clock", guard(get_clock))
    r.add_post(f"{CLUSTER}/clock", guard(post_clock))
    r.add_put(f"{CLUSTER}/nodes/{{node}}/ready", guard(put_node_ready))
    r.add_get(f"{CLUSTER}/load", guard(get_load))
    r.add_put(f"{CLUSTER}/load", guard(put_load))


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
    return json_response(_clock(simulation_of(request)))


async def post_clock(request: web.Request) -> web.Response:
    sim = simulation_of(request)
    body = await read_body(request)
    factor = _number(body, "timeFactor", 0, 10_000)
    advance = _number(body, "advance", 0, MAX_ADVANCE)
    if factor is not None:
        sim.clock.set_factor(factor)
        sim.mark_dirty()
    if advance is not None:
        sim.advance(advance)  # 0 reconciles at the current time
    return json_response(_clock(sim))


async def put_node_ready(request: web.Request) -> web.Response:
    sim = simulation_of(request)
    node = request.match_info["node"]
    body = await read_body(request)
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
    sim = simulation_of(request)
    items = [
        {"namespace": ns, "kind": kind, "name": name, "factor": factor}
        for (ns, kind, name), factor in sorted(sim.load_factors.items())
    ]
    return json_response({"items": items})


async def put_load(request: web.Request) -> web.Response:
    sim = simulation_of(request)
    body = await read_body(request)
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
