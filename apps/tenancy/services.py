"""Tenancy operations: departments, projects, members. Validate → authorize → act → audit."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.core import audit, authz
from apps.core.audit import audited
from apps.core.authz import Role

from .models import Department, DepartmentAdmin, Membership, Project, ProjectUserObjectPermission

User = get_user_model()


# --- guardian grants -------------------------------------------------------------


def sync_grants(projects=None, users=None) -> None:
    """Make the guardian grants on projects match the roles held in them.

    Roles are the truth; grants are derived from them so that authz can
    answer with one indexed subquery. Called after any change of roles.
    """
    projects = Project.objects.all() if projects is None else projects
    project_list = list(projects.select_related("department"))
    if not project_list:
        return
    wanted: set[tuple[int, int, str]] = set()
    memberships = Membership.objects.filter(project__in=project_list)
    dept_admins = DepartmentAdmin.objects.filter(
        department__in={p.department_id for p in project_list}
    )
    if users is not None:
        memberships = memberships.filter(user__in=users)
        dept_admins = dept_admins.filter(user__in=users)
    for m in memberships:
        for perm in authz.ROLE_PERMISSIONS[m.role]:
            wanted.add((m.user_id, m.project_id, perm))
    admins_by_department: dict[int, list[int]] = {}
    for d in dept_admins:
        admins_by_department.setdefault(d.department_id, []).append(d.user_id)
    for project in project_list:
        for user_id in admins_by_department.get(project.department_id, []):
            for perm in authz.ROLE_PERMISSIONS[Role.DEPARTMENT_ADMIN]:
                wanted.add((user_id, project.pk, perm))

    existing = ProjectUserObjectPermission.objects.filter(content_object__in=project_list)
    if users is not None:
        existing = existing.filter(user__in=users)
    have = {
        (g.user_id, g.content_object_id, g.permission.codename): g.pk
        for g in existing.select_related("permission")
    }
    stale = [pk for key, pk in have.items() if key not in wanted]
    ProjectUserObjectPermission.objects.filter(pk__in=stale).delete()
    missing = wanted - have.keys()
    if missing:
        permissions = {
            p.codename: p
            for p in Permission.objects.filter(
                content_type__app_label="tenancy", content_type__model="project"
            )
        }
        ProjectUserObjectPermission.objects.bulk_create(
            ProjectUserObjectPermission(
                user_id=user_id, content_object_id=project_id, permission=permissions[perm]
            )
            for user_id, project_id, perm in missing
        )
        authz.grants_changed()  # bulk_create sends no signal


# --- departments -----------------------------------------------------------------


def ensure_admin_project() -> Project:
    """The built-in Default department and admin project (also made by a migration)."""
    department, _created = Department.objects.get_or_create(
        name="default", defaults={"display_name": "Default"}
    )
    project = Project.objects.filter(is_admin_project=True).first()
    if project is None:
        project = Project.objects.create(
            department=department,
            name="admin",
            display_name="admin",
            description="Built-in project of the cloud administrators; it owns the clusters.",
            is_admin_project=True,
        )
    return project


def project_name_taken() -> str:
    return _("This name is not available; choose another.")


def _clean(obj):
    obj.full_clean()
    return obj


@audited("department.create", Department)
@transaction.atomic
def create_department(actor, *, name, display_name="", description="") -> Department:
    authz.require_cloud_admin(actor)
    department = _clean(Department(name=name, display_name=display_name, description=description))
    department.save()
    audit.record(actor, "department.create", department)
    return department


@audited("department.update")
@transaction.atomic
def update_department(actor, department: Department, **changes) -> Department:
    authz.require(actor, "change", department)
    _apply(department, changes, {"display_name", "description"})
    audit.record(actor, "department.update", department, detail={"changed": sorted(changes)})
    return department


@audited("department.delete")
@transaction.atomic
def delete_department(actor, department: Department) -> None:
    authz.require(actor, "delete", department)
    if department.projects.exists():
        raise ValidationError(_("Delete or move the department's projects first."))
    audit.record(actor, "department.delete", department)
    department.delete()


@audited("department.admin.add")
@transaction.atomic
def add_department_admin(actor, department: Department, user) -> DepartmentAdmin:
    authz.require(actor, "manage_admins", department)
    admin, _created = DepartmentAdmin.objects.get_or_create(department=department, user=user)
    sync_grants(department.projects.all(), users=[user])
    _roles_changed(department.projects.all())
    audit.record(actor, "department.admin.add", department, detail={"user": user.get_username()})
    return admin


@audited("department.admin.remove")
@transaction.atomic
def remove_department_admin(actor, admin: DepartmentAdmin) -> None:
    authz.require(actor, "manage_admins", admin.department)
    department, user = admin.department, admin.user
    admin.delete()
    sync_grants(department.projects.all(), users=[user])
    _roles_changed(department.projects.all())
    audit.record(actor, "department.admin.remove", department, detail={"user": user.get_username()})


# --- projects --------------------------------------------------------------------


@audited("project.create", Project)
@transaction.atomic
def create_project(
    actor, department: Department, *, name, display_name="", description=""
) -> Project:
    authz.require(actor, "add_project", department)
    project = Project(
        department=department, name=name, display_name=display_name, description=description
    )
    # Project names are unique across departments: a taken name gets one answer, whether
    # the user may see that project or not, so it confirms nothing.
    taken = Project.objects.filter(name=name).exists()
    try:
        project.full_clean(validate_unique=False)
    except ValidationError as exc:
        if taken:
            exc.error_dict.setdefault("name", []).append(ValidationError(project_name_taken()))
        raise
    if taken:
        raise ValidationError({"name": project_name_taken()})
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError:  # taken meanwhile
        raise ValidationError({"name": project_name_taken()}) from None
    sync_grants(Project.objects.filter(pk=project.pk))
    audit.record(actor, "project.create", project, project=project)
    return project


@audited("project.update")
@transaction.atomic
def update_project(actor, project: Project, **changes) -> Project:
    authz.require(actor, "change", project)
    _apply(project, changes, {"display_name", "description"})
    audit.record(
        actor, "project.update", project, project=project, detail={"changed": sorted(changes)}
    )
    return project


@audited("project.delete")
@transaction.atomic
def delete_project(actor, project: Project) -> None:
    authz.require(actor, "delete", project)
    if project.is_admin_project:
        raise ValidationError(_("The built-in admin project cannot be deleted."))
    if project.namespaces.exists():
        raise ValidationError(_("Delete the project's namespaces or assign them elsewhere first."))
    audit.record(actor, "project.delete", project, project=None, detail={"name": project.name})
    project.delete()


# --- members ---------------------------------------------------------------------


@audited("project.member.add")
@transaction.atomic
def add_member(actor, project: Project, user, role: str = Role.MEMBER) -> Membership:
    authz.require(actor, "manage_members", project)
    _check_role(role)
    if Membership.objects.filter(project=project, user=user).exists():
        raise ValidationError(
            _("%(user)s is already a member of this project.") % {"user": user.get_username()}
        )
    membership = Membership.objects.create(project=project, user=user, role=role)
    sync_grants(Project.objects.filter(pk=project.pk), users=[user])
    _roles_changed([project])
    audit.record(
        actor,
        "project.member.add",
        project,
        project=project,
        detail={"user": user.get_username(), "role": role},
    )
    return membership


@audited("project.member.change")
@transaction.atomic
def change_member_role(actor, membership: Membership, role: str) -> Membership:
    authz.require(actor, "change", membership)
    _check_role(role)
    _refuse_self_demotion(actor, membership)
    membership.role = role
    membership.save(update_fields=["role"])
    sync_grants(Project.objects.filter(pk=membership.project_id), users=[membership.user])
    _roles_changed([membership.project_id])
    audit.record(
        actor,
        "project.member.change",
        membership.project,
        project=membership.project,
        detail={"user": membership.user.get_username(), "role": role},
    )
    return membership


@audited("project.member.remove")
@transaction.atomic
def remove_member(actor, membership: Membership) -> None:
    authz.require(actor, "delete", membership)
    _refuse_self_demotion(actor, membership)
    project, user = membership.project, membership.user
    membership.delete()
    sync_grants(Project.objects.filter(pk=project.pk), users=[user])
    _roles_changed([project])
    audit.record(
        actor,
        "project.member.remove",
        project,
        project=project,
        detail={"user": user.get_username()},
    )


# --- helpers ---------------------------------------------------------------------


def _roles_changed(projects) -> None:
    """Who may work in the projects' namespaces changed: their RoleBindings follow."""
    from apps.namespaces import access

    access.sync_projects(projects)


def _check_role(role: str) -> None:
    if role not in dict(Membership.ROLES):
        raise ValidationError(_("Unknown role: %(role)s.") % {"role": role})


def _refuse_self_demotion(actor, membership: Membership) -> None:
    # A project admin removing their own admin role would lock the project's
    # administration out; someone above them has to do it.
    if (
        membership.user_id == actor.pk
        and membership.role == Role.ADMIN
        and not authz.is_cloud_admin(actor)
        and not DepartmentAdmin.objects.filter(
            user=actor, department_id=membership.project.department_id
        ).exists()
    ):
        raise PermissionDenied(_("You cannot remove your own admin role."))


def _apply(obj, changes: dict, allowed: set[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
