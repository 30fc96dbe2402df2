from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import PortalModelAdmin

from . import services
from .models import Namespace


class UnassignedFilter(admin.SimpleListFilter):
    title = _("assignment")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("yes", _("In a project")), ("no", _("Unassigned"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(project__isnull=False)
        if self.value() == "no":
            return queryset.filter(project__isnull=True)
        return queryset


@admin.register(Namespace)
class NamespaceAdmin(PortalModelAdmin):
    """Namespaces mirrored from Kubernetes. Only an unassigned one's project can be set
    here (assigning it); deleting asks Kubernetes to delete it. Quotas and members are
    changed in the portal or the API."""

    list_display = ["name", "cluster", "project", "phase", "quota_summary", "created"]
    list_filter = [UnassignedFilter, "phase", "cluster", "project"]
    search_fields = ["name", "cluster__name", "project__name"]
    list_select_related = ["cluster", "project"]
    fields = [
        "cluster",
        "name",
        "project",
        "phase",
        "labels",
        "quota_hard",
        "quota_used",
        "resource_version",
        "created",
    ]

    def get_readonly_fields(self, request, obj=None):
        fixed = [f for f in self.fields if f != "project"]
        if obj is None or obj.project_id is not None or obj.is_system:
            return self.fields
        return fixed

    def has_add_permission(self, request):
        return False  # created with a quota in the portal or the API

    @admin.display(description=_("quota"))
    def quota_summary(self, obj):
        return ", ".join(f"{k}={v}" for k, v in obj.quota_hard.items()) or "—"

    def update(self, actor, obj, data):
        if data.get("project") is not None:
            # The form already set the project on obj; assign from the stored row.
            services.assign(actor, Namespace.objects.get(pk=obj.pk), data["project"])

    def remove(self, actor, obj):
        services.delete_namespace(actor, obj)
