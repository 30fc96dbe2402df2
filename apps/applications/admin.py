from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from apps.core.admin import ReadOnlyAdmin, for_each

from . import services
from .models import Application, Import


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    """Mirrored from Kubernetes: read-only here; its actions are the portal's services.
    Deleting here deletes the Application object only; its components stay."""

    list_display = ["name", "namespace_name", "cluster", "status", "workload_count", "version"]
    list_filter = ["status", "cluster"]
    search_fields = ["name", "namespace_name", "description"]
    list_select_related = ["cluster"]
    actions = ["start", "stop", "redeploy"]

    def remove(self, actor, obj):
        services.delete(actor, obj, with_components=False)

    def _each(self, request, queryset, service):
        done = ngettext_lazy(
            "Started the operation for %(n)s application.",
            "Started the operations for %(n)s applications.",
            "n",
        )
        for_each(self, request, queryset, lambda obj: service(request.user, obj), done)

    @admin.action(description=_("Start the selected applications"))
    def start(self, request, queryset):
        self._each(request, queryset, services.start)

    @admin.action(description=_("Stop the selected applications"))
    def stop(self, request, queryset):
        self._each(request, queryset, services.stop)

    @admin.action(description=_("Redeploy the selected applications"))
    def redeploy(self, request, queryset):
        self._each(request, queryset, services.redeploy)


@admin.register(Import)
class ImportAdmin(ReadOnlyAdmin):
    list_display = ["created", "application", "namespace", "applied", "actor", "operation"]
    list_select_related = ["namespace", "actor", "operation"]
    exclude = ["objects_json"]  # the objects may hold Secrets

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f != "objects_json"]
