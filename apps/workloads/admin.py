from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin

from . import autoscaling, services
from .models import HorizontalPodAutoscaler, Pod, Workload


@admin.register(Workload)
class WorkloadAdmin(ReadOnlyAdmin):
    """Mirrored from Kubernetes: read-only here; deleting deletes it in Kubernetes."""

    list_display = ["name", "kind", "namespace_name", "cluster", "status", "replicas_display"]
    list_filter = ["kind", "status", "cluster"]
    search_fields = ["name", "namespace_name"]
    list_select_related = ["cluster"]

    def remove(self, actor, obj):
        services.delete(actor, obj)


@admin.register(Pod)
class PodAdmin(ReadOnlyAdmin):
    """Mirrored from Kubernetes, read-only; deleting one lets its controller make another."""

    list_display = ["name", "namespace_name", "cluster", "status", "ready_display", "node_name"]
    list_filter = ["cluster", "phase"]
    search_fields = ["name", "namespace_name", "node_name"]
    list_select_related = ["cluster"]

    def remove(self, actor, obj):
        services.delete_pod(actor, obj)


@admin.register(HorizontalPodAutoscaler)
class HorizontalPodAutoscalerAdmin(ReadOnlyAdmin):
    """Mirrored from Kubernetes, read-only; deleting one stops autoscaling its workload."""

    list_display = [
        "name",
        "namespace_name",
        "cluster",
        "target_kind",
        "target_name",
        "min_replicas",
        "max_replicas",
        "cpu_target",
        "cpu_current",
        "desired_replicas",
    ]
    list_filter = ["cluster", "target_kind"]
    search_fields = ["name", "namespace_name", "target_name"]
    list_select_related = ["cluster"]

    def remove(self, actor, obj):
        autoscaling.delete_autoscaler(actor, obj)
