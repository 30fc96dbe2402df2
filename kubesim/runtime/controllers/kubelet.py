"""The kubelets of all nodes: runs bound pods through their lifecycle on the simulated clock.

A bound pod gets a sandbox (pod IP from its node's podCIDR, hostIP, startTime), its
images are pulled and its containers created and started (init containers first, one
after the other), with the events and status fields a real kubelet writes. Startup,
liveness and readiness probes run on the simulated clock (`probes.py`). Run-to-completion
pods (restartPolicy Never/OnFailure) finish after a simulated duration.

Deterministic failure switches (see kubesim/README.md):
- image tag `:doesnotexist`, or annotation `kubesim.io/fail: pull`  -> ErrImagePull,
  ImagePullBackOff, retried with back-off;
- annotation `kubesim.io/fail: crash` -> the container exits 1 after CRASH_AFTER seconds,
  CrashLoopBackOff with back-off 10s, 20s, 40s ... 300s and a growing restartCount;
- annotation `kubesim.io/fail: liveness` -> the liveness probe fails, the container is
  killed (exit 137) and restarted;
- annotation `kubesim.io/fail: readiness` -> the readiness probe never passes: the
  container runs but stays not ready (`Unhealthy` events);
- annotation `kubesim.io/fail: oom`, or memory use (`usage.memory_demand`, which grows
  with the workload's load factor) above the container's memory limit -> the container
  is OOM-killed (reason OOMKilled, exit 137) after running CRASH_AFTER seconds and
  restarted with the crash back-off;
- the same switches per container: env `KUBESIM_FAIL=<switch>` on that container (it
  wins over the pod's annotation);
- annotation `kubesim.io/duration: 30s` -> run-to-completion pods exit after 30 s
  (default 10 s) with `kubesim.io/exit-code` (default 0).

A pod being deleted (deletionTimestamp set, see `Cluster.delete_object`) has its running
containers stopped (`Killing` events), which takes STOP_SECONDS (or the annotation
`kubesim.io/stop-seconds`), never longer than its deletionGracePeriodSeconds; then the
kubelet writes the stopped containers' status and deletes the pod with grace period 0.
A kubelet that is down (node not Ready) does nothing: its pods stay Terminating until
the node recovers, is deleted (the pod garbage collector force-deletes them) or someone
force-deletes them.

Every step is a timer: the pod's next due time is kept in a heap, so an idle cluster of
20,000 running pods costs nothing and a busy one only what changes.
"""

from __future__ import annotations

import hashlib
import heapq
import ipaddress
import itertools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kubesim.runtime.controllers import probes, usage
from kubesim.runtime.controllers.base import (
    Context,
    Controller,
    condition,
    fail_mode,
    put_status,
    set_condition,
)
from kubesim.runtime.cron import parse_duration
from kubesim.runtime.volumes import ConfigError, env_for, missing_sources
from kubesim.storage import errors
from kubesim.storage.clock import format_time, parse_time
from kubesim.storage.store import DELETED, clone

log = logging.getLogger("kubesim.kubelet")

POD_KEY = ("", "pods")
NODE_KEY = ("", "nodes")

SANDBOX_SECONDS = 1.0  # bound -> sandbox and IP
PULL_SECONDS = 2.0  # pulling an image
ERR_IMAGE_PULL_SECONDS = 2.0  # ErrImagePull shows this long before ImagePullBackOff
CRASH_AFTER = 5.0  # a crashing container runs this long
INIT_SECONDS = 2.0  # an init container's run time
DEFAULT_DURATION = 10.0  # run-to-completion containers
BATCH = 1000  # pod syncs per run
CONFIG_RETRY = 10.0  # re-check a missing ConfigMap/Secret
BACKOFF_START, BACKOFF_CAP = 10.0, 300.0
PULL_BACKOFF_START = 10.0
OOM_EXIT = 137
DURATION = "kubesim.io/duration"
EXIT_CODE = "kubesim.io/exit-code"
STOP = "kubesim.io/stop-seconds"
STOP_SECONDS = 2.0  # a container stopping on SIGTERM
RUN_TO_COMPLETION = ("Never", "OnFailure")
IGNORED_SOURCES = ("kube-root-ca.crt",)  # published in every namespace of a real cluster


def backoff(restarts: int) -> float:
    """Seconds before restart number `restarts`: the first is immediate, then 10s doubling."""
    if restarts <= 1:
        return 0.0
    return min(BACKOFF_CAP, BACKOFF_START * 2 ** (restarts - 2))


