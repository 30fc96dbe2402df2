"""Deployment and ReplicaSet controllers, after kube-controller-manager v1.32.

Deployment → ReplicaSets named `<deployment>-<pod-template-hash>` → Pods. RollingUpdate
(maxSurge/maxUnavailable, never fewer available than desired - maxUnavailable) and
Recreate, `deployment.kubernetes.io/revision` annotations (an old ReplicaSet brought back
by `kubectl rollout undo` gets the next revision), revisionHistoryLimit cleanup, paused,
proportional scaling, status and the Progressing/Available conditions with the real
reasons, and ScalingReplicaSet events. The ReplicaSet controller keeps `replicas` Pods,
deleting the least valuable first, and reports SuccessfulCreate/SuccessfulDelete.

Simplified: no adoption of orphaned ReplicaSets or Pods by selector, no burst/slow-start
batching of pod creation, no expectations (the store is read directly, so there are no
stale informer caches to guard against).
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from kubesim.runtime.controllers.base import Controller, controller_of
from kubesim.runtime.controllers.common import (
    affected,
    compute_hash,
    condition,
    fmt_time,
    ignore_gone,
    int_or_percent,
    is_active,
    is_available,
    is_ready,
    owned,
    owner_ref,
    parse_time,
    pod_from_template,
    ready_since,
    record,
    remove_condition,
    requeue,
    set_condition,
    write_status,
)
from kubesim.storage import errors
from kubesim.storage.selectors import selector_from_object
from kubesim.storage.store import DELETED

MANAGER = "kube-controller-manager"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
# annotations of a Deployment that are not copied to its ReplicaSets
NOT_COPIED = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
}
MAX_INT32 = 2147483647
BACKOFF_BASE, BACKOFF_MAX = 1, 300  # seconds between retries of a refused pod create


# -- ReplicaSet ----------------------------------------------------------------------------


class ReplicaSetController(Controller):
    name = "replicaset"
    component = "replicaset-controller"
    watches = ("ReplicaSet", "Pod")

    def reconcile(self, ctx) -> None:
        for rs in affected(ctx, "apps/v1", "ReplicaSet", "Pod"):
            sync_replica_set(ctx, rs, self.backoff)
        live = {rs["metadata"]["uid"] for rs in ctx.cluster.list("apps/v1", "ReplicaSet")}
        for uid in set(self.backoff) - live:
            del self.backoff[uid]

    def __init__(self) -> None:
        # ReplicaSet uid -> (failed creates in a row, no retry before)
        self.backoff: dict[str, tuple[int, datetime]] = {}


def sync_replica_set(ctx, rs: dict, backoff: dict | None = None) -> None:
    cluster, now = ctx.cluster, ctx.clock.now()
    spec = rs.get("spec") or {}
    pods = [p for p in owned(cluster, "v1", "Pod", rs) if is_active(p)]
    failure = None
    backoff = {} if backoff is None else backoff
    uid = rs["metadata"]["uid"]
    if not rs["metadata"].get("deletionTimestamp"):
        diff = len(pods) - int(spec.get("replicas", 1))
        failures, due = backoff.get(uid, (0, now))
        if diff < 0 and now < due:
            # a create failed recently: retry with exponential back-off, like the work queue
            requeue(ctx, (due - now).total_seconds())
        elif diff < 0:
            pods, failure = create_pods(ctx, rs, pods, -diff)
            if failure is None:
                backoff.pop(uid, None)
            else:
                delay = min(BACKOFF_BASE * 2**failures, BACKOFF_MAX)
                backoff[uid] = (failures + 1, now + timedelta(seconds=delay))
                requeue(ctx, delay)
        elif diff > 0:
            doomed = sorted(pods, key=lambda p: deletion_rank(p, now))[:diff]
            for pod in doomed:
                name = pod["metadata"]["name"]
                ignore_gone(cluster.delete, "v1", "Pod", name, pod["metadata"]["namespace"])
                record(ctx, rs, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")
            gone = {id(p) for p in doomed}
            pods = [p for p in pods if id(p) not in gone]
    status = replica_set_status(ctx, rs, pods, now)
    conditions = (rs.get("status") or {}).get("conditions") or []
    if failure is not None and not any(c.get("type") == "ReplicaFailure" for c in conditions):
        # the first failure's message stays until the ReplicaSet is whole again
        conditions = set_condition(
            conditions, "ReplicaFailure", "True", "FailedCreate", failure, now
        )
    elif len(pods) == int(spec.get("replicas", 1)):
        conditions = remove_condition(conditions, "ReplicaFailure")
    status.pop("conditions", None)
    if conditions:
        status["conditions"] = conditions
    write_status(cluster, rs, status)


def create_pods(ctx, rs: dict, pods: list[dict], count: int) -> tuple[list[dict], str | None]:
    """Create up to count pods; (pods, the failure message of a refused create or None)."""
    template = (rs.get("spec") or {}).get("template") or {}
    for _ in range(count):
        try:
            pod = ctx.cluster.create(pod_from_template(template, rs), MANAGER)
        except errors.ApiError as exc:
            if exc.code == 409:
                continue
            message = exc.status.get("message", str(exc)) if isinstance(exc.status, dict) else ""
            record(ctx, rs, "Warning", "FailedCreate", f"Error creating: {message}")
            return pods, message
        pods.append(pod)
        record(ctx, rs, "Normal", "SuccessfulCreate", f"Created pod: {pod_name(pod)}")
    return pods, None


def pod_name(pod: dict) -> str:
    return pod["metadata"]["name"]


def replica_set_status(ctx, rs: dict, pods: list[dict], now: datetime) -> dict:
    spec = rs.get("spec") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    fully = ready = available = 0
    for pod in pods:
        labels = pod["metadata"].get("labels") or {}
        if all(labels.get(k) == v for k, v in template_labels.items()):
            fully += 1
        if is_ready(pod):
            ready += 1
            if is_available(pod, min_ready, now):
                available += 1
            elif min_ready:
                since = ready_since(pod)
                if since is not None:
                    wait = min_ready - (now - since).total_seconds()
                    requeue(ctx, max(wait, 1))
    status: dict = {"replicas": len(pods)}
    if fully:
        status["fullyLabeledReplicas"] = fully
    if ready:
        status["readyReplicas"] = ready
    if available:
        status["availableReplicas"] = available
    status["observedGeneration"] = rs["metadata"].get("generation", 1)
    return status


def deletion_rank(pod: dict, now: datetime) -> tuple:
    """controller.ActivePods ordering: the pod to delete first sorts first."""
    status = pod.get("status") or {}
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(status.get("phase"), 0)
    since = ready_since(pod) if is_ready(pod) else None
    restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or ())
    created = parse_time(pod["metadata"].get("creationTimestamp"))
    return (
        1 if (pod.get("spec") or {}).get("nodeName") else 0,
        phase_rank,
        1 if is_ready(pod) else 0,
        -(since.timestamp() if since else 0),  # ready for less time first
        -restarts,
        -(created.timestamp() if created else 0),  # newer first
        pod["metadata"]["name"],
    )


# -- Deployment ----------------------------------------------------------------------------


class DeploymentController(Controller):
    name = "deployment"
    component = "deployment-controller"
    watches = ("Deployment", "ReplicaSet", "Pod")

    def reconcile(self, ctx) -> None:
        deployments = affected(ctx, "apps/v1", "Deployment", "ReplicaSet")
        seen = {(d["metadata"]["namespace"], d["metadata"]["name"]) for d in deployments}
        for d in recreating_after_pod_deletions(ctx):
            key = (d["metadata"]["namespace"], d["metadata"]["name"])
            if key not in seen:
                seen.add(key)
                deployments.append(d)
        for d in deployments:
            try:
                Sync(ctx, d).run()
            except errors.ApiError as exc:
                if exc.code not in (404, 409):
                    raise


def recreating_after_pod_deletions(ctx) -> list[dict]:
    """Recreate Deployments whose old pods were just deleted (the controller's deletePod).

    A Recreate rollout waits until every old pod is gone, and a pod that goes away
    changes no ReplicaSet (it stopped counting when it became Terminating), so the
    deletion itself must wake the Deployment, as in kube-controller-manager.
    """
    cluster = ctx.cluster
    rs_key = cluster.resource("apps/v1", "ReplicaSet").key
    d_key = cluster.resource("apps/v1", "Deployment").key
    out: dict[tuple[str, str], dict] = {}
    for event in ctx.changed("Pod"):
        if event.type != DELETED:
            continue
        ref = controller_of(event.obj)
        if ref is None or ref.get("kind") != "ReplicaSet":
            continue
        rs = cluster.store.get(rs_key, event.namespace, ref.get("name", ""))
        if rs is None or rs["metadata"].get("uid") != ref.get("uid"):
            continue
        owner = controller_of(rs)
        if owner is None or owner.get("kind") != "Deployment":
            continue
        d = cluster.store.get(d_key, event.namespace, owner.get("name", ""))
        if d is None or d["metadata"].get("uid") != owner.get("uid"):
            continue
        if ((d.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            out[(event.namespace, d["metadata"]["name"])] = d
    return list(out.values())


def revision(obj: dict) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, 0))
    except ValueError:
        return 0


def replicas(rs: dict | None) -> int:
    return int(((rs or {}).get("spec") or {}).get("replicas", 0) or 0) if rs else 0


def status_of(rs: dict | None, field: str) -> int:
    return int(((rs or {}).get("status") or {}).get(field, 0) or 0) if rs else 0


def created_key(rs: dict) -> tuple:
    # creation times have whole seconds: the revision orders ReplicaSets of one second
    return (rs["metadata"].get("creationTimestamp", ""), revision(rs), rs["metadata"]["name"])


def strip_hash(template: dict) -> dict:
    t = copy.deepcopy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


def fenceposts(d: dict) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against spec.replicas (ResolveFenceposts)."""
    spec = d["spec"]
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    desired = int(spec.get("replicas", 1))
    surge = int_or_percent(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = int_or_percent(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(d: dict) -> int:
    desired = int(d["spec"].get("replicas", 1))
    if (d["spec"].get("strategy") or {}).get("type") == "Recreate" or desired == 0:
        return 0
    return min(fenceposts(d)[1], desired)


class Sync:
    """One pass of the deployment controller's syncDeployment for one Deployment."""

    def __init__(self, ctx, d: dict):
        self.ctx, self.cluster, self.now = ctx, ctx.cluster, ctx.clock.now()
        self.d = d
        self.desired = int(d["spec"].get("replicas", 1))

    # -- entry -------------------------------------------------------------------------

    def run(self) -> None:
        d = self.d
        spec = d["spec"]
        if not selector_from_object(spec.get("selector")):
            return
        if d["metadata"].get("deletionTimestamp"):
            new_rs, old = self.split(create=False)
            self.sync_status(new_rs, old, rollout=False)
            return
        self.check_paused()
        if spec.get("paused"):
            self.sync_scale()
            return
        if self.scaling_event():
            self.sync_scale()
            return
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            self.recreate()
        else:
            self.rolling_update()

    def replica_sets(self) -> list[dict]:
        return owned(self.cluster, "apps/v1", "ReplicaSet", self.d)

    # -- new and old ReplicaSets -------------------------------------------------------

    def split(self, create: bool) -> tuple[dict | None, list[dict]]:
        """getAllReplicaSetsAndSyncRevision: (new ReplicaSet or None, old ReplicaSets)."""
        rss = sorted(self.replica_sets(), key=created_key)
        template = self.d["spec"].get("template") or {}
        new_rs = next(
            (rs for rs in rss if strip_hash(rs["spec"].get("template")) == template), None
        )
        old = [rs for rs in rss if rs is not new_rs]
        max_old = max((revision(rs) for rs in old), default=0)
        next_revision = max_old + 1
        if new_rs is not None:
            new_rs = self.sync_new_annotations(new_rs, next_revision)
            if new_rs is None:
                return None, old
            rev = revision(new_rs)
            if condition(self.d, "Progressing") is None:
                name = new_rs["metadata"]["name"]
                self.set_progressing(
                    "True", "FoundNewReplicaSet", f'Found new replica set "{name}"'
                )
        elif create:
            new_rs = self.create_new(template, next_revision, rss)
            if new_rs is None:
                return None, old
            rev = next_revision
        else:
            return None, old
        self.set_deployment_revision(str(rev))
        return new_rs, old

    def sync_new_annotations(self, rs: dict, next_revision: int) -> dict | None:
        updated = copy.deepcopy(rs)
        meta = updated["metadata"]
        annotations = meta.setdefault("annotations", {})
        self.copy_annotations(annotations)
        old_rev = annotations.get(REVISION, "")
        if revision(rs) < next_revision:
            annotations[REVISION] = str(next_revision)
            if old_rev:
                history = annotations.get(REVISION_HISTORY)
                annotations[REVISION_HISTORY] = f"{history},{old_rev}" if history else old_rev
        if DESIRED_REPLICAS not in annotations:
            annotations[DESIRED_REPLICAS] = str(self.desired)
            annotations[MAX_REPLICAS] = str(self.desired + fenceposts(self.d)[0])
        min_ready = self.d["spec"].get("minReadySeconds") or 0
        if (updated["spec"].get("minReadySeconds") or 0) != min_ready:
            updated["spec"]["minReadySeconds"] = min_ready
        if updated == rs:
            return rs
        return ignore_gone(self.cluster.update, updated, MANAGER)

    def copy_annotations(self, annotations: dict) -> None:
        for key, value in (self.d["metadata"].get("annotations") or {}).items():
            if key not in NOT_COPIED:
                annotations[key] = value

    def create_new(self, template: dict, rev: int, rss: list[dict]) -> dict | None:
        d = self.d
        collisions = int((d.get("status") or {}).get("collisionCount") or 0)
        pod_hash = compute_hash(template, collisions)
        name = f"{d['metadata']['name']}-{pod_hash}"
        new_template = copy.deepcopy(template)
        new_template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = copy.deepcopy(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        surge = fenceposts(d)[0]
        count = self.new_rs_replicas(rss, None)
        annotations: dict = {}
        self.copy_annotations(annotations)
        annotations.update(
            {
                DESIRED_REPLICAS: str(self.desired),
                MAX_REPLICAS: str(self.desired + surge),
                REVISION: str(rev),
            }
        )
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": d["metadata"]["namespace"],
                "labels": dict(new_template["metadata"]["labels"]),
                "annotations": annotations,
                "ownerReferences": [owner_ref(d)],
            },
            "spec": {
                "replicas": count,
                "minReadySeconds": d["spec"].get("minReadySeconds") or 0,
                "selector": selector,
                "template": new_template,
            },
        }
        try:
            created = self.cluster.create(rs, MANAGER)
        except errors.ApiError as exc:
            if exc.code != 409:
                raise
            # a hash collision with a ReplicaSet of another template: count it and retry later
            existing = self.cluster.store.get(
                self.cluster.resource("apps/v1", "ReplicaSet").key,
                rs["metadata"]["namespace"],
                name,
            )
            if existing is not None and strip_hash(existing["spec"]["template"]) != template:
                status = copy.deepcopy(d.get("status") or {})
                status["collisionCount"] = collisions + 1
                write_status(self.cluster, d, status)
            return None
        if count > 0:
            record(
                self.ctx,
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {name} from 0 to {count}",
            )
        self.set_progressing(
            "True", "NewReplicaSetCreated", f'Created new replica set "{name}"', force=True
        )
        return created

    def set_deployment_revision(self, rev: str) -> None:
        annotations = self.d["metadata"].get("annotations") or {}
        if annotations.get(REVISION) == rev:
            return
        try:
            if int(annotations.get(REVISION, 0)) > int(rev):
                return
        except ValueError:
            pass
        updated = copy.deepcopy(self.d)
        updated["metadata"].setdefault("annotations", {})[REVISION] = rev
        stored = ignore_gone(self.cluster.update, updated, MANAGER)
        if stored is not None:
            self.d = stored

    # -- scaling -----------------------------------------------------------------------

    def scale_rs(self, rs: dict, count: int, operation: str | None = None) -> tuple[bool, dict]:
        """scaleReplicaSet: set replicas and the desired/max annotations; (scaled, rs)."""
        surge = fenceposts(self.d)[0]
        annotations = rs["metadata"].get("annotations") or {}
        wanted = {DESIRED_REPLICAS: str(self.desired), MAX_REPLICAS: str(self.desired + surge)}
        size_changes = replicas(rs) != count
        if not size_changes and all(annotations.get(k) == v for k, v in wanted.items()):
            return False, rs
        updated = copy.deepcopy(rs)
        updated["spec"]["replicas"] = count
        updated["metadata"].setdefault("annotations", {}).update(wanted)
        stored = ignore_gone(self.cluster.update, updated, MANAGER)
        if stored is None:
            return False, rs
        if size_changes:
            op = operation or ("up" if count > replicas(rs) else "down")
            record(
                self.ctx,
                self.d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled {op} replica set {rs['metadata']['name']} from {replicas(rs)} to {count}",
            )
        return size_changes, stored

    def new_rs_replicas(self, all_rss: list[dict], new_rs: dict | None) -> int:
        """NewRSNewReplicas."""
        if (self.d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return self.desired
        surge = fenceposts(self.d)[0]
        current = sum(replicas(rs) for rs in all_rss)
        max_total = self.desired + surge
        if current >= max_total:
            return replicas(new_rs)
        up = min(max_total - current, self.desired - replicas(new_rs))
        return replicas(new_rs) + max(up, 0)

    def scaling_event(self) -> bool:
        new_rs, old = self.split(create=False)
        for rs in [*old, *([new_rs] if new_rs else [])]:
            if replicas(rs) <= 0:
                continue
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
            if desired is None or desired != str(self.desired):
                return True
        return False

    def sync_scale(self) -> None:
        """sync: scaling (and cleanup when paused) without rolling out a new template."""
        new_rs, old = self.split(create=False)
        self.scale(new_rs, old)
        if self.d["spec"].get("paused"):
            self.cleanup(self.split(create=False)[1])
        new_rs, old = self.split(create=False)
        self.sync_status(new_rs, old, rollout=False)

    def scale(self, new_rs: dict | None, old: list[dict]) -> None:
        active = [rs for rs in old if replicas(rs) > 0]
        if new_rs is None and not active:
            if old:
                latest = max(old, key=created_key)
                self.scale_rs(latest, self.desired)
            return
        candidates = [*active] + ([new_rs] if new_rs and replicas(new_rs) > 0 else [])
        if len(candidates) <= 1:
            target = candidates[0] if candidates else new_rs
            if target is not None:
                self.scale_rs(target, self.desired)
            return
        if (
            new_rs is not None
            and replicas(new_rs) == self.desired
            and status_of(new_rs, "availableReplicas") == self.desired
        ):
            for rs in active:
                self.scale_rs(rs, 0)
            return
        if (self.d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return
        self.proportional(candidates, new_rs)

    def proportional(self, rss: list[dict], new_rs: dict | None) -> None:
        surge = fenceposts(self.d)[0]
        allowed = self.desired + surge if self.desired > 0 else 0
        total = sum(replicas(rs) for rs in rss)
        to_add = allowed - total
        if to_add == 0:
            return
        if to_add > 0:
            ordered = sorted(rss, key=lambda rs: (-replicas(rs), _neg_created(rs)))
        else:
            ordered = sorted(rss, key=lambda rs: (-replicas(rs), created_key(rs)))
        sizes = {}
        added = 0
        for rs in ordered:
            name = rs["metadata"]["name"]
            if to_add == added:
                sizes[name] = replicas(rs)
                continue
            try:
                annotated = int((rs["metadata"].get("annotations") or {})[MAX_REPLICAS])
            except (KeyError, ValueError):
                annotated = total
            fraction = round(replicas(rs) * allowed / annotated) - replicas(rs) if annotated else 0
            left = to_add - added
            share = min(fraction, left) if to_add > 0 else max(fraction, left)
            sizes[name] = replicas(rs) + share
            added += share
        if added != to_add and ordered:
            first = ordered[0]["metadata"]["name"]
            sizes[first] = max(sizes[first] + to_add - added, 0)
        for rs in ordered:
            self.scale_rs(rs, max(sizes[rs["metadata"]["name"]], 0))

    # -- strategies --------------------------------------------------------------------

    def rolling_update(self) -> None:
        new_rs, old = self.split(create=True)
        if new_rs is None:
            return
        all_rss = [*old, new_rs]
        if self.reconcile_new(all_rss, new_rs):
            self.sync_status(*self.split(create=False), rollout=True)
            return
        if self.reconcile_old(all_rss, old, new_rs):
            self.sync_status(*self.split(create=False), rollout=True)
            return
        new_rs, old = self.split(create=False)
        status = self.calculate_status(new_rs, old)
        if self.complete(status):
            self.cleanup(old)
        self.sync_status(*self.split(create=False), rollout=True)

    def reconcile_new(self, all_rss: list[dict], new_rs: dict) -> bool:
        if replicas(new_rs) == self.desired:
            return False
        if replicas(new_rs) > self.desired:
            return self.scale_rs(new_rs, self.desired, "down")[0]
        count = self.new_rs_replicas(all_rss, new_rs)
        return self.scale_rs(new_rs, count, "up")[0]

    def reconcile_old(self, all_rss: list[dict], old: list[dict], new_rs: dict) -> bool:
        if sum(replicas(rs) for rs in old) == 0:
            return False
        all_pods = sum(replicas(rs) for rs in all_rss)
        min_available = self.desired - max_unavailable(self.d)
        new_unavailable = replicas(new_rs) - status_of(new_rs, "availableReplicas")
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        old = sorted(old, key=created_key)
        cleaned = 0
        current = []
        for rs in old:
            if cleaned >= max_scaled_down or replicas(rs) == 0:
                current.append(rs)
                continue
            unhealthy = replicas(rs) - status_of(rs, "availableReplicas")
            if unhealthy <= 0:
                current.append(rs)
                continue
            down = min(max_scaled_down - cleaned, unhealthy)
            _, rs = self.scale_rs(rs, replicas(rs) - down, "down")
            cleaned += down
            current.append(rs)
        all_now = [*current, new_rs]
        available = sum(status_of(rs, "availableReplicas") for rs in all_now)
        scaled = 0
        if available > min_available:
            total_down = available - min_available
            for rs in current:
                if scaled >= total_down:
                    break
                if replicas(rs) == 0:
                    continue
                down = min(replicas(rs), total_down - scaled)
                self.scale_rs(rs, replicas(rs) - down, "down")
                scaled += down
        return cleaned + scaled > 0

    def recreate(self) -> None:
        new_rs, old = self.split(create=False)
        scaled = False
        for rs in old:
            if replicas(rs) > 0:
                scaled |= self.scale_rs(rs, 0, "down")[0]
        if scaled:
            self.sync_status(*self.split(create=False), rollout=True)
            return
        if self.old_pods_running(old):
            self.sync_status(new_rs, old, rollout=True)
            return
        if new_rs is None:
            new_rs, old = self.split(create=True)
            if new_rs is None:
                return
        self.scale_rs(new_rs, self.desired, "up")
        new_rs, old = self.split(create=False)
        if self.complete(self.calculate_status(new_rs, old)):
            self.cleanup(old)
        self.sync_status(*self.split(create=False), rollout=True)

    def old_pods_running(self, old: list[dict]) -> bool:
        if sum(status_of(rs, "replicas") for rs in old) > 0:
            return True
        for rs in old:
            for pod in owned(self.cluster, "v1", "Pod", rs):
                if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                    return True
        return False

    def cleanup(self, old: list[dict]) -> None:
        limit = self.d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [rs for rs in old if not rs["metadata"].get("deletionTimestamp")]
        diff = len(alive) - int(limit)
        if diff <= 0:
            return
        for rs in sorted(alive, key=lambda r: (revision(r), created_key(r)))[:diff]:
            meta = rs["metadata"]
            if status_of(rs, "replicas") or replicas(rs):
                continue
            if meta.get("generation", 1) > status_of(rs, "observedGeneration"):
                continue
            ignore_gone(
                self.cluster.delete, "apps/v1", "ReplicaSet", meta["name"], meta["namespace"]
            )

    # -- status ------------------------------------------------------------------------

    def calculate_status(self, new_rs: dict | None, old: list[dict]) -> dict:
        all_rss = [*old, *([new_rs] if new_rs else [])]
        available = sum(status_of(rs, "availableReplicas") for rs in all_rss)
        previous = self.d.get("status") or {}
        status: dict = {"observedGeneration": self.d["metadata"].get("generation", 1)}
        counts = {
            "replicas": sum(status_of(rs, "replicas") for rs in all_rss),
            "updatedReplicas": status_of(new_rs, "replicas"),
            "readyReplicas": sum(status_of(rs, "readyReplicas") for rs in all_rss),
            "availableReplicas": available,
            "unavailableReplicas": max(self.desired - available, 0),
        }
        status.update({k: v for k, v in counts.items() if v})
        if previous.get("collisionCount") is not None:
            status["collisionCount"] = previous["collisionCount"]
        conditions = list(previous.get("conditions") or [])
        if available >= self.desired - max_unavailable(self.d):
            conditions = set_condition(
                conditions,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                self.now,
                update_time=True,
            )
        else:
            conditions = set_condition(
                conditions,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                self.now,
                update_time=True,
            )
        status["conditions"] = _ordered(conditions)
        return status

    def complete(self, status: dict) -> bool:
        """DeploymentComplete."""
        return (
            status.get("updatedReplicas", 0) == self.desired
            and status.get("replicas", 0) == self.desired
            and status.get("availableReplicas", 0) == self.desired
            and status.get("observedGeneration", 0) >= self.d["metadata"].get("generation", 1)
        )

    def progressing(self, status: dict) -> bool:
        """DeploymentProgressing: the new status shows progress over the stored one."""
        old = self.d.get("status") or {}

        def old_replicas(s: dict) -> int:
            return s.get("replicas", 0) - s.get("updatedReplicas", 0)

        return (
            status.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
            or old_replicas(status) < old_replicas(old)
            or status.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or status.get("availableReplicas", 0) > old.get("availableReplicas", 0)
        )

    def timed_out(self, status: dict) -> bool:
        cond = condition(status_holder(status), "Progressing")
        if cond is None:
            return False
        if cond.get("reason") == "ProgressDeadlineExceeded":
            return True
        if cond.get("reason") == "NewReplicaSetAvailable":
            return False
        since = parse_time(cond.get("lastUpdateTime"))
        deadline = int(self.d["spec"].get("progressDeadlineSeconds") or MAX_INT32)
        if since is None:
            return False
        left = deadline - (self.now - since).total_seconds()
        if left > 0:
            requeue(self.ctx, left + 1)
        return left < 0

    def sync_status(self, new_rs: dict | None, old: list[dict], rollout: bool) -> None:
        status = self.calculate_status(new_rs, old)
        failure = next(
            (c for rs in [new_rs, *old] if rs for c in [condition(rs, "ReplicaFailure")] if c),
            None,
        )
        if failure is not None:
            status["conditions"] = set_condition(
                status["conditions"],
                "ReplicaFailure",
                failure.get("status", "True"),
                failure.get("reason", "FailedCreate"),
                failure.get("message", ""),
                self.now,
                update_time=True,
            )
        else:
            status["conditions"] = remove_condition(status["conditions"], "ReplicaFailure")
        deadline = self.d["spec"].get("progressDeadlineSeconds")
        has_deadline = deadline is not None and int(deadline) != MAX_INT32
        if rollout and not has_deadline:
            status["conditions"] = remove_condition(status["conditions"], "Progressing")
        current = condition(status_holder(status), "Progressing")
        complete_already = (
            status.get("replicas", 0) == status.get("updatedReplicas", 0)
            and current is not None
            and current.get("reason") == "NewReplicaSetAvailable"
        )
        if rollout and has_deadline and not complete_already:
            name = new_rs["metadata"]["name"] if new_rs else None
            if self.complete(status):
                message = (
                    f'ReplicaSet "{name}" has successfully progressed.'
                    if name
                    else f'Deployment "{self.d["metadata"]["name"]}" has successfully progressed.'
                )
                status["conditions"] = self.progressing_condition(
                    status["conditions"], "True", "NewReplicaSetAvailable", message, force=True
                )
            elif self.progressing(status):
                message = (
                    f'ReplicaSet "{name}" is progressing.'
                    if name
                    else f'Deployment "{self.d["metadata"]["name"]}" is progressing.'
                )
                status["conditions"] = self.progressing_condition(
                    status["conditions"], "True", "ReplicaSetUpdated", message, force=True
                )
            elif self.timed_out(status):
                message = (
                    f'ReplicaSet "{name}" has timed out progressing.'
                    if name
                    else f'Deployment "{self.d["metadata"]["name"]}" has timed out progressing.'
                )
                status["conditions"] = self.progressing_condition(
                    status["conditions"], "False", "ProgressDeadlineExceeded", message
                )
        status["conditions"] = _ordered(status["conditions"])
        stored = write_status(self.cluster, self.d, status)
        if stored is not None:
            self.d = stored

    def progressing_condition(
        self, conditions: list[dict], status: str, reason: str, message: str, force=False
    ) -> list[dict]:
        current = next((c for c in conditions if c.get("type") == "Progressing"), None)
        if (
            current is not None
            and (current.get("status"), current.get("reason"), current.get("message"))
            == (status, reason, message)
            and not (force and reason == "ReplicaSetUpdated")
        ):
            return conditions
        stamp = fmt_time(self.now)
        transition = stamp
        if current is not None and current.get("status") == status:
            transition = current.get("lastTransitionTime", stamp)
        new = {
            "type": "Progressing",
            "status": status,
            "lastUpdateTime": stamp,
            "lastTransitionTime": transition,
            "reason": reason,
            "message": message,
        }
        return [*remove_condition(conditions, "Progressing"), new]

    def set_progressing(self, status: str, reason: str, message: str, force=False) -> None:
        """Write the Progressing condition at once (new ReplicaSet created, paused...)."""
        deadline = self.d["spec"].get("progressDeadlineSeconds")
        if reason not in ("DeploymentPaused", "DeploymentResumed") and (
            deadline is None or int(deadline) == MAX_INT32
        ):
            return
        current = dict(self.d.get("status") or {})
        conditions = self.progressing_condition(
            list(current.get("conditions") or []), status, reason, message, force
        )
        current["conditions"] = _ordered(conditions)
        stored = write_status(self.cluster, self.d, current)
        if stored is not None:
            self.d = stored

    def check_paused(self) -> None:
        cond = condition(self.d, "Progressing")
        paused = bool(self.d["spec"].get("paused"))
        if paused and (cond is None or cond.get("reason") != "DeploymentPaused"):
            self.set_progressing("Unknown", "DeploymentPaused", "Deployment is paused")
        elif not paused and cond is not None and cond.get("reason") == "DeploymentPaused":
            self.set_progressing("Unknown", "DeploymentResumed", "Deployment is resumed")


def status_holder(status: dict) -> dict:
    return {"status": status}


def _ordered(conditions: list[dict]) -> list[dict]:
    """Available before Progressing, as the controller appends them on a fresh object."""
    order = {"Available": 0, "Progressing": 1, "ReplicaFailure": 2}
    return sorted(conditions, key=lambda c: order.get(c.get("type"), 3))


def _neg_created(rs: dict) -> tuple:
    # newest first: invert the timestamp string ordering
    stamp = parse_time(rs["metadata"].get("creationTimestamp"))
    return (-(stamp.timestamp() if stamp else 0), -revision(rs), rs["metadata"]["name"])


CONTROLLERS = [DeploymentController, ReplicaSetController]
