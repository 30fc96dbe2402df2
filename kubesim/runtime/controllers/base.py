"""What every simulated controller is written against.

A controller is a plain object with a `name`, the `watches` (kinds whose changes wake
it) and a `reconcile(ctx)` method. The engine (`engine.py`) keeps one instance of each
controller per cluster, wakes it after the watched kinds changed or when a requested
timer fires, and calls `reconcile` on the server's event loop, never concurrently with
another controller of the same cluster, until nothing changes any more.

reconcile must be level-triggered and idempotent: it looks at the current objects and
writes what is missing. `ctx.changes` (the store events of the watched kinds since the
last run) lets a controller work incrementally on a large cluster instead of scanning
everything; `ctx.resync` is True on the first run (and after a restart), when it must
look at everything once. Instance attributes may cache state, but must be rebuildable
from the store on a resync.

Writes go through `ctx.cluster` (the kubesim Cluster Python API: get/list/create/update/
update_status/patch/delete) with full API semantics; an `ApiError` with code 409 (a
conflict with a concurrent write) or 404 is normal and is best answered by returning:
the write that caused it wakes the controller again.

    class ReplicaSetController(Controller):
        name = "replicaset"
        component = "replicaset-controller"
        watches = ("ReplicaSet", "Pod")

        def reconcile(self, ctx: Context) -> None:
            for event in ctx.changed("ReplicaSet"):
                ...
            ctx.events.record(rs, "Normal", "SuccessfulCreate", f"Created pod: {name}")
            ctx.requeue_after(5)          # run again 5 simulated seconds from now

Trying one out without a server (deterministic; nothing runs in the background):

    from kubesim.apiserver.rules import RULES
    from kubesim.runtime.controllers.engine import Simulation
    from kubesim.storage.cluster import Cluster

    cluster = Cluster(name="t", spec={"workers": 2}, rules=RULES); cluster.bootstrap()
    sim = Simulation(cluster, controllers=[ReplicaSetController()])  # default: all of them
    cluster.create(rs); sim.advance(10)    # reconciles until quiet at every timer on the way
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from kubesim.storage.store import Event

if TYPE_CHECKING:  # pragma: no cover
    from kubesim.storage.clock import Clock
    from kubesim.storage.cluster import Cluster


class Recorder(Protocol):
    """Writes core/v1 Events (see `events.py`); repeats of one event are aggregated."""

    def record(
        self,
        obj: dict,
        type: str,
        reason: str,
        message: str,
        *,
        field_path: str | None = None,
        host: str | None = None,
    ) -> None: ...


class Controller:
    name: str = ""
    component: str = ""  # the Event source / reporting controller, e.g. "deployment-controller"
    watches: tuple[str, ...] = ()  # kinds, e.g. ("Deployment", "ReplicaSet", "Pod")
    # False: the controller's own writes do not wake it again (it tracks them itself)
    wake_on_own_writes: bool = True

    def reconcile(self, ctx: Context) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Context:
    """One reconcile call's view of the world."""

    cluster: Cluster
    clock: Clock
    events: Recorder
    changes: list[Event] = field(default_factory=list)
    resync: bool = False  # first run: look at everything
    timer: bool = False  # woken (also) by a requeue_after timer
    simulation: Any = None  # the engine's Simulation (for pod_usage, load factors)
    _requeue: Callable[[float], None] | None = None

    def requeue_after(self, seconds: float) -> None:
        """Run this controller again at simulated time now + seconds (earliest request wins)."""
        if self._requeue is not None:
            self._requeue(max(0.0, float(seconds)))

    def changed(self, *kinds: str) -> list[Event]:
        """The store events since the last run of these kinds (all watched kinds if none)."""
        if not kinds:
            return list(self.changes)
        wanted = set(kinds)
        return [e for e in self.changes if kind_of(self.cluster, e) in wanted]

    def changed_names(self, *kinds: str) -> set[tuple[str, str]]:
        """(namespace, name) of the objects of these kinds that changed since the last run."""
        return {(e.namespace, e.obj["metadata"]["name"]) for e in self.changed(*kinds)}

    def now(self) -> str:
        """Simulated now as an API timestamp."""
        return self.clock.timestamp()

    def pod_usage(self, pod: dict) -> dict[str, int]:
        """Simulated usage {"cpu": millicores, "memory": bytes} of a running pod.

        A function of the pod's requests and its workload's load factor (admin API);
        what metrics.k8s.io serves and what the HPA controller should use.
        """
        if self.simulation is None:
            return {"cpu": 0, "memory": 0}
        return self.simulation.pod_usage(pod)


