"""Who may work in a namespace, in the cluster's own RBAC.

The portal's rule (``apps.core.authz``, DESIGN.md's permission matrix): the admins of the
namespace's project (project admins and the department's admins) may always work in it;
its members may when the namespace was opened to them. The same is kept in RoleBindings
in the namespace (``apps.kube.rbac``): admins → ClusterRole ``admin``, members → ``edit``,
each as the Kubernetes user the portal impersonates (``kcs:user:<username>``).

Kept in line when the namespace is created or assigned, when it is opened to other
members, when roles in its project change (the services call ``sync`` at once); by the
informer, which watches the portal's bindings (``BINDINGS``, a guard: no rows) and puts
back at once one changed or deleted with kubectl; and by beat's resync of each cluster
(a deleted binding comes back, a stray portal-managed one goes). The portal's own
identity does it: tenants cannot bind roles. The ClusterRoles that give admin, edit and
view their rights on Applications (``apps.kube.bootstrap.application_roles``) are made
there too, when missing.
"""

import logging

from django.db import transaction

from apps.core.authz import NsPerm, Role
from apps.kube import bootstrap, guards, identity
from apps.kube import rbac as kube_rbac
from apps.kube.errors import KubeError
from apps.tenancy.models import DepartmentAdmin, Membership, Project

from .models import SYSTEM_NAMESPACES, Namespace, NamespaceUserObjectPermission

log = logging.getLogger("kcsportal.namespaces")


def wanted(namespaces: list[Namespace]) -> kube_rbac.Wanted:
    """{namespace name: {"admin": [users], "edit": [users]}} for namespaces of ONE cluster
    (Kubernetes' own and those being deleted are left out); four queries whatever their
    number."""
    namespaces = [
        ns for ns in namespaces if ns.name not in SYSTEM_NAMESPACES and not ns.is_terminating
    ]
    projects = {ns.project_id for ns in namespaces if ns.project_id}
    admins: dict[int, set[str]] = {}
    members: dict[int, set[str]] = {}
    for project_id, role, username in Membership.objects.filter(project__in=projects).values_list(
        "project_id", "role", "user__username"
    ):
        (admins if role == Role.ADMIN else members).setdefault(project_id, set()).add(username)
    by_department: dict[int, set[str]] = {}
    for department_id, username in DepartmentAdmin.objects.filter(
        department__projects__in=projects
    ).values_list("department_id", "user__username"):
        by_department.setdefault(department_id, set()).add(username)
    opened: dict[int, set[str]] = {}
    for namespace_id, username in NamespaceUserObjectPermission.objects.filter(
        content_object__in=namespaces, permission__codename=NsPerm.WORK
    ).values_list("content_object_id", "user__username"):
        opened.setdefault(namespace_id, set()).add(username)
    departments = dict(
        Namespace.objects.filter(pk__in=[ns.pk for ns in namespaces]).values_list(
            "pk", "project__department_id"
        )
    )
    out: kube_rbac.Wanted = {}
    for ns in namespaces:
        if ns.project_id is None:
            out[ns.name] = {}
            continue
        admin_names = admins.get(ns.project_id, set()) | by_department.get(
            departments.get(ns.pk), set()
        )
        member_names = (opened.get(ns.pk, set()) & members.get(ns.project_id, set())) - admin_names
        out[ns.name] = {
            "admin": [identity.username_of(name) for name in sorted(admin_names)],
            "edit": [identity.username_of(name) for name in sorted(member_names)],
        }
    return out


def sync(namespace: Namespace) -> bool:
    """Bring one namespace's bindings in line; False (logged) when the cluster did not
    answer: beat's resync repairs it later.

    Inside a transaction it is done again once that commits: the informer's guard judges
    the bindings by committed rows, and may have put back the old ones meanwhile."""
    _again_after_commit(_sync, namespace)
    return _sync(namespace)


def _again_after_commit(fn, *args) -> None:
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: fn(*args))


