from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin

from . import services
from .models import EndpointSlice, Ingress, Service


@admin.register(Service)
class ServiceAdmin(ReadOnlyAdmin):
    """Mirrored from Kubernetes: read-only here; deleting deletes it in Kubernetes."""

    list_display = ["name", "namespace_name", "cluster", "type", "cluster_ip", "external_address"]
    list_filter = ["type", "cluster"]
    search_fields = ["name", "namespace_name", "cluster_ip", "external_address"]
    list_select_related = ["cluster"]

    def remove(self, actor, obj):
        services.delete_service(actor, obj)


@admin.register(Ingress)
class IngressAdmin(ReadOnlyAdmin):
    list_display = ["name", "namespace_name", "cluster", "ingress_class", "hosts", "address"]
    list_filter = ["ingress_class", "cluster"]
    search_fields = ["name", "namespace_name", "address"]
    list_select_related = ["cluster"]

    def remove(self, actor, obj):
        services.delete_ingress(actor, obj)


@admin.register(EndpointSlice)
class EndpointSliceAdmin(ReadOnlyAdmin):
    """Written by the cluster's EndpointSlice controller: read-only everywhere."""

    list_display = ["name", "namespace_name", "cluster", "service_name", "address_type"]
    list_filter = ["cluster"]
    search_fields = ["name", "namespace_name", "service_name"]
    list_select_related = ["cluster"]

    def has_delete_permission(self, request, obj=None):
        return False
