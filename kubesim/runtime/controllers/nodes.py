"""Node heartbeats and the node lifecycle controller.

- Heartbeats: every node's kubelet posts its status every HEARTBEAT seconds (the kubelet's
  nodeStatusReportFrequency); the node gets the four standard conditions.
- Fault injection (admin API): a node whose kubelet reports NotReady (`False`) or stops
  posting (`Unknown`) gets the Ready condition and the `node.kubernetes.io/not-ready` or
  `node.kubernetes.io/unreachable` NoSchedule and NoExecute taints, its pods are marked
  not Ready, and the taint eviction controller deletes the pods that do not tolerate the
  NoExecute taint, after their tolerationSeconds (300 by default admission).
- NoExecute taints added by hand (`kubectl taint`) evict the same way.
- Evicted pods are deleted gracefully; on a node that is down they stay Terminating, as
  no kubelet runs there to finish their deletion.
- Pods bound to a node that no longer exists are force-deleted (grace period 0), Terminating
  ones too (the pod garbage collector).
"""

from __future__ import annotations

import heapq
import itertools
from datetime import datetime, timedelta

from kubesim.runtime.controllers.base import Context, Controller, condition, set_condition
from kubesim.runtime.scheduler import taint_eviction
from kubesim.storage import errors
from kubesim.storage.store import DELETED, clone

POD_KEY = ("", "pods")
NODE_KEY = ("", "nodes")
HEARTBEAT = 300.0  # seconds between status posts when nothing changes
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
CONDITION_TAINT = {"False": NOT_READY, "Unknown": UNREACHABLE}

# The conditions a healthy kubelet reports, in its order: (type, status, reason, message).
HEALTHY = (
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)
NOT_READY_MESSAGE = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)


def no_execute(node: dict | None) -> tuple:
    if node is None:
        return ()
    return tuple(
        sorted(
            (t.get("key", ""), t.get("value", ""))
            for t in (node.get("spec") or {}).get("taints") or ()
            if t.get("effect") == "NoExecute"
        )
    )


