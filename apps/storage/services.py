"""Storage: StorageClasses (cloud admins), PersistentVolumes (cloud admins act, infrastructure
viewers look), PersistentVolumeClaims (whoever may work in the namespace).

Validate → authorize → act in Kubernetes → mirror the answer → audit.
"""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import transaction
from django.utils.translation import gettext as _

from apps.clusters.models import Cluster
from apps.core import audit, authz
from apps.core import yaml as kyaml
from apps.kube import manifests, objects, quantity
from apps.kube.errors import KubeError
from apps.kube.sync import sync_kind

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


def _kube_error(exc: KubeError, field: str | None = None) -> ValidationError:
    return ValidationError({field: exc.message} if field else exc.message)


def _store(model, cluster, values: dict, **fixed):
    """Mirror Kubernetes' answer into the row (created if sync has not seen it yet)."""
    key = {"name": values["name"]}
    if "namespace_name" in values:
        key["namespace_name"] = values["namespace_name"]
    row, _created = model.objects.update_or_create(
        cluster=cluster, **key, defaults={**values, **fixed}
    )
    return row


def _check_running(cluster: Cluster, errors: dict) -> None:
    if cluster.status not in (Cluster.Status.RUNNING, Cluster.Status.DEGRADED):
        errors["cluster"] = _("The cluster is not running.")


def _yaml(kube, api_version, kind, row, namespace=None) -> str:
    """The live object as YAML for an editor; the last manifest seen if it cannot be read."""
    try:
        obj = objects.read(kube, api_version, kind, row.name, namespace)
    except KubeError:
        obj = row.manifest
    return kyaml.dump(kyaml.for_edit(obj))


def _delete(kube, api_version, kind, name, namespace=None) -> None:
    """Ask Kubernetes to delete the object; one already gone is fine."""
    try:
        objects.delete(kube, api_version, kind, name, namespace)
    except KubeError as exc:
        if not exc.not_found:
            raise _kube_error(exc) from exc


def _deleted(row, kube, api_version, kind, namespace=None) -> None:
    """After a delete: gone at once, or still there (finalizers) and shown as Terminating."""
    try:
        objects.read(kube, api_version, kind, row.name, namespace)
    except KubeError as exc:
        if exc.not_found:
            row.delete()
            return
    type(row).objects.filter(pk=row.pk).update(phase="Terminating")
    row.phase = "Terminating"


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
    authz.require_cloud_admin(actor)
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
    kube = cluster.kube()
    try:
        created = objects.create(kube, body)
    except KubeError as exc:
        raise _kube_error(exc, "name" if exc.status == 409 else None) from exc
    with transaction.atomic():
        storage_class = _store(StorageClass, cluster, sync.storage_class_values(created))
        audit.record(
            actor,
            "storageclass.create",
            storage_class,
            cluster=cluster.name,
            detail={
                "provisioner": provisioner,
                "parameters": parameters,
                "reclaim_policy": reclaim_policy,
                "volume_binding_mode": volume_binding_mode,
                "allow_expansion": bool(allow_expansion),
            },
        )
    if is_default:
        storage_class = set_default(actor, storage_class, True)
    return storage_class


