"""The pod subresources a running cluster serves, and metrics.k8s.io.

- `pods/log`: deterministic lines from `kubesim.logs` up to the simulated now, with
  container, tailLines, sinceSeconds, sinceTime, timestamps, previous, limitBytes and
  `follow=true` (new lines are streamed as simulated time passes, until the container
  stops, the pod goes or the client disconnects).
- `pods/exec`: the WebSocket channel protocols (v5/v4 ... channel.k8s.io) that kubectl
  exec and `kubernetes.stream.stream` speak, answered by `kubesim.shell.Shell` over the
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

from kubesim import errors, logs
from kubesim.clock import Clock, format_time, parse_time
from kubesim.controllers import engine
from kubesim.controllers.base import condition, is_pod_ready
from kubesim.controllers.kubelet import notes_for
from kubesim.scheduler import match_label_selector
from kubesim.selectors import parse_label_selector
from kubesim.shell import ExecError, Shell
from kubesim.store import clone
from kubesim.volumes import ConfigError, env_for, mounted_files

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
ROOT_CA = "-----BEGIN CERTIFICATE-----\nMIIkubesim\n-----END CERTIFICATE-----\n"
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


def _config_objects(cluster, namespace: str) -> tuple[dict, dict]:
    store = cluster.store
    configmaps = {c["metadata"]["name"]: c for c in store.list(("", "configmaps"), namespace)}
    configmaps.setdefault("kube-root-ca.crt", {"data": {"ca.crt": ROOT_CA}})
    secrets = {s["metadata"]["name"]: s for s in store.list(("", "secrets"), namespace)}
    return configmaps, secrets


def make_shell(cluster, pod: dict, container: str) -> Shell:
    meta = pod["metadata"]
    ns = meta["namespace"]
    configmaps, secrets = _config_objects(cluster, ns)
    at_start = mounted_files(pod, container, configmaps, secrets)

    def files():
        # the kubelet's volume sync: the current ConfigMaps and Secrets, every command
        current = cluster.store.get(POD_KEY, ns, meta["name"]) or pod
        cms, secs = _config_objects(cluster, ns)
        return mounted_files(current, container, cms, secs, at_start)

    try:
        env = env_for(pod, container, configmaps, secrets)
    except ConfigError:
        env = {}
    env = {**_service_env(cluster, ns, pod), **env}
    hostname = (pod.get("spec") or {}).get("hostname") or meta["name"]
    node = cluster.store.get(("", "nodes"), "", (pod.get("spec") or {}).get("nodeName") or "")
    arch = ((node or {}).get("status") or {}).get("nodeInfo", {}).get("architecture", "amd64")
    clock = _clock(cluster)
    return Shell(
        pod,
        container,
        files,
        env,
        hostname,
        clock.now,
        "aarch64" if arch == "arm64" else "x86_64",
    )


def _service_env(cluster, namespace: str, pod: dict) -> dict[str, str]:
    """The docker-links style variables the kubelet sets for Services (enableServiceLinks)."""
    out = {}
    services = list(cluster.store.list(("", "services"), namespace))
    kubernetes = cluster.store.get(("", "services"), "default", "kubernetes")
    if kubernetes is not None and namespace != "default":
        services.append(kubernetes)
    links = (pod.get("spec") or {}).get("enableServiceLinks", True)
    for svc in services:
        name = svc["metadata"]["name"]
        if not links and name != "kubernetes":
            continue
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        ports = spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = name.upper().replace("-", "_")
        first = ports[0]
        proto = (first.get("protocol") or "TCP").lower()
        out[f"{prefix}_SERVICE_HOST"] = ip
        out[f"{prefix}_SERVICE_PORT"] = str(first.get("port"))
        out[f"{prefix}_PORT"] = f"{proto}://{ip}:{first.get('port')}"
        for port in ports:
            p_proto = port.get("protocol") or "TCP"
            base = f"{prefix}_PORT_{port.get('port')}_{p_proto}"
            out[base] = f"{p_proto.lower()}://{ip}:{port.get('port')}"
            out[f"{base}_PROTO"] = p_proto.lower()
            out[f"{base}_PORT"] = str(port.get("port"))
            out[f"{base}_ADDR"] = ip
            if port.get("name"):
                out[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(
                    port.get("port")
                )
    return out


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
    ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=16 * 1024 * 1024)
    await ws.prepare(request)
    versioned = ws.ws_protocol not in (None, "channel.k8s.io")
    shell = make_shell(cluster, pod, container)
    stdin, tty = _flag(request, "stdin"), _flag(request, "tty")

    async def send(channel: int, data: bytes) -> None:
        if data:
            await ws.send_bytes(bytes([channel]) + data)

    try:
        if stdin and tty:
            await _interactive(ws, shell, send)
            code, failure = shell.status, None
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


async def _run(shell: Shell, argv: list[str], stdin: str, send) -> tuple[int, str | None]:
    try:
        if stdin and argv[0].rsplit("/", 1)[-1] in ("sh", "bash", "ash") and "-c" not in argv:
            out, err, code = shell.run(stdin)
        elif stdin:
            out, err, code = shell._command(argv, stdin)
        else:
            out, err, code = shell.run_argv(argv)
    except ExecError as exc:
        return 126, str(exc)
    await send(STDOUT, out.encode())
    await send(STDERR, err.encode())
    return code, None


async def _read_stdin(ws: web.WebSocketResponse) -> str:
    chunks = []
    async for msg in ws:
        if msg.type != WSMsgType.BINARY or not msg.data:
            if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
            continue
        channel, data = msg.data[0], msg.data[1:]
        if channel == STDIN:
            chunks.append(data)
        elif channel == CLOSE and data[:1] == bytes([STDIN]):
            break
    return b"".join(chunks).decode(errors="replace")


async def _interactive(ws: web.WebSocketResponse, shell: Shell, send) -> None:
    """A terminal session: echo what is typed, run each line, print a prompt."""
    prompt = b"# " if shell.env.get("HOME", "/root") == "/root" else b"$ "
    await send(STDOUT, prompt)
    line = b""
    async for msg in ws:
        if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            return
        if msg.type != WSMsgType.BINARY or not msg.data or msg.data[0] != STDIN:
            continue
        for byte in msg.data[1:]:
            char = bytes([byte])
            if char in (b"\r", b"\n"):
                await send(STDOUT, b"\r\n")
                out, err, _ = shell.run(line.decode(errors="replace"))
                text = (out + err).replace("\n", "\r\n")
                await send(STDOUT, text.encode())
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
