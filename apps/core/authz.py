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

import contextlib
from collections.abc import Callable
from contextvars import ContextVar
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


# --- the user's grants, read once per request ---------------------------------------
#
# Outside a request (a task, a shell, a test calling services) every condition is made
# of subqueries, evaluated by the database each time, so it never goes stale. Inside one
# (``request_scope``, entered by the request middleware) the user's grants are read once
# -- one query for the project grants, one for the namespaces they open -- and the
# conditions filter by those ids: a page asks the same questions many times, and a
# list's query then compares an indexed column with a few integers instead of running
# nested subqueries (cheaper for the database and for the ORM compiling them), and
# ``can`` answers for an object at hand without a query. A write of a grant or of a
# Namespace in this process (``grants_changed``, sent by signals and by the services
# that write grants in bulk) makes the next question read them again.

# The current request (a fresh token per request), or None outside one.
_request: ContextVar[object | None] = ContextVar("kcs_authz_request", default=None)
_generation = 0

# More ids than this stay a subquery (a very long IN list costs more than it saves).
MAX_LITERAL_IDS = 1000


@contextlib.contextmanager
def request_scope():
    """While inside, a user object's grants are read once and reused (see above)."""
    token = _request.set(object())
    try:
        yield
    finally:
        _request.reset(token)


def grants_changed(**_kwargs) -> None:
    """A grant or a namespace changed: grants read before it are read again."""
    global _generation  # a counter of this process, only ever increased
    _generation += 1


class _Grants:
    """One user's grants as ids, read lazily, for the duration of one request."""

    def __init__(self, user, request):
        self.user = user
        self.request = request
        self.generation = _generation
        self.conditions: dict = {}
        self._projects: dict[str, frozenset[int]] | None = None
        self._namespaces: dict[str, frozenset[int]] = {}

    def _load(self) -> None:
        # One query: the project grants, and the namespaces the user may work in
        # (``InNamespace()``, what nearly every question of a tenant's request needs).
        from django.apps import apps
        from django.db.models import CharField, Value

        grants = apps.get_model("tenancy", "ProjectUserObjectPermission")
        namespace = apps.get_model("namespaces", "Namespace")
        mine = grants.objects.filter(user=self.user)
        key = f"namespace:{NsPerm.WORK}"
        rows = (
            mine.order_by()
            .values_list("permission__codename", "content_object_id")
            .union(
                namespace.objects.filter(_namespace_rule(self.user, NsPerm.WORK))
                .order_by()
                .annotate(key=Value(key, output_field=CharField()))
                .values_list("key", "pk"),
                all=True,
            )
        )
        found: dict[str, set[int]] = {}
        for codename, object_id in rows:
            found.setdefault(codename, set()).add(object_id)
        namespaces = frozenset(found.pop(key, ()))
        self._namespaces[NsPerm.WORK] = namespaces if len(namespaces) <= MAX_LITERAL_IDS else None
        self._projects = {k: frozenset(v) for k, v in found.items()}

    @property
    def projects(self) -> dict[str, frozenset[int]]:
        """Project permission codename -> ids of the projects where the user holds it."""
        if self._projects is None:
            self._load()
        return self._projects

    def project_ids(self, perm: str) -> frozenset[int]:
        return self.projects.get(perm, frozenset())

    def namespaces_in(self, perm: str) -> frozenset[int] | None:
        """Ids of the namespaces the user may work in per ``InNamespace(perm)``.

        None if there are too many to list (the caller keeps the subquery).
        """
        if self._projects is None:
            self._load()
        if perm not in self._namespaces:  # another permission than NsPerm.WORK
            from django.apps import apps

            namespace = apps.get_model("namespaces", "Namespace")
            ids = frozenset(
                namespace.objects.filter(_namespace_rule(self.user, perm)).values_list(
                    "pk", flat=True
                )
            )
            self._namespaces[perm] = ids if len(ids) <= MAX_LITERAL_IDS else None
        return self._namespaces[perm]


def _grants(user) -> _Grants | None:
    """The user's grants for this request; None outside a request."""
    request = _request.get()
    if request is None or user is None or not user.is_authenticated:
        return None
    grants = user.__dict__.get("_kcs_grants")
    # Read again in another request (a user object can outlive one: the API's
    # force_authenticate in tests) or after a change.
    if grants is None or grants.request is not request or grants.generation != _generation:
        grants = user.__dict__["_kcs_grants"] = _Grants(user, request)
    return grants


def _namespace_grants(user, perm: str):
    from django.apps import apps

    grants = apps.get_model("namespaces", "NamespaceUserObjectPermission")
    return grants.objects.filter(user=user, permission__codename=perm).values("content_object")


def namespace_ids(user, perm: str = NsPerm.WORK):
    """The ids of namespaces on which the user holds ``perm`` (a subquery)."""
    return _namespace_grants(user, perm)


def project_ids(user, perm: str):
    """The ids of projects on which the user holds ``perm``: a subquery, or in a request
    the ids themselves."""
    grants = _grants(user)
    if grants is not None:
        ids = grants.project_ids(perm)
        if len(ids) <= MAX_LITERAL_IDS:
            return ids
    return _project_grants(user, perm)


