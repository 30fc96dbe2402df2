import django_filters
from django.utils.translation import gettext_lazy as _

from apps.core.filters import SearchFilterSet, restricted

from .models import ConfigMap, Secret


class ConfigFilterSet(SearchFilterSet):
    """Filter by cluster, project and namespace; choices are only what the user may see."""

    search_fields = ("name", "namespace_name")
    cluster = django_filters.ModelChoiceFilter(
        queryset=restricted("clusters.Cluster"), label=_("Cluster")
    )
    project = django_filters.ModelChoiceFilter(
        field_name="namespace__project", queryset=restricted("tenancy.Project"), label=_("Project")
    )
    namespace = django_filters.ModelChoiceFilter(
        queryset=restricted("namespaces.Namespace"), label=_("Namespace")
    )


class ConfigMapFilterSet(ConfigFilterSet):
    class Meta:
        model = ConfigMap
        fields = ["cluster", "project", "namespace"]


class SecretFilterSet(ConfigFilterSet):
    type = django_filters.ChoiceFilter(choices=Secret.Type.choices, label=_("Type"))

    class Meta:
        model = Secret
        fields = ["cluster", "project", "namespace", "type"]
