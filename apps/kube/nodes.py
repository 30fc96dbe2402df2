"""Node operations against the Kubernetes API: cordon, labels, taints, drain."""

import re
import time
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from kubernetes import client as k8s

from . import objects
from .client import Kube
from .errors import KubeError

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
ZONE_LABEL = "topology.kubernetes.io/zone"
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


def is_ready(node: dict) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def is_control_plane(node: dict) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return any(label in labels for label in CONTROL_PLANE_LABELS)


def list_(kube: Kube) -> list[dict]:
    return objects.list_all(kube, "v1", "Node")[0]


def workers(nodes: list[dict], zone: str = "") -> list[dict]:
    """The worker (not control-plane) nodes among ``nodes``; only those of ``zone`` if given.

    "No zone" means every worker: scale-out counts its target over these, both when it
    is asked for and when the task runs, so the two always agree.
    """
    return [
        node
        for node in nodes
        if not is_control_plane(node)
        and (not zone or ((node.get("metadata") or {}).get("labels") or {}).get(ZONE_LABEL) == zone)
    ]


def cordon(kube: Kube, name: str, unschedulable: bool) -> dict:
    body = {"spec": {"unschedulable": True if unschedulable else None}}
    return objects.patch(kube, "v1", "Node", name, body)


def read(kube: Kube, name: str) -> dict:
    return objects.read(kube, "v1", "Node", name)


def _precondition(resource_version: str) -> dict:
    # A resourceVersion in a patch is a precondition: 409 Conflict if the node changed.
    return {"resourceVersion": resource_version} if resource_version else {}


def patch_labels(kube: Kube, name: str, labels: dict[str, str | None], resource_version=""):
    """Merge ``labels`` into the node's labels; a None value removes that label."""
    body = {"metadata": {"labels": labels, **_precondition(resource_version)}}
    return objects.patch(kube, "v1", "Node", name, body)


def set_taints(kube: Kube, name: str, taints: list[dict], resource_version=""):
    # Taints have no merge key in Kubernetes: the patch replaces the whole list.
    body = {"spec": {"taints": taints or None}, "metadata": _precondition(resource_version)}
    return objects.patch(kube, "v1", "Node", name, body)