def full_image(image: str) -> str:
    """containerd's normalised reference: nginx -> docker.io/library/nginx:latest."""
    name = image.split("@")[0]
    first = name.split("/")[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def image_id(image: str) -> str:
    return f"{full_image(image).rsplit(':', 1)[0]}@sha256:{_digest('image', full_image(image))}"


def pull_fails(pod: dict, container: dict) -> bool:
    tag = full_image(container.get("image", "")).rsplit(":", 1)[-1]
    return fail_mode(pod, container) == "pull" or tag == "doesnotexist"


def pull_error(image: str) -> str:
    ref = full_image(image)
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": failed to '
        f'resolve reference "{ref}": {ref}: not found'
    )


def _seconds(value: str | None, default: float) -> float:
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parse_duration(value) / 1e9  # Go durations are in nanoseconds
    except (ValueError, TypeError):
        return default


def _go_duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.3f}s".replace(".000s", "s")


@dataclass
class Runtime:
    """What a node's container runtime remembers that the pod status does not show."""

    since: dict[str, datetime] = field(default_factory=dict)  # container -> waiting since
    pull_failures: dict[str, int] = field(default_factory=dict)
    start_files: dict = field(default_factory=dict)
    stop_at: datetime | None = None  # containers stopped (pod being deleted) at this time
    probes: dict = field(default_factory=dict)  # container -> probe state (probes.py)


