"""The pod subresources a running cluster serves, and metrics.k8s.io.

- `pods/log`: deterministic lines from `kubesim.runtime.logs` up to the simulated now, with
  container, tailLines, sinceSeconds, sinceTime, timestamps, previous, limitBytes and
  `follow=true` (new lines are streamed as simulated time passes, until the container
  stops, the pod goes or the client disconnects).
- `pods/exec`: the WebSocket channel protocols (v5/v4 ... channel.k8s.io) that kubectl
  exec and `kubernetes.stream.stream` speak, answered by `kubesim.runtime.shell.Shell` over the
  pod's mounted ConfigMaps and Secrets (read at every command: edits show at once).
- `pods/eviction`: deletes the pod unless a PodDisruptionBudget forbids it (429, with the
  apiserver's message), counting the disruption in the budget's status.
- `metrics.k8s.io/v1beta1` NodeMetrics and PodMetrics from the simulated usage.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta

from aiohttp import WSMsgType, web

from kubesim.runtime import logs
from kubesim.runtime.containers import make_shell
from kubesim.runtime.controllers import engine
from kubesim.runtime.controllers.base import condition, is_pod_ready
from kubesim.runtime.controllers.kubelet import notes_for
from kubesim.runtime.scheduler import match_label_selector
from kubesim.runtime.shell import ExecError, Shell, decode_input, encode_output
from kubesim.storage import errors
from kubesim.storage.clock import Clock, format_time, parse_time
from kubesim.storage.selectors import parse_label_selector
from kubesim.storage.store import clone

log = logging.getLogger("kubesim.runtime")

POD_SUBRESOURCES = ("log", "exec", "attach", "eviction")
POD_KEY = ("", "pods")
FOLLOW_POLL = 0.2  # real seconds between looks at a followed log
PROTOCOLS = (
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
)
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
# Node overhead metrics-server reports besides the pods (system daemons, kubelet, runtime).
NODE_OVERHEAD = {"cpu": 60, "memory": 700 * 1024 * 1024}


def _clock(cluster) -> Clock:
    return engine.simulation_of(cluster).clock


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true")


def _int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise errors.bad_request(f"invalid {name}: {value!r}") from exc


async def pod_subresource(request: web.Request, cluster, pod: dict, sub: str):
    if sub == "log":
        return await serve_log(request, cluster, pod)
    if sub == "exec":
        return await serve_exec(request, cluster, pod)
    if sub == "eviction":
        return await serve_eviction(request, cluster, pod)
    # attach needs the container's own stdio, which a simulated container does not have
    raise errors.bad_request("Upgrade request required")


# -- logs ----------------------------------------------------------------------------------


def _names(pod: dict, field: str) -> list[str]:
    return [c.get("name", "") for c in (pod.get("spec") or {}).get(field) or ()]


def log_container(pod: dict, name: str | None) -> str:
    containers, inits = _names(pod, "containers"), _names(pod, "initContainers")
    pod_name = pod["metadata"]["name"]
    if not name:
        default = (pod["metadata"].get("annotations") or {}).get(
            "kubectl.kubernetes.io/default-container"
        )
        if default in containers:
            return default
        if len(containers) == 1:
            return containers[0]
        message = (
            f"a container name must be specified for pod {pod_name}, choose one of: "
            f"[{' '.join(containers)}]"
        )
        if inits:
            message += f" or one of the init containers: [{' '.join(inits)}]"
        raise errors.bad_request(message)
    if name not in containers + inits:
        raise errors.bad_request(f"container {name} is not valid for pod {pod_name}")
    return name


def _container_status(pod: dict, name: str) -> dict:
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") == name:
            return cs
    return {}


def log_window(pod: dict, name: str, previous: bool) -> tuple[datetime, bool]:
    """(start of the instance whose log is read, read the previous instance?)."""
    cs = _container_status(pod, name)
    pod_name = pod["metadata"]["name"]
    last = (cs.get("lastState") or {}).get("terminated")
    if previous:
        if not last:
            raise errors.bad_request(
                f'previous terminated container "{name}" in pod "{pod_name}" not found'
            )
        return parse_time(last.get("startedAt")), True
    state = cs.get("state") or {}
    current = state.get("running") or state.get("terminated")
    if current and current.get("startedAt"):
        return parse_time(current["startedAt"]), False
    if last and last.get("startedAt"):  # waiting to restart: the last instance's log
        return parse_time(last["startedAt"]), True
    reason = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
    if reason in ("ErrImagePull", "ImagePullBackOff"):
        reason = "trying and failing to pull image"
    raise errors.bad_request(
        f'container "{name}" in pod "{pod_name}" is waiting to start: {reason}'
    )


def _with_notes(cluster, pod, name, lines, start, now, previous):
    """Merge the kubelet's extra lines (config reloads) of this container instance."""
    if cluster is None or previous:
        return lines
    extra = [(t, text) for t, text in notes_for(cluster, pod, name) if start <= t <= now]
    if not extra:
        return lines
    return sorted(lines + extra, key=lambda line: line[0])


