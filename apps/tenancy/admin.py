from django.contrib import admin

from apps.core.admin import PortalModelAdmin, ReadOnlyAdmin

from . import services
from .models import Department, DepartmentAdmin, Membership, Project, ProjectUserObjectPermission


@admin.register(Department)
class DepartmentModelAdmin(PortalModelAdmin):
    list_display = ["name", "display_name", "created"]
    search_fields = ["name", "display_name", "description"]

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj else []

    def create(self, actor, data):
        return services.create_department(actor, **data)

    def update(self, actor, obj, data):
        services.update_department(actor, obj, **data)

    def remove(self, actor, obj):
        services.delete_department(actor, obj)


@admin.register(Project)
class ProjectModelAdmin(PortalModelAdmin):
    list_display = ["name", "display_name", "department", "is_admin_project", "created"]
    list_filter = ["department", "is_admin_project"]
    search_fields = ["name", "display_name", "description", "department__name"]
    list_select_related = ["department"]

    def get_readonly_fields(self, request, obj=None):
        return ["name", "department", "is_admin_project"] if obj else ["is_admin_project"]

    def create(self, actor, data):
        return services.create_project(actor, data.pop("department"), **data)

    def update(self, actor, obj, data):
        services.update_project(actor, obj, **data)

    def remove(self, actor, obj):
        services.delete_project(actor, obj)


@admin.register(Membership)
class MembershipModelAdmin(PortalModelAdmin):
    list_display = ["user", "project", "role", "created"]
    list_filter = ["role", "project__department", "project"]
    search_fields = ["user__username", "project__name"]
    list_select_related = ["user", "project"]
    autocomplete_fields = ["user", "project"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "project"] if obj else []

    def create(self, actor, data):
        return services.add_member(actor, data["project"], data["user"], data["role"])

    def update(self, actor, obj, data):
        if "role" in data:
            services.change_member_role(actor, obj, data["role"])

    def remove(self, actor, obj):
        services.remove_member(actor, obj)


@admin.register(DepartmentAdmin)
class DepartmentAdminModelAdmin(PortalModelAdmin):
    list_display = ["user", "department", "created"]
    list_filter = ["department"]
    search_fields = ["user__username", "department__name"]
    list_select_related = ["user", "department"]
    autocomplete_fields = ["user", "department"]

    def create(self, actor, data):
        return services.add_department_admin(actor, data["department"], data["user"])

    def remove(self, actor, obj):
        services.remove_department_admin(actor, obj)


@admin.register(ProjectUserObjectPermission)
class ProjectGrantAdmin(ReadOnlyAdmin):
    """Grants are derived from roles (services.sync_grants); shown to explain access."""

    list_display = ["user", "content_object", "permission"]
    list_filter = ["permission", "content_object"]
    search_fields = ["user__username", "content_object__name"]
    list_select_related = ["user", "content_object", "permission"]
