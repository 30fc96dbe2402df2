from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from apps.core import authz
from apps.core.authz import Perm, RestrictedQuerySet, Role

# Project and department names end up in Kubernetes labels, so they follow
# the DNS-1123 label rules.
dns_label = RegexValidator(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
    _("Use lower-case letters, digits and '-', starting and ending with a letter or digit."),
)


class Department(models.Model):
    name = models.CharField(_("name"), max_length=63, unique=True, validators=[dns_label])
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.display_name or self.name

    def get_absolute_url(self):
        return reverse("portal:department", args=[self.pk])


class Project(models.Model):
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name=_("department"),
    )
    name = models.CharField(_("name"), max_length=63, unique=True, validators=[dns_label])
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_admin_project = models.BooleanField(
        _("admin project"),
        default=False,
        editable=False,
        help_text=_("The built-in project of the cloud administrators; it owns the clusters."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        permissions = [
            (Perm.MANAGE_MEMBERS, _("Can manage the members of the project")),
            (Perm.MANAGE_NAMESPACES, _("Can manage the namespaces of the project")),
            (Perm.VIEW_INFRASTRUCTURE, _("Can view the clusters and storage the project uses")),
            (Perm.VIEW_AUDIT, _("Can view the audit trail of the project")),
            (Perm.OPERATE, _("Can operate applications in the project")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["is_admin_project"],
                condition=Q(is_admin_project=True),
                name="tenancy_project_single_admin_project",
            )
        ]

    def __str__(self):
        return self.display_name or self.name

    def get_absolute_url(self):
        return reverse("portal:project", args=[self.pk])


class Membership(models.Model):
    """A user's role in a project."""

    ROLES = [(Role.ADMIN, _("Project admin")), (Role.MEMBER, _("Member"))]

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("project")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=32, choices=ROLES, default=Role.MEMBER)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["project__name", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="tenancy_membership_unique")
        ]

    def __str__(self):
        return f"{self.user} @ {self.project} ({self.get_role_display()})"


class DepartmentAdmin(models.Model):
    """A department administrator: acts as admin of every project of the department."""

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="admins", verbose_name=_("department")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="department_admin_roles",
        verbose_name=_("user"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["department__name", "user__username"]
        verbose_name = _("department admin")
        verbose_name_plural = _("department admins")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "user"], name="tenancy_department_admin_unique"
            )
        ]

    def __str__(self):
        return f"{self.user} @ {self.department}"


class ProjectUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's per-project grants, with a real foreign key.

    A direct foreign key (rather than guardian's generic table) lets authz
    filter by a plain integer subquery and deletes the grants with the project.
    """

    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("project permission")
        verbose_name_plural = _("project permissions")


# Conditions are subqueries, not joins, so restricted lists need no DISTINCT
# and annotations such as counts stay right.


def _administered_departments(user):
    return Q(pk__in=DepartmentAdmin.objects.filter(user=user).values("department"))


def _visible_departments(user):
    # A department is visible to its admins and to members of its projects.
    member_of = Project.objects.filter(pk__in=authz.project_ids(user, Perm.VIEW))
    return _administered_departments(user) | Q(pk__in=member_of.values("department"))


authz.register(
    Department,
    actions={"view": _visible_departments, "add_project": _administered_departments},
)
authz.register(
    Project,
    project="",
    actions={
        "view": Perm.VIEW,
        "change": Perm.CHANGE,
        "delete": Perm.DELETE,
        "manage_members": Perm.MANAGE_MEMBERS,
        "manage_namespaces": Perm.MANAGE_NAMESPACES,
        "view_audit": Perm.VIEW_AUDIT,
    },
)
authz.register(
    Membership,
    project="project",
    actions={"view": Perm.VIEW, "change": Perm.MANAGE_MEMBERS, "delete": Perm.MANAGE_MEMBERS},
)
authz.register(
    DepartmentAdmin,
    actions={
        "view": lambda user: Q(
            department__in=Department.objects.filter(_visible_departments(user)).values("pk")
        )
    },
)