def set_default(actor, storage_class: StorageClass, default: bool = True) -> StorageClass:
    """Make the class the cluster's default (clearing every other one), or not the default."""
    authz.require_cloud_admin(actor)
    cluster = storage_class.cluster
    kube = cluster.kube()
    try:
        # This one first: if it fails, the cluster keeps the default it had.
        _mark_default(kube, storage_class.name, default)
        if default:
            for other in objects.list_(kube, *sync.SC):
                other = kube.sanitize(other)
                name = other["metadata"]["name"]
                if name != storage_class.name and sync.is_default_class(other):
                    _mark_default(kube, name, False, other)
        sync_kind(cluster, kube, sync.STORAGE_CLASSES)
    except KubeError as exc:
        raise _kube_error(exc) from exc
    storage_class.refresh_from_db()
    audit.record(
        actor,
        "storageclass.default" if default else "storageclass.undefault",
        storage_class,
        cluster=cluster.name,
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
    return _yaml(storage_class.cluster.kube(), *sync.SC, storage_class)


def delete_storage_class(actor, storage_class: StorageClass) -> None:
    authz.require_cloud_admin(actor)
    cluster = storage_class.cluster
    _delete(cluster.kube(), *sync.SC, storage_class.name)
    with transaction.atomic():
        audit.record(actor, "storageclass.delete", storage_class, cluster=cluster.name)
        storage_class.delete()


# --- persistent volumes -------------------------------------------------------------


def volume_yaml(actor, volume: PersistentVolume) -> str:
    authz.require(actor, "view", volume)
    authz.require_cloud_admin(actor)
    return _yaml(volume.cluster.kube(), *sync.PV, volume)


def delete_volume(actor, volume: PersistentVolume) -> None:
    """Delete a volume (cloud admins); a bound one is kept by Kubernetes until released."""
    authz.require(actor, "view", volume)
    authz.require_cloud_admin(actor)
    cluster = volume.cluster
    kube = cluster.kube()
    _delete(kube, *sync.PV, volume.name)
    with transaction.atomic():
        audit.record(
            actor,
            "persistentvolume.delete",
            volume,
            cluster=cluster.name,
            detail={"claim": volume.claim, "capacity": volume.capacity},
        )
        _deleted(volume, kube, *sync.PV)


# --- persistent volume claims -------------------------------------------------------


def storage_class_names(cluster: Cluster) -> list[str]:
    """The classes a claim in this cluster may ask for (names only, for every tenant)."""
    return list(
        StorageClass.objects.filter(cluster=cluster).order_by("name").values_list("name", flat=True)
    )


def _parse_size(size, field: str = "size"):
    try:
        value = quantity.parse(size)
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from None
    if value <= 0:
        raise ValidationError({field: _("The size must be more than zero.")})
    return value


def _require_work(actor, namespace) -> None:
    authz.require(actor, "work", namespace)
    if namespace.is_terminating:
        raise ValidationError(_("The namespace is being deleted."))


def create_claim(
    actor, *, namespace, name: str, size: str, access_modes=None, storage_class: str = ""
) -> PersistentVolumeClaim:
    """Ask for a volume; an empty storage class means the cluster's default."""
    _require_work(actor, namespace)
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
    try:
        created = objects.create(namespace.cluster.kube(), body)
    except KubeError as exc:
        # A quota refusal (403 "exceeded quota: ...") is shown as Kubernetes words it.
        raise _kube_error(exc, "name" if exc.status == 409 else None) from exc
    return _created_claim(actor, namespace, created)


def _volume_guard(actor, claim: PersistentVolumeClaim | None = None):
    """Only cloud admins may bind a claim to a volume they name (``spec.volumeName``).

    A tenant naming a volume could take an unbound volume provisioned for someone
    else; an edited claim may keep the volume Kubernetes bound it to.
    """

    def bound_to() -> str:
        if claim is None:
            return ""
        live = objects.read(
            claim.cluster.kube(), "v1", "PersistentVolumeClaim", claim.name, claim.namespace_name
        )
        return (live.get("spec") or {}).get("volumeName") or ""

    def guard(obj: dict) -> None:
        wanted = (obj.get("spec") or {}).get("volumeName") or ""
        if wanted and not authz.is_cloud_admin(actor) and wanted != bound_to():
            raise ValidationError(
                {"yaml": _("Only cloud administrators can bind a claim to a named volume.")}
            )

    return guard


def create_claim_from_yaml(actor, namespace, text: str) -> PersistentVolumeClaim:
    """Create a claim from YAML; it must be a PersistentVolumeClaim of this namespace."""
    _require_work(actor, namespace)
    created = manifests.create_from_yaml(
        namespace.cluster.kube(),
        text,
        api_version="v1",
        kind="PersistentVolumeClaim",
        namespace=namespace.name,
        guard=_volume_guard(actor),
    )
    return _created_claim(actor, namespace, created, source="yaml")


def _created_claim(actor, namespace, created: dict, source="form") -> PersistentVolumeClaim:
    with transaction.atomic():
        claim = _store(
            PersistentVolumeClaim,
            namespace.cluster,
            sync.claim_values(created),
            namespace=namespace,
        )
        audit.record(
            actor,
            "persistentvolumeclaim.create",
            claim,
            project=namespace.project,
            cluster=namespace.cluster.name,
            namespace=namespace.name,
            detail={
                "size": claim.requested,
                "access_modes": claim.access_modes,
                "storage_class": claim.storage_class,
                "source": source,
            },
        )
    return claim


def claim_yaml(actor, claim: PersistentVolumeClaim) -> str:
    authz.require(actor, "view", claim)
    return _yaml(claim.cluster.kube(), *sync.PVC, claim, claim.namespace_name)


def current_claim(actor, claim: PersistentVolumeClaim) -> bool:
    """Refresh the claim from Kubernetes, for its page.

    Sync keeps lists up to date within a minute; a claim's own page shows it as it
    is now, so one just created shows Bound once Kubernetes has bound it. Returns
    False, keeping the last known state, when the cluster does not answer.
    """
    authz.require(actor, "view", claim)
    try:
        obj = objects.read(
            claim.cluster.kube(retries=1), *sync.PVC, claim.name, claim.namespace_name
        )
    except KubeError:
        return False
    if obj["metadata"].get("resourceVersion") != claim.resource_version:
        _mirror_claim(claim, obj)
    return True


def _mirror_claim(claim, obj: dict) -> PersistentVolumeClaim:
    for field, value in sync.claim_values(obj).items():
        setattr(claim, field, value)
    claim.save()
    return claim


def update_claim_yaml(actor, claim: PersistentVolumeClaim, text: str) -> PersistentVolumeClaim:
    """Replace the claim with edited YAML; a stale resourceVersion is refused (409)."""
    authz.require(actor, "change", claim)
    replaced = manifests.replace_from_yaml(
        claim.cluster.kube(),
        text,
        api_version="v1",
        kind="PersistentVolumeClaim",
        name=claim.name,
        namespace=claim.namespace_name,
        guard=_volume_guard(actor, claim),
    )
    with transaction.atomic():
        _mirror_claim(claim, replaced)
        audit.record(
            actor,
            "persistentvolumeclaim.yaml",
            claim,
            project=claim.project,
            cluster=claim.cluster.name,
            namespace=claim.namespace_name,
        )
    return claim


def can_expand(claim: PersistentVolumeClaim) -> bool:
    """Whether the claim's class (as last mirrored) allows expansion."""
    return StorageClass.objects.filter(
        cluster_id=claim.cluster_id, name=claim.storage_class, allow_expansion=True
    ).exists()


def expand_claim(actor, claim: PersistentVolumeClaim, size: str) -> PersistentVolumeClaim:
    """Grow the claim's request; only when its class allows it, and never shrink."""
    authz.require(actor, "change", claim)
    new = _parse_size(size)
    kube = claim.cluster.kube()
    try:
        live = objects.read(kube, *sync.PVC, claim.name, claim.namespace_name)
    except KubeError as exc:
        raise _kube_error(exc) from exc
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
        storage_class = objects.read(kube, *sync.SC, class_name) if class_name else {}
    except KubeError as exc:
        if not exc.not_found:
            raise _kube_error(exc) from exc
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
    try:
        patched = objects.patch(kube, *sync.PVC, claim.name, body, claim.namespace_name)
    except KubeError as exc:
        raise _kube_error(exc, "size") from exc
    with transaction.atomic():
        _mirror_claim(claim, patched)
        audit.record(
            actor,
            "persistentvolumeclaim.expand",
            claim,
            project=claim.project,
            cluster=claim.cluster.name,
            namespace=claim.namespace_name,
            detail={"from": current, "to": str(size).strip()},
        )
    return claim


def delete_claim(actor, claim: PersistentVolumeClaim) -> None:
    authz.require(actor, "delete", claim)
    kube = claim.cluster.kube()
    _delete(kube, *sync.PVC, claim.name, claim.namespace_name)
    with transaction.atomic():
        audit.record(
            actor,
            "persistentvolumeclaim.delete",
            claim,
            project=claim.project,
            cluster=claim.cluster.name,
            namespace=claim.namespace_name,
        )
        _deleted(claim, kube, *sync.PVC, claim.namespace_name)
