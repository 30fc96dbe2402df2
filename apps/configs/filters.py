import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

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


@extend_schema_field(OpenApiTypes.STR)
class SecretTypeFilter(django_filters.ChoiceFilter):
    """The form's types to choose from; documented as text, like the type a Secret has."""


class SecretFilterSet(ConfigFilterSet):
    type = SecretTypeFilter(choices=Secret.Type.choices, label=_("Type"))

    class Meta:
        model = Secret
        fields = ["cluster", "project", "namespace", "type"]
