"""Inside the pods: logs (read, followed, merged over a workload's pods, filtered), the
web terminal's exec session, and current CPU/memory usage next to requests and limits.

One service for the portal's pages, the terminal's WebSocket and the API: every entry
authorizes (``logs`` / ``exec`` on the pod; another project's pod is a 404) and is
audited, refusals and failures included.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import regex
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.core import audit, authz
from apps.core.audit import audited
from apps.kube import containers as kube_containers
from apps.kube.errors import KubeError
from apps.kube.services import as_validation_error

from .models import Pod, Workload

MAX_TAIL = 100_000  # lines one read returns at most (the browser keeps as many)
MAX_BYTES = 64 * 1024 * 1024  # and bytes
MAX_PODS = 20  # pods one merged read or follow covers
HEARTBEAT = 15.0  # seconds without a line before a followed stream says it is alive
SHELLS = (["bash"], ["sh"])  # what the terminal tries, in this order
MAX_PATTERN = 500
# A regex filter is bounded, so a pattern that backtracks without end, such as (a+)+$ on a
# long line, cannot hang a worker: the filtering pass of one read has REGEX_SECONDS of wall
# clock in all, and a followed log gives each new line LINE_SECONDS.
LINE_SECONDS = 0.25
REGEX_SECONDS = 2.0
START_WAIT = 3.0  # seconds a shell has to show its prompt (or fail) before it is taken


@dataclass
class LogQuery:
    """What to read: the pods/log options, plus a filter applied to each line's text."""

    container: str = ""
    tail_lines: int | None = 1000
    since_seconds: int | None = None
    since_time: datetime | None = None
    after: str = ""  # resume after this line's timestamp (paging, reconnect)
    previous: bool = False
    follow: bool = False
    filter: str = ""
    regex: bool = False
    pod: str = ""  # a workload's read: one of its pods by name; empty for all of them
    match: Callable[[str], bool] | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.match is None:
            self.match = matcher(self.filter, self.regex)

    def options(self, after: str = "") -> dict:
        after = after or self.after
        options = {"timestamps": True, "previous": self.previous, "limit_bytes": MAX_BYTES}
        if after:
            # Kubernetes' sinceTime has whole seconds: read from the second, skip what was seen.
            options["since_time"] = after[:19] + "Z"
        elif self.since_time is not None:
            options["since_time"] = self.since_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        elif self.since_seconds is not None:
            options["since_seconds"] = self.since_seconds
        if self.tail_lines is not None and not after:
            options["tail_lines"] = min(self.tail_lines, MAX_TAIL)
        return options


def matcher(text: str, regex_: bool) -> Callable[[str], bool] | None:
    """A test for the lines to show: a plain substring (case-insensitive) or a regex."""
    if not text:
        return None
    if len(text) > MAX_PATTERN:
        raise ValidationError({"filter": _("The filter is too long.")})
    if not regex_:
        needle = text.casefold()
        return lambda line: needle in line.casefold()
    try:
        pattern = regex.compile(text)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise ValidationError(
            {"filter": _("Not a valid regular expression: %(error)s") % {"error": exc}}
        ) from None
    return RegexFilter(pattern)


class RegexFilter:
    """A compiled pattern matched within a time budget.

    A read shares one wall-clock deadline over all its lines, set by its first line, and is
    refused with a clear error once it passes; a followed log (``lenient``) gives each line
    its own bound and leaves out a line the pattern cannot decide in time.

    The ``regex`` module's ``timeout`` counts the process's CPU time, and one call only:
    on a busy machine a call given 0.5 s may take seconds of wall clock, and a bound per
    line adds up over many lines. So each call gets what is left before the deadline, and
    the deadline itself is checked on the monotonic clock between calls.
    """

    def __init__(self, pattern, *, lenient: bool = False):
        self.pattern, self.lenient = pattern, lenient
        self.deadline: float | None = None

    def __call__(self, line: str) -> bool:
        if self.lenient:
            limit = LINE_SECONDS
        else:
            now = time.monotonic()
            if self.deadline is None:
                self.deadline = now + REGEX_SECONDS
            limit = self.deadline - now
            if limit <= 0:
                raise self.too_slow()
        try:
            return self.pattern.search(line, timeout=limit) is not None
        except TimeoutError:
            if self.lenient:
                return False
            raise self.too_slow() from None

    @staticmethod
    def too_slow() -> ValidationError:
        return ValidationError(
            {
                "filter": _(
                    "The regular expression takes too long on these lines (it "
                    "backtracks too much); simplify it, e.g. avoid a repetition "
                    "inside a repetition such as (a+)+."
                )
            }
        )

    def for_follow(self) -> RegexFilter:
        return RegexFilter(self.pattern, lenient=True)


