"""Namespaces mirrored from every cluster; their project assignment is the portal's."""

from apps.kube.sync import Mirror, register

from .models import Namespace


def _values(ns) -> dict:
    return {
        "name": ns.metadata.name,
        "phase": (ns.status.phase if ns.status else "") or "",
        "labels": ns.metadata.labels or {},
        "resource_version": ns.metadata.resource_version or "",
        "created": ns.metadata.creation_timestamp,
    }


register(
    Mirror(
        kind="Namespace",
        model=Namespace,
        fetch=lambda kube: kube.list_namespaces(),
        key_fields=("name",),
        key=lambda ns: (ns.metadata.name,),
        values=_values,
    )
)