@identity.as_portal()
def _sync(namespace: Namespace) -> bool:
    try:
        kube = namespace.cluster.kube()
        bootstrap.ensure_application_roles(kube)
        kube_rbac.reconcile(kube, wanted([namespace]), kube_rbac.managed(kube, namespace.name))
    except KubeError as exc:
        log.warning(
            "namespace %s/%s: RoleBindings not kept in line: %s",
            namespace.cluster.name,
            namespace.name,
            exc.message,
        )
        return False
    return True


def sync_projects(projects) -> None:
    """After roles in these projects changed: every namespace of theirs."""
    namespaces = list(Namespace.objects.filter(project__in=projects).select_related("cluster"))
    for namespace in namespaces:
        _again_after_commit(_sync, namespace)
        _sync(namespace)


def user_deleting(sender, instance, **kwargs) -> None:
    """A deleted user's roles go by cascade, past the services: once the deletion
    commits, the bindings of their projects' namespaces follow (a user created later
    with the same name must not inherit them)."""
    projects = set(Membership.objects.filter(user=instance).values_list("project", flat=True))
    projects |= set(
        Project.objects.filter(department__admins__user=instance).values_list("pk", flat=True)
    )
    if projects:
        transaction.on_commit(lambda: sync_projects(projects))


@identity.as_portal()
def sync_cluster(cluster, kube=None, names=None) -> dict[str, int]:
    """Beat's repair of a whole cluster (or of the ``names`` namespaces only): one list
    of the portal's bindings, writes only where they differ from who may work in each
    namespace."""
    kube = kube or cluster.kube()
    namespaces = Namespace.objects.filter(cluster=cluster)
    if names is None:
        bootstrap.ensure_application_roles(kube)
    else:
        namespaces = namespaces.filter(name__in=names)
    desired = wanted(list(namespaces))
    existing = kube_rbac.managed(kube, next(iter(desired)) if len(desired) == 1 else None)
    # Only namespaces the portal has in view: one created meanwhile is not mirrored yet.
    existing = [b for b in existing if b["metadata"]["namespace"] in desired]
    changes = kube_rbac.reconcile(kube, desired, existing)
    if any(changes.values()):
        log.warning("cluster %s: RoleBindings repaired: %s", cluster.name, changes)
    return changes


class BindingGuard(guards.Guard):
    """The informer's watch on the portal's RoleBindings: drift is repaired at once."""

    def _desired(self, cluster, names=None) -> kube_rbac.Wanted:
        namespaces = Namespace.objects.filter(cluster=cluster)
        if names is not None:
            namespaces = namespaces.filter(name__in=names)
        return wanted(list(namespaces))

    def drifted(self, cluster, upserts, deletes) -> set[str]:
        keys = {self.key(obj) for obj in (*upserts, *deletes)}
        desired = self._desired(cluster, {namespace for namespace, _name in keys})
        out = set()
        for obj in upserts:
            namespace, name = self.key(obj)
            want = _wanted_binding(desired, namespace, name)
            if namespace in desired and (want is None or not kube_rbac.same(obj, want)):
                out.add(namespace)  # changed behind the portal's back, or one it does not want
        for obj in deletes:
            namespace, name = self.key(obj)
            if _wanted_binding(desired, namespace, name) is not None:
                out.add(namespace)  # deleted (or its label taken off) though wanted
        return out

    def missing(self, cluster, listed_keys) -> set[str]:
        return {
            namespace
            for namespace, roles in self._desired(cluster).items()
            for role, users in roles.items()
            if users and (namespace, kube_rbac.ROLES[role]) not in listed_keys
        }

    def repair(self, cluster, namespaces) -> None:
        try:
            sync_cluster(cluster, cluster.kube(retries=1), names=namespaces)
        except KubeError as exc:
            log.warning(
                "cluster %s: RoleBindings not repaired (beat will): %s", cluster.name, exc.message
            )


def _wanted_binding(desired: kube_rbac.Wanted, namespace: str, name: str) -> dict | None:
    role = {binding: role for role, binding in kube_rbac.ROLES.items()}.get(name)
    users = (desired.get(namespace) or {}).get(role) if role else None
    return kube_rbac.manifest(namespace, role, users) if users else None


BINDINGS = guards.register(
    BindingGuard(kube_rbac.API_VERSION, kube_rbac.KIND, label_selector=kube_rbac.SELECTOR)
)
