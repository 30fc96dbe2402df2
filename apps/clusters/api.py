from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import RestrictedViewSet
from apps.core.api.pagination import KeysetPagination
from apps.core.api.views import OperationSerializer
from apps.monitoring.api import MetricsMixin

from . import filters, providers, services
from .models import Cluster, Node

# --- serializers -------------------------------------------------------------------


class ClusterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cluster
        fields = [
            "id",
            "name",
            "display_name",
            "description",
            "provider",
            "version",
            "status",
            "status_message",
            "control_plane_nodes",
            "zones",
            "architectures",
            "api_server",
            "nodes_ready",
            "nodes_total",
            "project",
            "created",
            "last_sync",
            "last_health_check",
            "prometheus_url",
            "prometheus_username",
            "prometheus_secret_set",
        ]
        read_only_fields = fields

    # a URL, or empty when the charts come from the sampler (so no "uri" format)
    prometheus_url = serializers.CharField(
        read_only=True, help_text="The cluster's Prometheus; empty: charts from the sampler."
    )
    prometheus_secret_set = serializers.SerializerMethodField(
        help_text="Whether a Prometheus password or token is stored (it is never returned)."
    )

    def get_prometheus_secret_set(self, cluster) -> bool:
        return bool(cluster.prometheus_secret)


class ClusterCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=63)
    display_name = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True
    )
    description = serializers.CharField(required=False, default="", allow_blank=True)
    provider = serializers.ChoiceField(choices=sorted(providers.PROVIDERS), default="sandbox")
    version = serializers.CharField(required=False, default="", allow_blank=True)
    control_plane_nodes = serializers.IntegerField(default=1)
    workers = serializers.IntegerField(default=0)
    zones = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    arch = serializers.CharField(default="amd64", initial="amd64", help_text="amd64 or arm64.")
    kubeconfig = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        help_text="For provider kubeconfig: the kubeconfig to import (YAML). Never returned.",
    )
    context = serializers.CharField(required=False, default="", allow_blank=True)


class ClusterWithOperationSerializer(ClusterSerializer):
    operation = OperationSerializer(read_only=True)

    class Meta(ClusterSerializer.Meta):
        fields = [*ClusterSerializer.Meta.fields, "operation"]


class ScaleOutSerializer(serializers.Serializer):
    workers = serializers.IntegerField(min_value=1)
    zone = serializers.CharField(required=False, default="", allow_blank=True)
    arch = serializers.CharField(default="amd64", initial="amd64", help_text="amd64 or arm64.")


class DrainSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        default=False,
        help_text="Also evict pods no controller manages (kubectl drain --force); "
        "without it such pods make the drain a 400 naming them.",
    )
    delete_emptydir_data = serializers.BooleanField(
        default=False,
        help_text="Also evict pods with emptyDir volumes, losing their data (kubectl drain "
        "--delete-emptydir-data); without it such pods make the drain a 400 naming them.",
    )


class TaintSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField(required=False, default="", allow_blank=True)
    effect = serializers.ChoiceField(choices=services.TAINT_EFFECTS)


class NodeSerializer(serializers.ModelSerializer):
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    taints = TaintSerializer(many=True, required=False)

    class Meta:
        model = Node
        fields = [
            "id",
            "cluster",
            "name",
            "role",
            "zone",
            "arch",
            "os_image",
            "kernel_version",
            "kubelet_version",
            "container_runtime",
            "internal_ip",
            "schedulable",
            "ready",
            "labels",
            "taints",
            "capacity",
            "allocatable",
            "usage",
            "created",
        ]
        read_only_fields = [f for f in fields if f not in ("labels", "taints")]


# --- viewsets ----------------------------------------------------------------------


def _accepted(operation, serializer_class=OperationSerializer, context=None):
    return Response(
        serializer_class(operation, context=context).data, status=status.HTTP_202_ACCEPTED
    )


class ClusterUpdateSerializer(serializers.ModelSerializer):
    prometheus_secret = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        style={"input_type": "password"},
        help_text="The Prometheus basic-auth password (with a user) or bearer token. Never "
        "returned; empty removes it.",
    )

    class Meta:
        model = Cluster
        fields = [
            "display_name",
            "description",
            "prometheus_url",
            "prometheus_username",
            "prometheus_secret",
        ]


