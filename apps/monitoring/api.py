"""`GET /api/v1/{clusters|nodes|workloads|pods}/{id}/metrics/?range=1h`: chart data.

A mixin for those viewsets: the object comes from the viewset's restricted queryset
(another project's is a 404), the data from ``apps.monitoring.services.charts``.
"""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from . import services


class LineSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="capacity, allocatable, requests or limits")
    value = serializers.FloatField()


class ChartSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=["cpu", "memory", "pods", "rx", "tx"])
    title = serializers.CharField()
    unit = serializers.CharField(help_text="cores, bytes, pods or bytes/s")
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        help_text="[unix seconds, value] pairs, oldest first",
    )
    lines = LineSerializer(many=True)


class MetricsSerializer(serializers.Serializer):
    range = serializers.ChoiceField(choices=list(services.RANGES))
    step = serializers.IntegerField(help_text="seconds between points")
    start = serializers.FloatField()
    end = serializers.FloatField()
    backend = serializers.ChoiceField(choices=["sampler", "prometheus"])
    error = serializers.CharField(help_text="why there is no data, when the backend failed")
    charts = ChartSerializer(many=True)


class MetricsMixin:
    @extend_schema(
        parameters=[
            OpenApiParameter("range", str, enum=list(services.RANGES), default="1h"),
        ],
        responses=MetricsSerializer,
    )
    @action(detail=True, methods=["get"])
    def metrics(self, request, pk=None):
        """Usage over time: CPU, memory and pods (clusters, nodes) against capacity and
        allocatable, or CPU, memory and network (workloads, pods) with requests and limits."""
        obj = self.get_object()
        try:
            data = services.charts(request.user, obj, request.query_params.get("range"))
        except ValidationError as exc:
            raise serializers.ValidationError({"range": exc.messages}) from exc
        return Response(data)
