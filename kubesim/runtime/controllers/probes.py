"""Container probes: startup, liveness and readiness, run by the kubelet on the simulated clock.

Each probe of a running container runs at `startedAt + initialDelaySeconds + k x
periodSeconds` (k = 0, 1, ...). `successThreshold` consecutive successes make a readiness
probe pass (the container turns ready), `failureThreshold` consecutive failures make it
fail (not ready again); a liveness probe that fails `failureThreshold` times in a row
kills the container (`Killing` "Container X failed liveness probe, will be restarted",
exit 137, restarted with the crash back-off); a startup probe gates the other two:
until it succeeds the container is not `started`, and `failureThreshold` failures kill it
as a failed liveness probe does. Every failed run is a Warning `Unhealthy` event worded
as the kubelet words it ("Readiness probe failed: HTTP probe failed with statuscode:
503").

How a simulated container answers (deterministic):
- httpGet and tcpSocket: the pod listens on the containerPorts its containers declare
  (a pod that declares none listens on every port): a probe of a declared port gets 200 /
  a connection, any other port "connection refused"; gRPC answers SERVING.
- exec: the command runs in kubesim's shell (`kubesim/runtime/shell.py`) over the container's
  mounted ConfigMaps and Secrets when the shell knows the program (`cat /etc/app/ok`,
  `test`-less `sh -c ...`); a program the shell does not know (`pg_isready`,
  `redis-cli ping`) is taken to ship with the image and succeeds.
- the answers can be overridden per path, port or exec, on the pod (annotation
  `kubesim.io/probe-answers: '{"/readyz": 503, "5432": "refuse", "exec": 1}'`) or, without
  touching the pod, for all the pods of a workload through the admin API
  (`PUT /kubesim/v1/clusters/{c}/probes`, see `kubesim/admin/probes.py`), which wins. A
  path's answer is an HTTP status or "timeout"; a port's "refuse", "timeout", or a gRPC
  status ("NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN", "SERVING"); `exec` an exit code or
  "timeout".
- the failure switches `kubesim.io/fail: readiness|liveness|startup` (or env
  `KUBESIM_FAIL`) make that probe fail whatever it asks (HTTP 500, connection refused,
  exit 1).

A probe whose outcome is settled (passing, or failing past its threshold) is not run every
period: a passing HTTP/TCP/gRPC one runs again only when its answers change (admin API or
annotation), an exec one and a failing one every RECHECK seconds on its period's grid;
once the answers change the next run is on the grid again, so "flip to pass" takes
successThreshold x periodSeconds as on a real node.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from kubesim.runtime.containers import make_shell
from kubesim.runtime.controllers.base import fail_mode
from kubesim.runtime.controllers.usage import owner_chain
from kubesim.runtime.shell import ExecError
from kubesim.storage.clock import parse_time

PROBE_KINDS = (("startup", "startupProbe"), ("liveness", "livenessProbe"))
PROBE_KINDS += (("readiness", "readinessProbe"),)
TITLES = {"startup": "Startup", "liveness": "Liveness", "readiness": "Readiness"}
DEFAULTS = {
    "initialDelaySeconds": 0,
    "periodSeconds": 10,
    "timeoutSeconds": 1,
    "successThreshold": 1,
    "failureThreshold": 3,
}
RECHECK = 60.0  # a settled failing (or exec) probe runs again this often
ANNOTATION = "kubesim.io/probe-answers"
GRPC_STATUSES = ("SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN")
PORT_ANSWERS = ("refuse", "timeout", *GRPC_STATUSES)
ATTRIBUTE = "_kubesim_probe_answers"
KILL, STARTED = "kill", "started"


# -- answers --------------------------------------------------------------------------------


class Answers:
    """The admin API's answers of one simulated cluster: (namespace, kind, name) -> rule."""

    def __init__(self) -> None:
        self.rules: dict[tuple[str, str, str], dict[str, dict]] = {}  # -> container -> answers
        self.version = 0

    def set(self, namespace: str, kind: str, name: str, container: str, answers: dict) -> None:
        key = (namespace, kind, name)
        per_container = self.rules.setdefault(key, {})
        if answers:
            per_container[container] = dict(answers)
        else:
            per_container.pop(container, None)
            if not per_container:
                self.rules.pop(key, None)
        self.version += 1

    def items(self) -> list[dict]:
        return [
            {"namespace": ns, "kind": kind, "name": name, "container": c, "answers": answers}
            for (ns, kind, name), per in sorted(self.rules.items())
            for c, answers in sorted(per.items())
        ]


