"""Namespaces with their quota and default container limits, in the Kubernetes API."""

from . import objects
from .client import Kube
from .errors import KubeError

QUOTA_NAME = "kcs-quota"
LIMITS_NAME = "kcs-limits"


def ensure_namespace(kube: Kube, name: str, labels: dict[str, str] | None = None) -> dict:
    """The namespace, created with ``labels`` if it does not exist yet."""
    try:
        return read_namespace(kube, name)
    except KubeError as exc:
        if not exc.not_found:
            raise
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels or {}},
    }
    return objects.create(kube, body)


def quota_manifest(namespace: str, hard: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": QUOTA_NAME, "namespace": namespace},
        "spec": {"hard": hard},
    }


def limit_range_manifest(namespace: str, default_request: dict, default_limit: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": LIMITS_NAME, "namespace": namespace},
        "spec": {
            "limits": [
                {"type": "Container", "defaultRequest": default_request, "default": default_limit}
            ]
        },
    }


def create_namespace(kube: Kube, name, labels, hard, default_request, default_limit):
    """Create the namespace, its ResourceQuota and LimitRange; all or nothing.

    Returns (namespace, quota) as Kubernetes answered them (quota None without one).
    """
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
    namespace = objects.create(kube, body)
    quota = None
    try:
        if hard:
            quota = objects.create(kube, quota_manifest(name, hard))
        if default_request or default_limit:
            objects.create(kube, limit_range_manifest(name, default_request, default_limit))
    except KubeError:
        # Leave nothing half-made: a namespace without its quota would be unlimited.
        objects.delete(kube, "v1", "Namespace", name)
        raise
    return namespace, quota


def read_quota(kube: Kube, namespace: str) -> dict | None:
    """The namespace's portal quota as Kubernetes has it; None when it has none."""
    try:
        return objects.read(kube, "v1", "ResourceQuota", QUOTA_NAME, namespace)
    except KubeError as exc:
        if exc.not_found:
            return None
        raise


def set_quota(kube: Kube, namespace: str, hard: dict[str, str], resource_version: str = ""):
    """Replace the quota's limits; with ``resource_version``, only if nobody changed it since."""
    body = quota_manifest(namespace, hard)
    if resource_version:
        body["metadata"]["resourceVersion"] = resource_version
    try:
        return objects.replace(kube, body)
    except KubeError as exc:
        if not exc.not_found or resource_version:
            raise
    return objects.create(kube, body)


def delete_namespace(kube: Kube, name: str) -> dict | None:
    """Ask Kubernetes to delete the namespace; it stays Terminating until emptied.

    The answer is the namespace (Terminating), or None when it was already gone.
    """
    try:
        return objects.delete(kube, "v1", "Namespace", name)
    except KubeError as exc:
        if not exc.not_found:
            raise
        return None


def read_namespace(kube: Kube, name: str) -> dict:
    return objects.read(kube, "v1", "Namespace", name)