def log_text(pod: dict, params: dict, now: datetime, cluster=None) -> str:
    name = log_container(pod, params.get("container"))
    previous = str(params.get("previous", "")).lower() in ("1", "true")
    start, previous = log_window(pod, name, previous)
    tail = _param_int(params, "tailLines")
    since_seconds = _param_int(params, "sinceSeconds")
    since_time = parse_time(params.get("sinceTime")) if params.get("sinceTime") else None
    if tail is not None and tail >= 0:
        lines = logs.last_lines(pod, name, start, now, tail, previous)
    else:
        since = since_time
        if since_seconds is not None:
            since = now - timedelta(seconds=since_seconds)
        lines = logs.log_lines(pod, name, start, now, previous, since)
    lines = _with_notes(cluster, pod, name, lines, start, now, previous)
    if tail is not None and tail >= 0:
        lines = lines[-tail:] if tail else []
    return logs.select(
        lines,
        since_seconds=since_seconds,
        now=now,
        timestamps=str(params.get("timestamps", "")).lower() in ("1", "true"),
        since_time=since_time,
        limit_bytes=_param_int(params, "limitBytes"),
    )


def _param_int(params: dict, name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise errors.bad_request(f"invalid {name}: {value!r}") from exc


async def serve_log(request: web.Request, cluster, pod: dict) -> web.StreamResponse:
    params = dict(request.query)
    clock = _clock(cluster)
    now = clock.now()
    text = log_text(pod, params, now, cluster)
    if not _flag(request, "follow"):
        return web.Response(text=text, content_type="text/plain")
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        await response.write(text.encode())
        await _follow(request, response, cluster, pod, params, now, clock)
    except (ConnectionResetError, asyncio.CancelledError):
        return response
    with _quiet():
        await response.write_eof()
    return response


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return exc[0] is not None and issubclass(exc[0], (ConnectionResetError, RuntimeError))


async def _follow(request, response, cluster, pod, params, last: datetime, clock: Clock) -> None:
    meta = pod["metadata"]
    name = log_container(pod, params.get("container"))
    timestamps = str(params.get("timestamps", "")).lower() in ("1", "true")
    uid = meta.get("uid")
    restarts = _container_status(pod, name).get("restartCount", 0)
    while True:
        await asyncio.sleep(FOLLOW_POLL)
        if request.transport is None or request.transport.is_closing():
            return  # the client went away
        current = cluster.store.get(POD_KEY, meta["namespace"], meta["name"])
        if current is None or current["metadata"].get("uid") != uid:
            return
        cs = _container_status(current, name)
        if cs.get("restartCount", 0) != restarts:
            return  # the followed instance ended; kubectl logs -f ends with it
        try:
            start, previous = log_window(current, name, False)
        except errors.ApiError:
            return
        now = clock.now()
        fresh = logs.log_lines(current, name, start, now, previous, since=last)
        fresh = _with_notes(cluster, current, name, fresh, start, now, previous)
        lines = [(t, text) for t, text in fresh if t > last]
        if lines:
            await response.write(logs.select(lines, timestamps=timestamps).encode())
            last = lines[-1][0]
        if "terminated" in (cs.get("state") or {}):
            return


# -- exec ----------------------------------------------------------------------------------


def _exec_container(pod: dict, name: str | None) -> str:
    containers = _names(pod, "containers")
    pod_name = pod["metadata"]["name"]
    if not name:
        if len(containers) == 1:
            return containers[0]
        raise errors.bad_request(
            f"a container name must be specified for pod {pod_name}, choose one of: "
            f"[{' '.join(containers)}]"
        )
    if name not in containers + _names(pod, "initContainers"):
        raise errors.bad_request(f"container {name} is not valid for pod {pod_name}")
    state = _container_status(pod, name).get("state") or {}
    if "running" not in state:
        raise errors.bad_request(f'unable to upgrade connection: container not found ("{name}")')
    return name


def exit_status(argv: list[str], code: int, message: str | None = None) -> dict:
    if message is not None:
        return {"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError"}
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command "
        f"[{' '.join(argv)}], exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


async def serve_exec(request: web.Request, cluster, pod: dict) -> web.StreamResponse:
    q = request.query
    argv = q.getall("command", [])
    if not argv:
        raise errors.bad_request("you must specify at least 1 command")
    container = _exec_container(pod, q.get("container"))
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise errors.bad_request("Upgrade request required")
    # the python client never answers the close frame: do not wait for it long
    ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=16 * 1024 * 1024, timeout=1.0)
    await ws.prepare(request)
    versioned = ws.ws_protocol not in (None, "channel.k8s.io")
    shell = make_shell(cluster, pod, container)
    stdin, tty = _flag(request, "stdin"), _flag(request, "tty")

    async def send(channel: int, data: bytes) -> None:
        if data:
            await ws.send_bytes(bytes([channel]) + data)

    try:
        if stdin and tty and not shell.has(argv[0]):
            code, failure = (
                126,
                (
                    "OCI runtime exec failed: exec failed: unable to start container process: "
                    f'exec: "{argv[0]}": executable file not found in $PATH: unknown'
                ),
            )
        elif stdin and tty:
            await _interactive(ws, shell, send)
            code, failure = shell.status, None
        elif stdin and _is_shell(argv) and not shell.has(argv[0]):
            code, failure = 126, _not_found(argv[0])
        elif stdin and _is_shell(argv):
            await _script(ws, shell, send)  # `sh` reading commands from stdin, line by line
            code, failure = shell.status, None
        elif stdin and _is_cat(argv):
            code, failure = await _cat(ws, send), None  # echoes stdin as it arrives
        else:
            text = await _read_stdin(ws) if stdin else ""
            code, failure = await _run(shell, argv, text, send)
        status = exit_status(argv, code, failure)
        await send(ERROR, json.dumps(status).encode() if versioned else (failure or "").encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        with _quiet():
            await ws.close()
    return ws


SHELLS = ("sh", "bash", "ash")


def _is_shell(argv: list[str]) -> bool:
    """`sh` (no -c): a shell reading its commands from stdin."""
    return argv[0].rsplit("/", 1)[-1] in SHELLS and "-c" not in argv


def _is_cat(argv: list[str]) -> bool:
    """`cat` or `sh -c cat`: copies stdin to stdout as it comes."""
    if argv[0].rsplit("/", 1)[-1] in SHELLS and len(argv) == 3 and argv[1] == "-c":
        argv = argv[2].split()
    return argv in (["cat"], ["cat", "-"], ["/bin/cat"])


def _not_found(binary: str) -> str:
    return (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        f'exec: "{binary}": executable file not found in $PATH: unknown'
    )


async def _run(shell: Shell, argv: list[str], stdin: str, send) -> tuple[int, str | None]:
    try:
        if stdin:
            if not shell.has(argv[0]):
                raise ExecError(_not_found(argv[0]))
            out, err, code = shell._command(argv, stdin)
        else:
            out, err, code = shell.run_argv(argv)
    except ExecError as exc:
        return 126, str(exc)
    await send(STDOUT, encode_output(out))
    await send(STDERR, encode_output(err))
    return code, None


async def _stdin_frames(ws: web.WebSocketResponse):
    """What the client writes to stdin, frame by frame, until it closes stdin (the v5 close
    frame for channel 0) or the connection; resize frames are applied by the caller."""
    async for msg in ws:
        frame = _frame(msg)
        if not frame:
            if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                return
            continue
        channel, data = frame[0], frame[1:]
        if channel == STDIN:
            yield data
        elif channel == CLOSE and data[:1] == bytes([STDIN]):
            return


async def _read_stdin(ws: web.WebSocketResponse) -> str:
    return decode_input(b"".join([chunk async for chunk in _stdin_frames(ws)]))


async def _script(ws: web.WebSocketResponse, shell: Shell, send) -> None:
    """`sh` without a terminal: each line of stdin is run once it is complete and its output
    sent at once (as a shell reading a pipe would), until `exit` or the end of stdin."""
    pending = b""
    async for chunk in _stdin_frames(ws):
        pending += chunk
        while b"\n" in pending and not shell.exited:
            line, pending = pending.split(b"\n", 1)
            out, err, _ = shell.run(decode_input(line))
            await send(STDOUT, encode_output(out))
            await send(STDERR, encode_output(err))
        if shell.exited:
            return
    if pending.strip() and not shell.exited:
        out, err, _ = shell.run(decode_input(pending))
        await send(STDOUT, encode_output(out))
        await send(STDERR, encode_output(err))


async def _cat(ws: web.WebSocketResponse, send) -> int:
    async for chunk in _stdin_frames(ws):
        await send(STDOUT, chunk)
    return 0


def _frame(msg) -> bytes:
    """A channel frame's bytes. Clients send binary frames, or text ones (the python
    client writes a str as text: the channel byte, then the data); the API server reads
    both alike."""
    if msg.type == WSMsgType.BINARY:
        return msg.data or b""
    if msg.type == WSMsgType.TEXT:
        return (msg.data or "").encode()
    return b""


def _resize(shell: Shell, data: bytes) -> None:
    try:
        size = json.loads(data)
        shell.env["COLUMNS"], shell.env["LINES"] = str(int(size["Width"])), str(int(size["Height"]))
    except (ValueError, KeyError, TypeError):
        pass


async def _interactive(ws: web.WebSocketResponse, shell: Shell, send) -> None:
    """A terminal session: echo what is typed, run each line, print a prompt."""
    prompt = b"# " if shell.env.get("HOME", "/root") == "/root" else b"$ "
    await send(STDOUT, prompt)
    line = b""
    async for msg in ws:
        if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            return
        frame = _frame(msg)
        if not frame:
            continue
        if frame[0] == RESIZE:  # the terminal's size: what $COLUMNS and $LINES say
            _resize(shell, frame[1:])
            continue
        if frame[0] == CLOSE and frame[1:2] == bytes([STDIN]):
            return  # v5: stdin closed, the shell reads end-of-file and exits
        if frame[0] != STDIN:
            continue
        for byte in frame[1:]:
            char = bytes([byte])
            if char in (b"\r", b"\n"):
                await send(STDOUT, b"\r\n")
                out, err, _ = shell.run(decode_input(line))
                text = (out + err).replace("\n", "\r\n")
                await send(STDOUT, encode_output(text))
                if shell.exited:
                    return
                line = b""
                await send(STDOUT, prompt)
            elif char in (b"\x7f", b"\x08"):
                if line:
                    line = line[:-1]
                    await send(STDOUT, b"\x08 \x08")
            elif char == b"\x04":  # ctrl-d
                return
            elif char == b"\x03":  # ctrl-c
                line = b""
                await send(STDOUT, b"^C\r\n" + prompt)
            else:
                line += char
                await send(STDOUT, char)


# -- eviction ------------------------------------------------------------------------------


def _too_many(message: str) -> errors.ApiError:
    return errors.ApiError(
        errors.status_body(
            429,
            "TooManyRequests",
            "Cannot evict pod as it would violate the pod's disruption budget.",
            {"causes": [{"reason": "DisruptionBudget", "message": message}]},
        )
    )


async def serve_eviction(request: web.Request, cluster, pod: dict) -> web.Response:
    raw = await request.read()
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc
    meta = pod["metadata"]
    name, ns = meta["name"], meta["namespace"]
    if (body.get("metadata") or {}).get("name") not in (None, name):
        raise errors.bad_request("name in URL does not match name in Eviction object")
    options = body.get("deleteOptions") or {}
    dry_run = bool(request.query.getall("dryRun", []) or options.get("dryRun"))
    phase = (pod.get("status") or {}).get("phase")
    if phase not in ("Succeeded", "Failed") and not meta.get("deletionTimestamp"):
        budget = _check_budget(cluster, pod, dry_run)
        if budget is not None and not dry_run:
            cluster.update_status(budget, manager="kube-apiserver")
    if not dry_run:
        rt = cluster.resource("v1", "Pod")
        cluster.delete_object(
            rt,
            ns,
            name,
            options.get("propagationPolicy"),
            options.get("preconditions"),
            grace_period=options.get("gracePeriodSeconds"),
        )
    return web.json_response(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
        status=201,
    )


def _check_budget(cluster, pod: dict, dry_run: bool) -> dict | None:
    """The budget with this eviction counted, or None if no budget covers the pod."""
    labels = pod["metadata"].get("labels") or {}
    ns = pod["metadata"]["namespace"]
    budgets = [
        b
        for b in cluster.store.list(("policy", "poddisruptionbudgets"), ns)
        if labels and match_label_selector((b.get("spec") or {}).get("selector"), labels)
    ]
    if not budgets:
        return None
    if len(budgets) > 1:
        raise errors.ApiError(
            errors.status_body(
                500,
                "InternalError",
                "This pod has more than one PodDisruptionBudget, which the eviction subresource "
                "does not support.",
            )
        )
    budget = budgets[0]
    status = budget.get("status") or {}
    name = budget["metadata"]["name"]
    if status.get("observedGeneration", 0) < budget["metadata"].get("generation", 1):
        raise _too_many(f"The disruption budget {name} is still being processed by the server.")
    healthy = status.get("currentHealthy", 0)
    desired = status.get("desiredHealthy", 0)
    if not is_pod_ready(pod):
        # an unhealthy pod may go while the budget is met (unhealthyPodEvictionPolicy)
        if healthy >= desired:
            return None
        raise _too_many(
            f"The disruption budget {name} needs {desired} healthy pods and has {healthy} currently"
        )
    if status.get("disruptionsAllowed", 0) <= 0:
        raise _too_many(
            f"The disruption budget {name} needs {desired} healthy pods and has {healthy} currently"
        )
    updated = clone(budget)
    st = updated.setdefault("status", {})
    st["disruptionsAllowed"] = st.get("disruptionsAllowed", 0) - 1
    st.setdefault("disruptedPods", {})[pod["metadata"]["name"]] = format_time(_clock(cluster).now())
    return updated


# -- metrics.k8s.io ------------------------------------------------------------------------


def _cpu(millicores: float) -> str:
    return f"{int(millicores * 1_000_000)}n"


def _memory(value: int) -> str:
    return f"{int(value) // 1024}Ki"


def _running(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get(
        "deletionTimestamp"
    )


def pod_metrics(cluster, pod: dict, stamp: str) -> dict:
    sim = engine.simulation_of(cluster)
    meta = pod["metadata"]
    containers = [
        {"name": c["name"], "usage": {"cpu": _cpu(c["cpu"]), "memory": _memory(c["memory"])}}
        for c in sim.container_usage(pod)
    ]
    return {
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "creationTimestamp": stamp,
            "labels": meta.get("labels") or {},
        },
        "timestamp": stamp,
        "window": "15s",
        "containers": containers,
    }


def node_metrics(cluster, node: dict, pods: list[dict], stamp: str) -> dict:
    sim = engine.simulation_of(cluster)
    cpu, memory = NODE_OVERHEAD["cpu"], NODE_OVERHEAD["memory"]
    for pod in pods:
        usage = sim.pod_usage(pod)
        cpu += usage["cpu"]
        memory += usage["memory"]
    meta = node["metadata"]
    return {
        "kind": "NodeMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": meta["name"],
            "creationTimestamp": stamp,
            "labels": meta.get("labels") or {},
        },
        "timestamp": stamp,
        "window": "20.05s",
        "usage": {"cpu": _cpu(cpu), "memory": _memory(memory)},
    }


