"""Reading and writing Kubernetes objects by apiVersion and kind, as plain dicts.

One table says which typed client method serves each kind the portal manages,
so apps ask for "the ConfigMap x in namespace y" without knowing the client's
method names. Objects go in and come out as the JSON dicts Kubernetes uses.
"""

import json
from dataclasses import dataclass

from .client import Kube


@dataclass(frozen=True)
class Kind:
    api: str  # the Kube attribute holding the typed API (core, storage, ...)
    suffix: str  # the client's method suffix, e.g. "namespaced_config_map"
    namespaced: bool


KINDS: dict[tuple[str, str], Kind] = {
    ("v1", "Namespace"): Kind("core", "namespace", False),
    ("v1", "ConfigMap"): Kind("core", "namespaced_config_map", True),
    ("v1", "Secret"): Kind("core", "namespaced_secret", True),
    ("v1", "PersistentVolumeClaim"): Kind("core", "namespaced_persistent_volume_claim", True),
    ("v1", "PersistentVolume"): Kind("core", "persistent_volume", False),
    ("v1", "ResourceQuota"): Kind("core", "namespaced_resource_quota", True),
    ("v1", "LimitRange"): Kind("core", "namespaced_limit_range", True),
    ("storage.k8s.io/v1", "StorageClass"): Kind("storage", "storage_class", False),
}


def _method(kube: Kube, verb: str, api_version: str, kind: str):
    spec = KINDS[(api_version, kind)]
    return getattr(getattr(kube, spec.api), f"{verb}_{spec.suffix}"), spec.namespaced


def _args(namespaced: bool, namespace: str | None, *rest):
    return (*rest, namespace) if namespaced else rest


def read(kube: Kube, api_version: str, kind: str, name: str, namespace: str | None = None):
    method, namespaced = _method(kube, "read", api_version, kind)
    return kube.sanitize(kube.call(method, *_args(namespaced, namespace, name)))


def list_(kube: Kube, api_version: str, kind: str, namespace: str | None = None, **params):
    spec = KINDS[(api_version, kind)]
    api = getattr(kube, spec.api)
    if spec.namespaced and namespace is None:
        method = getattr(api, f"list_{spec.suffix.removeprefix('namespaced_')}_for_all_namespaces")
        return kube.call(method, **params).items
    method = getattr(api, f"list_{spec.suffix}")
    return kube.call(method, *_args(spec.namespaced, namespace), **params).items


def create(kube: Kube, obj: dict, *, dry_run: bool = False) -> dict:
    method, namespaced = _method(kube, "create", obj["apiVersion"], obj["kind"])
    namespace = obj["metadata"].get("namespace")
    extra = {"dry_run": "All"} if dry_run else {}
    return kube.sanitize(
        kube.call(method, *_args(namespaced, namespace), obj, retry=False, **extra)
    )


def replace(kube: Kube, obj: dict) -> dict:
    """Replace the object; its resourceVersion makes a stale edit a 409 Conflict."""
    method, namespaced = _method(kube, "replace", obj["apiVersion"], obj["kind"])
    metadata = obj["metadata"]
    return kube.sanitize(
        kube.call(
            method,
            *_args(namespaced, metadata.get("namespace"), metadata["name"]),
            obj,
            retry=False,
        )
    )


def patch(kube: Kube, api_version: str, kind: str, name: str, body, namespace=None) -> dict:
    method, namespaced = _method(kube, "patch", api_version, kind)
    return kube.sanitize(kube.call(method, *_args(namespaced, namespace, name), body))


def delete(kube: Kube, api_version: str, kind: str, name: str, namespace: str | None = None):
    """Delete; the answer as a dict: the object (kept while finalizers run) or a Status.

    Read raw, because many kinds (StorageClass, ConfigMap ...) answer with a Status,
    which the typed client would fail to read as the kind's model.
    """
    method, namespaced = _method(kube, "delete", api_version, kind)
    response = kube.call(
        method, *_args(namespaced, namespace, name), retry=False, _preload_content=False
    )
    try:
        return json.loads(response.data or b"{}")
    except ValueError:
        return {}
