"""Persistent volumes: binding, dynamic provisioning, reclaiming and expansion.

What the PV controller and an external CSI provisioner/resizer do that a user can see:

- A pending claim binds to an Available PersistentVolume that fits (class, access modes,
  capacity, smallest first); otherwise, when its StorageClass has a provisioner, the claim
  is annotated with the provisioner (`volume.kubernetes.io/storage-provisioner`), gets the
  ExternalProvisioning, Provisioning and ProvisioningSucceeded events, and a PV
  `pvc-<claim uid>` (capacity = request, the class's reclaim policy and mount options,
  `pv.kubernetes.io/provisioned-by`) is created and bound both ways (PV claimRef and
  phase Bound; claim volumeName, bind-completed annotations, phase Bound, capacity).
- WaitForFirstConsumer: the claim waits (WaitForFirstConsumer event) until a pod using it
  is scheduled; the node is written to `volume.kubernetes.io/selected-node` and the PV
  gets node affinity for the node's zone when it has one.
- When the claim is deleted the volume is released: Delete removes the PV, Retain leaves
  it Released with its claimRef, Recycle makes it Available again.
- Expansion (the admission plugin allows it only with `allowVolumeExpansion`): the PV grows
  at once (Resizing, then FileSystemResizeRequired) and the claim reports
  FileSystemResizePending until a running pod uses it, when its capacity follows the
  request (FileSystemResizeSuccessful); allocatedResources/allocatedResourceStatuses as
  with RecoverVolumeExpansionFailure (beta in 1.32).

Simplified: provisioning takes no simulated time; no pv-protection/pvc-protection
finalizers; PVCs without a class do not get a default class assigned retroactively.
"""

from __future__ import annotations

import copy
from datetime import datetime

from kubesim.runtime.controllers.base import Controller
from kubesim.runtime.controllers.common import fmt_time, ignore_gone, record
from kubesim.storage import errors
from kubesim.storage.quantity import bytes_

MANAGER = "kube-controller-manager"
PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
ZONE = "topology.kubernetes.io/zone"
RESYNC = 15  # seconds between repeats of a waiting claim's event


def _size(obj_resources: dict | None) -> int:
    value = ((obj_resources or {}).get("storage")) if obj_resources else None
    return bytes_(value) if value is not None else 0


