"""Kubernetes events over the REST API, as the portal keeps them (past Kubernetes' hour)."""

from rest_framework import mixins, serializers

from apps.core.api.base import RestrictedViewSet
from apps.core.api.pagination import KeysetPagination

from . import filters
from .models import Event


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = [
            "id",
            "cluster",
            "namespace",
            "namespace_name",
            "name",
            "type",
            "reason",
            "message",
            "involved_kind",
            "involved_name",
            "involved_namespace",
            "source",
            "count",
            "first_seen",
            "last_seen",
        ]
        read_only_fields = fields


class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    """Events of the namespaces you may see (cloud administrators: all), newest first.
    Kept EVENTS_RETENTION_DAYS after they last happened, though Kubernetes drops them
    after an hour. Filters: type, reason, kind, object, namespace, cluster, since, until."""

    queryset = Event.objects.for_list()
    serializer_class = EventSerializer
    filterset_class = filters.EventFilterSet
    pagination_class = KeysetPagination
    search_fields = ["message", "involved_name", "reason"]
