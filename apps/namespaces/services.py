"""Namespaces: create with a quota, change the quota, open to members, delete, assign.

Validate → authorize → act in Kubernetes → mirror the answer → audit.
"""

from decimal import Decimal

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.clusters.models import Cluster
from apps.core import audit, authz
from apps.core import yaml as kyaml
from apps.core.audit import audited
from apps.core.authz import NsPerm
from apps.kube import identity, objects, quantity
from apps.kube import namespaces as kube_ns
from apps.kube.errors import KubeError
from apps.kube.services import as_validation_error
from apps.tenancy.models import Membership, dns_label

from . import access
from .models import SYSTEM_NAMESPACES, Namespace, NamespaceUserObjectPermission
from .sync import NAMESPACES, QUOTAS

# The quota a namespace may carry, in Kubernetes' own keys, in display order.
QUOTA_KEYS = {
    "requests.cpu": gettext_lazy("CPU requests"),
    "limits.cpu": gettext_lazy("CPU limits"),
    "requests.memory": gettext_lazy("Memory requests"),
    "limits.memory": gettext_lazy("Memory limits"),
    "requests.storage": gettext_lazy("Storage requested"),
    "persistentvolumeclaims": gettext_lazy("Volume claims"),
    "pods": gettext_lazy("Pods"),
    "services": gettext_lazy("Services"),
    "configmaps": gettext_lazy("ConfigMaps"),
    "secrets": gettext_lazy("Secrets"),
}


def in_display_order(hard) -> list[str]:
    """The quota's keys as the form lists them, then any others by name.

    Not the stored order: PostgreSQL's jsonb gives keys back sorted its own way.
    """
    return [k for k in QUOTA_KEYS if k in hard] + sorted(k for k in hard if k not in QUOTA_KEYS)


COUNT_KEYS = {"persistentvolumeclaims", "pods", "services", "configmaps", "secrets"}
# Kubernetes holds these in milli-units too, so their largest value is a thousandth.
CPU_KEYS = {"requests.cpu", "limits.cpu"}
# The node resource (allocatable) that bounds each quota key.
NODE_RESOURCE = {
    "requests.cpu": "cpu",
    "limits.cpu": "cpu",
    "requests.memory": "memory",
    "limits.memory": "memory",
    "pods": "pods",
}
PROJECT_LABEL = "kcs.io/project"

# What a container gets when it asks for nothing (never more than the quota allows).
DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}
DEFAULT_LIMIT = {"cpu": "500m", "memory": "512Mi"}


def clean_quota(quota: dict) -> dict[str, str]:
    """Quota values checked and normalised; unknown keys and bad quantities refused."""
    hard, errors = {}, []
    for key, value in (quota or {}).items():
        if value in (None, ""):
            continue
        if key not in QUOTA_KEYS:
            errors.append(_("%(key)s is not a quota this portal sets.") % {"key": key})
            continue
        try:
            number = quantity.parse(value)
        except ValueError as exc:
            errors.append(f"{key}: {exc}")
            continue
        if number < 0 or (key in COUNT_KEYS and number != number.to_integral_value()):
            errors.append(_("%(key)s must be a whole, positive number.") % {"key": key})
            continue
        cpu = key in CPU_KEYS
        if number > (quantity.LARGEST_MILLI if cpu else quantity.LARGEST):
            errors.append(
                _("%(key)s: %(value)s is more than Kubernetes can hold; the most is %(most)s.")
                % {
                    "key": key,
                    "value": str(value).strip(),
                    "most": f"{quantity.INT64_MAX}m" if cpu else str(quantity.INT64_MAX),
                }
            )
            continue
        hard[key] = str(value).strip()
    for kind in ("cpu", "memory"):
        request, limit = hard.get(f"requests.{kind}"), hard.get(f"limits.{kind}")
        if request and limit and quantity.parse(request) > quantity.parse(limit):
            errors.append(
                _("%(kind)s requests cannot exceed %(kind)s limits.") % {"kind": kind.upper()}
            )
    if errors:
        raise ValidationError({"quota": errors})
    return hard


def quota_warnings(cluster: Cluster, hard: dict[str, str]) -> list[str]:
    """What in the quota exceeds all the cluster's nodes can allocate (it is allowed).

    The totals are the sums of the nodes' allocatable cpu, memory and pods, as the
    portal last mirrored them; a resource no node reports is not checked.
    """
    totals: dict[str, Decimal] = {}
    for allocatable in cluster.nodes.values_list("allocatable", flat=True):
        for resource in set(NODE_RESOURCE.values()):
            try:
                amount = quantity.parse(allocatable[resource])
            except (KeyError, TypeError, ValueError):
                continue
            totals[resource] = totals.get(resource, Decimal(0)) + amount
    warnings = []
    for key in in_display_order(hard):
        value = hard[key]
        resource = NODE_RESOURCE.get(key)
        if resource in totals and quantity.parse(value) > totals[resource]:
            warnings.append(
                _(
                    "%(key)s: %(value)s is more than the cluster's nodes can allocate "
                    "in all (%(total)s)."
                )
                % {
                    "key": key,
                    "value": value,
                    "total": quantity.render(totals[resource], binary=resource == "memory"),
                }
            )
    return warnings


