"""Storage: StorageClasses (cloud admins), PersistentVolumes (cloud admins act, infrastructure
viewers look), PersistentVolumeClaims (whoever may work in the namespace).

The three kinds are declared on the shared write path (``apps.kube.services``); what
is here is what is special about them: a class's parameters and the default class,
a claim's size and what a tenant's claim may bind.
"""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _

from apps.clusters.models import Cluster
from apps.core import audit, authz
from apps.core.audit import audited
from apps.kube import identity, objects, quantity
from apps.kube.errors import KubeError
from apps.kube.services import YAML, ObjectService, as_validation_error

from . import sync
from .models import (
    ACCESS_MODES,
    BETA_DEFAULT_CLASS_ANNOTATION,
    DEFAULT_CLASS_ANNOTATION,
    BindingMode,
    PersistentVolume,
    PersistentVolumeClaim,
    ReclaimPolicy,
    StorageClass,
)

dns_subdomain = RegexValidator(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    _("Use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit."),
)
provisioner_name = RegexValidator(
    r"^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$",
    _("A provisioner is a name such as example.com/disk."),
)
# A class whose volumes are made by hand, not provisioned: claims of it bind existing volumes.
NO_PROVISIONER = "kubernetes.io/no-provisioner"

storage_classes = ObjectService(
    sync.STORAGE_CLASSES,
    noun="storageclass",
    detail=lambda row: {
        "provisioner": row.provisioner,
        "parameters": row.parameters,
        "reclaim_policy": row.reclaim_policy,
        "volume_binding_mode": row.volume_binding_mode,
        "allow_expansion": row.allow_expansion,
    },
)
volumes = ObjectService(
    sync.VOLUMES,
    noun="persistentvolume",
    detail=lambda row: {"claim": row.claim, "capacity": row.capacity},
)


def _check_running(cluster: Cluster, errors: dict) -> None:
    if cluster.status not in (Cluster.Status.RUNNING, Cluster.Status.DEGRADED):
        errors["cluster"] = _("The cluster is not running.")


# --- storage classes ----------------------------------------------------------------


def clean_parameters(parameters) -> dict[str, str]:
    if not parameters:
        return {}
    if not isinstance(parameters, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str | int | float | bool)
        for k, v in parameters.items()
    ):
        raise ValidationError({"parameters": _("Parameters are names with text values.")})
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in parameters.items()}


@audited("storageclass.create", StorageClass)
def create_storage_class(
    actor,
    *,
    cluster: Cluster,
    name: str,
    provisioner: str,
    parameters: dict | None = None,
    reclaim_policy: str = ReclaimPolicy.DELETE,
    volume_binding_mode: str = BindingMode.IMMEDIATE,
    allow_expansion: bool = False,
    is_default: bool = False,
) -> StorageClass:
    storage_classes.authorize_create(actor, cluster)
    errors = {}
    for field, value, validator in (
        ("name", name, dns_subdomain),
        ("provisioner", provisioner, provisioner_name),
    ):
        try:
            validator(value)
        except ValidationError as exc:
            errors[field] = exc.messages
    if reclaim_policy not in ReclaimPolicy.values or reclaim_policy == ReclaimPolicy.RECYCLE:
        errors["reclaim_policy"] = _("A storage class reclaims volumes by Delete or Retain.")
    if volume_binding_mode not in BindingMode.values:
        errors["volume_binding_mode"] = _("Choose Immediate or WaitForFirstConsumer.")
    if StorageClass.objects.filter(cluster=cluster, name=name).exists():
        errors["name"] = _("The cluster already has a storage class with this name.")
    _check_running(cluster, errors)
    try:
        parameters = clean_parameters(parameters)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    body = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": provisioner,
        "reclaimPolicy": reclaim_policy,
        "volumeBindingMode": volume_binding_mode,
        "allowVolumeExpansion": bool(allow_expansion),
    }
    if parameters:
        body["parameters"] = parameters
    storage_class = storage_classes.create(actor, cluster, body)
    if is_default:
        storage_class = set_default(actor, storage_class, True)
    return storage_class


