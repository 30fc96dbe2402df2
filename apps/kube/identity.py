"""Whom the portal acts as in Kubernetes.

Tenant actions reach Kubernetes impersonating the portal user, so that the cluster's own
RBAC (the RoleBindings ``apps.kube.rbac`` keeps in each namespace) is a second line
behind ``apps.core.authz``: a bug in the portal's checks cannot let a tenant act outside
their namespaces. Cloud admins, and the portal's own work (informer, reconcilers, cluster
preparation, namespace and quota management), keep the kubeconfig's identity.

The naming scheme, as the cluster sees it (README, "RBAC and impersonation"):

- user ``kcs:user:<username>`` (the portal's username, unchanged);
- group ``kcs:tenants``: every user the portal impersonates (everyone but cloud admins);
- group ``kcs:project:<project>`` for each project the user is a member of (any role),
  and ``kcs:project:<project>:admin`` where they are its admin;
- group ``kcs:department:<department>:admin`` for each department they administer;
- group ``system:authenticated``, which the API server adds to every impersonated user.

Project and department names are unique and never change, so a binding to their group
keeps meaning the same. The portal's own RoleBindings (``apps.kube.rbac``) name users;
the groups are for bindings an operator adds (say, ``view`` on a shared namespace for
``kcs:tenants``).

Service functions declare it once: ``@identity.as_actor`` on a function called as
``fn(actor, ...)``, or ``with identity.acting_as(actor):`` around a block. While it is in
force, ``Cluster.kube()`` builds a client that sends ``Impersonate-User`` and one
``Impersonate-Group`` per group. ``with identity.as_portal():`` inside such a block goes
back to the portal's identity.
"""

import functools
from contextlib import contextmanager
from contextvars import ContextVar

from .client import Impersonation

USER_PREFIX = "kcs:user:"
TENANTS = "kcs:tenants"
PROJECT_PREFIX = "kcs:project:"
DEPARTMENT_PREFIX = "kcs:department:"


class _Acting:
    """The user a block acts as; their groups are looked up once, when first needed."""

    def __init__(self, user):
        self.user = user
        self._impersonation: Impersonation | None = None

    @property
    def impersonation(self) -> Impersonation:
        if self._impersonation is None:
            self._impersonation = Impersonation(username(self.user), groups(self.user))
        return self._impersonation


# Whom the current block acts as; None: the kubeconfig's own identity.
_acting: ContextVar[_Acting | None] = ContextVar("kcs_kube_acting_as", default=None)


def username(user) -> str:
    """The Kubernetes user name of a portal user."""
    return username_of(user.get_username())


def username_of(portal_username: str) -> str:
    return f"{USER_PREFIX}{portal_username}"


def project_group(project_name: str, *, admin: bool = False) -> str:
    return f"{PROJECT_PREFIX}{project_name}{':admin' if admin else ''}"


def groups(user) -> tuple[str, ...]:
    """The Kubernetes groups of a portal user (two queries), sorted."""
    from apps.core.authz import Role
    from apps.tenancy.models import DepartmentAdmin, Membership

    out = {TENANTS}
    for project, role in Membership.objects.filter(user=user).values_list("project__name", "role"):
        out.add(project_group(project))
        if role == Role.ADMIN:
            out.add(project_group(project, admin=True))
    for department in DepartmentAdmin.objects.filter(user=user).values_list(
        "department__name", flat=True
    ):
        out.add(f"{DEPARTMENT_PREFIX}{department}:admin")
    return tuple(sorted(out))


def is_tenant(user) -> bool:
    """Whether ``user`` acts in Kubernetes as themselves (everyone but cloud admins)."""
    from apps.core.authz import is_cloud_admin

    return bool(user is not None and user.is_authenticated and not is_cloud_admin(user))


def current() -> Impersonation | None:
    """Whom the portal impersonates now, or None for its own identity."""
    acting = _acting.get()
    return acting.impersonation if acting is not None else None


@contextmanager
def acting_as(user):
    """Impersonate ``user`` in Kubernetes for the block (cloud admins: the portal's identity)."""
    token = _acting.set(_Acting(user) if is_tenant(user) else None)
    try:
        yield
    finally:
        _acting.reset(token)


@contextmanager
def as_portal():
    """The portal's own identity for the block, e.g. to keep RoleBindings in line."""
    token = _acting.set(None)
    try:
        yield
    finally:
        _acting.reset(token)


def as_actor(fn):
    """Run the service function ``fn(actor, ...)`` impersonating its actor."""

    @functools.wraps(fn)
    def wrapper(actor, *args, **kwargs):
        with acting_as(actor):
            return fn(actor, *args, **kwargs)

    return wrapper