@dataclass
class LogLine:
    pod: str
    container: str
    time: str  # the kubelet's RFC 3339 timestamp, nanoseconds
    text: str

    def as_dict(self) -> dict:
        return {"pod": self.pod, "container": self.container, "time": self.time, "text": self.text}


def _split(raw: str) -> tuple[str, str]:
    stamp, sep, text = raw.partition(" ")
    if sep and len(stamp) >= 20 and stamp[4] == "-" and stamp[10] == "T":
        return stamp, text
    return "", raw


# --- what a read covers ---------------------------------------------------------------


def containers_of(pod: Pod) -> list[dict]:
    """The pod's containers, init containers first: name, image, init, state."""
    return [
        {"name": c.get("name", ""), "image": c.get("image", ""), "init": bool(c.get("init"))}
        for c in pod.containers or []
    ]


def default_container(pod: Pod) -> str:
    annotations = pod.annotations or {}
    names = [c["name"] for c in containers_of(pod) if not c["init"]]
    wanted = annotations.get("kubectl.kubernetes.io/default-container")
    if wanted in names:
        return wanted
    return names[0] if names else ""


def _container(pod: Pod, name: str) -> str:
    if not name:
        return default_container(pod)
    if name not in [c["name"] for c in containers_of(pod)]:
        raise ValidationError(
            {
                "container": _("The pod %(pod)s has no container %(name)s.")
                % {"pod": pod.name, "name": name}
            }
        )
    return name


def workload_pods(actor, workload: Workload):
    """The pods of a workload the user may read the logs of (a CronJob's: its Jobs')."""
    return workload.pods().restrict(actor, "logs").select_related("cluster")


def _targets(actor, target, query: LogQuery) -> list[tuple[Pod, str]]:
    if isinstance(target, Pod):
        authz.require(actor, "logs", target)
        return [(target, _container(target, query.container))]
    authz.require(actor, "view", target)
    pods = workload_pods(actor, target)
    if query.pod:
        pods = pods.filter(name=query.pod)
    found = list(pods.order_by("name")[:MAX_PODS])
    if query.pod and not found:
        raise ValidationError({"pod": _("The workload has no pod %(name)s.") % {"name": query.pod}})
    targets = []
    for pod in found:
        names = [c["name"] for c in containers_of(pod)]
        if query.container and query.container not in names:
            continue
        targets.append((pod, query.container or default_container(pod)))
    return targets


def _record(actor, target, query: LogQuery, targets, verb: str) -> None:
    audit.record(
        actor,
        "pod.logs",
        target,
        detail={
            "verb": verb,
            "pods": [p.name for p, _ in targets][:MAX_PODS],
            "container": query.container,
            "previous": query.previous,
            "filter": bool(query.filter),
        },
    )


# --- reading --------------------------------------------------------------------------


def _read_one(pod: Pod, container: str, query: LogQuery) -> list[LogLine]:
    try:
        text = kube_containers.read_log(
            pod.cluster.kube(), pod.namespace_name, pod.name, container, **query.options()
        )
    except KubeError as exc:
        raise as_validation_error(exc) from exc
    lines = []
    for raw in text.split("\n"):
        if not raw:
            continue
        stamp, body = _split(raw)
        if query.after and stamp and stamp <= query.after:
            continue
        lines.append(LogLine(pod.name, container, stamp, body))
    return lines


