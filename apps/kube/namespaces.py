"""Namespaces with their quota and default container limits, in the Kubernetes API."""

from .client import Kube
from .errors import KubeError

QUOTA_NAME = "kcs-quota"
LIMITS_NAME = "kcs-limits"


def ensure_namespace(kube: Kube, name: str, labels: dict[str, str] | None = None):
    """The namespace, created with ``labels`` if it does not exist yet."""
    try:
        return kube.call(kube.core.read_namespace, name, retry=False)
    except KubeError as exc:
        if not exc.not_found:
            raise
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels or {}},
    }
    return kube.call(kube.core.create_namespace, body)


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
    """Create the namespace, its ResourceQuota and LimitRange; all or nothing."""
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
    namespace = kube.call(kube.core.create_namespace, body, retry=False)
    try:
        if hard:
            kube.call(kube.core.create_namespaced_resource_quota, name, quota_manifest(name, hard))
        if default_request or default_limit:
            kube.call(
                kube.core.create_namespaced_limit_range,
                name,
                limit_range_manifest(name, default_request, default_limit),
            )
    except KubeError:
        # Leave nothing half-made: a namespace without its quota would be unlimited.
        kube.call(kube.core.delete_namespace, name)
        raise
    return namespace


def read_quota(kube: Kube, namespace: str) -> tuple[dict, dict, str]:
    """(hard, used, resourceVersion) of the namespace's quota; empty when it has none."""
    try:
        quota = kube.call(kube.core.read_namespaced_resource_quota, QUOTA_NAME, namespace)
    except KubeError as exc:
        if exc.not_found:
            return {}, {}, ""
        raise
    status = quota.status
    return (
        dict(quota.spec.hard or {}),
        dict((status.used if status else None) or {}),
        quota.metadata.resource_version,
    )


def set_quota(kube: Kube, namespace: str, hard: dict[str, str], resource_version: str = ""):
    """Replace the quota's limits; with ``resource_version``, only if nobody changed it since."""
    body = quota_manifest(namespace, hard)
    if resource_version:
        body["metadata"]["resourceVersion"] = resource_version
    try:
        return kube.call(
            kube.core.replace_namespaced_resource_quota, QUOTA_NAME, namespace, body, retry=False
        )
    except KubeError as exc:
        if not exc.not_found or resource_version:
            raise
    return kube.call(kube.core.create_namespaced_resource_quota, namespace, body)


def list_quotas(kube: Kube) -> dict[str, object]:
    """The portal's quota of every namespace, by namespace name."""
    quotas = kube.call(
        kube.core.list_resource_quota_for_all_namespaces,
        field_selector=f"metadata.name={QUOTA_NAME}",
    ).items
    return {q.metadata.namespace: q for q in quotas}


def delete_namespace(kube: Kube, name: str):
    """Ask Kubernetes to delete the namespace; it stays Terminating until emptied."""
    try:
        return kube.call(kube.core.delete_namespace, name, retry=False)
    except KubeError as exc:
        if not exc.not_found:
            raise
        return None


def read_namespace(kube: Kube, name: str):
    return kube.call(kube.core.read_namespace, name)