def answers_of(sim) -> Answers | None:
    if sim is None:
        return None
    answers = getattr(sim, ATTRIBUTE, None)
    if answers is None:
        answers = Answers()
        setattr(sim, ATTRIBUTE, answers)
    return answers


def version(sim) -> int:
    answers = getattr(sim, ATTRIBUTE, None)
    return answers.version if answers is not None else 0


def validate(answers) -> list[str]:
    """What is wrong with an answers mapping (empty: nothing)."""
    if not isinstance(answers, dict):
        return ["answers must be an object of path, port or exec to answer"]
    problems = []
    for key, value in answers.items():
        if not isinstance(key, str) or not key:
            problems.append(f"{key!r}: keys are a path (/...), a port or 'exec'")
        elif key.startswith("/"):
            if value != "timeout" and not (_int(value) and 100 <= value <= 599):
                problems.append(f"{key}: an HTTP status 100..599 or 'timeout', not {value!r}")
        elif key == "exec":
            if value != "timeout" and not (_int(value) and 0 <= value <= 255):
                problems.append(f"exec: an exit code 0..255 or 'timeout', not {value!r}")
        elif value not in PORT_ANSWERS:
            problems.append(f"{key}: one of {', '.join(PORT_ANSWERS)}, not {value!r}")
    return problems


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def pod_answers(cluster, pod: dict, container: str) -> dict:
    """The answers for one container: the pod's annotation, then the admin API's rules
    for the pod or the controllers above it (the nearest wins)."""
    merged: dict = {}
    raw = (pod["metadata"].get("annotations") or {}).get(ANNOTATION)
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and not validate(parsed):
            merged.update(parsed)
    answers = getattr(getattr(cluster, "simulation", None), ATTRIBUTE, None)
    if answers is not None and answers.rules:
        ns = pod["metadata"].get("namespace", "")
        for kind, name in reversed(owner_chain(cluster, pod)):  # the nearest last, so it wins
            per = answers.rules.get((ns, kind, name))
            if per:
                merged.update(per.get("", {}))
                merged.update(per.get(container, {}))
    return merged


def probed_pods(store) -> list[tuple[str, str]]:
    """Running pods with a probe: looked at again when the answers change."""
    out = []
    for pod in store.list(("", "pods")):
        spec = pod.get("spec") or {}
        if not spec.get("nodeName"):
            continue
        if any(c.get(p) for c in spec.get("containers") or () for _, p in PROBE_KINDS):
            out.append((pod["metadata"]["namespace"], pod["metadata"]["name"]))
    return out


# -- one probe run ---------------------------------------------------------------------------


def _listening(pod: dict) -> set[int] | None:
    """The ports the pod listens on; None: every port (it declares none)."""
    ports = {
        p.get("containerPort")
        for c in (pod.get("spec") or {}).get("containers") or ()
        for p in c.get("ports") or ()
    }
    return ports or None