def _project_grants(user, perm: str):
    from django.apps import apps

    model = apps.get_model("tenancy", "ProjectUserObjectPermission")
    return model.objects.filter(user=user, permission__codename=perm).values("content_object")


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
    # project -> the objects "of" that project, for lists scoped by the project switcher;
    # by default those the project or namespace lookup leads to.
    scope: Callable[..., Q] | None = None

    def in_project(self, project) -> Q | None:
        if self.scope is not None:
            return self.scope(project)
        if self.project is not None:
            return Q(**{self.project or "pk": project.pk})
        if self.namespace is not None:
            prefix = f"{self.namespace}__" if self.namespace else ""
            return Q(**{f"{prefix}project": project.pk})
        return None


@dataclass
class Registry:
    rules: dict[type[models.Model], Rule] = field(default_factory=dict)

    def rule_for(self, model) -> Rule:
        try:
            return self.rules[model._meta.concrete_model]
        except KeyError:
            raise LookupError(f"{model._meta.label} is not registered with authz") from None


registry = Registry()


def register(model, *, project=None, namespace=None, actions=None, widen=None, scope=None):
    """Declare how a model is authorized (called from the model's module)."""
    registry.rules[model] = Rule(
        project=project,
        namespace=namespace,
        actions=dict(actions or {}),
        widen=widen,
        scope=scope,
    )
    return model


def in_project(queryset, project):
    """The objects of ``queryset`` that belong to ``project`` (all, for models that do not)."""
    condition = registry.rule_for(queryset.model).in_project(project)
    return queryset if condition is None else queryset.filter(condition)


def _in_namespace(rule: Rule, user, perm: str) -> Q:
    grants = _grants(user)
    ids = grants.namespaces_in(perm) if grants is not None else None
    if ids is not None:  # in a request: the namespaces' ids, read once
        return Q(**{f"{rule.namespace}__in" if rule.namespace else "pk__in": ids})
    condition = _namespace_rule(user, perm)
    if not rule.namespace:  # the Namespace itself
        return condition
    # Objects in those namespaces: a subquery, not a join, so that the object's own index
    # still serves the list's ordering.
    from django.apps import apps

    namespaces = apps.get_model("namespaces", "Namespace").objects.filter(condition)
    return Q(**{f"{rule.namespace}__in": namespaces.values("pk")})


def _namespace_rule(user, perm: str) -> Q:
    """Namespaces ``user`` may work in (``InNamespace(perm)``), as subqueries: the admins
    of the namespace's project, and the members it was opened to while they remain so."""
    admins = Q(project__in=_project_grants(user, Perm.MANAGE_NAMESPACES))
    operate = _project_grants(user, Perm.OPERATE)
    opened = Q(pk__in=namespace_ids(user, perm)) & Q(project__in=operate)
    return admins | opened


def _condition(model, user, action: str) -> Q | None:
    """The filter for what ``user`` may do on ``model``; None means nothing.

    Kept for the request (with the grants it was made from, see ``_grants``) or, outside
    one, on the user object: made of subqueries, evaluated by the database each time, it
    never goes stale.
    """
    grants = _grants(user)
    cache = (
        grants.conditions if grants is not None else user.__dict__.setdefault("_kcs_conditions", {})
    )
    key = (model._meta.concrete_model, action)
    if key not in cache:
        cache[key] = _build_condition(model, user, action)
    return cache[key]


def _build_condition(model, user, action: str) -> Q | None:
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


def _can_from_grants(user, action: str, obj) -> bool | None:
    """``can`` from the request's grants and the object at hand; None if that cannot tell
    (rules through other tables, widened rules, outside a request: the caller asks the
    database)."""
    grants = _grants(user)
    if grants is None or obj.pk is None:
        return None
    rule = registry.rule_for(type(obj))
    if rule.widen is not None:
        return None
    needed = rule.actions.get(action)
    if needed is None:
        return False
    if isinstance(needed, InNamespace):
        lookup, ids = rule.namespace, grants.namespaces_in(needed.perm)
    elif isinstance(needed, str):
        lookup, ids = rule.project, grants.project_ids(needed)
    else:
        return None
    if ids is None or lookup is None or "__" in lookup:
        return None
    value = obj.pk if lookup == "" else getattr(obj, f"{lookup}_id", None)
    return value is not None and value in ids


def can(user, action: str, obj) -> bool:
    if is_cloud_admin(user):
        return True
    if not (user and user.is_authenticated and user.is_active):
        return False
    known = _can_from_grants(user, action, obj)
    if known is not None:
        return known
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


def held_permissions(request) -> set[str]:
    """Project permissions the request's user holds in any project; one query, per request."""
    if not hasattr(request, "_held_permissions"):
        grants = _grants(request.user)
        if grants is not None:  # the same query as the request's other questions
            request._held_permissions = set(grants.projects)
        else:
            from django.apps import apps

            model = apps.get_model("tenancy", "ProjectUserObjectPermission")
            request._held_permissions = set(
                model.objects.filter(user=request.user).values_list(
                    "permission__codename", flat=True
                )
            )
    return request._held_permissions


def holds(request, perm: str) -> bool:
    """Whether the request's user holds ``perm`` in some project (cloud admins hold all)."""
    return is_cloud_admin(request.user) or perm in held_permissions(request)


def require_cloud_admin(user) -> None:
    if not is_cloud_admin(user):
        raise PermissionDenied(_("Only cloud administrators may do this."))


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        return restrict(self, user, action)
