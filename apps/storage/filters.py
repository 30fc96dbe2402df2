"""List filters: by cluster, project and namespace (choices restricted to what the user sees).

Classes and volumes are cluster-scoped: the portal filters them by cluster only; the
API keeps its project and namespace filters for them (the clusters a project is in).
"""

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
    """Filters every storage list has: the cluster (classes and volumes belong to one)."""

    cluster = IdFilter(queryset=restricted("clusters.Cluster"), label=_("Cluster"))


class TenantFilters(django_filters.FilterSet):
    """Project and namespace; each list says what they mean for it."""

    project = IdFilter(
        queryset=restricted("tenancy.Project"), method="in_project", label=_("Project")
    )
    namespace = IdFilter(
        queryset=restricted("namespaces.Namespace"), method="in_namespace", label=_("Namespace")
    )


class StorageClassFilterSet(StorageFilterSet):
    """The portal's filters of classes: cluster-scoped, so no project or namespace."""

    search_fields = ("name", "provisioner")

    class Meta:
        model = StorageClass
        fields = ["cluster", "is_default"]


class StorageClassApiFilterSet(TenantFilters, StorageClassFilterSet):
    """The API also answers "the classes my project's (or namespace's) clusters offer"."""

    class Meta(StorageClassFilterSet.Meta):
        fields = ["cluster", "project", "namespace", "is_default"]

    def in_project(self, queryset, name, value):
        if not value:
            return queryset
        clusters = Namespace.objects.filter(project=value).values("cluster")
        return queryset.filter(cluster__in=clusters)

    def in_namespace(self, queryset, name, value):
        return queryset.filter(cluster_id=value.cluster_id) if value else queryset


class PersistentVolumeFilterSet(StorageFilterSet):
    """The portal's filters of volumes: cluster-scoped, so no project or namespace."""

    search_fields = ("name", "claim_name", "claim_namespace", "storage_class")

    class Meta:
        model = PersistentVolume
        fields = ["cluster", "phase", "storage_class"]


class PersistentVolumeApiFilterSet(TenantFilters, PersistentVolumeFilterSet):
    """The API also answers "the volumes claimed from my project (or one namespace)"."""

    class Meta(PersistentVolumeFilterSet.Meta):
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


class PersistentVolumeClaimFilterSet(TenantFilters, StorageFilterSet):
    search_fields = ("name", "namespace_name", "storage_class", "volume_name")

    class Meta:
        model = PersistentVolumeClaim
        fields = ["cluster", "project", "namespace", "phase", "storage_class"]

    def in_project(self, queryset, name, value):
        return queryset.filter(namespace__project=value) if value else queryset

    def in_namespace(self, queryset, name, value):
        return queryset.filter(namespace=value) if value else queryset
