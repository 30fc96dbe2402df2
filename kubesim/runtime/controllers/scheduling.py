"""The scheduler: binds pending pods to nodes with `kubesim.runtime.scheduler` (default profile).

What kube-scheduler does that a user can see: a bound pod gets `spec.nodeName` and a
`PodScheduled=True` condition and a `Scheduled` event; a pod that fits nowhere keeps
`PodScheduled=False` (reason `Unschedulable`, the "0/5 nodes are available: ..." message)
and gets a `FailedScheduling` event. Unschedulable pods are retried when something that
could make them fit changes (a node is added or changes, a pod goes away) and at least
every five minutes, like the scheduler's unschedulable queue.

Incremental: the scheduler cache (`scheduler.Snapshot`) is kept between runs and only
rebuilt after a node changed or a bound pod went away; new bindings are `assume()`d.
"""

from __future__ import annotations

from kubesim.runtime.controllers.base import (
    Context,
    Controller,
    condition,
    put_status,
    set_condition,
)
from kubesim.runtime.scheduler import Snapshot, node_taints
from kubesim.storage import errors
from kubesim.storage.store import DELETED, clone

POD_KEY = ("", "pods")
NODE_KEY = ("", "nodes")
RETRY_UNSCHEDULABLE = 300  # podMaxInUnschedulablePodsDuration
SCHEDULER = "default-scheduler"
BATCH = 200  # pods placed per run


def _pending(pod: dict) -> bool:
    spec = pod.get("spec") or {}
    return (
        not spec.get("nodeName")
        and (spec.get("schedulerName") or SCHEDULER) == SCHEDULER
        and not pod["metadata"].get("deletionTimestamp")
        and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    )


def _node_shape(node: dict | None) -> tuple:
    """What about a node can change a scheduling decision (heartbeats do not)."""
    if node is None:
        return ()
    ready = condition(node, "Ready") or {}
    return (
        repr(node.get("spec")),
        repr(node["metadata"].get("labels")),
        repr((node.get("status") or {}).get("allocatable")),
        ready.get("status"),
    )


def _slim(node: dict) -> dict:
    """The node as the scheduler needs it, with the Ready condition's taints worked out
    once here rather than for every pod that looks at the node."""
    status = node.get("status") or {}
    spec = dict(node.get("spec") or {})
    taints = node_taints(node)
    if taints:
        spec["taints"] = taints
    return {
        "metadata": node["metadata"],
        "spec": spec,
        "status": {k: status[k] for k in ("allocatable", "capacity") if k in status},
    }