class Kubelet(Controller):
    name = "kubelet"
    component = "kubelet"
    watches = ("Pod", "Node", "ConfigMap", "Secret")
    wake_on_own_writes = False

    def __init__(self) -> None:
        self.timers: list[tuple[datetime, int, tuple[str, str]]] = []
        self.due: dict[tuple[str, str], datetime] = {}
        self.runtime: dict[str, Runtime] = {}  # pod uid -> runtime memory
        self.blocked: dict[str, set[tuple[str, str]]] = {}  # namespace -> pods missing config
        self.parked: dict[str, set[tuple[str, str]]] = {}  # node -> pods while it is down
        self.ips: dict[str, set[str]] = {}  # node -> pod IPs in use
        self.pulled: set[tuple[str, str]] = set()  # (node, image) present on the node
        self.seq = itertools.count()
        self.backlog: dict[tuple[str, str], None] = {}  # pods left over from a busy run
        # (pod uid, container) -> extra log lines (config reloads), merged into pods/log
        self.notes: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
        # running pods with a memory limit: looked at again when a load factor changes
        self.limited: set[tuple[str, str]] = set()
        self.load_version = 0
        self.probe_version = 0

    # -- wake-ups ---------------------------------------------------------------------------

    def _at(self, key: tuple[str, str], when: datetime) -> None:
        current = self.due.get(key)
        if current is not None and current <= when:
            return
        self.due[key] = when
        heapq.heappush(self.timers, (when, next(self.seq), key))

    def reconcile(self, ctx: Context) -> None:
        now = ctx.clock.now()
        store = ctx.cluster.store
        todo: dict[tuple[str, str], None] = {}
        if ctx.resync:
            self._resync(ctx)
            for pod in store.list(POD_KEY):
                if (pod.get("spec") or {}).get("nodeName"):
                    todo[(pod["metadata"]["namespace"], pod["metadata"]["name"])] = None
        for event in ctx.changes:
            name = event.obj["metadata"]["name"]
            kind = event.key
            if kind == POD_KEY:
                key = (event.namespace, name)
                if event.type == DELETED:
                    self.limited.discard(key)
                    self._forget(ctx, event.obj)
                elif (event.obj.get("spec") or {}).get("nodeName"):
                    todo[key] = None
            elif kind == NODE_KEY:
                if event.type != DELETED and _node_ready(event.obj):
                    for key in self.parked.pop(name, ()):
                        todo[key] = None
            else:  # ConfigMap or Secret: pods waiting for it try again
                for key in self.blocked.pop(event.namespace, ()):
                    todo[key] = None
                if event.type == "MODIFIED":
                    self._reloaded(ctx, event.obj, now)
        load_version = getattr(ctx.simulation, "load_version", 0)
        if load_version != self.load_version:
            self.load_version = load_version
            todo.update(dict.fromkeys(self.limited))
        probe_version = probes.version(ctx.simulation)
        if probe_version != self.probe_version:  # the admin API changed how probes answer
            self.probe_version = probe_version
            todo.update(dict.fromkeys(probes.probed_pods(store)))
        while self.timers and self.timers[0][0] <= now:
            when, _, key = heapq.heappop(self.timers)
            if self.due.get(key) == when:
                del self.due[key]
                todo[key] = None
        todo = {**self.backlog, **todo}
        self.backlog = {}
        if len(todo) > BATCH:
            # a burst is worked off in slices so the server keeps answering meanwhile
            keys = list(todo)
            self.backlog = dict.fromkeys(keys[BATCH:])
            todo = dict.fromkeys(keys[:BATCH])
            ctx.requeue_after(0)
        for key in todo:
            pod = store.get(POD_KEY, *key)
            if pod is None:
                continue
            try:
                self._sync(ctx, pod, now)
            except Exception:  # one broken pod must not stop the node's other pods
                log.exception("kubelet: syncing pod %s/%s failed", *key)
                self._at(key, now + timedelta(seconds=10))
        if self.timers:
            ctx.requeue_after(max(0.0, (self.timers[0][0] - ctx.clock.now()).total_seconds()))

    def _reloaded(self, ctx: Context, obj: dict, now: datetime) -> None:
        """Running containers that mount a changed ConfigMap/Secret log that they reloaded."""
        kind, name = obj.get("kind", ""), obj["metadata"]["name"]
        for pod in ctx.cluster.store.list(POD_KEY, obj["metadata"].get("namespace", "")):
            volumes = {v.get("name") for v in mounting_volumes(pod, kind, name)}
            if not volumes or (pod.get("status") or {}).get("phase") != "Running":
                continue
            for container in (pod.get("spec") or {}).get("containers") or ():
                for mount in container.get("volumeMounts") or ():
                    if mount.get("name") in volumes and not mount.get("subPath"):
                        line = reload_line(container, mount.get("mountPath", ""), now)
                        key = (pod["metadata"].get("uid", ""), container.get("name", ""))
                        self.notes.setdefault(key, []).append((now, line))
                        break

    def _resync(self, ctx: Context) -> None:
        self.ips.clear()
        for pod in ctx.cluster.store.list(POD_KEY):
            node = (pod.get("spec") or {}).get("nodeName")
            ip = (pod.get("status") or {}).get("podIP")
            if node and ip:
                self.ips.setdefault(node, set()).add(ip)

    def _forget(self, ctx: Context, pod: dict) -> None:
        """The pod is gone: stop its containers (Killing) and free its IP."""
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        self.runtime.pop(meta.get("uid", ""), None)
        node = spec.get("nodeName")
        if node and status.get("podIP"):
            self.ips.get(node, set()).discard(status["podIP"])
        if status.get("phase") in ("Succeeded", "Failed"):
            return
        node_obj = ctx.cluster.store.get(NODE_KEY, "", node) if node else None
        if node_obj is None or not _node_ready(node_obj):
            return  # no kubelet runs there to stop anything
        for cs in status.get("containerStatuses") or ():
            if "running" in (cs.get("state") or {}):
                ctx.events.record(
                    pod,
                    "Normal",
                    "Killing",
                    f"Stopping container {cs['name']}",
                    field_path=f"spec.containers{{{cs['name']}}}",
                    host=node,
                )

    # -- one pod ----------------------------------------------------------------------------

    def _sync(self, ctx: Context, pod: dict, now: datetime) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        status = pod.get("status") or {}
        deleting = meta.get("deletionTimestamp")
        if not deleting and status.get("phase") in ("Succeeded", "Failed"):
            return
        node_name = spec["nodeName"]
        node = ctx.cluster.store.get(NODE_KEY, "", node_name)
        key = (meta["namespace"], meta["name"])
        if node is None:
            return  # the pod garbage collector deletes pods of vanished nodes
        if not _node_ready(node):
            self.parked.setdefault(node_name, set()).add(key)
            return
        if deleting:
            self._terminate_pod(ctx, pod, node_name, now)
            return
        step = _Step(self, ctx, pod, node, now)
        new_status, next_due = step.run()
        if next_due is not None:
            self._at(key, next_due)
        if step.blocked:
            self.blocked.setdefault(meta["namespace"], set()).add(key)
        if new_status != status:
            put_status(ctx.cluster, pod, new_status)
        for args, kwargs in step.events:
            ctx.events.record(*args, **kwargs)

    def _terminate_pod(self, ctx: Context, pod: dict, node: str, now: datetime) -> None:
        """A pod being deleted: stop its containers, then delete it for good (grace 0)."""
        meta = pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds") or 0
        if grace <= 0:
            return  # deleted with grace 0: only finalizers still hold it
        key = (meta["namespace"], meta["name"])
        runtime = self.runtime.setdefault(meta.get("uid", ""), Runtime())
        status = pod.get("status") or {}
        if runtime.stop_at is None:
            annotations = meta.get("annotations") or {}
            seconds = min(float(grace), max(0.0, _seconds(annotations.get(STOP), STOP_SECONDS)))
            runtime.stop_at = now + timedelta(seconds=seconds)
            for cs in status.get("containerStatuses") or ():
                if "running" in (cs.get("state") or {}):
                    ctx.events.record(
                        pod,
                        "Normal",
                        "Killing",
                        f"Stopping container {cs['name']}",
                        field_path=f"spec.containers{{{cs['name']}}}",
                        host=node,
                    )
        if now < runtime.stop_at:
            self._at(key, runtime.stop_at)
            return
        stopped = _stopped_status(status, format_time(now))
        if stopped != status:
            pod = put_status(ctx.cluster, pod, stopped)
        try:
            ctx.cluster.delete(
                "v1",
                "Pod",
                meta["name"],
                meta["namespace"],
                grace_period_seconds=0,
                preconditions={"uid": meta.get("uid")},
            )
        except errors.ApiError as exc:
            if exc.code not in (404, 409):
                raise

    def allocate_ip(self, node: dict) -> str:
        name = node["metadata"]["name"]
        used = self.ips.setdefault(name, set())
        cidr = (node.get("spec") or {}).get("podCIDR") or "10.244.0.0/24"
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:  # e.g. 10.244.300.0/24 on a very large cluster: carry over
            parts = cidr.split("/")[0].split(".")
            seq = int(parts[2]) if len(parts) == 4 and parts[2].isdigit() else 0
            network = ipaddress.ip_network(f"10.{244 + seq // 256}.{seq % 256}.0/24")
        for address in itertools.islice(network.hosts(), 1, None):  # .1 is the bridge
            ip = str(address)
            if ip not in used:
                used.add(ip)
                return ip
        return str(network.network_address)