@audited("pod.logs")
def read(actor, target: Pod | Workload, query: LogQuery) -> list[LogLine]:
    """The lines of a pod's container, or of a workload's pods merged in time order (each
    line names its pod); only the matching ones when the query has a filter."""
    targets = _targets(actor, target, query)
    merged = _merged(targets, query)
    if query.match is not None:
        merged = [line for line in merged if query.match(line.text)]
    _record(actor, target, query, targets, "read")
    return merged


def _merged(targets, query: LogQuery) -> list[LogLine]:
    merged: list[LogLine] = []
    for pod, container in targets:
        try:
            merged.extend(_read_one(pod, container, query))
        except ValidationError:
            if len(targets) == 1:
                raise  # one pod: say why; of many, a pod still starting is skipped
    if len(targets) > 1:
        merged.sort(key=lambda line: line.time)
        if query.tail_lines is not None and not query.after:
            merged = merged[-query.tail_lines :]
    return merged


class Follow:
    """A followed log of one or more containers, merged as the lines arrive.

    Iterate it (or, in an event loop, ``async for``) for LogLines, and ``None`` for a
    heartbeat when nothing came for ``HEARTBEAT`` seconds. Reader threads, one per pod,
    start with the iteration; it ends when every container stopped, after
    ``LOGS_FOLLOW_SECONDS``, or on ``close``.
    An async iteration waits in the event loop, holding no thread of the worker's pool.
    """

    END = object()

    def __init__(self, targets, query: LogQuery, streams, backlog=(), after=None):
        self.targets = targets
        self.query = query
        self.streams = streams
        self.backlog = list(backlog)  # already filtered
        self.after = after or {}
        self.open = len(streams)

    def _start(self, put: Callable) -> None:
        for (pod, container), stream in zip(self.targets, self.streams, strict=True):
            threading.Thread(
                target=self._pump,
                args=(pod, container, stream, put),
                daemon=True,
                name=f"logs-{pod.name}",
            ).start()

    def _pump(self, pod: Pod, container: str, stream, put: Callable) -> None:
        after = self.after.get(pod.name) or self.query.after
        try:
            for raw in stream:
                if not raw:
                    continue
                stamp, body = _split(raw)
                if after and stamp and stamp <= after:
                    continue
                if self.query.match is None or self.query.match(body):
                    put(LogLine(pod.name, container, stamp, body))
        finally:
            put(self.END)

    def __iter__(self) -> Iterator[LogLine | None]:
        lines: queue.Queue = queue.Queue()
        self._start(lines.put)
        deadline = self._deadline()
        try:
            yield from self.backlog
            while self.open and (wait := deadline - time.monotonic()) > 0:
                try:
                    item = lines.get(timeout=min(HEARTBEAT, wait))
                except queue.Empty:
                    yield None
                    continue
                if item is self.END:
                    self.open -= 1
                    continue
                yield item
        finally:
            self.close()

    async def __aiter__(self):
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue = asyncio.Queue()

        def put(item):
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody reads
                loop.call_soon_threadsafe(lines.put_nowait, item)

        self._start(put)
        deadline = self._deadline()
        try:
            for line in self.backlog:
                yield line
            while self.open and (wait := deadline - time.monotonic()) > 0:
                try:
                    item = await asyncio.wait_for(lines.get(), min(HEARTBEAT, wait))
                except TimeoutError:
                    yield None
                    continue
                if item is self.END:
                    self.open -= 1
                    continue
                yield item
        finally:
            self.close()

    @staticmethod
    def _deadline() -> float:
        # A followed log holds a server thread (or a connection) while it lasts: it ends
        # after LOGS_FOLLOW_SECONDS, and the client follows again from its last line.
        return time.monotonic() + settings.LOGS_FOLLOW_SECONDS

    def close(self) -> None:
        for stream in self.streams:
            stream.close()


