"""The DaemonSet controller, after kube-controller-manager v1.32.

One pod per eligible node: the node must match the template's nodeSelector and required
node affinity and its NoSchedule/NoExecute taints must be tolerated, counting the
tolerations the controller adds to every daemon pod (not-ready and unreachable NoExecute;
disk/memory/pid-pressure and unschedulable NoSchedule; network-unavailable with
hostNetwork), so cordoned nodes keep their daemon pods. Each pod is pinned to its node
with a required node affinity `matchFields metadata.name In [node]`, as the real
controller does, and the scheduler binds it. Pods follow node additions and removals;
pods on nodes that stopped being eligible are deleted. Templates are versioned with
ControllerRevisions (`controller-revision-hash` label), RollingUpdate replaces pods
maxUnavailable at a time (surge not simulated), OnDelete waits for the user. Status:
desired/current/ready/updated/available/unavailable/misscheduled, observedGeneration.
"""

from __future__ import annotations

import copy

from kubesim.runtime.controllers.base import Controller, controller_of
from kubesim.runtime.controllers.common import (
    ignore_gone,
    int_or_percent,
    is_active,
    is_available,
    is_ready,
    owned,
    pod_from_template,
    record,
    revision_hash,
    sync_revisions,
    truncate_history,
    write_status,
)
from kubesim.runtime.scheduler import matches_node_affinity, untolerated_taint
from kubesim.storage import errors

MANAGER = "kube-controller-manager"
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)
NETWORK_TOLERATION = ("node.kubernetes.io/network-unavailable", "NoSchedule")


def daemon_pod_spec(template_spec: dict, node: str | None) -> dict:
    """The template's pod spec with the daemon tolerations and, given a node, its pin."""
    spec = copy.deepcopy(template_spec)
    tolerations = list(spec.get("tolerations") or [])
    wanted = list(DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(NETWORK_TOLERATION)
    for key, effect in wanted:
        if not any(t.get("key") == key and t.get("effect") == effect for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": effect})
    spec["tolerations"] = tolerations
    if node is not None:
        affinity = spec.setdefault("affinity", {})
        node_affinity = affinity.setdefault("nodeAffinity", {})
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
            "nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
            ]
        }
    return spec


def should_run(ds: dict, node: dict) -> tuple[bool, bool]:
    """(should run a new daemon pod, may keep an existing one): NoSchedule taints keep new
    pods away, only NoExecute ones evict."""
    template = (ds.get("spec") or {}).get("template") or {}
    probe = {"spec": daemon_pod_spec(template.get("spec") or {}, None)}
    if not matches_node_affinity(probe, node):
        return False, False
    if untolerated_taint(probe, node, ("NoExecute",)) is not None:
        return False, False
    return untolerated_taint(probe, node, ("NoSchedule",)) is None, True


def pinned_node(pod: dict) -> str | None:
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or ():
        for field in term.get("matchFields") or ():
            if field.get("key") == "metadata.name" and field.get("values"):
                return field["values"][0]
    return None