def container_defaults(hard: dict[str, str]) -> tuple[dict, dict]:
    """Default requests and limits for containers that fit under the quota.

    With a cpu/memory quota Kubernetes refuses pods that do not state their
    requests and limits; the LimitRange supplies them.
    """
    request, limit = {}, {}
    for kind in ("cpu", "memory"):
        cap_request = hard.get(f"requests.{kind}")
        cap_limit = hard.get(f"limits.{kind}")
        request[kind] = _smaller(DEFAULT_REQUEST[kind], cap_request)
        limit[kind] = _smaller(DEFAULT_LIMIT[kind], cap_limit)
        if quantity.parse(limit[kind]) < quantity.parse(request[kind]):
            limit[kind] = request[kind]
    return request, limit


def _smaller(default: str, cap: str | None) -> str:
    return cap if cap and quantity.parse(cap) < quantity.parse(default) else default


def _mirror_quota(namespace: Namespace, quota: dict | None) -> None:
    """Mirror the namespace's quota as Kubernetes answered it (None: it has none)."""
    if quota is None:
        quota = {"metadata": {"namespace": namespace.name, "name": kube_ns.QUOTA_NAME}}
        QUOTAS.apply(namespace.cluster, deletes=[quota])
    else:
        QUOTAS.apply(namespace.cluster, [quota])
    namespace.refresh_from_db(fields=["quota_hard", "quota_used"])


def name_not_available() -> str:
    """A namespace name is per cluster, whoever's project has it: the answer is the same
    whether the user may see the namespace or not, so it confirms nothing."""
    return _("This name is not available in this cluster; choose another.")


def _audit(actor, action: str, namespace: Namespace, project=None, **kwargs):
    return audit.record(actor, action, namespace, project=project or namespace.project, **kwargs)


def _kube_error(exc: KubeError, field: str | None = None):
    if exc.status == 409 and field:
        return ValidationError({field: exc.message})
    return as_validation_error(exc)


def current_usage(actor, namespace: Namespace) -> bool:
    """Refresh the namespace's quota use from Kubernetes, for its page.

    Sync keeps lists up to date within a minute; a namespace's own page shows
    use as it is now, so a ConfigMap just created counts at once. Returns
    False, keeping the last known figures, when the cluster does not answer.
    """
    authz.require(actor, "view", namespace)
    try:
        quota = kube_ns.read_quota(namespace.cluster.kube(retries=1), namespace.name)
    except KubeError:
        return False
    _mirror_quota(namespace, quota)
    return True


# --- create, change, delete ---------------------------------------------------------


@audited("namespace.create", Namespace)
@identity.as_portal()  # namespaces and quotas are beyond a tenant's RBAC
def create_namespace(actor, *, cluster: Cluster, project, name: str, quota: dict) -> Namespace:
    authz.require(actor, "manage_namespaces", project)
    if not Cluster.objects.restrict(actor, "view").filter(pk=cluster.pk).exists():
        raise Http404
    errors = {}
    try:
        dns_label(name)
    except ValidationError as exc:
        errors["name"] = exc.messages
    if name in SYSTEM_NAMESPACES or name.startswith("kube-"):
        errors["name"] = _("This name is reserved for Kubernetes.")
    elif Namespace.objects.filter(cluster=cluster, name=name).exists():
        errors["name"] = name_not_available()
    if cluster.status not in (Cluster.Status.RUNNING, Cluster.Status.DEGRADED):
        errors["cluster"] = _("The cluster is not running.")
    try:
        hard = clean_quota(quota)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    request, limit = container_defaults(hard)
    kube = cluster.kube()
    try:
        created, quota = kube_ns.create_namespace(
            kube, name, {PROJECT_LABEL: project.name}, hard, request, limit
        )
    except KubeError as exc:
        if exc.status == 409 and exc.reason == "AlreadyExists":
            raise ValidationError({"name": name_not_available()}) from exc
        raise _kube_error(exc, "name") from exc
    with transaction.atomic():
        namespace = NAMESPACES.store(cluster, created, project=project)
        _mirror_quota(namespace, quota)
        _audit(
            actor,
            "namespace.create",
            namespace,
            project=project,
            detail={"quota": hard},
        )
    access.sync(namespace)  # the project's admins may work in it, in Kubernetes too
    # Not an error: shown to the user (portal message, API "warnings") after saving.
    namespace.warnings = quota_warnings(cluster, hard)
    return namespace


@audited("namespace.update")
def update_namespace(actor, namespace: Namespace, *, quota: dict | None = None) -> Namespace:
    """A change of what may change once created (the quota); with nothing to change it
    changes nothing, but only for those who may change the namespace."""
    authz.require(actor, "change", namespace)
    if quota is None:
        return namespace
    return update_quota(actor, namespace, quota)


