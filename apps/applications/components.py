"""What an application is made of: the kinds it may group, how they are found, exported
and applied.

``KINDS`` is the table: each kind an application groups, in the order an import applies
them (what others refer to first: ConfigMaps, Secrets and claims before the workloads
that mount them, Services after the workloads they select). A kind the portal mirrors
is read from its rows; one it does not mirror yet is listed live from Kubernetes.
"""

import copy
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from apps.core import yaml as kyaml
from apps.kube import objects
from apps.kube.mirror import registry

APPLICATION_API = "app.k8s.io/v1beta1"
FIELD_MANAGER = "kcs-portal"


@dataclass(frozen=True)
class Kind:
    api_version: str
    kind: str
    label: object  # its name in the reader's language
    workload: bool = False

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def mirror(self):
        """The kind's mirror, or None while the portal does not mirror it."""
        return next(
            (
                m
                for m in registry
                if (m.api_version, m.kind) == (self.api_version, self.kind)
                and m.fixed.get("kind", self.kind) == self.kind
            ),
            None,
        )


KINDS = [
    Kind("v1", "ConfigMap", _("ConfigMap")),
    Kind("v1", "Secret", _("Secret")),
    Kind("v1", "PersistentVolumeClaim", _("PersistentVolumeClaim")),
    Kind("apps/v1", "Deployment", _("Deployment"), workload=True),
    Kind("apps/v1", "StatefulSet", _("StatefulSet"), workload=True),
    Kind("apps/v1", "DaemonSet", _("DaemonSet"), workload=True),
    Kind("batch/v1", "Job", _("Job"), workload=True),
    Kind("batch/v1", "CronJob", _("CronJob"), workload=True),
    Kind("autoscaling/v2", "HorizontalPodAutoscaler", _("HorizontalPodAutoscaler")),
    Kind("v1", "Service", _("Service")),
    Kind("networking.k8s.io/v1", "Ingress", _("Ingress")),
]
BY_KIND = {kind.kind: kind for kind in KINDS}
KIND_KEYS = [(kind.api_version, kind.kind) for kind in KINDS]
ORDER = {kind.kind: index for index, kind in enumerate(KINDS)}


def component_kinds(kinds) -> list[dict]:
    """``spec.componentKinds`` of an Application grouping these kinds, in table order."""
    return [
        {"group": BY_KIND[k].group, "kind": k} for k in sorted(set(kinds), key=ORDER.__getitem__)
    ]


def selector_string(selector: dict) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items()))


def grouped_kinds(application) -> list[Kind]:
    """The kinds of the table the Application lists (all of them when it lists none)."""
    listed = {entry.get("kind") for entry in application.component_kinds or []}
    return [kind for kind in KINDS if not listed or kind.kind in listed]


def rows_of(application, kind: Kind, *, manifest: bool = False) -> list:
    """The mirrored rows of ``kind`` the application selects (one query)."""
    rows = kind.mirror.rows(application.cluster).filter(namespace_name=application.namespace_name)
    if not manifest:
        rows = rows.defer("manifest")
    return [row for row in rows if application.selects(row.labels or {})]


def live_of(application, kind: Kind) -> list[dict]:
    """The objects of an unmirrored ``kind`` the application selects, read from Kubernetes."""
    if not application.selector:
        return []
    answer = objects.list_(
        application.cluster.kube(retries=1),
        kind.api_version,
        kind.kind,
        application.namespace_name,
        label_selector=selector_string(application.selector),
    )
    return answer.get("items") or []


def list_live(kube, api_version: str, kind: str, namespace: str, **params) -> list[dict]:
    """The objects of a kind in a namespace as Kubernetes has them, each naming its kind."""
    answer = objects.list_(kube, api_version, kind, namespace, **params)
    items = answer.get("items") or []
    for item in items:
        item.setdefault("apiVersion", api_version)
        item.setdefault("kind", kind)
    return items


def live_objects(application) -> list[dict]:
    """Every component as Kubernetes has it now, in apply order (for an export or a delete)."""
    if not application.selector:
        return []
    found = []
    kube = application.cluster.kube()
    selector = selector_string(application.selector)
    for kind in grouped_kinds(application):
        for item in list_live(
            kube, kind.api_version, kind.kind, application.namespace_name, label_selector=selector
        ):
            if not _owned(item):
                found.append(item)
    return found


def _owned(obj: dict) -> bool:
    """Made by a controller (a CronJob's Jobs, ...): it comes back with its owner."""
    return any(o.get("controller") for o in obj["metadata"].get("ownerReferences") or [])


