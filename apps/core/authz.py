"""Authorization: the one place that answers who may do what.

Two questions, asked by every surface through the service layer:

- ``can(user, action, obj)`` / ``require(user, action, obj)``: may this user do
  this action on this object?
- ``restrict(queryset, user, action)`` (also ``Model.objects.restrict(user, action)``):
  which objects of this model may the user see or act on?

Cloud admins (active staff users) may do everything. Everyone else acts
through projects: a role in a project (or department) grants a set of
project-level permissions, stored as django-guardian object permissions on the
Project, and each model registers how its objects lead to a project and which
permission each action needs. A model's rule is declared once, next to the
model, with ``register``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class Perm:
    """Project-level permissions (codenames of tenancy.Project's Meta.permissions)."""

    VIEW = "view_project"
    CHANGE = "change_project"
    DELETE = "delete_project"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_NAMESPACES = "manage_namespaces"
    VIEW_INFRASTRUCTURE = "view_infrastructure"
    VIEW_AUDIT = "view_audit"
    OPERATE = "operate"


class Role(models.TextChoices):
    DEPARTMENT_ADMIN = "department_admin", gettext_lazy("Department admin")
    ADMIN = "admin", gettext_lazy("Project admin")
    MEMBER = "member", gettext_lazy("Member")


# The permission matrix of DESIGN.md ("Tenancy and permissions"), encoded once.
# Cloud admins are not listed: they may do everything.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.DEPARTMENT_ADMIN: frozenset(
        {
            Perm.VIEW,
            Perm.CHANGE,
            Perm.DELETE,
            Perm.MANAGE_MEMBERS,
            Perm.MANAGE_NAMESPACES,
            Perm.VIEW_INFRASTRUCTURE,
            Perm.VIEW_AUDIT,
            Perm.OPERATE,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Perm.VIEW,
            Perm.MANAGE_MEMBERS,
            Perm.MANAGE_NAMESPACES,
            Perm.VIEW_INFRASTRUCTURE,
            Perm.VIEW_AUDIT,
            Perm.OPERATE,
        }
    ),
    Role.MEMBER: frozenset({Perm.VIEW, Perm.OPERATE}),
}


def permissions_for_roles(roles) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def is_cloud_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class NsPerm:
    """Namespace-level permission (a codename of namespaces.Namespace's Meta.permissions)."""

    WORK = "work_in_namespace"


@dataclass(frozen=True)
class InNamespace:
    """An action allowed to whoever may work in the object's namespace.

    That is the admins of the namespace's project (they always may), and the
    project's members to whom the namespace was opened (a django-guardian
    grant of ``NsPerm.WORK`` on the Namespace) while they remain members.
    """

    perm: str = NsPerm.WORK


def namespace_ids(user, perm: str = NsPerm.WORK):
    """A subquery of the ids of namespaces on which the user holds ``perm``."""
    from django.apps import apps

    grants = apps.get_model("namespaces", "NamespaceUserObjectPermission")
    return grants.objects.filter(user=user, permission__codename=perm).values("content_object")


def project_ids(user, perm: str):
    """A subquery of the ids of projects on which the user holds ``perm``."""
    from django.apps import apps

    grants = apps.get_model("tenancy", "ProjectUserObjectPermission")
    return grants.objects.filter(user=user, permission__codename=perm).values("content_object")


@dataclass(frozen=True)
class Rule:
    """How one model's objects are authorized.

    ``project`` is the lookup from the model to its Project ("" for Project
    itself), ``namespace`` the lookup to its Namespace ("" for Namespace
    itself). ``actions`` maps an action to the project permission it needs,
    to ``InNamespace()`` for namespace-level access, or to a function
    ``user -> Q`` for rules that are neither;
    an action missing from it is for cloud admins only. ``widen`` may add to
    any action for a user, e.g. the objects they own: ``(user, action) -> Q``.
    """

    project: str | None
    actions: dict[str, str | InNamespace | Callable[..., Q]]
    widen: Callable[..., Q] | None = None
    namespace: str | None = None


@dataclass
class Registry:
    rules: dict[type[models.Model], Rule] = field(default_factory=dict)

    def rule_for(self, model) -> Rule:
        try:
            return self.rules[model._meta.concrete_model]
        except KeyError:
            raise LookupError(f"{model._meta.label} is not registered with authz") from None


registry = Registry()


def register(model, *, project=None, namespace=None, actions=None, widen=None):
    """Declare how a model is authorized (called from the model's module)."""
    registry.rules[model] = Rule(
        project=project, namespace=namespace, actions=dict(actions or {}), widen=widen
    )
    return model


def _in_namespace(rule: Rule, user, perm: str) -> Q:
    prefix = f"{rule.namespace}__" if rule.namespace else ""
    admins = Q(**{f"{prefix}project__in": project_ids(user, Perm.MANAGE_NAMESPACES)})
    opened = Q(**{f"{prefix}pk__in": namespace_ids(user, perm)}) & Q(
        **{f"{prefix}project__in": project_ids(user, Perm.OPERATE)}
    )
    return admins | opened


def _condition(model, user, action: str) -> Q | None:
    """The filter for what ``user`` may do on ``model``; None means nothing."""
    rule = registry.rule_for(model)
    needed = rule.actions.get(action)
    condition = None
    if isinstance(needed, InNamespace):
        condition = _in_namespace(rule, user, needed.perm)
    elif callable(needed):
        condition = needed(user)
    elif needed is not None:
        lookup = f"{rule.project}__in" if rule.project else "pk__in"
        condition = Q(**{lookup: project_ids(user, needed)})
    more = rule.widen(user, action) if rule.widen is not None else None
    if more is not None:
        condition = more if condition is None else condition | more
    return condition


def restrict(queryset, user, action: str = "view"):
    """The objects of ``queryset`` that ``user`` may ``action``.

    One filter made of subqueries and single-valued lookups (never a join to
    many rows, so no duplicates and no DISTINCT): the query count of a list
    does not grow with its rows.
    """
    if is_cloud_admin(user):
        return queryset
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    condition = _condition(queryset.model, user, action)
    if condition is None:
        return queryset.none()
    return queryset.filter(condition)


def can(user, action: str, obj) -> bool:
    if is_cloud_admin(user):
        return True
    model = type(obj)
    return restrict(model._default_manager.filter(pk=obj.pk), user, action).exists()


def require(user, action: str, obj) -> None:
    """Raise unless ``user`` may ``action`` on ``obj``.

    An object the user may not even see is a 404, so that a tenant cannot learn
    that another project's object exists; one they see but may not change is a 403.
    """
    if can(user, action, obj):
        return
    if action != "view" and can(user, "view", obj):
        raise PermissionDenied(_("You do not have permission to do this."))
    raise Http404


def require_cloud_admin(user) -> None:
    if not is_cloud_admin(user):
        raise PermissionDenied(_("Only cloud administrators may do this."))


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        return restrict(self, user, action)
