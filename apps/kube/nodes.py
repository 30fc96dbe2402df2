"""Node operations against the Kubernetes API: cordon, labels, taints, drain."""

import time

from kubernetes import client as k8s

from .client import Kube
from .errors import KubeError

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
ZONE_LABEL = "topology.kubernetes.io/zone"
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


def is_ready(node) -> bool:
    conditions = (node.status.conditions if node.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def is_control_plane(node) -> bool:
    labels = node.metadata.labels or {}
    return any(label in labels for label in CONTROL_PLANE_LABELS)


def cordon(kube: Kube, name: str, unschedulable: bool):
    body = {"spec": {"unschedulable": True if unschedulable else None}}
    return kube.call(kube.core.patch_node, name, body)


def read(kube: Kube, name: str):
    return kube.call(kube.core.read_node, name)


def _precondition(resource_version: str) -> dict:
    # A resourceVersion in a patch is a precondition: 409 Conflict if the node changed.
    return {"resourceVersion": resource_version} if resource_version else {}


def patch_labels(kube: Kube, name: str, labels: dict[str, str | None], resource_version=""):
    """Merge ``labels`` into the node's labels; a None value removes that label."""
    body = {"metadata": {"labels": labels, **_precondition(resource_version)}}
    return kube.call(kube.core.patch_node, name, body)


def set_taints(kube: Kube, name: str, taints: list[dict], resource_version=""):
    # Taints have no merge key in Kubernetes: the patch replaces the whole list.
    body = {"spec": {"taints": taints or None}, "metadata": _precondition(resource_version)}
    return kube.call(kube.core.patch_node, name, body)


def pods_to_evict(kube: Kube, name: str) -> list:
    """The pods a drain evicts: all on the node but DaemonSet and mirror (static) pods."""
    pods = kube.call(
        kube.core.list_pod_for_all_namespaces, field_selector=f"spec.nodeName={name}"
    ).items
    return [
        pod
        for pod in pods
        if MIRROR_ANNOTATION not in (pod.metadata.annotations or {})
        and not any(ref.kind == "DaemonSet" for ref in pod.metadata.owner_references or [])
    ]


def evict(kube: Kube, pod) -> bool:
    """Ask to evict one pod; False while a PodDisruptionBudget does not allow it yet."""
    body = k8s.V1Eviction(
        metadata=k8s.V1ObjectMeta(name=pod.metadata.name, namespace=pod.metadata.namespace)
    )
    try:
        kube.call(
            kube.core.create_namespaced_pod_eviction,
            pod.metadata.name,
            pod.metadata.namespace,
            body,
            retry=False,
        )
    except KubeError as exc:
        if exc.status == 404:
            return True  # already gone
        if exc.status == 429:
            return False  # a disruption budget says not now
        raise
    return True


def drain(kube: Kube, name: str, report, *, timeout: float = 300, interval: float = 2) -> int:
    """Cordon the node and evict its pods; returns how many were evicted.

    ``report(done, total, message)`` is called as pods go. Pods held back by a
    PodDisruptionBudget are retried until ``timeout`` seconds have passed. Evicted pods
    terminate gracefully: as ``kubectl drain`` does, this waits until they are gone
    (unless the node is not Ready: no kubelet there finishes their deletion).
    """
    cordon(kube, name, True)
    pending = {(p.metadata.namespace, p.metadata.name): p for p in pods_to_evict(kube, name)}
    evicted = {p.metadata.uid for p in pending.values()}
    total = len(pending)
    report(0, total, f"{total} pods to evict")
    deadline = time.monotonic() + timeout
    while pending:
        for key, pod in list(pending.items()):
            if evict(kube, pod):
                del pending[key]
                report(total - len(pending), total, f"evicted {key[0]}/{key[1]}")
        if pending:
            if time.monotonic() > deadline:
                names = ", ".join(f"{ns}/{n}" for ns, n in pending)
                raise KubeError(
                    f"Timed out: a disruption budget still blocks the eviction of {names}."
                )
            time.sleep(interval)
    _wait_until_gone(kube, name, evicted, deadline, min(interval, 0.5))
    return total


def _wait_until_gone(kube: Kube, name: str, uids: set, deadline: float, interval: float) -> None:
    """Wait for the evicted pods (by uid) to leave the node, as long as its kubelet runs."""
    while True:
        pods = kube.call(
            kube.core.list_pod_for_all_namespaces, field_selector=f"spec.nodeName={name}"
        ).items
        left = [p for p in pods if p.metadata.uid in uids]
        if not left or not is_ready(read(kube, name)):
            return
        if time.monotonic() > deadline:
            names = ", ".join(f"{p.metadata.namespace}/{p.metadata.name}" for p in left)
            raise KubeError(f"Timed out: evicted pods are still terminating: {names}.")
        time.sleep(interval)