class DaemonSetController(Controller):
    name = "daemonset"
    component = "daemonset-controller"
    watches = ("DaemonSet", "Pod", "Node", "ControllerRevision")

    def reconcile(self, ctx) -> None:
        sets = ctx.cluster.list("apps/v1", "DaemonSet")
        if not sets:
            return
        if not (ctx.resync or ctx.timer or ctx.changed("DaemonSet", "Node", "ControllerRevision")):
            # only pods changed: look at the DaemonSets that own them
            owners = set()
            for event in ctx.changed("Pod"):
                for pod in (event.obj, event.old):
                    ref = controller_of(pod) if pod else None
                    if ref and ref.get("kind") == "DaemonSet":
                        owners.add(ref.get("uid"))
            sets = [ds for ds in sets if ds["metadata"]["uid"] in owners]
        nodes = ctx.cluster.list("v1", "Node")
        for ds in sets:
            try:
                self.sync(ctx, ds, nodes)
            except errors.ApiError as exc:
                if exc.code not in (404, 409):
                    raise

    def sync(self, ctx, ds: dict, nodes: list[dict]) -> None:
        cluster, now = ctx.cluster, ctx.clock.now()
        if ds["metadata"].get("deletionTimestamp"):
            return
        spec = ds.get("spec") or {}
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
        current, revisions = sync_revisions(cluster, ds, template_labels)
        digest = revision_hash(current)
        pods = [p for p in owned(cluster, "v1", "Pod", ds) if is_active(p)]
        by_node: dict[str, list[dict]] = {}
        for pod in pods:
            by_node.setdefault(pinned_node(pod) or "", []).append(pod)
        verdicts = {n["metadata"]["name"]: should_run(ds, n) for n in nodes}
        eligible = {name for name, (run, _) in verdicts.items() if run}
        keep = {name for name, (_, stay) in verdicts.items() if stay}
        # failed pods are replaced
        for pod in owned(cluster, "v1", "Pod", ds):
            if (pod.get("status") or {}).get("phase") == "Failed":
                self.delete(ctx, ds, pod)
        create, delete = [], []
        for node in sorted(eligible):
            mine = by_node.get(node, [])
            if not mine:
                create.append(node)
            elif len(mine) > 1:
                # keep the oldest
                mine.sort(key=lambda p: p["metadata"].get("creationTimestamp", ""))
                delete.extend(mine[1:])
        for node, mine in by_node.items():
            if node not in keep:
                delete.extend(mine)
        for pod in delete:
            self.delete(ctx, ds, pod)
        for node in create:
            self.create(ctx, ds, node, digest)
        self.rolling_update(ctx, ds, digest, eligible, now)
        pods = [p for p in owned(cluster, "v1", "Pod", ds) if is_active(p)]
        in_use = {
            f"{ds['metadata']['name']}-{(p['metadata'].get('labels') or {}).get(HASH_LABEL)}"
            for p in pods
        }
        in_use.add(current["metadata"]["name"])
        truncate_history(cluster, revisions, in_use, int(spec.get("revisionHistoryLimit", 10)))
        self.update_status(ctx, ds, pods, eligible, digest, now)

    def create(self, ctx, ds: dict, node: str, digest: str) -> None:
        template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
        template["spec"] = daemon_pod_spec(template.get("spec") or {}, node)
        pod = pod_from_template(
            template,
            ds,
            labels={
                HASH_LABEL: digest,
                GENERATION_LABEL: str(ds["metadata"].get("generation", 1)),
            },
        )
        try:
            created = ctx.cluster.create(pod, MANAGER)
        except errors.ApiError as exc:
            if exc.code in (404, 409):
                return
            message = exc.status.get("message", str(exc))
            record(ctx, ds, "Warning", "FailedCreate", f"Error creating: {message}")
            return
        record(ctx, ds, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")

    def delete(self, ctx, ds: dict, pod: dict) -> None:
        meta = pod["metadata"]
        if ignore_gone(ctx.cluster.delete, "v1", "Pod", meta["name"], meta["namespace"]):
            record(ctx, ds, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}")

    def rolling_update(self, ctx, ds: dict, digest: str, eligible: set[str], now) -> None:
        strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        pods = [p for p in owned(ctx.cluster, "v1", "Pod", ds) if is_active(p)]
        pods = [p for p in pods if pinned_node(p) in eligible]
        desired = len(eligible)
        max_unavailable = int_or_percent(
            (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1), desired, True
        )
        max_unavailable = max(max_unavailable, 1) if desired else 0
        have = {pinned_node(p) for p in pods}
        unavailable = sum(1 for p in pods if not is_available(p, min_ready, now))
        unavailable += len(eligible - have)
        old = [p for p in pods if (p["metadata"].get("labels") or {}).get(HASH_LABEL) != digest]
        # unavailable old pods go first, they cost nothing
        old.sort(key=lambda p: (is_ready(p), p["metadata"]["name"]))
        for pod in old:
            if not is_available(pod, min_ready, now):
                self.delete(ctx, ds, pod)
                continue
            if unavailable >= max_unavailable:
                break
            self.delete(ctx, ds, pod)
            unavailable += 1

    def update_status(self, ctx, ds: dict, pods: list[dict], eligible: set[str], digest, now):
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        current = misscheduled = ready = available = updated = 0
        for pod in pods:
            node = pinned_node(pod)
            if node in eligible:
                current += 1
                if is_ready(pod):
                    ready += 1
                    if is_available(pod, min_ready, now):
                        available += 1
                    elif min_ready:
                        ctx.requeue_after(min_ready)
                if (pod["metadata"].get("labels") or {}).get(HASH_LABEL) == digest:
                    updated += 1
            elif pod.get("spec", {}).get("nodeName"):
                misscheduled += 1
        desired = len(eligible)
        status = {
            "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": desired,
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
        }
        if updated:
            status["updatedNumberScheduled"] = updated
        if available:
            status["numberAvailable"] = available
        if desired - available > 0:
            status["numberUnavailable"] = desired - available
        previous = ds.get("status") or {}
        if previous.get("collisionCount") is not None:
            status["collisionCount"] = previous["collisionCount"]
        write_status(ctx.cluster, ds, status)


CONTROLLERS = [DaemonSetController]
