"""The StatefulSet controller, after kube-controller-manager v1.32.

Pods `<set>-<ordinal>` (from spec.ordinals.start) with hostname and subdomain, the
`statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index` and
`controller-revision-hash` (the ControllerRevision's name) labels. Each
volumeClaimTemplate becomes a PVC `<template>-<set>-<ordinal>` created before its pod and
mounted in place of the template's volume (an owner reference to the set when
persistentVolumeClaimRetentionPolicy.whenDeleted is Delete). OrderedReady creates pods
one at a time in ordinal order, each waiting for the previous to be Running and Ready,
and removes them from the highest ordinal down; Parallel does all at once. Templates are
versioned with ControllerRevisions; RollingUpdate replaces pods from the highest ordinal
down to the partition, one at a time (pods below the partition are recreated at the
current revision), OnDelete only when a pod is deleted. Status: replicas, readyReplicas,
availableReplicas, currentReplicas, updatedReplicas, currentRevision, updateRevision,
observedGeneration, collisionCount.

Simplified: no maxUnavailable (alpha), whenScaled retention is not applied.
"""

from __future__ import annotations

import copy

from kubesim.runtime.controllers.base import Controller
from kubesim.runtime.controllers.common import (
    TERMINAL,
    affected,
    ignore_gone,
    is_active,
    is_available,
    is_ready,
    owned,
    owner_reference,
    pod_from_template,
    record,
    requeue,
    sync_revisions,
    truncate_history,
    write_status,
)
from kubesim.storage import errors

MANAGER = "kube-controller-manager"
HASH_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def ordinal(pod: dict, set_name: str) -> int | None:
    name = pod["metadata"]["name"]
    prefix, _, suffix = name.rpartition("-")
    if prefix != set_name or not suffix.isdigit():
        return None
    return int(suffix)


def claim_name(template: dict, set_name: str, ordinal_: int) -> str:
    return f"{template['metadata']['name']}-{set_name}-{ordinal_}"


class StatefulSetController(Controller):
    name = "statefulset"
    component = "statefulset-controller"
    watches = ("StatefulSet", "Pod", "ControllerRevision")

    def reconcile(self, ctx) -> None:
        for sts in affected(ctx, "apps/v1", "StatefulSet", "Pod", "ControllerRevision"):
            try:
                SetSync(ctx, sts).run()
            except errors.ApiError as exc:
                if exc.code not in (404, 409):
                    raise