def mounting_volumes(pod: dict, kind: str, name: str) -> list[dict]:
    """The pod's volumes that show the ConfigMap or Secret `name`."""
    field, ref = ("configMap", "name") if kind == "ConfigMap" else ("secret", "secretName")
    out = []
    for volume in (pod.get("spec") or {}).get("volumes") or ():
        sources = (volume.get("projected") or {}).get("sources") or [volume]
        for source in sources:
            obj = source.get(field) or {}
            if obj and (obj.get(ref) or obj.get("name")) == name:
                out.append(volume)
                break
    return out


def reload_line(container: dict, path: str, at: datetime) -> str:
    """What an application writes when its mounted configuration changed under it."""
    image = container.get("image", "").split("@")[0].rsplit("/", 1)[-1].split(":")[0]
    if image == "nginx":
        stamp = at.astimezone(UTC).strftime("%Y/%m/%d %H:%M:%S")
        return f"{stamp} [notice] 1#1: signal 1 (SIGHUP) received from 1, reconfiguring"
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{at.microsecond // 1000:03d}Z"
    return f"{stamp} INFO  configuration reloaded: {path} changed"


def notes_for(cluster, pod: dict, container: str) -> list[tuple[datetime, str]]:
    """Extra log lines of one container (see Kubelet._reloaded)."""
    sim = getattr(cluster, "simulation", None)
    for controller in getattr(sim, "controllers", ()):
        if isinstance(controller, Kubelet):
            return controller.notes.get((pod["metadata"].get("uid", ""), container), [])
    return []


def _node_ready(node: dict) -> bool:
    ready = condition(node, "Ready")
    return ready is None or ready.get("status") == "True"


def _node_ip(node: dict) -> str:
    for address in (node.get("status") or {}).get("addresses") or ():
        if address.get("type") == "InternalIP":
            return address.get("address", "")
    return ""


class _Step:
    """One sync of one pod at `now`: the new status, events, and when to look again."""

    def __init__(self, kubelet: Kubelet, ctx: Context, pod: dict, node: dict, now: datetime):
        self.kubelet, self.ctx, self.pod, self.node, self.now = kubelet, ctx, pod, node, now
        self.stamp = format_time(now)
        self.meta, self.spec = pod["metadata"], pod.get("spec") or {}
        self.status = clone(pod.get("status") or {})
        self.annotations = self.meta.get("annotations") or {}
        self.node_name = node["metadata"]["name"]
        self.runtime = kubelet.runtime.setdefault(self.meta.get("uid", ""), Runtime())
        self.events: list[tuple[tuple, dict]] = []
        self.next: datetime | None = None
        self.blocked = False
        self.restart_policy = self.spec.get("restartPolicy") or "Always"

    def event(self, type_: str, reason: str, message: str, container: str | None = None):
        field_path = None
        if container is not None:
            init = any(c.get("name") == container for c in self.spec.get("initContainers") or ())
            field_path = f"spec.{'initContainers' if init else 'containers'}{{{container}}}"
        self.events.append(
            ((self.pod, type_, reason, message), {"field_path": field_path, "host": self.node_name})
        )

    def wake(self, when: datetime) -> None:
        if when <= self.now:
            when = self.now + timedelta(milliseconds=1)
        if self.next is None or when < self.next:
            self.next = when

    def after(self, since: datetime, seconds: float) -> bool:
        """True if `seconds` passed since `since`; otherwise asks to be woken then."""
        due = since + timedelta(seconds=seconds)
        if due <= self.now:
            return True
        self.wake(due)
        return False

    # -- the pod ----------------------------------------------------------------------------

    def run(self) -> tuple[dict, datetime | None]:
        st = self.status
        if "startTime" not in st:
            return self._admit(), self.next
        if not st.get("podIP") and not self._sandbox():
            return st, self.next
        inits = self.spec.get("initContainers") or []
        init_statuses = st.get("initContainerStatuses") or []
        initialized = True
        for container, cs in zip(inits, init_statuses, strict=False):
            if _terminated_ok(cs):
                continue
            initialized = False
            self._container(container, cs, init=True)
            break
        if initialized:
            for container, cs in zip(
                self.spec.get("containers") or [], st.get("containerStatuses") or [], strict=False
            ):
                self._container(container, cs, init=False)
        self._pod_conditions()
        return st, self.next

    def _admit(self) -> dict:
        """First sight of the pod on this node: Pending, waiting containers, startTime."""
        st = self.status
        st["phase"] = "Pending"
        host_ip = _node_ip(self.node)
        st["hostIP"], st["hostIPs"] = host_ip, [{"ip": host_ip}]
        st["startTime"] = self.stamp
        set_condition(st, "PodReadyToStartContainers", "False", now=self.stamp)
        inits = self.spec.get("initContainers") or []
        st["initContainerStatuses"] = [_waiting(c, "PodInitializing") for c in inits]
        if not inits:
            st.pop("initContainerStatuses")
        reason = "PodInitializing" if inits else "ContainerCreating"
        st["containerStatuses"] = [_waiting(c, reason) for c in self.spec.get("containers") or []]
        for cs in st.get("initContainerStatuses", []) + st["containerStatuses"]:
            # image pulls start once the sandbox is up
            self.runtime.since[cs["name"]] = self.now + timedelta(seconds=SANDBOX_SECONDS)
        self._sandbox()
        self._pod_conditions()
        self.wake(self.now + timedelta(seconds=SANDBOX_SECONDS))
        return st

    def _sandbox(self) -> bool:
        """Volumes mounted and the sandbox up: the pod gets its IP; False while waiting."""
        if not self._mount_ok():
            return False
        st = self.status
        ip = self.kubelet.allocate_ip(self.node)
        st["podIP"], st["podIPs"] = ip, [{"ip": ip}]
        set_condition(st, "PodReadyToStartContainers", "True", now=self.stamp)
        return True

    def _mount_ok(self) -> bool:
        cluster = self.ctx.cluster
        ns = self.meta["namespace"]
        configmaps = {c["metadata"]["name"]: c for c in cluster.store.list(("", "configmaps"), ns)}
        for name in IGNORED_SOURCES:
            configmaps.setdefault(name, {"data": {"ca.crt": ""}})
        secrets = {s["metadata"]["name"]: s for s in cluster.store.list(("", "secrets"), ns)}
        problems = missing_sources(self.pod, configmaps, secrets)
        if not problems:
            return True
        for message in problems:
            self.event("Warning", "FailedMount", message)
        self.blocked = True
        self.wake(self.now + timedelta(seconds=120))  # the kubelet's mount retry
        return False

    # -- one container ----------------------------------------------------------------------

    def _container(self, container: dict, cs: dict, init: bool) -> None:
        name = container.get("name", "")
        state = cs.get("state") or {}
        since = self.runtime.since.setdefault(name, self.now)
        if "waiting" in state:
            reason = state["waiting"].get("reason", "")
            if reason in ("ContainerCreating", "PodInitializing", "CreateContainerConfigError"):
                delay = CONFIG_RETRY if reason == "CreateContainerConfigError" else 0
                if self.after(since, delay):
                    self._pull(container, cs)
            elif reason == "ErrImagePull":
                if self.after(since, ERR_IMAGE_PULL_SECONDS):
                    self._image_backoff(container, cs)
            elif reason == "ImagePullBackOff":
                failures = self.runtime.pull_failures.get(name, 1)
                wait = min(BACKOFF_CAP, PULL_BACKOFF_START * 2 ** (failures - 1))
                if self.after(since, wait):
                    self._pull(container, cs)
            elif reason == "CrashLoopBackOff":
                last = parse_time(
                    ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
                )
                if self.after(last or since, backoff(cs.get("restartCount", 0))):
                    self._start(container, cs, pulled_before=True)
            return
        if "running" in state:
            self._running(container, cs, init)

    def _pull(self, container: dict, cs: dict) -> None:
        name, image = container.get("name", ""), container.get("image", "")
        present = (self.node_name, full_image(image)) in self.kubelet.pulled
        policy = container.get("imagePullPolicy") or "IfNotPresent"
        failing = pull_fails(self.pod, container)
        if not failing and ((present and policy != "Always") or policy == "Never"):
            self.event(
                "Normal", "Pulled", f'Container image "{image}" already present on machine', name
            )
            self._start(container, cs)
            return
        since = self.runtime.since.get(name, self.now)
        pulling_since = self.runtime.since.get(f"{name}/pull")
        if pulling_since is None:
            self.event("Normal", "Pulling", f'Pulling image "{image}"', name)
            self.runtime.since[f"{name}/pull"] = self.now
            self.wake(self.now + timedelta(seconds=PULL_SECONDS))
            return
        if not self.after(pulling_since, PULL_SECONDS):
            return
        self.runtime.since.pop(f"{name}/pull", None)
        if failing:
            self._pull_failed(container, cs)
            return
        took = (self.now - min(since, pulling_since)).total_seconds()
        size = 20_000_000 + int(_digest("size", full_image(image))[:6], 16) * 4
        self.event(
            "Normal",
            "Pulled",
            f'Successfully pulled image "{image}" in {_go_duration(PULL_SECONDS)} '
            f"({_go_duration(took)} including waiting). Image size: {size} bytes.",
            name,
        )
        self.kubelet.pulled.add((self.node_name, full_image(image)))
        self.runtime.since.pop(f"{name}/pull", None)
        self._start(container, cs)

    def _pull_failed(self, container: dict, cs: dict) -> None:
        name, image = container.get("name", ""), container.get("image", "")
        failed = f'Failed to pull image "{image}": {pull_error(image)}'
        self.event("Warning", "Failed", failed, name)
        self.event("Warning", "Failed", "Error: ErrImagePull", name)
        self.runtime.pull_failures[name] = self.runtime.pull_failures.get(name, 0) + 1
        cs["state"] = {"waiting": {"reason": "ErrImagePull", "message": pull_error(image)}}
        self.runtime.since[name] = self.now
        self.wake(self.now + timedelta(seconds=ERR_IMAGE_PULL_SECONDS))

    def _image_backoff(self, container: dict, cs: dict) -> None:
        name, image = container.get("name", ""), container.get("image", "")
        message = f'Back-off pulling image "{image}": ErrImagePull: {pull_error(image)}'
        self.event("Normal", "BackOff", f'Back-off pulling image "{image}"', name)
        self.event("Warning", "Failed", "Error: ImagePullBackOff", name)
        cs["state"] = {"waiting": {"reason": "ImagePullBackOff", "message": message}}
        self.runtime.since[name] = self.now
        failures = self.runtime.pull_failures.get(name, 1)
        self.wake(
            self.now + timedelta(seconds=min(BACKOFF_CAP, PULL_BACKOFF_START * 2 ** (failures - 1)))
        )

    def _start(self, container: dict, cs: dict, pulled_before: bool = False) -> None:
        name = container.get("name", "")
        try:
            self._check_env(container)
        except ConfigError as exc:
            cs["state"] = {"waiting": {"reason": "CreateContainerConfigError", "message": str(exc)}}
            self.event("Warning", "Failed", f"Error: {exc}", name)
            self.runtime.since[name] = self.now
            self.blocked = True
            self.wake(self.now + timedelta(seconds=CONFIG_RETRY))
            return
        if pulled_before:
            image = container.get("image", "")
            self.event(
                "Normal", "Pulled", f'Container image "{image}" already present on machine', name
            )
        restarts = cs.get("restartCount", 0)
        cs["containerID"] = "containerd://" + _digest(self.meta.get("uid", ""), name, str(restarts))
        cs["image"] = full_image(container.get("image", ""))
        cs["imageID"] = image_id(container.get("image", ""))
        cs["state"] = {"running": {"startedAt": self.stamp}}
        if self._init(name):
            cs["started"], cs["ready"] = True, False
        else:  # without probes a started container is ready at once (probes.py)
            probes.on_start(container, cs, fail_mode(self.pod, container))
        self.event("Normal", "Created", f"Created container: {name}", name)
        self.event("Normal", "Started", f"Started container {name}", name)
        self.runtime.since[name] = self.now
        self.wake(self.now)  # readiness and run time are looked at right after

    def _init(self, name: str) -> bool:
        return any(c.get("name") == name for c in self.spec.get("initContainers") or ())

    def _check_env(self, container: dict) -> None:
        if not (container.get("env") or container.get("envFrom")):
            return
        cluster, ns = self.ctx.cluster, self.meta["namespace"]
        configmaps = {c["metadata"]["name"]: c for c in cluster.store.list(("", "configmaps"), ns)}
        secrets = {s["metadata"]["name"]: s for s in cluster.store.list(("", "secrets"), ns)}
        env_for(self.pod, container.get("name", ""), configmaps, secrets)

    def _running(self, container: dict, cs: dict, init: bool) -> None:
        started = parse_time(cs["state"]["running"].get("startedAt")) or self.now
        fail = fail_mode(self.pod, container)
        if not init and self._out_of_memory(container, cs, started, fail):
            return
        if init:
            if self.after(started, INIT_SECONDS):
                self._terminate(container, cs, 1 if fail == "init" else 0, init=True)
            return
        if fail == "crash":
            if self.after(started, CRASH_AFTER):
                code = int(self.annotations.get(EXIT_CODE) or 1) or 1
                self._terminate(container, cs, code)
                return
        elif self.restart_policy in RUN_TO_COMPLETION:
            duration = _seconds(self.annotations.get(DURATION), DEFAULT_DURATION)
            if self.after(started, duration):
                try:
                    code = int(self.annotations.get(EXIT_CODE) or 0)
                except ValueError:
                    code = 1
                self._terminate(container, cs, code)
                return
        probes.run(self, container, cs, started, fail)  # startup, liveness, readiness

    def _out_of_memory(self, container: dict, cs: dict, started: datetime, fail: str) -> bool:
        """OOM-killed (True) when the container's memory use passes its limit."""
        key = (self.meta["namespace"], self.meta["name"])
        limit = usage.memory_limit(container)
        if fail != "oom":
            if not limit:
                return False
            self.kubelet.limited.add(key)
            sim = self.ctx.simulation
            load = sim.load_for(self.pod) if sim is not None else 1.0
            demand = usage.memory_demand(self.pod, container, load, self.now)
            if demand <= limit:
                if demand * 1.06 > limit:  # near the limit: the per-minute wobble may pass it
                    minute = self.now.replace(second=0, microsecond=0) + timedelta(minutes=1)
                    self.wake(minute)
                return False
        if not self.after(started, CRASH_AFTER):  # memory takes a moment to fill up
            return False
        self._terminate(container, cs, OOM_EXIT, reason="OOMKilled")
        return True

    def _terminate(
        self,
        container: dict,
        cs: dict,
        code: int,
        restart: bool = False,
        init: bool = False,
        reason: str = "",
    ) -> None:
        name = container.get("name", "")
        running = cs["state"].get("running") or {}
        terminated = {
            "exitCode": code,
            "reason": reason or ("Completed" if code == 0 else "Error"),
            "startedAt": running.get("startedAt", self.stamp),
            "finishedAt": self.stamp,
            "containerID": cs.get("containerID", ""),
        }
        cs["ready"] = False
        cs["started"] = False
        if init:  # init containers run again only after a failure
            restarts = code != 0 and self.restart_policy != "Never"
        else:
            restarts = (
                restart
                or self.restart_policy == "Always"
                or (self.restart_policy == "OnFailure" and code != 0)
            )
        if not restarts:
            cs["state"] = {"terminated": terminated}
            self.wake(self.now)  # the next init container, or the app containers, go on
            return
        cs["restartCount"] = cs.get("restartCount", 0) + 1
        cs["lastState"] = {"terminated": terminated}
        wait = backoff(cs["restartCount"])
        if wait <= 0:
            self._start(container, cs, pulled_before=True)
            return
        pod_ref = f"{self.meta['name']}_{self.meta['namespace']}({self.meta.get('uid', '')})"
        cs["state"] = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off {int(wait)}s restarting failed container={name} "
                f"pod={pod_ref}",
            }
        }
        self.event(
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {name} in pod {pod_ref}",
            name,
        )
        self.runtime.since[name] = self.now
        self.wake(self.now + timedelta(seconds=wait))

    # -- the pod's phase and conditions -----------------------------------------------------

    def _pod_conditions(self) -> None:
        st, stamp = self.status, self.stamp
        inits = st.get("initContainerStatuses") or []
        apps = st.get("containerStatuses") or []
        pending_inits = [c["name"] for c in inits if not _terminated_ok(c)]
        if pending_inits:
            set_condition(
                st,
                "Initialized",
                "False",
                "ContainersNotInitialized",
                f"containers with incomplete status: [{' '.join(pending_inits)}]",
                stamp,
            )
        else:
            _clear(st, "Initialized", stamp)
        terminated = [c for c in apps if "terminated" in (c.get("state") or {})]
        if apps and len(terminated) == len(apps):
            failed = any(c["state"]["terminated"].get("exitCode") for c in terminated)
            st["phase"] = "Failed" if failed else "Succeeded"
            set_condition(st, "ContainersReady", "False", "PodCompleted", "", stamp)
            set_condition(st, "Ready", "False", "PodCompleted", "", stamp)
            set_condition(st, "PodReadyToStartContainers", "False", now=stamp)
            for cond in st["conditions"]:
                if cond["type"] in ("Ready", "ContainersReady"):
                    cond.pop("message", None)
            return
        if any(failed_init(c) for c in inits) and self.restart_policy == "Never":
            st["phase"] = "Failed"
            return
        if not pending_inits and any(
            "running" in (c.get("state") or {}) or c.get("restartCount") for c in apps
        ):
            st["phase"] = "Running"
        unready = [c["name"] for c in apps if not c.get("ready")]
        if unready:
            message = f"containers with unready status: [{' '.join(unready)}]"
            if pending_inits:
                message = f"containers with incomplete status: [{' '.join(pending_inits)}]"
            reason = "ContainersNotReady"
            set_condition(st, "ContainersReady", "False", reason, message, stamp)
            set_condition(st, "Ready", "False", reason, message, stamp)
        else:
            _clear(st, "ContainersReady", stamp)
            _clear(st, "Ready", stamp)
        order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"]
        order.append("PodScheduled")
        st["conditions"].sort(
            key=lambda c: order.index(c["type"]) if c["type"] in order else len(order)
        )


