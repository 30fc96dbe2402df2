from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin

from . import services
from .models import ConfigMap, Secret


class ConfigAdmin(ReadOnlyAdmin):
    """Mirrored from Kubernetes: read-only here; deleting deletes it in Kubernetes.
    Values are changed in the portal or the API."""

    list_filter = ["cluster"]
    search_fields = ["name", "namespace_name", "cluster__name"]
    list_select_related = ["cluster"]


@admin.register(ConfigMap)
class ConfigMapAdmin(ConfigAdmin):
    list_display = ["name", "namespace_name", "cluster", "keys", "created"]

    def remove(self, actor, obj):
        services.delete_configmap(actor, obj)


@admin.register(Secret)
class SecretAdmin(ConfigAdmin):
    """A Secret's row holds no values (they stay in Kubernetes)."""

    list_display = ["name", "namespace_name", "cluster", "type", "keys", "created"]
    list_filter = ["type", "cluster"]

    def remove(self, actor, obj):
        services.delete_secret(actor, obj)