class SetSync:
    def __init__(self, ctx, sts: dict):
        self.ctx, self.cluster, self.now = ctx, ctx.cluster, ctx.clock.now()
        self.sts = sts
        self.spec = sts.get("spec") or {}
        self.name = sts["metadata"]["name"]
        self.min_ready = int(self.spec.get("minReadySeconds") or 0)

    def run(self) -> None:
        sts = self.sts
        if sts["metadata"].get("deletionTimestamp"):
            return
        labels = ((self.spec.get("template") or {}).get("metadata") or {}).get("labels")
        update_rev, revisions = sync_revisions(self.cluster, sts, labels)
        status = sts.get("status") or {}
        by_name = {r["metadata"]["name"]: r for r in revisions}
        current_rev = by_name.get(status.get("currentRevision") or "") or update_rev
        self.update_name = update_rev["metadata"]["name"]
        self.current_name = current_rev["metadata"]["name"]
        self.templates = {
            self.update_name: self.spec.get("template") or {},
            self.current_name: _template_of(current_rev),
        }
        self.manage()
        pods = self.pods()
        in_use = {(p["metadata"].get("labels") or {}).get(HASH_LABEL) for p in pods}
        in_use |= {self.update_name, self.current_name}
        truncate_history(
            self.cluster, revisions, in_use, int(self.spec.get("revisionHistoryLimit", 10))
        )
        self.write(pods)

    # -- pods --------------------------------------------------------------------------

    def pods(self) -> list[dict]:
        return [
            p
            for p in owned(self.cluster, "v1", "Pod", self.sts)
            if ordinal(p, self.name) is not None
        ]

    def revision_for(self, ord_: int) -> str:
        """newVersionedStatefulSetPod: below the partition, pods stay at the current revision."""
        strategy = self.spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
            if ord_ - self.start < partition:
                return self.current_name
        return self.update_name

    @property
    def start(self) -> int:
        return int((self.spec.get("ordinals") or {}).get("start") or 0)

    def manage(self) -> None:
        replicas = int(self.spec.get("replicas", 1))
        wanted = range(self.start, self.start + replicas)
        parallel = self.spec.get("podManagementPolicy") == "Parallel"
        pods = {ordinal(p, self.name): p for p in self.pods()}
        # failed pods are deleted and recreated
        for ord_, pod in list(pods.items()):
            if (pod.get("status") or {}).get("phase") == "Failed":
                self.delete_pod(pod)
                del pods[ord_]
        for ord_ in wanted:
            pod = pods.get(ord_)
            if pod is None:
                self.create_pod(ord_)
                if not parallel:
                    return
                continue
            if not is_active(pod):
                if not parallel:
                    return
                continue
            if not parallel and not self.healthy(pod):
                return
        # scale down: highest ordinal first
        extra = sorted((o for o in pods if o not in wanted), reverse=True)
        for ord_ in extra:
            if not is_active(pods[ord_]):
                # already terminating: wait for it to go (one at a time unless Parallel)
                if not parallel:
                    return
                continue
            if not parallel and not all(
                self.healthy(p) for o, p in pods.items() if o in wanted or o < ord_
            ):
                return
            self.delete_pod(pods[ord_])
            if not parallel:
                return
        self.rolling_update(pods, wanted)

    def healthy(self, pod: dict) -> bool:
        if pod["metadata"].get("deletionTimestamp"):
            return False
        running = (pod.get("status") or {}).get("phase") == "Running"
        if not (running and is_ready(pod)):
            return False
        if self.min_ready and not is_available(pod, self.min_ready, self.now):
            requeue(self.ctx, self.min_ready)
            return False
        return True

    def rolling_update(self, pods: dict[int, dict], wanted: range) -> None:
        strategy = self.spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        if not all(o in pods and self.healthy(pods[o]) for o in wanted):
            return
        for ord_ in sorted(wanted, reverse=True):
            pod = pods[ord_]
            want = self.revision_for(ord_)
            if (pod["metadata"].get("labels") or {}).get(HASH_LABEL) != want:
                self.delete_pod(pod)
                return

    def create_pod(self, ord_: int) -> None:
        revision = self.revision_for(ord_)
        template = copy.deepcopy(self.templates[revision])
        pod_name = f"{self.name}-{ord_}"
        pod = pod_from_template(
            template,
            self.sts,
            name=pod_name,
            labels={
                HASH_LABEL: revision,
                POD_NAME_LABEL: pod_name,
                POD_INDEX_LABEL: str(ord_),
            },
        )
        spec = pod["spec"]
        spec["hostname"] = pod_name
        if self.spec.get("serviceName"):
            spec["subdomain"] = self.spec["serviceName"]
        claims = self.spec.get("volumeClaimTemplates") or []
        volumes = [
            v
            for v in spec.get("volumes") or []
            if v.get("name") not in {c["metadata"]["name"] for c in claims}
        ]
        for claim in claims:
            cname = claim_name(claim, self.name, ord_)
            if not self.ensure_claim(claim, cname, pod_name):
                return
            volumes.append(
                {"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": cname}}
            )
        if volumes:
            spec["volumes"] = volumes
        try:
            self.cluster.create(pod, MANAGER)
        except errors.ApiError as exc:
            if exc.code in (404, 409):
                return
            message = exc.status.get("message", str(exc))
            record(
                self.ctx,
                self.sts,
                "Warning",
                "FailedCreate",
                f"create Pod {pod_name} in StatefulSet {self.name} failed error: {message}",
            )
            return
        record(
            self.ctx,
            self.sts,
            "Normal",
            "SuccessfulCreate",
            f"create Pod {pod_name} in StatefulSet {self.name} successful",
        )

    def ensure_claim(self, template: dict, name: str, pod_name: str) -> bool:
        ns = self.sts["metadata"]["namespace"]
        if self.cluster.store.get(("", "persistentvolumeclaims"), ns, name) is not None:
            return True
        tmeta = template.get("metadata") or {}
        labels = {
            **((self.spec.get("selector") or {}).get("matchLabels") or {}),
            **(tmeta.get("labels") or {}),
        }
        meta: dict = {"name": name, "namespace": ns}
        if labels:
            meta["labels"] = labels
        if tmeta.get("annotations"):
            meta["annotations"] = dict(tmeta["annotations"])
        policy = self.spec.get("persistentVolumeClaimRetentionPolicy") or {}
        if policy.get("whenDeleted") == "Delete":
            meta["ownerReferences"] = [owner_reference(self.sts, controller=True)]
        claim = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta,
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
        try:
            self.cluster.create(claim, MANAGER)
        except errors.ApiError as exc:
            if exc.code == 409:
                return True
            message = exc.status.get("message", str(exc))
            record(
                self.ctx,
                self.sts,
                "Warning",
                "FailedCreate",
                f"create Claim {name} for Pod {pod_name} in StatefulSet {self.name} "
                f"failed error: {message}",
            )
            return False
        record(
            self.ctx,
            self.sts,
            "Normal",
            "SuccessfulCreate",
            f"create Claim {name} Pod {pod_name} in StatefulSet {self.name} success",
        )
        return True

    def delete_pod(self, pod: dict) -> None:
        meta = pod["metadata"]
        if ignore_gone(self.cluster.delete, "v1", "Pod", meta["name"], meta["namespace"]):
            record(
                self.ctx,
                self.sts,
                "Normal",
                "SuccessfulDelete",
                f"delete Pod {meta['name']} in StatefulSet {self.name} successful",
            )

    # -- status ------------------------------------------------------------------------

    def write(self, pods: list[dict]) -> None:
        # computeReplicaStatus: replicas and readiness count terminating pods too (they
        # are still there), current and updated replicas do not
        created = [p for p in pods if (p.get("status") or {}).get("phase") not in TERMINAL]
        active = [p for p in pods if is_active(p)]
        counts = {"replicas": len(created), "readyReplicas": 0, "availableReplicas": 0}
        current = updated = 0
        for pod in created:
            if is_ready(pod):
                counts["readyReplicas"] += 1
                if is_available(pod, self.min_ready, self.now):
                    counts["availableReplicas"] += 1
        for pod in active:
            rev = (pod["metadata"].get("labels") or {}).get(HASH_LABEL)
            if rev == self.current_name:
                current += 1
            if rev == self.update_name:
                updated += 1
        replicas = int(self.spec.get("replicas", 1))
        current_name = self.current_name
        if updated == replicas and counts["readyReplicas"] == replicas and len(active) == replicas:
            # the rollout is complete: the update revision becomes current
            current_name, current = self.update_name, updated
        status: dict = {
            "observedGeneration": self.sts["metadata"].get("generation", 1),
            "replicas": counts["replicas"],
        }
        if counts["readyReplicas"]:
            status["readyReplicas"] = counts["readyReplicas"]
        if current:
            status["currentReplicas"] = current
        if updated:
            status["updatedReplicas"] = updated
        status["currentRevision"] = current_name
        status["updateRevision"] = self.update_name
        status["collisionCount"] = int((self.sts.get("status") or {}).get("collisionCount") or 0)
        status["availableReplicas"] = counts["availableReplicas"]
        write_status(self.cluster, self.sts, status)


def _template_of(revision: dict) -> dict:
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


CONTROLLERS = [StatefulSetController]