def _resolve_port(container: dict, port) -> int | None:
    if _int(port):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports") or ():
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def evaluate(step, container: dict, probe: dict, kind: str, fail: bool) -> tuple[bool, str, bool]:
    """Run one probe now: (success, message, errored)."""
    pod = step.pod
    ip = step.status.get("podIP", "")
    name = container.get("name", "")
    answers = pod_answers(step.ctx.cluster, pod, name)
    listening = _listening(pod)
    timeout = probe.get("timeoutSeconds") or DEFAULTS["timeoutSeconds"]
    for handler in ("httpGet", "tcpSocket", "grpc"):
        if handler not in probe:
            continue
        action = probe[handler] or {}
        port = _resolve_port(container, action.get("port"))
        if port is None:
            return False, f"unable to find port {action.get('port')!r} in container {name}", True
        host = action.get("host") or ip
        at = answers.get(str(port))
        if at is None and isinstance(action.get("port"), str):
            at = answers.get(action["port"])
        refused = at == "refuse" or (listening is not None and port not in listening)
        if fail and handler == "tcpSocket":
            refused = True
        if handler == "httpGet":
            path = action.get("path") or "/"
            scheme = (action.get("scheme") or "HTTP").lower()
            url = f"{scheme}://{host}:{port}{path}"
            if refused:
                refusal = f"dial tcp {host}:{port}: connect: connection refused"
                return False, f'Get "{url}": {refusal}', False
            answer = answers.get(path.split("?", 1)[0], answers.get(path))
            if at == "timeout" or answer == "timeout":
                message = (
                    f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while '
                    "awaiting headers)"
                )
                return False, message, False
            status = 500 if fail else answer if _int(answer) else 200
            if 200 <= status < 400:
                return True, "", False
            return False, f"HTTP probe failed with statuscode: {status}", False
        if handler == "tcpSocket":
            if refused:
                return False, f"dial tcp {host}:{port}: connect: connection refused", False
            if at == "timeout":
                return False, f"dial tcp {host}:{port}: i/o timeout", False
            return True, "", False
        # gRPC health checking protocol
        if refused or at == "timeout":
            return (
                False,
                f'timeout: failed to connect service "{host}:{port}" within {timeout}s: '
                "context deadline exceeded",
                False,
            )
        status = "NOT_SERVING" if fail else at if at in GRPC_STATUSES else "SERVING"
        if status == "SERVING":
            return True, "", False
        return False, f'service unhealthy (responded with "{status}")', False
    command = list((probe.get("exec") or {}).get("command") or [])
    answer = answers.get("exec")
    if answer == "timeout":
        return False, f'command "{" ".join(command)}" timed out', False
    if fail:
        code, output = 1, ""
    elif _int(answer):
        code, output = answer, ""
    else:
        code, output = _run(step, container, command)
    if code == 0:
        return True, "", False
    return False, output.strip() or f"command exited with non-zero status {code}", False


def _run(step, container: dict, command: list[str]) -> tuple[int, str]:
    """The exec probe's command in kubesim's shell; a program it does not know succeeds."""
    if not command:
        return 0, ""
    shell = make_shell(step.ctx.cluster, step.pod, container.get("name", ""))
    if not shell.has(command[0]):
        return 0, ""
    try:
        out, err, code = shell.run_argv(command)
    except ExecError as exc:
        return 126, str(exc)
    return code, out + err


# -- the state machine -----------------------------------------------------------------------


def effective(container: dict, field: str, kind: str, fail: str) -> dict | None:
    """The container's probe of this kind; the failure switch gives one to a container
    that has none (so `kubesim.io/fail: liveness` works without a declared probe)."""
    probe = container.get(field)
    if probe is None and fail == kind and kind != "startup":
        probe = {}
    if probe is None:
        return None
    return {**DEFAULTS, **{k: v for k, v in probe.items() if v is not None}}


def on_start(container: dict, cs: dict, fail: str) -> None:
    """A container just started: started/ready as the kubelet first reports them."""
    cs["started"] = not container.get("startupProbe")
    readiness = effective(container, "readinessProbe", "readiness", fail)
    cs["ready"] = cs["started"] and readiness is None


