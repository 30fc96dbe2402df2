"""ConfigMaps and Secrets mirrored from every cluster.

Secrets are mirrored without their values: ``secret_values`` drops ``data``,
``stringData`` and the last-applied annotation (which repeats them) before
anything is kept.
"""

from django.db.models import OuterRef, Subquery
from django.utils.dateparse import parse_datetime

from apps.core import yaml as kyaml
from apps.kube import objects
from apps.kube.sync import Mirror, register
from apps.namespaces.models import Namespace

from .models import ConfigMap, Secret


def _common(obj: dict) -> dict:
    metadata = obj.get("metadata") or {}
    return {
        "namespace_name": metadata.get("namespace", ""),
        "name": metadata.get("name", ""),
        "labels": metadata.get("labels") or {},
        "resource_version": metadata.get("resourceVersion") or "",
        "created": parse_datetime(metadata["creationTimestamp"])
        if metadata.get("creationTimestamp")
        else None,
    }


def _manifest(obj: dict) -> dict:
    """The object as kept in the row: without what the server manages except its version."""
    return kyaml.for_edit(obj)


def configmap_values(obj: dict) -> dict:
    data = obj.get("data") or {}
    binary = obj.get("binaryData") or {}
    return {
        **_common(obj),
        "keys": sorted([*data, *binary]),
        "data": dict(data),
        "binary_keys": sorted(binary),
        "manifest": _manifest(obj),
    }


def without_values(obj: dict) -> dict:
    """A Secret with every value removed (what may be stored or shown unmasked)."""
    manifest = _manifest(obj)
    manifest.pop("data", None)
    manifest.pop("stringData", None)
    return manifest


def secret_values(obj: dict) -> dict:
    keys = {*(obj.get("data") or {}), *(obj.get("stringData") or {})}
    return {
        **_common(obj),
        "type": obj.get("type") or Secret.Type.OPAQUE,
        "keys": sorted(keys),
        "manifest": without_values(obj),
    }


def _fetch(kind):
    def fetch(kube):
        return [kube.sanitize(item) for item in objects.list_(kube, "v1", kind)]

    return fetch


def _link_namespaces(model):
    """After a sync: rows of objects created outside the portal get their Namespace (one query)."""

    def after(cluster, result):
        model.objects.filter(cluster=cluster, namespace__isnull=True).update(
            namespace=Subquery(
                Namespace.objects.filter(cluster=cluster, name=OuterRef("namespace_name")).values(
                    "pk"
                )[:1]
            )
        )

    return after


def _key(obj: dict) -> tuple:
    return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


register(
    Mirror(
        kind="ConfigMap",
        model=ConfigMap,
        fetch=_fetch("ConfigMap"),
        key_fields=("namespace_name", "name"),
        key=_key,
        values=configmap_values,
        after=_link_namespaces(ConfigMap),
        order=200,
    )
)
register(
    Mirror(
        kind="Secret",
        model=Secret,
        fetch=_fetch("Secret"),
        key_fields=("namespace_name", "name"),
        key=_key,
        values=secret_values,
        after=_link_namespaces(Secret),
        order=200,
    )
)