@audited("pod.logs")
def follow(actor, target: Pod | Workload, query: LogQuery) -> Follow:
    """Follow the logs live (``kubectl logs -f``, over every pod of a workload at once)."""
    targets = _targets(actor, target, query)
    if not targets:
        raise ValidationError({"pod": _("No running pod to follow.")})
    # The lines so far, merged in time order, then each pod followed after its last one.
    backlog = _merged(targets, query)
    after = {}
    for line in backlog:
        after[line.pod] = line.time
    if query.match is not None:
        # (a regex too slow on the lines so far is refused here, before any stream opens)
        backlog = [line for line in backlog if query.match(line.text)]
        if isinstance(query.match, RegexFilter):
            query.match = query.match.for_follow()
    streams = []
    try:
        for pod, container in targets:
            try:
                streams.append(
                    kube_containers.follow_log(
                        pod.cluster.kube(),
                        pod.namespace_name,
                        pod.name,
                        container,
                        **query.options(after.get(pod.name, "")),
                    )
                )
            except KubeError as exc:
                if len(targets) == 1:
                    raise as_validation_error(exc) from exc
                targets = [t for t in targets if t[0] != pod]
    except BaseException:
        for stream in streams:
            stream.close()
        raise
    if not streams:
        raise ValidationError({"pod": _("No running pod to follow.")})
    _record(actor, target, query, targets, "follow")
    return Follow(targets, query, streams, backlog, after)


# --- the terminal ---------------------------------------------------------------------


class Terminal:
    """An audited shell session in a container: who, which pod and container, when, how
    long (recorded when it ends)."""

    def __init__(self, actor, pod: Pod, container: str, session):
        self.actor = actor
        self.pod = pod
        self.container = container
        self.session = session
        self.started = time.monotonic()
        self.ended = False

    @property
    def shell(self) -> str:
        return " ".join(self.session.command)

    def read(self, timeout: float = 1.0) -> tuple[bytes, bool]:
        return self.session.read(timeout)

    def write(self, data: str) -> None:
        self.session.write(data)

    def resize(self, cols: int, rows: int) -> None:
        if 0 < cols <= 1000 and 0 < rows <= 1000:
            self.session.resize(cols, rows)

    def close(self) -> None:
        if self.ended:
            return
        self.ended = True
        try:
            self.session.close()
        finally:
            audit.record(
                self.actor,
                "pod.terminal_end",
                self.pod,
                detail={
                    "container": self.container,
                    "shell": self.shell,
                    "seconds": round(time.monotonic() - self.started, 1),
                },
            )


@audited("pod.terminal")
def terminal(actor, pod: Pod, container: str = "") -> Terminal:
    """Open a shell (bash, else sh) in a running container of the pod."""
    authz.require(actor, "exec", pod)
    container = _container(pod, container)
    if any(c["name"] == container and c["init"] for c in containers_of(pod)):
        state = next((c for c in pod.containers if c.get("name") == container), {})
        if state.get("state") != "running":
            raise ValidationError({"container": _("The init container is not running.")})
    kube = pod.cluster.kube()
    failures = []
    for command in SHELLS:
        try:
            session = kube_containers.open_exec(
                kube, pod.namespace_name, pod.name, container, command
            )
        except KubeError as exc:
            raise as_validation_error(exc) from exc
        # A shell prints its prompt; a missing binary is an error and the session closes.
        data, alive = session.read(timeout=0.25)
        deadline = time.monotonic() + START_WAIT
        while alive and not data and time.monotonic() < deadline:
            data, alive = session.read(timeout=0.25)
        if data or alive:
            found = Terminal(actor, pod, container, session)
            found.greeting = data
            audit.record(
                actor, "pod.terminal", pod, detail={"container": container, "shell": command[0]}
            )
            return found
        failures.append(session.exit_message() or _("%(shell)s not found") % {"shell": command[0]})
        session.close()
    raise ValidationError(
        _("No shell could be started in %(container)s: %(reasons)s")
        % {"container": container, "reasons": "; ".join(failures)}
    )