# --- export -------------------------------------------------------------------------

# Annotations a cluster writes itself: an export that kept them would carry one
# cluster's bookkeeping into another.
CLUSTER_ANNOTATIONS = (
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/restartedAt",
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
    "autoscaling.alpha.kubernetes.io/conditions",
)
# Labels the Job controller puts on a Job's selector and pods.
JOB_LABELS = (
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
)
# Namespace-wide objects every namespace has: not part of what an export carries.
SKIPPED = {("ConfigMap", "kube-root-ca.crt")}
SKIPPED_SECRET_TYPES = {"kubernetes.io/service-account-token"}


def exportable(obj: dict) -> bool:
    metadata = obj.get("metadata") or {}
    if (obj.get("kind"), metadata.get("name")) in SKIPPED or _owned(obj):
        return False
    return not (obj.get("kind") == "Secret" and obj.get("type") in SKIPPED_SECRET_TYPES)


def clean(obj: dict, default_class: str = "") -> dict:
    """The object as an export carries it: what the user wrote, nothing a cluster assigned
    (status, uid, resourceVersion, managed fields, IPs, node ports and names, bindings),
    and no namespace, so it imports unchanged into another namespace or cluster."""
    obj = kyaml.for_export(obj)
    metadata = obj["metadata"]
    metadata.pop("namespace", None)
    metadata.pop("ownerReferences", None)
    metadata.pop("finalizers", None)
    _drop(metadata, "annotations", CLUSTER_ANNOTATIONS)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    kind = obj.get("kind")
    if kind == "Service":
        if spec.get("clusterIP") != "None":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        for port in spec.get("ports") or []:
            port.pop("nodePort", None)
        spec.pop("healthCheckNodePort", None)
        spec.pop("ipFamilies", None)
        spec.pop("ipFamilyPolicy", None)
    elif kind == "PersistentVolumeClaim":
        spec.pop("volumeName", None)
        if default_class and spec.get("storageClassName") == default_class:
            spec.pop("storageClassName")  # the other cluster's default serves it
    elif kind == "Job":
        if not spec.get("manualSelector"):
            spec.pop("selector", None)
        _drop(_template_metadata(spec), "labels", JOB_LABELS)
    for template in _pod_templates(kind, spec):
        _drop(template.setdefault("metadata", {}), "annotations", CLUSTER_ANNOTATIONS)
        template["metadata"].pop("creationTimestamp", None)
        if not template["metadata"]:
            del template["metadata"]
    for claim in spec.get("volumeClaimTemplates") or []:
        claim.pop("status", None)
        (claim.get("metadata") or {}).pop("creationTimestamp", None)
    return obj


def _drop(metadata: dict, key: str, names) -> None:
    values = metadata.get(key)
    if isinstance(values, dict):
        for name in names:
            values.pop(name, None)
        if not values:
            metadata.pop(key)


def _template_metadata(spec: dict) -> dict:
    return (spec.get("template") or {}).get("metadata") or {}


def _pod_templates(kind: str, spec: dict) -> list[dict]:
    if kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        return [job["template"]] if isinstance(job.get("template"), dict) else []
    return [spec["template"]] if isinstance(spec.get("template"), dict) else []


# --- applying -------------------------------------------------------------------------


def labelled(obj: dict, selector: dict) -> dict:
    """``obj`` with the labels that make it a component of the application selecting
    ``selector``. Only the object's own labels: its pods and selectors stay as they are."""
    obj = copy.deepcopy(obj)
    metadata = obj.setdefault("metadata", {})
    labels = metadata.get("labels")
    metadata["labels"] = {**(labels if isinstance(labels, dict) else {}), **selector}
    return obj


def apply(kube, obj: dict, *, dry_run: bool = False) -> dict:
    """Create or update ``obj`` (server-side apply, so applying it again changes nothing)."""
    return objects.apply(kube, obj, manager=FIELD_MANAGER, dry_run=dry_run)


def store(cluster, obj: dict) -> None:
    """Mirror an applied object at once, when the portal mirrors its kind."""
    kind = BY_KIND.get(obj.get("kind"))
    mirror = kind.mirror if kind else None
    if mirror is None and obj.get("apiVersion") == APPLICATION_API:
        from .sync import APPLICATIONS

        mirror = APPLICATIONS
    if mirror is not None:
        mirror.apply(cluster, [obj])