class ClusterViewSet(
    MetricsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet
):
    """Clusters. Creating, scaling and deleting are long operations: they answer 202
    with the Operation to follow at `/api/v1/operations/{id}/`."""

    queryset = Cluster.objects.all()
    serializer_class = ClusterSerializer
    filterset_class = filters.ClusterFilterSet
    ordering_fields = ["name", "created", "status"]

    @extend_schema(request=ClusterCreateSerializer, responses={202: ClusterWithOperationSerializer})
    def create(self, request):
        data = ClusterCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cluster, operation = services.create_cluster(request.user, **data.validated_data)
        cluster.operation = operation
        return Response(
            ClusterWithOperationSerializer(cluster, context=self.get_serializer_context()).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(request=ClusterUpdateSerializer, responses=ClusterSerializer)
    def partial_update(self, request, pk=None):
        cluster = self.get_object()
        data = ClusterUpdateSerializer(cluster, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        cluster = services.update_cluster(request.user, cluster, **data.validated_data)
        return Response(ClusterSerializer(cluster, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={202: OperationSerializer})
    def destroy(self, request, pk=None):
        operation = services.delete_cluster(request.user, self.get_object())
        return _accepted(operation, context=self.get_serializer_context())

    @extend_schema(request=ScaleOutSerializer, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"], url_path="scale-out")
    def scale_out(self, request, pk=None):
        data = ScaleOutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        operation = services.scale_out(request.user, self.get_object(), **data.validated_data)
        return _accepted(operation, context=self.get_serializer_context())

    @extend_schema(request=None, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        operation = services.retry_cluster(request.user, self.get_object())
        return _accepted(operation, context=self.get_serializer_context())

    @extend_schema(
        responses={
            (200, "application/yaml"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The cluster's admin kubeconfig, as a YAML document (a download).",
            )
        }
    )
    @action(detail=True, methods=["get"])
    def kubeconfig(self, request, pk=None):
        cluster = self.get_object()
        text = services.download_kubeconfig(request.user, cluster)
        response = HttpResponse(text, content_type="application/yaml")
        response["Content-Disposition"] = f'attachment; filename="{cluster.name}.kubeconfig"'
        response["Cache-Control"] = "no-store"  # credentials: no cache keeps a copy
        return response


class NodeViewSet(
    MetricsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    RestrictedViewSet,
):
    """Nodes. PATCH `labels` and/or `taints` (the user-managed ones; system ones stay)."""

    pagination_class = KeysetPagination

    queryset = Node.objects.all()
    serializer_class = NodeSerializer
    filterset_class = filters.NodeFilterSet
    ordering_fields = ["name", "cluster"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_update(self, serializer):
        node, data = serializer.instance, serializer.validated_data
        if "labels" in data:
            node = services.set_labels(self.request.user, node, data["labels"])
        if "taints" in data:
            node = services.set_taints(self.request.user, node, [dict(t) for t in data["taints"]])
        serializer.instance = node

    def _node_action(self, request, change):
        node = change(request.user, self.get_object())
        return Response(self.get_serializer(node).data)

    @extend_schema(request=None, responses=NodeSerializer)
    @action(detail=True, methods=["post"])
    def cordon(self, request, pk=None):
        return self._node_action(request, services.cordon)

    @extend_schema(request=None, responses=NodeSerializer)
    @action(detail=True, methods=["post"])
    def uncordon(self, request, pk=None):
        return self._node_action(request, services.uncordon)

    @extend_schema(request=DrainSerializer, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"])
    def drain(self, request, pk=None):
        """Cordon and evict, as `kubectl drain`: DaemonSet and mirror pods stay; pods
        without a controller need `force`, pods with emptyDir volumes
        `delete_emptydir_data` (else 400, naming them, and nothing is cordoned)."""
        node = self.get_object()
        data = DrainSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        operation = services.drain(request.user, node, **data.validated_data)
        return _accepted(operation, context=self.get_serializer_context())
