from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin

from .models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """Mirrored from Kubernetes (and kept past it): read-only here."""

    list_display = [
        "last_seen",
        "type",
        "reason",
        "involved_kind",
        "involved_name",
        "namespace_name",
        "cluster",
        "count",
    ]
    list_filter = ["type", "cluster"]
    search_fields = ["reason", "message", "involved_name"]
    list_select_related = ["cluster"]

    def has_add_permission(self, request):
        return False
