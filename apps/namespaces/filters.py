import django_filters
from django.utils.translation import gettext_lazy as _

from apps.core.filters import SearchFilterSet, restricted

from .models import Namespace


class NamespaceFilterSet(SearchFilterSet):
    search_fields = ("name",)
    cluster = django_filters.ModelChoiceFilter(
        queryset=restricted("clusters.Cluster"), label=_("Cluster")
    )
    project = django_filters.ModelChoiceFilter(
        queryset=restricted("tenancy.Project"), label=_("Project")
    )

    class Meta:
        model = Namespace
        fields = ["cluster", "project", "phase"]


class NamespaceApiFilterSet(NamespaceFilterSet):
    unassigned = django_filters.BooleanFilter(
        field_name="project", lookup_expr="isnull", label=_("Unassigned")
    )

    class Meta(NamespaceFilterSet.Meta):
        fields = [*NamespaceFilterSet.Meta.fields, "unassigned"]