@audited("storageclass.default")
def set_default(actor, storage_class: StorageClass, default: bool = True) -> StorageClass:
    """Make the class the cluster's default (clearing every other one), or not the default."""
    storage_classes.authorize(actor, "change", storage_class)
    cluster = storage_class.cluster
    kube = cluster.kube()
    try:
        # This one first: if it fails, the cluster keeps the default it had.
        answers = [_mark_default(kube, storage_class.name, default)]
        if default:
            for other in objects.list_all(kube, *sync.SC)[0]:
                name = other["metadata"]["name"]
                if name != storage_class.name and sync.is_default_class(other):
                    answers.append(_mark_default(kube, name, False, other))
    except KubeError as exc:
        raise as_validation_error(exc) from exc
    sync.STORAGE_CLASSES.apply(cluster, answers)
    storage_class.refresh_from_db()
    audit.record(
        actor,
        "storageclass.default" if default else "storageclass.undefault",
        storage_class,
    )
    return storage_class


def _mark_default(kube, name: str, default: bool, obj: dict | None = None) -> dict:
    annotations = {DEFAULT_CLASS_ANNOTATION: "true" if default else "false"}
    if obj is not None and BETA_DEFAULT_CLASS_ANNOTATION in (
        obj["metadata"].get("annotations") or {}
    ):
        annotations[BETA_DEFAULT_CLASS_ANNOTATION] = None
    return objects.patch(kube, *sync.SC, name, {"metadata": {"annotations": annotations}})


def storage_class_yaml(actor, storage_class: StorageClass) -> str:
    authz.require(actor, "view", storage_class)
    authz.require_cloud_admin(actor)
    return storage_classes.yaml(actor, storage_class)


def delete_storage_class(actor, storage_class: StorageClass) -> None:
    storage_classes.delete(actor, storage_class)


# --- persistent volumes -------------------------------------------------------------


def volume_yaml(actor, volume: PersistentVolume) -> str:
    authz.require(actor, "view", volume)
    authz.require_cloud_admin(actor)
    return volumes.yaml(actor, volume)


def delete_volume(actor, volume: PersistentVolume) -> PersistentVolume:
    """Delete a volume (cloud admins); a bound one is kept by Kubernetes until released."""
    return volumes.delete(actor, volume)


# --- persistent volume claims -------------------------------------------------------


def storage_class_names(cluster: Cluster) -> list[str]:
    """The classes a claim in this cluster may ask for (names only, for every tenant)."""
    return list(
        StorageClass.objects.filter(cluster=cluster)
        .exclude(provisioner=NO_PROVISIONER)
        .order_by("name")
        .values_list("name", flat=True)
    )


def _parse_size(size, field: str = "size"):
    try:
        value = quantity.parse(size)
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from None
    if value <= 0:
        raise ValidationError({field: _("The size must be more than zero.")})
    if value > quantity.LARGEST:
        raise ValidationError(
            {field: _("The size can be at most %(most)s.") % {"most": quantity.INT64_MAX}}
        )
    return value