def _request(pvc: dict) -> str | None:
    return (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def _class_name(pvc: dict) -> str:
    annotations = pvc["metadata"].get("annotations") or {}
    legacy = annotations.get("volume.beta.kubernetes.io/storage-class")
    return legacy if legacy is not None else (pvc.get("spec") or {}).get("storageClassName") or ""


def _claim_key(pv: dict) -> tuple[str, str, str] | None:
    ref = (pv.get("spec") or {}).get("claimRef")
    if not ref:
        return None
    return ref.get("namespace", ""), ref.get("name", ""), ref.get("uid", "")


def _pods_using(cluster, pvc: dict) -> list[dict]:
    name = pvc["metadata"]["name"]
    out = []
    for pod in cluster.list("v1", "Pod", pvc["metadata"]["namespace"]):
        for volume in (pod.get("spec") or {}).get("volumes") or ():
            if (volume.get("persistentVolumeClaim") or {}).get("claimName") == name:
                out.append(pod)
                break
    return out


class PersistentVolumeController(Controller):
    name = "persistentvolume"
    component = "persistentvolume-controller"
    watches = ("PersistentVolumeClaim", "PersistentVolume", "StorageClass", "Pod")

    def __init__(self) -> None:
        self.notified: dict[tuple[str, str], datetime] = {}

    def reconcile(self, ctx) -> None:
        cluster = ctx.cluster
        claims = cluster.list("v1", "PersistentVolumeClaim")
        if len(self.notified) > 10_000:
            self.notified.clear()
        if not claims and not cluster.list("v1", "PersistentVolume"):
            return
        for pvc in claims:
            try:
                self.sync_claim(ctx, pvc)
            except errors.ApiError as exc:
                if exc.code not in (404, 409):
                    raise
        for pv in cluster.list("v1", "PersistentVolume"):
            try:
                self.sync_volume(ctx, pv)
            except errors.ApiError as exc:
                if exc.code not in (404, 409):
                    raise

    # -- claims ------------------------------------------------------------------------

    def sync_claim(self, ctx, pvc: dict) -> None:
        if pvc["metadata"].get("deletionTimestamp"):
            return
        phase = (pvc.get("status") or {}).get("phase")
        if phase == "Bound":
            self.expand(ctx, pvc)
            return
        volume_name = (pvc.get("spec") or {}).get("volumeName")
        cluster = ctx.cluster
        if volume_name:
            pv = cluster.store.get(("", "persistentvolumes"), "", volume_name)
            if pv is not None:
                self.bind(ctx, pvc, pv)
            else:
                self.set_claim_phase(ctx, pvc, "Pending")
            return
        if phase != "Pending":
            self.set_claim_phase(ctx, pvc, "Pending")
            pvc = cluster.get(
                "v1", "PersistentVolumeClaim", pvc["metadata"]["name"], pvc["metadata"]["namespace"]
            )
        class_name = _class_name(pvc)
        sc = None
        if class_name:
            sc = cluster.store.get(("storage.k8s.io", "storageclasses"), "", class_name)
        wait = sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer"
        node = None
        if wait:
            node = self.consumer_node(ctx, pvc)
            if node is None:
                self.notify(
                    ctx,
                    pvc,
                    "Normal",
                    "WaitForFirstConsumer",
                    "waiting for first consumer to be created before binding",
                )
                return
        pv = self.find_volume(ctx, pvc, class_name)
        if pv is not None:
            self.bind(ctx, pvc, pv)
            return
        if sc is None:
            if class_name:
                self.notify(
                    ctx,
                    pvc,
                    "Warning",
                    "ProvisioningFailed",
                    f'storageclass.storage.k8s.io "{class_name}" not found',
                )
            else:
                self.notify(
                    ctx,
                    pvc,
                    "Normal",
                    "FailedBinding",
                    "no persistent volumes available for this claim and no storage class is set",
                )
            return
        if sc.get("provisioner") == NO_PROVISIONER:
            self.notify(
                ctx,
                pvc,
                "Normal",
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set"
                if not class_name
                else f'waiting for a volume to be created, either by external provisioner "'
                f'{NO_PROVISIONER}" or manually created by system administrator',
            )
            return
        self.provision(ctx, pvc, sc, node)

    def notify(self, ctx, pvc: dict, kind: str, reason: str, message: str) -> None:
        """Record a waiting claim's event at most once per resync period, as the
        controller's periodic sync would (a busy cluster wakes this controller often)."""
        key = (pvc["metadata"]["uid"], reason)
        now = ctx.clock.now()
        last = self.notified.get(key)
        if last is not None and (now - last).total_seconds() < RESYNC:
            return
        self.notified[key] = now
        record(ctx, pvc, kind, reason, message)

    def consumer_node(self, ctx, pvc: dict) -> str | None:
        selected = (pvc["metadata"].get("annotations") or {}).get(SELECTED_NODE)
        if selected:
            return selected
        for pod in _pods_using(ctx.cluster, pvc):
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                updated = copy.deepcopy(pvc)
                updated["metadata"].setdefault("annotations", {})[SELECTED_NODE] = node
                ignore_gone(ctx.cluster.update, updated, MANAGER)
                return node
        return None

    def find_volume(self, ctx, pvc: dict, class_name: str) -> dict | None:
        """The smallest Available PV that satisfies the claim (or is pre-bound to it)."""
        spec = pvc.get("spec") or {}
        want = bytes_(_request(pvc) or 0)
        modes = set(spec.get("accessModes") or ())
        best = None
        for pv in ctx.cluster.list("v1", "PersistentVolume"):
            pv_spec = pv.get("spec") or {}
            ref = pv_spec.get("claimRef")
            if ref:
                same = (
                    ref.get("name") == pvc["metadata"]["name"]
                    and ref.get("namespace") == pvc["metadata"]["namespace"]
                )
                if same and ref.get("uid") in (None, "", pvc["metadata"]["uid"]):
                    return pv
                continue
            if (pv.get("status") or {}).get("phase") not in (None, "Available", "Pending"):
                continue
            if (pv_spec.get("storageClassName") or "") != class_name:
                continue
            if not modes <= set(pv_spec.get("accessModes") or ()):
                continue
            size = _size(pv_spec.get("capacity"))
            if size < want:
                continue
            if best is None or size < _size(best["spec"].get("capacity")):
                best = pv
        return best

    def provision(self, ctx, pvc: dict, sc: dict, node: str | None) -> None:
        cluster = ctx.cluster
        provisioner = sc.get("provisioner", "")
        meta = pvc["metadata"]
        annotations = meta.get("annotations") or {}
        if annotations.get(PROVISIONER) != provisioner:
            updated = copy.deepcopy(pvc)
            updated["metadata"].setdefault("annotations", {}).update(
                {PROVISIONER: provisioner, BETA_PROVISIONER: provisioner}
            )
            pvc = ignore_gone(cluster.update, updated, MANAGER)
            if pvc is None:
                return
            record(
                ctx,
                pvc,
                "Normal",
                "ExternalProvisioning",
                f"Waiting for a volume to be created either by the external provisioner "
                f'"{provisioner}" or manually by the system administrator. If volume creation '
                "is delayed, please verify that the provisioner is running and correctly "
                "registered.",
            )
        name = f"pvc-{meta['uid']}"
        record(
            ctx,
            pvc,
            "Normal",
            "Provisioning",
            f'External provisioner is provisioning volume for claim "{meta["namespace"]}/'
            f'{meta["name"]}"',
        )
        spec = pvc.get("spec") or {}
        pv_spec: dict = {
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "capacity": {"storage": _request(pvc) or "1Gi"},
            "claimRef": claim_ref(pvc),
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
            "storageClassName": sc["metadata"]["name"],
            "volumeMode": spec.get("volumeMode") or "Filesystem",
            "csi": {
                "driver": provisioner,
                "volumeHandle": f"vol-{meta['uid'].replace('-', '')[:17]}",
                "fsType": (sc.get("parameters") or {}).get("csi.storage.k8s.io/fstype", "ext4"),
                "volumeAttributes": {
                    "storage.kubernetes.io/csiProvisionerIdentity": f"kubesim-{provisioner}"
                },
            },
        }
        if sc.get("mountOptions"):
            pv_spec["mountOptions"] = list(sc["mountOptions"])
        zone = self.node_zone(ctx, node)
        if zone:
            pv_spec["nodeAffinity"] = {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": ZONE, "operator": "In", "values": [zone]}]}
                    ]
                }
            }
        pv = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": {PROVISIONED_BY: provisioner}},
            "spec": pv_spec,
        }
        try:
            created = cluster.create(pv, MANAGER)
        except errors.ApiError as exc:
            if exc.code != 409:
                record(
                    ctx,
                    pvc,
                    "Warning",
                    "ProvisioningFailed",
                    f"failed to provision volume with StorageClass "
                    f'"{sc["metadata"]["name"]}": {exc}',
                )
                return
            created = cluster.get("v1", "PersistentVolume", name)
        record(
            ctx,
            pvc,
            "Normal",
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {name}",
        )
        self.bind(ctx, pvc, created)

    def node_zone(self, ctx, node: str | None) -> str | None:
        if not node:
            return None
        obj = ctx.cluster.store.get(("", "nodes"), "", node)
        return ((obj or {}).get("metadata", {}).get("labels") or {}).get(ZONE) if obj else None

    def bind(self, ctx, pvc: dict, pv: dict) -> None:
        cluster = ctx.cluster
        ref = claim_ref(pvc)
        pv_ref = (pv.get("spec") or {}).get("claimRef") or {}
        if pv_ref.get("uid") != ref["uid"] or pv_ref.get("name") != ref["name"]:
            updated = copy.deepcopy(pv)
            updated["spec"]["claimRef"] = ref
            updated["metadata"].setdefault("annotations", {})[BOUND_BY_CONTROLLER] = "yes"
            pv = ignore_gone(cluster.update, updated, MANAGER)
            if pv is None:
                return
        if (pv.get("status") or {}).get("phase") != "Bound":
            pv = ignore_gone(
                cluster.update_status,
                {**pv, "status": {"phase": "Bound", "lastPhaseTransitionTime": ctx.now()}},
                MANAGER,
            )
            if pv is None:
                return
        name = pv["metadata"]["name"]
        annotations = pvc["metadata"].get("annotations") or {}
        if (pvc.get("spec") or {}).get("volumeName") != name or annotations.get(
            BIND_COMPLETED
        ) != "yes":
            updated = copy.deepcopy(pvc)
            updated["spec"]["volumeName"] = name
            extra = {BIND_COMPLETED: "yes"}
            if not (pvc.get("spec") or {}).get("volumeName"):
                extra[BOUND_BY_CONTROLLER] = "yes"
            updated["metadata"].setdefault("annotations", {}).update(extra)
            pvc = ignore_gone(cluster.update, updated, MANAGER)
            if pvc is None:
                return
        pv_spec = pv.get("spec") or {}
        status = {
            "phase": "Bound",
            "accessModes": list(pv_spec.get("accessModes") or []),
            "capacity": dict(pv_spec.get("capacity") or {}),
        }
        previous = pvc.get("status") or {}
        for kept in ("conditions", "allocatedResources", "allocatedResourceStatuses"):
            if previous.get(kept):
                status[kept] = previous[kept]
        if previous != status:
            ignore_gone(cluster.update_status, {**pvc, "status": status}, MANAGER)

    def set_claim_phase(self, ctx, pvc: dict, phase: str) -> None:
        status = {**(pvc.get("status") or {}), "phase": phase}
        if status != pvc.get("status"):
            ignore_gone(ctx.cluster.update_status, {**pvc, "status": status}, MANAGER)

    # -- expansion ---------------------------------------------------------------------

    def expand(self, ctx, pvc: dict) -> None:
        cluster = ctx.cluster
        status = pvc.get("status") or {}
        request = _request(pvc)
        if request is None:
            return
        want = bytes_(request)
        have = _size(status.get("capacity"))
        if want <= have:
            return
        volume_name = (pvc.get("spec") or {}).get("volumeName")
        pv = cluster.store.get(("", "persistentvolumes"), "", volume_name or "")
        if pv is None:
            return
        stamp = fmt_time(ctx.clock.now())
        if _size((pv.get("spec") or {}).get("capacity")) < want:
            record(
                ctx,
                pvc,
                "Normal",
                "Resizing",
                f"External resizer is resizing volume {volume_name}",
            )
            updated = copy.deepcopy(pv)
            updated["spec"]["capacity"]["storage"] = request
            if ignore_gone(cluster.update, updated, MANAGER) is None:
                return
            record(
                ctx,
                pvc,
                "Normal",
                "FileSystemResizeRequired",
                "Require file system resize of volume on node",
            )
        running = [
            p
            for p in _pods_using(cluster, pvc)
            if (p.get("status") or {}).get("phase") == "Running" and p["spec"].get("nodeName")
        ]
        new_status = copy.deepcopy(status)
        new_status["allocatedResources"] = {"storage": request}
        if running:
            new_status["capacity"] = {"storage": request}
            new_status.pop("conditions", None)
            new_status.pop("allocatedResourceStatuses", None)
            record(
                ctx,
                pvc,
                "Normal",
                "FileSystemResizeSuccessful",
                f'MountVolume.NodeExpandVolume succeeded for volume "{volume_name}" '
                f"{running[0]['spec']['nodeName']}",
            )
        else:
            new_status["allocatedResourceStatuses"] = {"storage": "NodeResizePending"}
            conditions = [
                c
                for c in status.get("conditions") or ()
                if c.get("type") != "FileSystemResizePending"
            ]
            pending = next(
                (
                    c
                    for c in status.get("conditions") or ()
                    if c.get("type") == "FileSystemResizePending"
                ),
                None,
            )
            conditions.append(
                pending
                or {
                    "type": "FileSystemResizePending",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": stamp,
                    "message": "Waiting for user to (re-)start a pod to finish file system "
                    "resize of volume on node.",
                }
            )
            new_status["conditions"] = conditions
        if new_status != status:
            ignore_gone(cluster.update_status, {**pvc, "status": new_status}, MANAGER)

    # -- volumes -----------------------------------------------------------------------

    def sync_volume(self, ctx, pv: dict) -> None:
        cluster = ctx.cluster
        phase = (pv.get("status") or {}).get("phase")
        key = _claim_key(pv)
        if key is None:
            if phase in (None, "Pending"):
                self.set_volume_phase(ctx, pv, "Available")
            return
        ns, name, uid = key
        claim = cluster.store.get(("", "persistentvolumeclaims"), ns, name)
        if claim is not None and (not uid or claim["metadata"]["uid"] == uid):
            if phase in (None, "Pending") and not uid:
                self.set_volume_phase(ctx, pv, "Available")
            return
        if not uid:
            # pre-bound to a claim that does not exist yet
            if phase in (None, "Pending"):
                self.set_volume_phase(ctx, pv, "Available")
            return
        # the claim is gone: release the volume
        policy = (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy", "Retain")
        if policy == "Delete":
            ignore_gone(cluster.delete, "v1", "PersistentVolume", pv["metadata"]["name"])
        elif policy == "Recycle":
            updated = copy.deepcopy(pv)
            updated["spec"].pop("claimRef", None)
            pv = ignore_gone(cluster.update, updated, MANAGER)
            if pv is not None:
                record(ctx, pv, "Normal", "RecyclerPod", "Recycler pod: Successfully assigned")
                self.set_volume_phase(ctx, pv, "Available")
        elif phase != "Released":
            self.set_volume_phase(ctx, pv, "Released")

    def set_volume_phase(self, ctx, pv: dict, phase: str) -> None:
        status = {"phase": phase, "lastPhaseTransitionTime": ctx.now()}
        ignore_gone(ctx.cluster.update_status, {**pv, "status": status}, MANAGER)


def claim_ref(pvc: dict) -> dict:
    meta = pvc["metadata"]
    return {
        "kind": "PersistentVolumeClaim",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "apiVersion": "v1",
        "resourceVersion": meta.get("resourceVersion", ""),
    }


CONTROLLERS = [PersistentVolumeController]
