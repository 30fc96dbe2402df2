"""Admin API: how the probes of a workload's containers are answered (see
`kubesim/runtime/controllers/probes.py`), under /kubesim/v1/clusters/{c}/probes.

- `GET .../probes`: `{"items": [{"namespace", "kind", "name", "container", "answers"}]}`.
- `PUT .../probes` `{"namespace", "kind", "name", "container"?, "answers": {...}}`: from
  now on the probes of the pods of that Deployment (StatefulSet, DaemonSet, Job, CronJob,
  ReplicaSet or Pod) get these answers, e.g. `{"/readyz": 503}` (HTTP status), `{"8080":
  "refuse"}` (a port refuses connections, or "timeout", or a gRPC status such as
  "NOT_SERVING"), `{"exec": 1}` (exec probes exit 1). Without `container` the rule covers
  every container of the pods. `"answers": {}` removes the rule: the default answers again.
  The pods' probes run again at their next period: nothing restarts or rolls out.
"""

from __future__ import annotations

from aiohttp import web

from kubesim.admin.common import CLUSTER, guard, simulation_of
from kubesim.admin.common import body as read_body
from kubesim.apiserver.responses import json_response
from kubesim.runtime.controllers import probes
from kubesim.storage import errors

KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod")


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{CLUSTER}/probes", guard(get_probes))
    app.router.add_put(f"{CLUSTER}/probes", guard(put_probes))


def _invalid(field: str, message: str) -> errors.ApiError:
    cause = {"reason": "FieldValueInvalid", "message": message, "field": field}
    return errors.invalid("ProbeAnswers", "kubesim", field, [cause])


async def get_probes(request: web.Request) -> web.Response:
    sim = simulation_of(request)
    return json_response({"items": probes.answers_of(sim).items()})


async def put_probes(request: web.Request) -> web.Response:
    sim = simulation_of(request)
    body = await read_body(request)
    kind = body.get("kind") or "Deployment"
    if kind not in KINDS:
        raise _invalid("kind", f"Unsupported value: {kind!r}: must be one of {', '.join(KINDS)}")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise _invalid("name", "Required value: the workload's name")
    namespace = body.get("namespace") or "default"
    container = body.get("container") or ""
    if not isinstance(namespace, str) or not isinstance(container, str):
        raise _invalid("namespace", "namespace and container are strings")
    answers = body.get("answers")
    if answers is None:
        raise _invalid("answers", "Required value: {} to go back to the default answers")
    problems = probes.validate(answers)
    if problems:
        raise _invalid("answers", "; ".join(problems))
    probes.answers_of(sim).set(namespace, kind, name, container, answers)
    sim.mark_dirty("kubelet")
    sim.step()
    out = {"namespace": namespace, "kind": kind, "name": name, "container": container}
    return json_response({**out, "answers": answers})
