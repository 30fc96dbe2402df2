from django.contrib import admin, messages

from . import services
from .models import LogShipper


@admin.register(LogShipper)
class LogShipperAdmin(admin.ModelAdmin):
    """Each cluster's log shipper; tokens are only ever shown as their first characters."""

    list_display = [
        "cluster",
        "token_hint",
        "issued",
        "revoked",
        "deployed",
        "retention_days",
        "lines_received",
        "last_received",
    ]
    readonly_fields = [
        "cluster",
        "token_hint",
        "issued",
        "revoked",
        "endpoint",
        "deployed",
        "lines_received",
        "last_received",
    ]
    fields = [*readonly_fields, "retention_days"]
    actions = ["deploy", "revoke"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        services.set_retention(request.user, obj.cluster, obj.retention_days)

    @admin.action(description="Deploy the shipper again (new token)")
    def deploy(self, request, queryset):
        for shipper in queryset.select_related("cluster"):
            services.redeploy_shipper(request.user, shipper.cluster)
        messages.success(request, "Deployed.")

    @admin.action(description="Revoke the ingest token")
    def revoke(self, request, queryset):
        for shipper in queryset.select_related("cluster"):
            if shipper.active:
                services.revoke_token(request.user, shipper.cluster)
        messages.success(request, "Revoked.")