# --- usage ----------------------------------------------------------------------------


def _resources(manifest: dict) -> dict[str, dict]:
    from apps.kube import quantity

    spec = (manifest or {}).get("spec") or {}
    out = {}
    for c in spec.get("containers") or []:
        resources = c.get("resources") or {}
        entry = {}
        for kind in ("requests", "limits"):
            values = resources.get(kind) or {}
            for name, scale in (("cpu", 1000), ("memory", 1)):
                try:
                    value = values.get(name)
                    entry[f"{name}_{kind}"] = (
                        int(quantity.parse(value) * scale) if value is not None else None
                    )
                except ValueError:
                    entry[f"{name}_{kind}"] = None
        out[c.get("name", "")] = entry
    return out


def _total(rows: list[dict], key: str):
    values = [r.get(key) for r in rows]
    return None if not values or any(v is None for v in values) else sum(values)


def usage(actor, pods: list[Pod]) -> dict[str, dict]:
    """Current CPU (millicores) and memory (bytes) of each pod from the metrics API, with its
    containers' requests and limits summed: {pod name: {cpu, memory, cpu_requests, ...}}.

    ``pods`` are ones the caller already restricted to what the user may see. One
    metrics call per namespace; usage is None when the cluster has no metrics server.
    """
    deferred = {p.pk for p in pods if "manifest" in p.get_deferred_fields()}
    manifests = dict(Pod.objects.filter(pk__in=deferred).values_list("pk", "manifest"))
    by_namespace: dict[tuple, list[Pod]] = {}
    for pod in pods:
        by_namespace.setdefault((pod.cluster_id, pod.namespace_name), []).append(pod)
    out = {}
    for group in by_namespace.values():
        try:
            measured = kube_containers.pod_usage(group[0].cluster.kube(), group[0].namespace_name)
        except KubeError:
            measured = {}
        for pod in group:
            containers = measured.get(pod.name)
            manifest = manifests.get(pod.pk) if pod.pk in deferred else pod.manifest
            specs = list(_resources(manifest).values())
            row = {
                "cpu": sum(c["cpu"] for c in containers.values()) if containers else None,
                "memory": sum(c["memory"] for c in containers.values()) if containers else None,
            }
            for key in ("cpu_requests", "cpu_limits", "memory_requests", "memory_limits"):
                row[key] = _total(specs, key)
            out[pod.name] = row
    return out


def total_usage(rows: list[dict]) -> dict:
    """A workload's usage: the sum over its pods (None where a pod has none)."""
    keys = ("cpu", "memory", "cpu_requests", "cpu_limits", "memory_requests", "memory_limits")
    return {key: _total(rows, key) for key in keys} if rows else dict.fromkeys(keys)


def _cpu(millicores) -> str:
    if millicores is None:
        return "—"
    if millicores < 1000:
        return f"{millicores}m"
    return f"{millicores / 1000:.2f}".rstrip("0").rstrip(".")


def _memory(value) -> str:
    if value is None:
        return "—"
    for unit, size in (("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if value >= size:
            return f"{value / size:.1f}".rstrip("0").rstrip(".") + unit
    return str(value)


def usage_rows(actor, pods: list[Pod]) -> tuple[list[dict], dict | None]:
    """What a page shows: one row per pod (and a total for several), usage next to requests
    and limits, as kubectl writes quantities."""
    measured = usage(actor, pods)
    raw = [{"pod": pod, **measured.get(pod.name, {})} for pod in pods]

    def shown(row):
        return {
            **row,
            "cpu_display": _cpu(row.get("cpu")),
            "cpu_requests_display": _cpu(row.get("cpu_requests")),
            "cpu_limits_display": _cpu(row.get("cpu_limits")),
            "memory_display": _memory(row.get("memory")),
            "memory_requests_display": _memory(row.get("memory_requests")),
            "memory_limits_display": _memory(row.get("memory_limits")),
        }

    total = shown(total_usage(raw)) if len(raw) > 1 else None
    return [shown(r) for r in raw], total