class NodeLifecycle(Controller):
    name = "node-lifecycle"
    component = "node-controller"
    watches = ("Node", "Pod")
    wake_on_own_writes = False

    def __init__(self) -> None:
        # node name -> "False" | "Unknown" while the admin API keeps its kubelet down
        self.down: dict[str, str] = {}
        self.heartbeats: list[tuple[datetime, int, str]] = []
        self.evictions: list[tuple[datetime, int, tuple[str, str]]] = []
        self.seq = itertools.count()
        self.touched: set[str] = set()  # nodes the admin API changed since the last run

    def set_down(self, node: str, status: str | None) -> None:
        """Admin API: status "False"/"Unknown" takes the node's kubelet down, None revives it."""
        if status in (None, "True"):
            self.down.pop(node, None)
        else:
            self.down[node] = status
        self.touched.add(node)

    # -- the loop ---------------------------------------------------------------------------

    def reconcile(self, ctx: Context) -> None:
        store = ctx.cluster.store
        now = ctx.clock.now()
        check_nodes: set[str] = set()
        check_pods: set[tuple[str, str]] = set()
        if ctx.resync:
            for i, node in enumerate(store.list(NODE_KEY)):
                name = node["metadata"]["name"]
                check_nodes.add(name)
                # spread heartbeats over the period so a large cluster does not post at once
                offset = HEARTBEAT * ((i * 7919) % 997) / 997
                self._push_heartbeat(now + timedelta(seconds=offset), name)
        for event in ctx.changes:
            name = event.obj["metadata"]["name"]
            if event.key == NODE_KEY:
                if event.type == DELETED:
                    self._collect_orphans(ctx, name)
                    self.down.pop(name, None)
                    continue
                if event.old is None:
                    self._push_heartbeat(now + timedelta(seconds=HEARTBEAT), name)
                check_nodes.add(name)
            elif event.key == POD_KEY and event.type != DELETED:
                node = (event.obj.get("spec") or {}).get("nodeName")
                if node and (node in self.down or no_execute(store.get(NODE_KEY, "", node))):
                    check_pods.add((event.namespace, name))
                elif node and store.get(NODE_KEY, "", node) is None:
                    self._delete_pod(ctx, event.obj, None)
        check_nodes.update(self.touched)
        self.touched.clear()
        for name in check_nodes:
            self._node(ctx, name, now)
        while self.heartbeats and self.heartbeats[0][0] <= now:
            _, _, name = heapq.heappop(self.heartbeats)
            if store.get(NODE_KEY, "", name) is None:
                continue
            if name not in self.down:
                self._heartbeat(ctx, name)
            self._push_heartbeat(now + timedelta(seconds=HEARTBEAT), name)
        while self.evictions and self.evictions[0][0] <= now:
            _, _, key = heapq.heappop(self.evictions)
            check_pods.add(key)
        for key in check_pods:
            pod = store.get(POD_KEY, *key)
            if pod is not None:
                self._check_eviction(ctx, pod, now)
        due = [h[0][0] for h in (self.heartbeats, self.evictions) if h]
        if due:
            ctx.requeue_after(max(0.0, (min(due) - ctx.clock.now()).total_seconds()))

    def _push_heartbeat(self, when: datetime, name: str) -> None:
        heapq.heappush(self.heartbeats, (when, next(self.seq), name))

    # -- nodes ------------------------------------------------------------------------------

    def _node(self, ctx: Context, name: str, now: datetime) -> None:
        node = ctx.cluster.store.get(NODE_KEY, "", name)
        if node is None:
            return
        before_taints = no_execute(node)
        wanted = self.down.get(name, "True")
        status = clone(node.get("status") or {})
        stamp = ctx.now()
        changed = self._conditions(status, wanted, stamp)
        updated = node
        ready_before = (condition(node, "Ready") or {}).get("status")
        if changed:
            updated = self._write_status(ctx, node, status)
            if updated is None:
                return
        spec = clone(updated.get("spec") or {})
        if self._taints(spec, wanted, stamp):
            body = {**clone(updated), "spec": spec}
            try:
                updated = ctx.cluster.update(body, manager="kube-controller-manager")
            except errors.ApiError as exc:
                if exc.code not in (404, 409):
                    raise
                return
        if ready_before != wanted and ready_before is not None:
            state = "NodeReady" if wanted == "True" else "NodeNotReady"
            ctx.events.record(updated, "Normal", state, f"Node {name} status is now: {state}")
            if wanted != "True":
                self._mark_pods_not_ready(ctx, name)
        if no_execute(updated) or before_taints != no_execute(updated):
            for pod in self._pods_on(ctx, name):
                self._check_eviction(ctx, pod, now)

    def _conditions(self, status: dict, wanted: str, stamp: str) -> bool:
        """The conditions a kubelet in state `wanted` reports; True if any changed."""
        changed = False
        for type_, value, reason, message in HEALTHY:
            if wanted == "Unknown":
                # the node controller's verdict once the kubelet stopped posting
                value, reason = "Unknown", "NodeStatusUnknown"
                message = "Kubelet stopped posting node status."
            elif type_ == "Ready" and wanted == "False":
                value, reason, message = "False", "KubeletNotReady", NOT_READY_MESSAGE
            if set_condition(status, type_, value, reason, message, stamp):
                changed = True
                for cond in status["conditions"]:
                    if cond["type"] == type_ and (
                        wanted != "Unknown" or "lastHeartbeatTime" not in cond
                    ):
                        cond["lastHeartbeatTime"] = stamp
        order = [h[0] for h in HEALTHY]
        status["conditions"].sort(
            key=lambda c: order.index(c["type"]) if c["type"] in order else len(order)
        )
        return changed

    def _taints(self, spec: dict, wanted: str, stamp: str) -> bool:
        """Condition taints as the node lifecycle controller keeps them; True if changed."""
        taints = spec.get("taints") or []
        keep = [t for t in taints if t.get("key") not in (NOT_READY, UNREACHABLE)]
        key = CONDITION_TAINT.get(wanted)
        if key:
            current = {t.get("effect"): t for t in taints if t.get("key") == key}
            keep.append(current.get("NoSchedule") or {"key": key, "effect": "NoSchedule"})
            keep.append(
                current.get("NoExecute") or {"key": key, "effect": "NoExecute", "timeAdded": stamp}
            )
            # a stale taint of the other kind goes
        if keep == taints:
            return False
        if keep:
            spec["taints"] = keep
        else:
            spec.pop("taints", None)
        return True

    def _heartbeat(self, ctx: Context, name: str) -> None:
        node = ctx.cluster.store.get(NODE_KEY, "", name)
        if node is None:
            return
        status = clone(node.get("status") or {})
        stamp = ctx.now()
        for cond in status.get("conditions") or ():
            cond["lastHeartbeatTime"] = stamp
        self._write_status(ctx, node, status)

    def _write_status(self, ctx: Context, node: dict, status: dict) -> dict | None:
        try:
            return ctx.cluster.update_status({**node, "status": status}, manager="kubelet")
        except errors.ApiError as exc:
            if exc.code not in (404, 409):
                raise
            return None

    # -- pods -------------------------------------------------------------------------------

    def _pods_on(self, ctx: Context, node: str) -> list[dict]:
        return [
            p
            for p in ctx.cluster.store.list(POD_KEY)
            if (p.get("spec") or {}).get("nodeName") == node
        ]

    def _mark_pods_not_ready(self, ctx: Context, node: str) -> None:
        stamp = ctx.now()
        for pod in self._pods_on(ctx, node):
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            status = clone(pod.get("status") or {})
            if not set_condition(status, "Ready", "False", now=stamp):
                continue
            try:
                ctx.cluster.update_status({**pod, "status": status}, manager="node-controller")
            except errors.ApiError as exc:
                if exc.code not in (404, 409):
                    raise
                continue
            ctx.events.record(pod, "Warning", "NodeNotReady", "Node is not ready")

    def _check_eviction(self, ctx: Context, pod: dict, now: datetime) -> None:
        node_name = (pod.get("spec") or {}).get("nodeName")
        node = ctx.cluster.store.get(NODE_KEY, "", node_name or "")
        if node is None or pod["metadata"].get("deletionTimestamp"):
            return
        wait = taint_eviction(pod, node, now)
        if wait is None:
            return
        if wait > 0:
            key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
            heapq.heappush(self.evictions, (now + timedelta(seconds=wait), next(self.seq), key))
            return
        meta = pod["metadata"]
        ctx.events.record(
            pod,
            "Normal",
            "TaintManagerEviction",
            f"Marking for deletion Pod {meta['namespace']}/{meta['name']}",
        )
        self._delete_pod(ctx, pod, "taint")

    def _delete_pod(self, ctx: Context, pod: dict, why: str | None) -> None:
        """Taint eviction deletes gracefully (the pod's own grace period); the pod garbage
        collector force-deletes pods whose node is gone (grace 0), Terminating ones too."""
        meta = pod["metadata"]
        grace = None if why == "taint" else 0
        try:
            ctx.cluster.delete(
                "v1",
                "Pod",
                meta["name"],
                meta["namespace"],
                grace_period_seconds=grace,
                preconditions={"uid": meta.get("uid")},
            )
        except errors.ApiError as exc:
            if exc.code not in (404, 409):
                raise

    def _collect_orphans(self, ctx: Context, node: str) -> None:
        """The pod garbage collector: pods bound to a deleted node go."""
        for pod in self._pods_on(ctx, node):
            self._delete_pod(ctx, pod, "orphan")


def lifecycle_of(simulation) -> NodeLifecycle | None:
    for controller in simulation.controllers:
        if isinstance(controller, NodeLifecycle):
            return controller
    return None


CONTROLLERS = [NodeLifecycle]
