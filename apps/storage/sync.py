"""StorageClasses, PersistentVolumes and PersistentVolumeClaims mirrored from every cluster.

The ``*_values`` functions turn one object (the JSON dict Kubernetes sends) into
the row's fields; services use them too, to mirror the answer of a write.
"""

from django.db.models import OuterRef, Subquery
from django.utils.dateparse import parse_datetime

from apps.kube import objects
from apps.kube.sync import Mirror, register
from apps.namespaces.models import Namespace

from .models import (
    BETA_DEFAULT_CLASS_ANNOTATION,
    DEFAULT_CLASS_ANNOTATION,
    PersistentVolume,
    PersistentVolumeClaim,
    StorageClass,
)

SC = ("storage.k8s.io/v1", "StorageClass")
PV = ("v1", "PersistentVolume")
PVC = ("v1", "PersistentVolumeClaim")


def _fetch(kind):
    def fetch(kube):
        return [kube.sanitize(item) for item in objects.list_(kube, *kind)]

    return fetch


def manifest(obj: dict) -> dict:
    """The object as kept for the detail and YAML pages (without managedFields)."""
    metadata = {k: v for k, v in obj.get("metadata", {}).items() if k != "managedFields"}
    return {**obj, "metadata": metadata}


def _common(obj: dict) -> dict:
    metadata = obj.get("metadata") or {}
    created = metadata.get("creationTimestamp")
    return {
        "name": metadata["name"],
        "manifest": manifest(obj),
        "resource_version": metadata.get("resourceVersion") or "",
        "created": parse_datetime(created) if isinstance(created, str) else created,
    }


def is_default_class(obj: dict) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    beta = annotations.get(BETA_DEFAULT_CLASS_ANNOTATION)
    return annotations.get(DEFAULT_CLASS_ANNOTATION, beta) == "true"


def storage_class_values(obj: dict) -> dict:
    return {
        **_common(obj),
        "provisioner": obj.get("provisioner") or "",
        "reclaim_policy": obj.get("reclaimPolicy") or "Delete",
        "volume_binding_mode": obj.get("volumeBindingMode") or "Immediate",
        "allow_expansion": bool(obj.get("allowVolumeExpansion")),
        "is_default": is_default_class(obj),
        "parameters": obj.get("parameters") or {},
    }


def volume_values(obj: dict) -> dict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    claim = spec.get("claimRef") or {}
    return {
        **_common(obj),
        "capacity": (spec.get("capacity") or {}).get("storage", ""),
        "access_modes": spec.get("accessModes") or [],
        "reclaim_policy": spec.get("persistentVolumeReclaimPolicy") or "",
        "phase": status.get("phase") or "",
        "claim_namespace": claim.get("namespace") or "",
        "claim_name": claim.get("name") or "",
        "storage_class": spec.get("storageClassName") or "",
    }


def claim_values(obj: dict) -> dict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return {
        **_common(obj),
        "namespace_name": obj["metadata"]["namespace"],
        "requested": ((spec.get("resources") or {}).get("requests") or {}).get("storage", ""),
        "capacity": (status.get("capacity") or {}).get("storage", ""),
        "access_modes": spec.get("accessModes") or [],
        "storage_class": spec.get("storageClassName") or "",
        "phase": status.get("phase") or "",
        "volume_name": spec.get("volumeName") or "",
    }


def _link_namespaces(cluster, result) -> None:
    """Point new claims at their namespace rows (one UPDATE, whatever the count)."""
    namespaces = Namespace.objects.filter(cluster=cluster, name=OuterRef("namespace_name"))
    PersistentVolumeClaim.objects.filter(cluster=cluster, namespace__isnull=True).update(
        namespace=Subquery(namespaces.values("pk")[:1])
    )


STORAGE_CLASSES = register(
    Mirror(
        kind="StorageClass",
        model=StorageClass,
        fetch=_fetch(SC),
        key_fields=("name",),
        key=lambda obj: (obj["metadata"]["name"],),
        values=storage_class_values,
        order=120,
    )
)
register(
    Mirror(
        kind="PersistentVolume",
        model=PersistentVolume,
        fetch=_fetch(PV),
        key_fields=("name",),
        key=lambda obj: (obj["metadata"]["name"],),
        values=volume_values,
        order=121,
    )
)
# After the namespaces (order 100), so that a claim finds its namespace row.
register(
    Mirror(
        kind="PersistentVolumeClaim",
        model=PersistentVolumeClaim,
        fetch=_fetch(PVC),
        key_fields=("namespace_name", "name"),
        key=lambda obj: (obj["metadata"]["namespace"], obj["metadata"]["name"]),
        values=claim_values,
        after=_link_namespaces,
        order=122,
    )
)
