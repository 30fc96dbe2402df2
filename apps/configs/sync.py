"""ConfigMaps and Secrets mirrored from every cluster.

Secrets are mirrored without their values: ``without_values`` drops ``data``,
``stringData`` and the last-applied annotation (which repeats them) before
anything is kept.
"""

from apps.kube.mirror import LAST_APPLIED, Mirror, register, without_managed_fields

from .models import ConfigMap, Secret


def configmap_summary(obj: dict) -> dict:
    data = obj.get("data") or {}
    binary = obj.get("binaryData") or {}
    return {"keys": sorted([*data, *binary]), "data": dict(data), "binary_keys": sorted(binary)}


def without_values(obj: dict) -> dict:
    """A Secret with every value removed (what may be stored or shown unmasked)."""
    kept = without_managed_fields(obj)
    kept.pop("data", None)
    kept.pop("stringData", None)
    annotations = dict(kept["metadata"].get("annotations") or {})
    if annotations.pop(LAST_APPLIED, None) is not None:
        kept["metadata"] = {**kept["metadata"], "annotations": annotations}
    return kept


def secret_summary(obj: dict) -> dict:
    keys = {*(obj.get("data") or {}), *(obj.get("stringData") or {})}
    return {"type": obj.get("type") or Secret.Type.OPAQUE, "keys": sorted(keys)}


CONFIGMAPS = register(Mirror(ConfigMap, "v1", "ConfigMap", summary=configmap_summary, order=200))
SECRETS = register(
    Mirror(Secret, "v1", "Secret", summary=secret_summary, clean=without_values, order=200)
)