LEGACY_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def _guard_claim(actor, obj: dict, target) -> None:
    """A tenant's claim gets a new volume from a storage class: it never binds one that exists.

    Kubernetes binds a claim to an existing volume when it names one (``volumeName``),
    selects them by label (``selector``), asks for no class (``storageClassName: ""``,
    or no class at all in a cluster without a default one), asks for a class with no
    provisioner or for a class name no StorageClass has (volumes made by hand may carry
    any class name), or when a volume made by hand of the chosen class is waiting to be
    claimed; any of those could take a volume meant for someone else. The legacy class
    annotation is refused (it overrides ``storageClassName``). A data source must be in
    the claim's own namespace. On an edit, only what changes is checked: a claim may keep
    the volume Kubernetes bound it to.
    """
    if authz.is_cloud_admin(actor):
        return
    claim = target if isinstance(target, PersistentVolumeClaim) else None
    spec = obj.get("spec") or {}
    if not isinstance(spec, dict):
        return  # Kubernetes refuses it
    metadata = obj.get("metadata") or {}
    before, before_annotations = {}, {}
    if claim is not None:  # as Kubernetes has it now (it may have bound it since)
        live = claims.read(claim) or claim.manifest
        before = live.get("spec") or {}
        before_annotations = (live.get("metadata") or {}).get("annotations") or {}

    def changed(field: str) -> bool:
        if claim is None:
            return field in spec
        return field in spec and spec.get(field) != before.get(field)

    problems = []
    if changed("volumeName") and spec.get("volumeName"):
        problems.append(_("Only cloud administrators can bind a claim to a named volume."))
    if changed("selector") and spec.get("selector") is not None:
        problems.append(_("Only cloud administrators can select existing volumes by label."))
    annotations = metadata.get("annotations") or {}
    legacy = annotations.get(LEGACY_CLASS_ANNOTATION) if isinstance(annotations, dict) else None
    if legacy is not None and (
        claim is None or legacy != before_annotations.get(LEGACY_CLASS_ANNOTATION)
    ):
        problems.append(
            _(
                "Name the storage class in spec.storageClassName, not in the %(annotation)s "
                "annotation."
            )
            % {"annotation": LEGACY_CLASS_ANNOTATION}
        )
    class_name = spec.get("storageClassName")
    if claim is None or changed("storageClassName"):
        problems.extend(_class_problems(target.cluster, class_name))
    namespace = metadata.get("namespace")
    for field in ("dataSource", "dataSourceRef"):
        source = spec.get(field) or {}
        if (
            changed(field)
            and isinstance(source, dict)
            and source.get("namespace") not in (None, "", namespace)
        ):
            problems.append(_("%(field)s must be in the claim's own namespace.") % {"field": field})
    if problems:
        raise ValidationError({YAML: problems})


def _class_problems(cluster: Cluster, class_name) -> list[str]:
    """Why a tenant's claim asking for ``class_name`` (None: the default) could bind an
    existing volume, if it could."""
    if class_name == "":
        return [
            _(
                "A claim needs a storage class: an empty one binds existing volumes, which only "
                "cloud administrators may do."
            )
        ]
    classes = StorageClass.objects.filter(cluster=cluster)
    chosen = (
        classes.filter(name=class_name)
        if class_name
        else classes.filter(is_default=True).order_by("-created")
    ).first()
    if chosen is None:
        if not class_name:
            return [
                _(
                    "The cluster has no default storage class, so a claim without one would bind "
                    "existing volumes: name one of its storage classes."
                )
            ]
        return [_("The cluster has no storage class %(name)s.") % {"name": class_name}]
    if chosen.provisioner == NO_PROVISIONER:
        return [
            _(
                "The storage class %(name)s provisions no volumes: its claims bind existing "
                "ones, which only cloud administrators may do."
            )
            % {"name": chosen.name}
        ]
    waiting = PersistentVolume.objects.filter(
        cluster=cluster, storage_class=chosen.name, claim_name="", phase__in=("", "Available")
    )
    if waiting.exists():
        return [
            _(
                "Volumes made by hand of the storage class %(name)s wait to be claimed, and a "
                "claim of it could take one: ask a cloud administrator."
            )
            % {"name": chosen.name}
        ]
    return []


def guard_claim(actor, obj: dict, target) -> None:
    """The claim guard, for the claims other objects make (a StatefulSet's templates)."""
    _guard_claim(actor, obj, target)


claims = ObjectService(
    sync.CLAIMS,
    noun="persistentvolumeclaim",
    detail=lambda row: {
        "size": row.requested,
        "access_modes": row.access_modes,
        "storage_class": row.storage_class,
    },
    guard=_guard_claim,
)


