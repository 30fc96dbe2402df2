"""Namespaces (with their quota) mirrored from every cluster.

The project a namespace belongs to is the portal's to say: sync never changes it.
"""

from apps.kube.namespaces import list_quotas
from apps.kube.sync import Mirror, register

from .models import Namespace


def _fetch(kube):
    quotas = list_quotas(kube)
    return [(ns, quotas.get(ns.metadata.name)) for ns in kube.list_namespaces()]


def namespace_values(ns, quota=None) -> dict:
    status = quota.status if quota is not None else None
    return {
        "name": ns.metadata.name,
        "phase": (ns.status.phase if ns.status else "") or "",
        "labels": ns.metadata.labels or {},
        "quota_hard": dict(quota.spec.hard or {}) if quota is not None else {},
        "quota_used": dict((status.used if status else None) or {}),
        "resource_version": ns.metadata.resource_version or "",
        "created": ns.metadata.creation_timestamp,
    }


register(
    Mirror(
        kind="Namespace",
        model=Namespace,
        fetch=_fetch,
        key_fields=("name",),
        key=lambda item: (item[0].metadata.name,),
        values=lambda item: namespace_values(*item),
    )
)
