from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.admin import ReadOnlyAdmin, for_each

from . import health, services
from .models import Cluster, Node

HIDDEN = ("kubeconfig", "kubeconfig_context", "provision_step", "prometheus_secret")


class KubernetesAdmin(ReadOnlyAdmin):
    """Rows mirrored from Kubernetes: read-only here, changed only by actions (services)."""

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f not in HIDDEN]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Cluster)
class ClusterAdmin(KubernetesAdmin):
    list_display = [
        "name",
        "display_name",
        "provider",
        "version",
        "status",
        "nodes_ready",
        "nodes_total",
        "control_plane_nodes",
        "last_sync",
        "created",
    ]
    list_filter = ["status", "provider", "control_plane_nodes", "created"]
    search_fields = ["name", "display_name", "description", "api_server"]
    list_select_related = ["project", "created_by"]
    exclude = HIDDEN
    actions = ["check_health", "retry", "delete_clusters"]

    @admin.action(description=_("Sync and check the health of the selected clusters"))
    def check_health(self, request, queryset):
        for_each(
            self,
            request,
            queryset.filter(status__in=health.OBSERVED),
            lambda cluster: services.check_health(request.user, cluster),
            lambda n: ngettext(
                "%(n)s cluster synced and checked.", "%(n)s clusters synced and checked.", n
            ),
        )

    @admin.action(description=_("Retry the creation of the selected clusters"))
    def retry(self, request, queryset):
        for_each(
            self,
            request,
            queryset,
            lambda cluster: services.retry_cluster(request.user, cluster),
            lambda n: ngettext(
                "%(n)s cluster is being created again.",
                "%(n)s clusters are being created again.",
                n,
            ),
        )

    @admin.action(description=_("Delete the selected clusters (tears them down)"))
    def delete_clusters(self, request, queryset):
        for_each(
            self,
            request,
            queryset,
            lambda cluster: services.delete_cluster(request.user, cluster),
            lambda n: ngettext(
                "%(n)s cluster is being deleted.", "%(n)s clusters are being deleted.", n
            ),
        )


@admin.register(Node)
class NodeAdmin(KubernetesAdmin):
    list_display = [
        "name",
        "cluster",
        "role",
        "zone",
        "arch",
        "ready",
        "schedulable",
        "kubelet_version",
        "internal_ip",
    ]
    list_filter = ["role", "ready", "schedulable", "arch", "zone", "cluster"]
    search_fields = ["name", "internal_ip", "cluster__name", "zone"]
    list_select_related = ["cluster"]
    actions = ["cordon", "uncordon", "drain"]

    @admin.action(description=_("Cordon the selected nodes"))
    def cordon(self, request, queryset):
        for_each(
            self,
            request,
            queryset.select_related("cluster"),
            lambda node: services.cordon(request.user, node),
            lambda n: ngettext("%(n)s node cordoned.", "%(n)s nodes cordoned.", n),
        )

    @admin.action(description=_("Uncordon the selected nodes"))
    def uncordon(self, request, queryset):
        for_each(
            self,
            request,
            queryset.select_related("cluster"),
            lambda node: services.uncordon(request.user, node),
            lambda n: ngettext("%(n)s node uncordoned.", "%(n)s nodes uncordoned.", n),
        )

    @admin.action(description=_("Drain the selected nodes"))
    def drain(self, request, queryset):
        for_each(
            self,
            request,
            queryset.select_related("cluster"),
            lambda node: services.drain(request.user, node),
            lambda n: ngettext("%(n)s node is being drained.", "%(n)s nodes are being drained.", n),
        )
