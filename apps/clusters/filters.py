import django_filters

from apps.core.filters import SearchFilterSet, restricted

from . import providers
from .models import Cluster, Node


class ClusterFilterSet(SearchFilterSet):
    search_fields = ("name", "display_name", "description", "api_server")
    provider = django_filters.ChoiceFilter(
        choices=[(name, provider.label) for name, provider in providers.PROVIDERS.items()]
    )

    class Meta:
        model = Cluster
        fields = ["status", "provider"]


class NodeFilterSet(SearchFilterSet):
    search_fields = ("name", "internal_ip", "zone")
    cluster = django_filters.ModelChoiceFilter(queryset=restricted("clusters.Cluster"))

    class Meta:
        model = Node
        fields = ["cluster", "role", "zone", "arch", "ready", "schedulable"]