# -- helpers shared by controllers ---------------------------------------------------------


def kind_of(cluster: Cluster, event: Event) -> str:
    """The kind of the object in a store event."""
    kind = event.obj.get("kind")
    if kind:
        return kind
    rt = cluster.registry.by_key(event.key)
    return rt.kind if rt is not None else ""


def owner_reference(owner: dict, controller: bool = True) -> dict:
    """The ownerReference a controller puts on what it creates."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: dict) -> dict | None:
    """The ownerReference with controller: true, if any."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


def owned_by(obj: dict, owner_uid: str) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == owner_uid


def condition(obj: dict, type_: str) -> dict | None:
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == type_:
            return cond
    return None


def set_condition(
    status: dict, type_: str, value: str, reason: str = "", message: str = "", now: str = ""
) -> bool:
    """Set a condition in a status dict (being built, so mutable); True if it changed.

    lastTransitionTime moves only when the status value changes, as in Kubernetes.
    """
    conditions = status.setdefault("conditions", [])
    for cond in conditions:
        if cond.get("type") == type_:
            changed = (cond.get("status"), cond.get("reason"), cond.get("message")) != (
                value,
                reason or cond.get("reason"),
                message or cond.get("message"),
            )
            if cond.get("status") != value:
                cond["lastTransitionTime"] = now
            cond["status"] = value
            if reason:
                cond["reason"] = reason
            if message:
                cond["message"] = message
            return changed
    entry = {"type": type_, "status": value, "lastTransitionTime": now}
    if reason:
        entry["reason"] = reason
    if message:
        entry["message"] = message
    conditions.append(entry)
    return True


def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_pod_ready(pod: dict) -> bool:
    cond = condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def active_pods(pods: Iterable[dict]) -> list[dict]:
    """Pods that count towards a controller's replicas: not terminal, not being deleted."""
    return [p for p in pods if not is_terminal(p) and not p["metadata"].get("deletionTimestamp")]


def put_status(cluster: Cluster, obj: dict, status: dict) -> dict:
    """Store a new status straight away, the way a busy node agent has to.

    The full write path (`cluster.update_status`) validates, runs admission and records
    managedFields, which costs milliseconds per write; the kubelet and the scheduler
    write tens of thousands of pod statuses, so they use this instead. Quota usage is
    refreshed when a pod's phase becomes terminal (finished pods stop counting).
    """
    rt = cluster.resource(obj["apiVersion"], obj["kind"])
    new = {**obj, "status": status, "metadata": dict(obj["metadata"])}
    stored = cluster.store.put(rt.key, new).obj
    old_phase = (obj.get("status") or {}).get("phase")
    if status.get("phase") != old_phase and status.get("phase") in ("Succeeded", "Failed"):
        cluster._refresh_quotas(obj["metadata"].get("namespace"))
    return stored


# the failure switches of the simulated containers (see kubelet.py and probes.py)
FAIL = "kubesim.io/fail"
FAIL_ENV = "KUBESIM_FAIL"  # the same switch on one container


def fail_mode(pod: dict, container: dict) -> str:
    """The failure switch of one container: its env KUBESIM_FAIL, else the pod's annotation."""
    for env in container.get("env") or ():
        if env.get("name") == FAIL_ENV and "value" in env:
            return str(env.get("value") or "")
    return (pod["metadata"].get("annotations") or {}).get(FAIL, "")