def pod_name(pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


def _finished(pod) -> bool:
    return bool(pod.status and pod.status.phase in ("Succeeded", "Failed"))


def _controlled(pod) -> bool:
    return any(ref.controller for ref in pod.metadata.owner_references or [])


def _empty_dir(pod) -> bool:
    volumes = (pod.spec.volumes if pod.spec else None) or []
    return any(volume.empty_dir is not None for volume in volumes)


@dataclass
class DrainPlan:
    """What draining a node does to the pods on it, as ``kubectl drain`` decides.

    ``evict``: the pods that are evicted. ``skipped``: DaemonSet and mirror (static)
    pods, left in place. Among those to evict, ``unmanaged`` have no controller that
    would recreate them (evicted only with force) and ``local_data`` have emptyDir
    volumes whose data goes with them (only with delete-emptydir-data); finished pods
    are neither, as for kubectl. ``held`` (filled by ``held_by_budgets`` for the
    confirmation) names the PodDisruptionBudget that allows no eviction of a pod now.
    """

    evict: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    unmanaged: list = field(default_factory=list)
    local_data: list = field(default_factory=list)
    held: dict = field(default_factory=dict)  # id(pod) -> the budget that holds it now

    @classmethod
    def of(cls, pods) -> "DrainPlan":
        plan = cls()
        for pod in pods:
            owners = pod.metadata.owner_references or []
            if MIRROR_ANNOTATION in (pod.metadata.annotations or {}) or any(
                ref.kind == "DaemonSet" for ref in owners
            ):
                plan.skipped.append(pod)
                continue
            plan.evict.append(pod)
            if _finished(pod):
                continue
            if not _controlled(pod):
                plan.unmanaged.append(pod)
            if _empty_dir(pod):
                plan.local_data.append(pod)
        return plan

    def blocked(self, *, force: bool, delete_emptydir_data: bool) -> tuple[list, list]:
        """The pods that stop the drain without these options: (unmanaged, local data)."""
        return (
            [] if force else self.unmanaged,
            [] if delete_emptydir_data else self.local_data,
        )


class DrainRefused(KubeError):
    """Pods on the node need an option the drain was not given (``blocked``: the pods)."""

    def __init__(self, unmanaged: list, local_data: list):
        parts = []
        if unmanaged:
            names = ", ".join(map(pod_name, unmanaged))
            parts.append(f"pods not managed by a controller (use force): {names}")
        if local_data:
            names = ", ".join(map(pod_name, local_data))
            parts.append(f"pods with emptyDir data (use delete emptyDir data): {names}")
        super().__init__("Cannot drain: " + "; ".join(parts) + ".", status=400)
        self.unmanaged = unmanaged
        self.local_data = local_data


def drain_plan(kube: Kube, name: str) -> DrainPlan:
    pods = kube.call(
        kube.core.list_pod_for_all_namespaces, field_selector=f"spec.nodeName={name}"
    ).items
    return DrainPlan.of(pods)


def _selects(selector, labels: dict) -> bool:
    """A label selector (the client's model) against a pod's labels; an empty one none
    (a PodDisruptionBudget with an empty selector in policy/v1 selects every pod, but a
    missing one selects nothing)."""
    if selector is None:
        return False
    for key, value in (selector.match_labels or {}).items():
        if labels.get(key) != value:
            return False
    for rule in selector.match_expressions or []:
        present, values = rule.key in labels, rule.values or []
        if rule.operator == "In" and not (present and labels[rule.key] in values):
            return False
        if rule.operator == "NotIn" and present and labels[rule.key] in values:
            return False
        if rule.operator == "Exists" and not present:
            return False
        if rule.operator == "DoesNotExist" and present:
            return False
    return True


def held_by_budgets(kube: Kube, pods: list) -> dict[int, str]:
    """The pods (by id) a PodDisruptionBudget allows no eviction of now: id -> budget."""
    if not pods:
        return {}
    policy = k8s.PolicyV1Api(kube.api_client)
    budgets = kube.call(policy.list_pod_disruption_budget_for_all_namespaces).items
    held = {}
    for pod in pods:
        labels = pod.metadata.labels or {}
        for budget in budgets:
            if budget.metadata.namespace != pod.metadata.namespace:
                continue
            if not _selects(budget.spec.selector, labels):
                continue
            if not budget.status or (budget.status.disruptions_allowed or 0) <= 0:
                held[id(pod)] = f"{budget.metadata.namespace}/{budget.metadata.name}"
    return held


def pods_to_evict(kube: Kube, name: str) -> list:
    """The pods a drain evicts: all on the node but DaemonSet and mirror (static) pods."""
    return drain_plan(kube, name).evict


def _check(plan: DrainPlan, force: bool, delete_emptydir_data: bool) -> None:
    unmanaged, local_data = plan.blocked(force=force, delete_emptydir_data=delete_emptydir_data)
    if unmanaged or local_data:
        raise DrainRefused(unmanaged, local_data)


@dataclass
class Held:
    """An eviction a PodDisruptionBudget refused for now (429 TooManyRequests)."""

    budget: str  # the budget's name, "" when the answer did not say
    reason: str  # Kubernetes' words: "The disruption budget web needs 2 healthy pods ..."


class DrainBlocked(KubeError):
    """Disruption budgets held pods back for the whole of the drain's wait: final, not a
    temporary failure to retry."""

    @property
    def transient(self) -> bool:
        return False


BUDGET_NAME = re.compile(r"disruption budget (\S+?)[ .:,]")


def evict(kube: Kube, pod) -> Held | None:
    """Ask to evict one pod: None when it goes (or is gone), Held while a
    PodDisruptionBudget does not allow it yet."""
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
            return None  # already gone
        if exc.status == 429:  # a disruption budget says not now
            reason = next(
                (c.get("message", "") for c in exc.causes if c.get("reason") == "DisruptionBudget"),
                "",
            )
            match = BUDGET_NAME.search(reason + " ")
            return Held(budget=match.group(1) if match else "", reason=reason or exc.message)
        raise
    return None


def drain(
    kube: Kube,
    name: str,
    report,
    *,
    force: bool = False,
    delete_emptydir_data: bool = False,
    timeout: float = 300,
    interval: float = 2,
    max_interval: float = 30,
    on_wait=None,
) -> int:
    """Cordon the node and evict its pods; returns how many were evicted.

    As ``kubectl drain``: pods no controller manages are evicted only with ``force``,
    pods with emptyDir volumes only with ``delete_emptydir_data``; otherwise this raises
    DrainRefused naming them, before cordoning (and, for pods that arrived meanwhile,
    after: the node then stays cordoned, as kubectl leaves it).

    ``report(done, total, message, **params)`` is called as pods go (``message`` a
    translatable text with a ``%(name)s`` for each param, for the operation's log), and
    when a PodDisruptionBudget holds a pod back (which pod, which budget, why). Held pods
    are retried with a back-off (``interval`` doubling up to ``max_interval``) until
    ``timeout`` seconds have passed, then the drain fails naming them and their budgets
    (force does not override a budget, as with kubectl). Evicted pods terminate
    gracefully: as ``kubectl drain`` does, this waits until they are gone (unless the node
    is not Ready: no kubelet there finishes their deletion). ``on_wait()`` is called
    before each wait (e.g. to notice a cancel).
    """
    _check(drain_plan(kube, name), force, delete_emptydir_data)
    cordon(kube, name, True)
    plan = drain_plan(kube, name)  # pods scheduled before the cordon took effect too
    _check(plan, force, delete_emptydir_data)
    pending = {(p.metadata.namespace, p.metadata.name): p for p in plan.evict}
    evicted = {p.metadata.uid for p in pending.values()}
    total = len(pending)
    report(0, total, _("%(count)s pods to evict"), count=total)
    deadline = time.monotonic() + timeout
    held: dict[tuple[str, str], Held] = {}
    wait = interval
    while pending:
        for key, pod in list(pending.items()):
            refusal = evict(kube, pod)
            if refusal is None:
                del pending[key]
                held.pop(key, None)
                report(total - len(pending), total, _("evicted %(pod)s"), pod=f"{key[0]}/{key[1]}")
            elif held.get(key) != refusal:  # said once, and again when the reason changes
                held[key] = refusal
                report(
                    total - len(pending),
                    total,
                    _(
                        "waiting for %(pod)s: the disruption budget %(budget)s does not allow "
                        "its eviction yet (%(reason)s); retrying"
                    ),
                    pod=f"{key[0]}/{key[1]}",
                    budget=f"{key[0]}/{refusal.budget}" if refusal.budget else "?",
                    reason=refusal.reason,
                )
        if pending:
            if time.monotonic() > deadline:
                raise DrainBlocked(
                    _(
                        "Timed out after %(seconds)s s: disruption budgets still block the "
                        "eviction of %(pods)s. Scale the workload up, relax the budget, or "
                        "drain later."
                    )
                    % {"seconds": int(timeout), "pods": _held_text(pending, held)},
                    status=429,
                )
            if on_wait is not None:
                on_wait()
            time.sleep(min(wait, max(0.0, deadline - time.monotonic()) + 0.01))
            wait = min(max_interval, wait * 2)
    _wait_until_gone(kube, name, evicted, deadline, min(interval, 0.5))
    return total


def _held_text(pending: dict, held: dict) -> str:
    parts = []
    for key in pending:
        refusal = held.get(key)
        pod = f"{key[0]}/{key[1]}"
        if refusal and refusal.budget:
            parts.append(f"{pod} (budget {key[0]}/{refusal.budget}: {refusal.reason})")
        else:
            parts.append(pod)
    return ", ".join(parts)


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
