import django_filters
from django.db import connections
from django.utils.translation import gettext_lazy as _

from apps.core.filters import SearchFilterSet, restricted

from .models import HorizontalPodAutoscaler, Pod, Workload


class KubeFilterSet(SearchFilterSet):
    """Where the objects are, and their labels; choices are what the user may see."""

    cluster = django_filters.ModelChoiceFilter(
        queryset=restricted("clusters.Cluster"), label=_("Cluster")
    )
    project = django_filters.ModelChoiceFilter(
        field_name="namespace__project", queryset=restricted("tenancy.Project"), label=_("Project")
    )
    namespace = django_filters.ModelChoiceFilter(
        queryset=restricted("namespaces.Namespace"), label=_("Namespace")
    )
    label = django_filters.CharFilter(method="with_label", label=_("Label"))

    def with_label(self, queryset, name, value):
        """``key`` (has the label) or ``key=value``."""
        key, sep, wanted = (part.strip() for part in value.partition("="))
        if not key or "__" in key:  # (no label key has "__"; Django would read a lookup)
            return queryset if not key else queryset.none()
        if not sep:
            return queryset.filter(labels__has_key=key)
        if connections[queryset.db].vendor == "postgresql":
            # Containment, which the labels' GIN index answers (migration 0007).
            return queryset.filter(labels__contains={key: wanted})
        return queryset.filter(**{f"labels__{key}": wanted})


class WorkloadFilterSet(KubeFilterSet):
    search_fields = ("name",)
    kind = django_filters.ChoiceFilter(choices=Workload.Kind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=Workload.Status.choices, label=_("Status"))

    class Meta:
        model = Workload
        fields = ["cluster", "project", "namespace", "kind", "status", "label"]


class PodFilterSet(KubeFilterSet):
    """Pods by where they are, their node and status (kubectl's, e.g. CrashLoopBackOff)."""

    search_fields = ("name", "node_name", "workload_name")
    node = django_filters.CharFilter(field_name="node_name", label=_("Node"))
    status = django_filters.CharFilter(label=_("Status"))

    class Meta:
        model = Pod
        fields = ["cluster", "project", "namespace", "node", "status", "label"]


class AutoscalerFilterSet(KubeFilterSet):
    search_fields = ("name", "target_name")
    target_kind = django_filters.ChoiceFilter(
        choices=[(k, Workload.Kind(k).label) for k in Workload.SCALABLE], label=_("Target kind")
    )
    target_name = django_filters.CharFilter(label=_("Target"))

    class Meta:
        model = HorizontalPodAutoscaler
        fields = ["cluster", "project", "namespace", "target_kind", "target_name", "label"]
