"""Namespace operations against the Kubernetes API."""

from .client import Kube
from .errors import KubeError


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