@audited("persistentvolumeclaim.create", PersistentVolumeClaim)
def create_claim(
    actor, *, namespace, name: str, size: str, access_modes=None, storage_class: str = ""
) -> PersistentVolumeClaim:
    """Ask for a volume; an empty storage class means the cluster's default."""
    claims.authorize_create(actor, namespace)
    errors = {}
    try:
        dns_subdomain(name)
    except ValidationError as exc:
        errors["name"] = exc.messages
    try:
        _parse_size(size)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    access_modes = list(access_modes or ["ReadWriteOnce"])
    known = {mode for mode, _label in ACCESS_MODES}
    if not set(access_modes) <= known:
        errors["access_modes"] = _("Unknown access mode: %(modes)s.") % {
            "modes": ", ".join(sorted(set(access_modes) - known))
        }
    if storage_class and storage_class not in storage_class_names(namespace.cluster):
        errors["storage_class"] = _("The cluster has no storage class %(name)s.") % {
            "name": storage_class
        }
    elif not authz.is_cloud_admin(actor):
        problems = _class_problems(namespace.cluster, storage_class or None)
        if problems:
            errors["storage_class"] = problems
    if errors:
        raise ValidationError(errors)
    spec = {
        "accessModes": access_modes,
        "resources": {"requests": {"storage": str(size).strip()}},
    }
    if storage_class:
        spec["storageClassName"] = storage_class
    body = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace.name},
        "spec": spec,
    }
    return claims.create(actor, namespace, body)


def create_claim_from_yaml(actor, namespace, text: str) -> PersistentVolumeClaim:
    """Create a claim from YAML; it must be a PersistentVolumeClaim of this namespace."""
    return claims.create_from_yaml(actor, namespace, text)


def claim_yaml(actor, claim: PersistentVolumeClaim) -> str:
    return claims.yaml(actor, claim)


def current_claim(actor, claim: PersistentVolumeClaim) -> bool:
    """Refresh the claim from Kubernetes, for its page (False when the cluster is away)."""
    return claims.refresh(actor, claim)


def update_claim_yaml(actor, claim: PersistentVolumeClaim, text: str) -> PersistentVolumeClaim:
    """Replace the claim with edited YAML; a stale resourceVersion is refused (409)."""
    return claims.replace_from_yaml(actor, claim, text)


def can_expand(claim: PersistentVolumeClaim) -> bool:
    """Whether the claim's class (as last mirrored) allows expansion."""
    return StorageClass.objects.filter(
        cluster_id=claim.cluster_id, name=claim.storage_class, allow_expansion=True
    ).exists()


@audited("persistentvolumeclaim.expand")
def expand_claim(actor, claim: PersistentVolumeClaim, size: str) -> PersistentVolumeClaim:
    """Grow the claim's request; only when its class allows it, and never shrink."""
    claims.authorize(actor, "change", claim)
    new = _parse_size(size)
    kube = claim.cluster.kube()
    try:
        live = objects.read(kube, *sync.PVC, claim.name, claim.namespace_name)
    except KubeError as exc:
        raise as_validation_error(exc) from exc
    spec = live.get("spec") or {}
    current = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "0")
    if new < quantity.parse(current):
        raise ValidationError(
            {
                "size": _(
                    "A volume claim cannot shrink: it asks for %(current)s, more than %(new)s."
                )
                % {"current": current, "new": size}
            }
        )
    if new == quantity.parse(current):
        raise ValidationError(
            {"size": _("The claim already asks for %(current)s.") % {"current": current}}
        )
    class_name = spec.get("storageClassName") or ""
    try:
        with identity.as_portal():  # a cluster-wide kind, beyond a tenant's RBAC
            portal = claim.cluster.kube()
            storage_class = objects.read(portal, *sync.SC, class_name) if class_name else {}
    except KubeError as exc:
        if not exc.not_found:
            raise as_validation_error(exc) from exc
        storage_class = {}
    if not storage_class.get("allowVolumeExpansion"):
        raise ValidationError(
            {
                "size": _("The storage class %(name)s does not allow volumes to be expanded.")
                % {"name": class_name or _("(none)")}
            }
        )
    body = {
        "metadata": {"resourceVersion": live["metadata"]["resourceVersion"]},
        "spec": {"resources": {"requests": {"storage": str(size).strip()}}},
    }
    return claims.patch(
        actor,
        claim,
        body,
        verb="expand",
        field="size",
        **{"from": current, "to": str(size).strip()},
    )


def delete_claim(actor, claim: PersistentVolumeClaim) -> PersistentVolumeClaim:
    return claims.delete(actor, claim)
