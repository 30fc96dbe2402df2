"""Storage in the admin site: mirrored rows are read-only; changes go through services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.admin import ReadOnlyAdmin, for_each

from . import services
from .models import PersistentVolume, PersistentVolumeClaim, StorageClass


class StorageAdmin(ReadOnlyAdmin):
    """Rows mirrored from Kubernetes; deleting one deletes the object in its cluster."""

    list_select_related = ["cluster"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(StorageClass)
class StorageClassAdmin(StorageAdmin):
    list_display = [
        "name",
        "cluster",
        "is_default",
        "provisioner",
        "reclaim_policy",
        "volume_binding_mode",
        "allow_expansion",
        "created",
    ]
    list_filter = ["is_default", "allow_expansion", "reclaim_policy", "cluster"]
    search_fields = ["name", "provisioner", "cluster__name"]
    actions = ["make_default", "delete_classes"]

    def remove(self, user, obj):
        services.delete_storage_class(user, obj)

    @admin.action(description=_("Make the selected class its cluster's default"))
    def make_default(self, request, queryset):
        for_each(
            self,
            request,
            queryset.select_related("cluster"),
            lambda sc: services.set_default(request.user, sc, True),
            lambda n: ngettext(
                "%(n)s storage class made default.", "%(n)s storage classes made default.", n
            ),
        )

    @admin.action(description=_("Delete the selected storage classes"))
    def delete_classes(self, request, queryset):
        for_each(
            self,
            request,
            queryset.select_related("cluster"),
            lambda sc: services.delete_storage_class(request.user, sc),
            lambda n: ngettext("%(n)s storage class deleted.", "%(n)s storage classes deleted.", n),
        )


@admin.register(PersistentVolume)
class PersistentVolumeAdmin(StorageAdmin):
    list_display = [
        "name",
        "cluster",
        "capacity",
        "phase",
        "reclaim_policy",
        "claim_namespace",
        "claim_name",
        "storage_class",
        "created",
    ]
    list_filter = ["phase", "reclaim_policy", "storage_class", "cluster"]
    search_fields = ["name", "claim_name", "claim_namespace", "cluster__name"]
    actions = ["delete_volumes"]

    def remove(self, user, obj):
        services.delete_volume(user, obj)

    @admin.action(description=_("Delete the selected persistent volumes"))
    def delete_volumes(self, request, queryset):
        for_each(
            self,
            request,
            queryset.select_related("cluster"),
            lambda pv: services.delete_volume(request.user, pv),
            lambda n: ngettext(
                "%(n)s persistent volume deleted.", "%(n)s persistent volumes deleted.", n
            ),
        )


@admin.register(PersistentVolumeClaim)
class PersistentVolumeClaimAdmin(StorageAdmin):
    list_display = [
        "name",
        "namespace_name",
        "cluster",
        "phase",
        "requested",
        "capacity",
        "storage_class",
        "volume_name",
        "created",
    ]
    list_filter = ["phase", "storage_class", "cluster"]
    search_fields = ["name", "namespace_name", "volume_name", "cluster__name"]
    list_select_related = ["cluster", "namespace"]
    actions = ["delete_claims"]

    def remove(self, user, obj):
        services.delete_claim(user, obj)

    @admin.action(description=_("Delete the selected volume claims"))
    def delete_claims(self, request, queryset):
        for_each(
            self,
            request,
            queryset.select_related("cluster", "namespace"),
            lambda pvc: services.delete_claim(request.user, pvc),
            lambda n: ngettext("%(n)s volume claim deleted.", "%(n)s volume claims deleted.", n),
        )