def _scraped(node: dict) -> bool:
    ready = condition(node, "Ready")
    return ready is None or ready.get("status") == "True"


async def metrics(request: web.Request, cluster, version: str, rest: list[str]) -> web.Response:
    """GET /apis/metrics.k8s.io/v1beta1/{nodes|pods|namespaces/{ns}/pods}[/{name}]."""
    if version != "v1beta1" or request.method != "GET":
        raise errors.resource_not_found() if version != "v1beta1" else errors.method_not_allowed()
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or rest[0] not in ("nodes", "pods") or len(rest) > 2:
        raise errors.resource_not_found()
    resource, name = rest[0], (rest[1] if len(rest) == 2 else None)
    if resource == "nodes" and namespace is not None:
        raise errors.resource_not_found()
    selector = parse_label_selector(request.query.get("labelSelector"))
    stamp = format_time(_clock(cluster).now())
    store = cluster.store
    if resource == "nodes":
        nodes = [n for n in store.list(("", "nodes")) if _scraped(n)]
        by_node: dict[str, list[dict]] = {}
        for pod in store.list(POD_KEY):
            node = (pod.get("spec") or {}).get("nodeName")
            if node and _running(pod):
                by_node.setdefault(node, []).append(pod)
        if name is not None:
            node = next((n for n in nodes if n["metadata"]["name"] == name), None)
            if node is None:
                raise errors.not_found("nodes", "metrics.k8s.io", name)
            return web.json_response(node_metrics(cluster, node, by_node.get(name, []), stamp))
        items = [
            node_metrics(cluster, n, by_node.get(n["metadata"]["name"], []), stamp)
            for n in nodes
            if not selector or selector.matches(n["metadata"].get("labels"))
        ]
        return web.json_response(_list("NodeMetricsList", items))
    pods = [p for p in store.list(POD_KEY, namespace) if _running(p)]
    if name is not None:
        pod = next((p for p in pods if p["metadata"]["name"] == name), None)
        if pod is None:
            raise errors.not_found("pods", "metrics.k8s.io", name)
        return web.json_response(pod_metrics(cluster, pod, stamp))
    items = [
        pod_metrics(cluster, p, stamp)
        for p in pods
        if not selector or selector.matches(p["metadata"].get("labels"))
    ]
    return web.json_response(_list("PodMetricsList", items))


def _list(kind: str, items: list[dict]) -> dict:
    return {"kind": kind, "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}
