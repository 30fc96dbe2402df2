"""List filters: by cluster, project and namespace (choices restricted to what the user sees)."""

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from apps.core.filters import SearchFilterSet, restricted
from apps.namespaces.models import Namespace

from .models import PersistentVolume, PersistentVolumeClaim, StorageClass


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.ModelChoiceFilter):
    """An object by id (documented as an integer in the API schema)."""


class StorageFilterSet(SearchFilterSet):
    """Filters every storage list has; subclasses say what project and namespace mean."""

    cluster = IdFilter(queryset=restricted("clusters.Cluster"), label=_("Cluster"))
    project = IdFilter(
        queryset=restricted("tenancy.Project"), method="in_project", label=_("Project")
    )
    namespace = IdFilter(
        queryset=restricted("namespaces.Namespace"), method="in_namespace", label=_("Namespace")
    )


class StorageClassFilterSet(StorageFilterSet):
    """Classes of a cluster; of the clusters a project or namespace is in."""

    search_fields = ("name", "provisioner")

    class Meta:
        model = StorageClass
        fields = ["cluster", "project", "namespace", "is_default"]

    def in_project(self, queryset, name, value):
        if not value:
            return queryset
        clusters = Namespace.objects.filter(project=value).values("cluster")
        return queryset.filter(cluster__in=clusters)

    def in_namespace(self, queryset, name, value):
        return queryset.filter(cluster_id=value.cluster_id) if value else queryset


class PersistentVolumeFilterSet(StorageFilterSet):
    """Volumes of a cluster; claimed from a project's namespaces or from one namespace."""

    search_fields = ("name", "claim_name", "claim_namespace", "storage_class")

    class Meta:
        model = PersistentVolume
        fields = ["cluster", "project", "namespace", "phase", "storage_class"]

    def in_project(self, queryset, name, value):
        if not value:
            return queryset
        claimed = Namespace.objects.filter(
            project=value, cluster=OuterRef("cluster"), name=OuterRef("claim_namespace")
        )
        return queryset.filter(Exists(claimed))

    def in_namespace(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(cluster_id=value.cluster_id, claim_namespace=value.name)


class PersistentVolumeClaimFilterSet(StorageFilterSet):
    search_fields = ("name", "namespace_name", "storage_class", "volume_name")

    class Meta:
        model = PersistentVolumeClaim
        fields = ["cluster", "project", "namespace", "phase", "storage_class"]

    def in_project(self, queryset, name, value):
        return queryset.filter(namespace__project=value) if value else queryset

    def in_namespace(self, queryset, name, value):
        return queryset.filter(namespace=value) if value else queryset
