"""Chart data as JSON for the portal's charts (static/js/charts.js draws them)."""

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views import View

from apps.clusters.models import Cluster, Node
from apps.core.views import PortalView
from apps.workloads.models import Pod, Workload

from . import services

MODELS = {"clusters": Cluster, "nodes": Node, "workloads": Workload, "pods": Pod}


class MetricsView(PortalView, View):
    """GET /monitoring/{clusters|nodes|workloads|pods}/{pk}/?range=1h|6h|24h|7d."""

    def get(self, request, kind, pk):
        model = MODELS.get(kind)
        if model is None:
            return JsonResponse({"error": "not found"}, status=404)
        queryset = model.objects.restrict(request.user, "view")
        if model is not Cluster:
            queryset = queryset.select_related("cluster")
        obj = get_object_or_404(queryset, pk=pk)
        try:
            data = services.charts(request.user, obj, request.GET.get("range"))
        except ValidationError as exc:
            return JsonResponse({"error": " ".join(exc.messages)}, status=400)
        return JsonResponse(data)