def run(step, container: dict, cs: dict, started: datetime, fail: str) -> bool:
    """Run the container's due probes; True if a failed probe killed it."""
    name = container.get("name", "")
    epoch = cs["state"]["running"].get("startedAt", "")
    probes = step.runtime.probes
    state = probes.get(name)
    if state is None or state.get("epoch") != epoch:
        state = probes[name] = {"epoch": epoch}
    if not cs.get("started"):
        probe = effective(container, "startupProbe", "startup", fail)
        outcome = STARTED if probe is None else _tick(step, "startup", probe, container, state)
        if outcome == KILL:
            _kill(step, container, cs, "startup")
            return True
        if outcome != STARTED:
            cs["ready"] = False
            return False
        cs["started"] = True
    probe = effective(container, "livenessProbe", "liveness", fail)
    if probe is not None and _tick(step, "liveness", probe, container, state) == KILL:
        _kill(step, container, cs, "liveness")
        return True
    probe = effective(container, "readinessProbe", "readiness", fail)
    if probe is None:
        cs["ready"] = True
    else:
        _tick(step, "readiness", probe, container, state)
        cs["ready"] = bool(state["readiness"].get("passing"))
    return False


def _kill(step, container: dict, cs: dict, kind: str) -> None:
    name = container.get("name", "")
    message = f"Container {name} failed {kind} probe, will be restarted"
    step.event("Normal", "Killing", message, name)
    step._terminate(container, cs, 137, restart=True)


def _tick(step, kind: str, probe: dict, container: dict, state: dict) -> str | None:
    """Run the probe's runs that are due; KILL, STARTED or None."""
    now, name = step.now, container.get("name", "")
    period = max(1, int(probe["periodSeconds"]))
    success_t = max(1, int(probe["successThreshold"]))
    failure_t = max(1, int(probe["failureThreshold"]))
    s = state.get(kind)
    if s is None:
        started = _parse(state["epoch"]) or now
        first = started + timedelta(seconds=max(0, int(probe["initialDelaySeconds"])))
        s = state[kind] = {"next": first, "ok": 0, "bad": 0, "passing": None, "settled": False}
    if s["settled"] and s["next"] < now:
        # settled runs were skipped: back on the period's grid from now
        missed = math.ceil((now - s["next"]).total_seconds() / period)
        s["next"] += timedelta(seconds=missed * period)
    # Woken for any reason (the answers may have changed): the next run is due on the
    # grid; it settles the probe again if nothing changed.
    s["settled"] = False
    fail = _fails(step, container, kind)
    runs, limit = 0, success_t + failure_t + 1
    outcome = None
    while s["next"] <= now and runs < limit:
        runs += 1
        ok, message, errored = evaluate(step, container, probe, kind, fail)
        s["next"] += timedelta(seconds=period)
        if ok:
            s["ok"], s["bad"] = s["ok"] + 1, 0
        else:
            s["ok"], s["bad"] = 0, s["bad"] + 1
            verb = "errored" if errored else "failed"
            step.event("Warning", "Unhealthy", f"{TITLES[kind]} probe {verb}: {message}", name)
        if s["ok"] >= success_t:
            s["passing"] = True
        elif s["bad"] >= failure_t:
            s["passing"] = False
        if kind == "startup" and s["passing"] is True:
            outcome = STARTED
            break
        if kind != "readiness" and s["passing"] is False:
            return KILL
    if s["next"] <= now:  # more were due than matter: on the grid again
        missed = math.ceil((now - s["next"]).total_seconds() / period)
        s["next"] += timedelta(seconds=missed * period)
    if outcome == STARTED:
        return STARTED
    passing_settled = s["passing"] is True and s["bad"] == 0
    failing_settled = s["passing"] is False and s["bad"] >= failure_t and kind == "readiness"
    # settled only by a run of this sync: a sync between runs may follow new answers
    s["settled"] = runs > 0 and (passing_settled or failing_settled)
    if not s["settled"]:
        step.wake(s["next"])
    elif failing_settled or _exec_like(probe):
        at = s["next"]
        while at < now + timedelta(seconds=RECHECK):
            at += timedelta(seconds=period)
        step.wake(at)
    return None


def _exec_like(probe: dict) -> bool:
    return not any(h in probe for h in ("httpGet", "tcpSocket", "grpc"))


def _fails(step, container: dict, kind: str) -> bool:
    return fail_mode(step.pod, container) == kind


def _parse(stamp: str) -> datetime | None:
    return parse_time(stamp) if stamp else None