@audited("namespace.quota")
@identity.as_portal()  # namespaces and quotas are beyond a tenant's RBAC
def update_quota(actor, namespace: Namespace, quota: dict) -> Namespace:
    """Change the quota; refused, with what is in use, when it would fall below use."""
    authz.require(actor, "change", namespace)
    hard = clean_quota(quota)
    kube = namespace.cluster.kube()
    try:
        current = kube_ns.read_quota(kube, namespace.name) or {}
    except KubeError as exc:
        raise _kube_error(exc) from exc
    used = (current.get("status") or {}).get("used") or {}
    version = (current.get("metadata") or {}).get("resourceVersion", "")
    below = [
        _("%(key)s: %(used)s is in use, more than %(new)s")
        % {"key": key, "used": used[key], "new": value}
        for key, value in hard.items()
        if key in used and quantity.parse(used[key]) > quantity.parse(value)
    ]
    if below:
        raise ValidationError(
            {"quota": [_("The quota cannot be lower than what is in use."), *below]}
        )
    try:
        answer = kube_ns.set_quota(kube, namespace.name, hard, version)
    except KubeError as exc:
        raise _kube_error(exc) from exc
    with transaction.atomic():
        _mirror_quota(namespace, answer)
        _audit(
            actor,
            "namespace.quota",
            namespace,
            detail={"quota": hard},
        )
    namespace.warnings = quota_warnings(namespace.cluster, hard)
    return namespace


@audited("namespace.delete")
@identity.as_portal()  # namespaces and quotas are beyond a tenant's RBAC
def delete_namespace(actor, namespace: Namespace) -> Namespace:
    """Ask Kubernetes to delete it; the row shows Terminating until sync sees it gone."""
    authz.require(actor, "delete", namespace)
    if namespace.is_system:
        raise ValidationError(_("Kubernetes' own namespaces cannot be deleted."))
    kube = namespace.cluster.kube()
    try:
        answer = kube_ns.delete_namespace(kube, namespace.name)
    except KubeError as exc:
        raise _kube_error(exc) from exc
    with transaction.atomic():
        _audit(
            actor,
            "namespace.delete",
            namespace,
        )
        if answer is None or objects.is_gone(answer):
            NAMESPACES.forget(namespace)
        else:
            namespace = NAMESPACES.store(namespace.cluster, answer)
    return namespace


# --- members ----------------------------------------------------------------------


def members(namespace: Namespace) -> list:
    """Project members the namespace is opened to (admins always may work in it)."""
    return [
        grant.user
        for grant in NamespaceUserObjectPermission.objects.filter(
            content_object=namespace, permission__codename=NsPerm.WORK
        ).select_related("user")
    ]


@audited("namespace.members")
@transaction.atomic
def set_members(actor, namespace: Namespace, users) -> list:
    """Open the namespace to exactly these project members (object permissions)."""
    authz.require(actor, "manage_members", namespace)
    users = list(users)
    in_project = set(
        Membership.objects.filter(project=namespace.project, user__in=users).values_list(
            "user_id", flat=True
        )
    )
    outside = [u.get_username() for u in users if u.pk not in in_project]
    if outside:
        raise ValidationError(
            _("Not members of the project: %(names)s.") % {"names": ", ".join(outside)}
        )
    permission = Permission.objects.get(content_type__app_label="namespaces", codename=NsPerm.WORK)
    grants = NamespaceUserObjectPermission.objects.filter(
        content_object=namespace, permission=permission
    )
    grants.exclude(user__in=users).delete()
    have = set(grants.values_list("user_id", flat=True))
    NamespaceUserObjectPermission.objects.bulk_create(
        NamespaceUserObjectPermission(content_object=namespace, user=u, permission=permission)
        for u in users
        if u.pk not in have
    )
    authz.grants_changed()  # bulk_create sends no signal
    _audit(
        actor,
        "namespace.members",
        namespace,
        detail={"members": sorted(u.get_username() for u in users)},
    )
    access.sync(namespace)
    return users


# --- unassigned namespaces ----------------------------------------------------------


@audited("namespace.assign")
@transaction.atomic
def assign(actor, namespace: Namespace, project) -> Namespace:
    """Give a namespace created outside the portal to a project (cloud admins)."""
    authz.require_cloud_admin(actor)
    if namespace.is_system:
        raise ValidationError(_("Kubernetes' own namespaces cannot be given to a project."))
    if namespace.project_id is not None:
        raise ValidationError(_("This namespace already belongs to a project."))
    namespace.project = project
    namespace.save(update_fields=["project"])
    _audit(
        actor,
        "namespace.assign",
        namespace,
        project=project,
    )
    access.sync(namespace)
    return namespace


# --- YAML ---------------------------------------------------------------------------


def namespace_yaml(actor, namespace: Namespace) -> str:
    """The live Namespace from Kubernetes as YAML, without what the server manages."""
    authz.require(actor, "view", namespace)
    try:
        live = objects.read(namespace.cluster.kube(), "v1", "Namespace", namespace.name)
    except KubeError as exc:
        raise _kube_error(exc) from exc
    return kyaml.dump(kyaml.for_export(live))