def _stopped_status(status: dict, stamp: str) -> dict:
    """The status once the containers of a pod being deleted have stopped on SIGTERM."""
    st = clone(status)
    for cs in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
        running = (cs.get("state") or {}).get("running")
        if running is not None:
            cs["state"] = {
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": running.get("startedAt", stamp),
                    "finishedAt": stamp,
                    "containerID": cs.get("containerID", ""),
                }
            }
        cs["ready"] = False
        cs["started"] = False
    names = [cs["name"] for cs in st.get("containerStatuses") or ()]
    if names:
        message = f"containers with unready status: [{' '.join(names)}]"
        for type_ in ("ContainersReady", "Ready"):
            set_condition(st, type_, "False", "ContainersNotReady", message, stamp)
    return st


def _clear(status: dict, type_: str, stamp: str) -> None:
    """The condition becomes True without reason or message."""
    set_condition(status, type_, "True", now=stamp)
    for cond in status["conditions"]:
        if cond["type"] == type_:
            cond.pop("reason", None)
            cond.pop("message", None)


def _waiting(container: dict, reason: str) -> dict:
    return {
        "name": container.get("name", ""),
        "state": {"waiting": {"reason": reason}},
        "lastState": {},
        "ready": False,
        "restartCount": 0,
        "image": container.get("image", ""),
        "imageID": "",
        "started": False,
    }


def _terminated_ok(cs: dict) -> bool:
    terminated = (cs.get("state") or {}).get("terminated")
    return terminated is not None and terminated.get("exitCode") == 0


def failed_init(cs: dict) -> bool:
    terminated = (cs.get("state") or {}).get("terminated")
    return terminated is not None and terminated.get("exitCode") != 0


CONTROLLERS = [Kubelet]
