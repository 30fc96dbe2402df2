"""StorageClasses, PersistentVolumes and PersistentVolumeClaims mirrored from every cluster."""

from apps.kube.mirror import Mirror, register

from .models import (
    BETA_DEFAULT_CLASS_ANNOTATION,
    DEFAULT_CLASS_ANNOTATION,
    PersistentVolume,
    PersistentVolumeClaim,
    StorageClass,
)


def is_default_class(obj: dict) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    beta = annotations.get(BETA_DEFAULT_CLASS_ANNOTATION)
    return annotations.get(DEFAULT_CLASS_ANNOTATION, beta) == "true"


def _phase(obj: dict) -> str:
    # As kubectl prints it: an object being deleted is Terminating, whatever its phase.
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    return (obj.get("status") or {}).get("phase") or ""


def storage_class_summary(obj: dict) -> dict:
    return {
        "provisioner": obj.get("provisioner") or "",
        "reclaim_policy": obj.get("reclaimPolicy") or "Delete",
        "volume_binding_mode": obj.get("volumeBindingMode") or "Immediate",
        "allow_expansion": bool(obj.get("allowVolumeExpansion")),
        "is_default": is_default_class(obj),
        "parameters": obj.get("parameters") or {},
    }


def volume_summary(obj: dict) -> dict:
    spec = obj.get("spec") or {}
    claim = spec.get("claimRef") or {}
    return {
        "capacity": (spec.get("capacity") or {}).get("storage", ""),
        "access_modes": spec.get("accessModes") or [],
        "reclaim_policy": spec.get("persistentVolumeReclaimPolicy") or "",
        "phase": _phase(obj),
        "claim_namespace": claim.get("namespace") or "",
        "claim_name": claim.get("name") or "",
        "storage_class": spec.get("storageClassName") or "",
    }


def claim_summary(obj: dict) -> dict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return {
        "requested": ((spec.get("resources") or {}).get("requests") or {}).get("storage", ""),
        "capacity": (status.get("capacity") or {}).get("storage", ""),
        "access_modes": spec.get("accessModes") or [],
        "storage_class": spec.get("storageClassName") or "",
        "phase": _phase(obj),
        "volume_name": spec.get("volumeName") or "",
    }


STORAGE_CLASSES = register(
    Mirror(StorageClass, "storage.k8s.io/v1", "StorageClass", summary=storage_class_summary)
)
VOLUMES = register(Mirror(PersistentVolume, "v1", "PersistentVolume", summary=volume_summary))
CLAIMS = register(
    Mirror(PersistentVolumeClaim, "v1", "PersistentVolumeClaim", summary=claim_summary, order=200)
)

# (apiVersion, kind) of each, for direct reads.
SC = (STORAGE_CLASSES.api_version, STORAGE_CLASSES.kind)
PVC = (CLAIMS.api_version, CLAIMS.kind)