class Scheduler(Controller):
    name = "scheduler"
    component = SCHEDULER
    watches = ("Pod", "Node")
    wake_on_own_writes = False

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str], None] = {}  # ordered: first come, first served
        self.unschedulable: set[tuple[str, str]] = set()
        self.snapshot: Snapshot | None = None

    # -- bookkeeping ----------------------------------------------------------------------

    def _resync(self, ctx: Context) -> None:
        self.pending.clear()
        self.unschedulable.clear()
        self.snapshot = None
        for pod in ctx.cluster.store.list(POD_KEY):
            if _pending(pod):
                self.pending[(pod["metadata"]["namespace"], pod["metadata"]["name"])] = None

    def _observe(self, ctx: Context) -> bool:
        """Take in the changes; True if unschedulable pods deserve another try."""
        retry = False
        for event in ctx.changes:
            obj, old = event.obj, event.old
            if event.key == NODE_KEY:
                if event.type == DELETED or _node_shape(obj) != _node_shape(old):
                    self.snapshot = None
                    retry = True
                continue
            if event.key != POD_KEY:
                continue
            key = (event.namespace, obj["metadata"]["name"])
            node = (obj.get("spec") or {}).get("nodeName")
            if event.type != DELETED and _pending(obj):
                if key not in self.unschedulable:
                    self.pending[key] = None
                continue
            self.pending.pop(key, None)
            self.unschedulable.discard(key)
            if not node:
                continue
            was_bound = old is not None and (old.get("spec") or {}).get("nodeName") == node
            gone = event.type == DELETED or (obj.get("status") or {}).get("phase") in (
                "Succeeded",
                "Failed",
            )
            if gone:
                # freed resources: the cache must forget the pod, and others may fit now
                self.snapshot = None
                retry = True
            elif not was_bound and self.snapshot is not None:
                self.snapshot.assume(obj, node)  # bound by someone else (nodeName set)
        return retry

    def _build_snapshot(self, ctx: Context) -> Snapshot:
        store = ctx.cluster.store
        by_node: dict[str, list[dict]] = {}
        for pod in store.list(POD_KEY):
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                by_node.setdefault(node, []).append(pod)
        namespaces = {
            ns["metadata"]["name"]: ns["metadata"].get("labels") or {}
            for ns in store.list(("", "namespaces"))
        }
        return Snapshot([_slim(n) for n in store.list(NODE_KEY)], by_node, namespaces)

    # -- the loop ---------------------------------------------------------------------------

    def reconcile(self, ctx: Context) -> None:
        if ctx.resync:
            self._resync(ctx)
        retry = self._observe(ctx)
        if ctx.timer or retry:
            for key in self.unschedulable:
                self.pending[key] = None
            self.unschedulable.clear()
        if not self.pending:
            return
        if self.snapshot is None:
            self.snapshot = self._build_snapshot(ctx)
        queue = []
        store = ctx.cluster.store
        for key in list(self.pending):
            pod = store.get(POD_KEY, *key)
            if pod is None or not _pending(pod):
                self.pending.pop(key, None)
                continue
            queue.append(pod)
        # higher priority first, then the order they arrived in (the active queue's order)
        queue.sort(key=lambda p: -((p.get("spec") or {}).get("priority") or 0))
        if len(queue) > BATCH:
            # a burst of pods is placed in slices so the server keeps answering meanwhile
            queue = queue[:BATCH]
            ctx.requeue_after(0)
        for pod in queue:
            key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
            self.pending.pop(key, None)
            self._schedule_one(ctx, pod, key)
        if self.unschedulable:
            ctx.requeue_after(RETRY_UNSCHEDULABLE)

    def _schedule_one(self, ctx: Context, pod: dict, key: tuple[str, str]) -> None:
        assert self.snapshot is not None
        result = self.snapshot.schedule(pod, rng_seed=pod["metadata"].get("uid", ""))
        if result.node_name:
            self._bind(ctx, pod, result.node_name)
            self.snapshot.assume(pod, result.node_name)
            return
        self.unschedulable.add(key)
        for victim in result.victims:
            self._preempt(ctx, pod, victim, result.nominated_node)
        status = clone(pod.get("status") or {})
        changed = set_condition(
            status,
            "PodScheduled",
            "False",
            result.reason or "Unschedulable",
            result.message,
            ctx.now(),
        )
        if result.nominated_node and status.get("nominatedNodeName") != result.nominated_node:
            status["nominatedNodeName"] = result.nominated_node
            changed = True
        if changed:
            put_status(ctx.cluster, pod, status)
        if result.reason != "SchedulingGated":
            ctx.events.record(pod, "Warning", "FailedScheduling", result.message)

    def _bind(self, ctx: Context, pod: dict, node: str) -> None:
        """What POST pods/binding does: nodeName and PodScheduled=True in one write."""
        bound = clone(pod)
        bound["spec"]["nodeName"] = node
        status = bound.setdefault("status", {})
        status.pop("nominatedNodeName", None)
        set_condition(status, "PodScheduled", "True", now=ctx.now())
        for cond in status["conditions"]:
            if cond["type"] == "PodScheduled":
                cond.pop("reason", None)
                cond.pop("message", None)
                cond["lastProbeTime"] = None
        ctx.cluster.store.put(POD_KEY, bound)
        meta = pod["metadata"]
        ctx.events.record(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
        )

    def _preempt(self, ctx: Context, pod: dict, victim: dict, node: str | None) -> None:
        meta = victim["metadata"]
        if meta.get("deletionTimestamp"):
            return  # preempted already: the pod waits for it to terminate
        ctx.events.record(
            victim,
            "Normal",
            "Preempted",
            f"Preempted by pod {pod['metadata'].get('uid', '')} on node {node}",
        )
        try:
            ctx.cluster.delete("v1", "Pod", meta["name"], meta["namespace"])
        except errors.ApiError as exc:
            if exc.code != 404:
                raise
        self.snapshot = None


CONTROLLERS = [Scheduler]
