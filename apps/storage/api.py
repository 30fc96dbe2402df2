from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.clusters.models import Cluster
from apps.core.api.base import RestrictedRelatedField, RestrictedViewSet
from apps.core.api.pagination import KeysetPagination
from apps.kube.api import YamlSerializer
from apps.namespaces.models import Namespace

from . import filters, services
from .models import (
    ACCESS_MODES,
    BindingMode,
    PersistentVolume,
    PersistentVolumeClaim,
    ReclaimPolicy,
    StorageClass,
)

# --- serializers -------------------------------------------------------------------


class StorageClassSerializer(serializers.ModelSerializer):
    class Meta:
        model = StorageClass
        fields = [
            "id",
            "cluster",
            "name",
            "provisioner",
            "reclaim_policy",
            "volume_binding_mode",
            "allow_expansion",
            "is_default",
            "parameters",
            "created",
        ]
        read_only_fields = fields


class StorageClassCreateSerializer(serializers.Serializer):
    cluster = RestrictedRelatedField(Cluster)
    name = serializers.CharField(max_length=253)
    provisioner = serializers.CharField(max_length=253)
    parameters = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    reclaim_policy = serializers.ChoiceField(
        choices=[ReclaimPolicy.DELETE, ReclaimPolicy.RETAIN], default=ReclaimPolicy.DELETE
    )
    volume_binding_mode = serializers.ChoiceField(
        choices=BindingMode.values, default=BindingMode.IMMEDIATE
    )
    allow_expansion = serializers.BooleanField(default=False)
    is_default = serializers.BooleanField(
        default=False, help_text="Make it the cluster's default class (clears the previous one)."
    )


class DefaultSerializer(serializers.Serializer):
    default = serializers.BooleanField(
        default=True, help_text="true: the cluster's only default class; false: not the default."
    )


class PersistentVolumeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersistentVolume
        fields = [
            "id",
            "cluster",
            "name",
            "capacity",
            "access_modes",
            "reclaim_policy",
            "phase",
            "claim_namespace",
            "claim_name",
            "storage_class",
            "created",
        ]
        read_only_fields = fields


class PersistentVolumeClaimSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersistentVolumeClaim
        fields = [
            "id",
            "cluster",
            "namespace",
            "namespace_name",
            "name",
            "requested",
            "capacity",
            "access_modes",
            "storage_class",
            "phase",
            "volume_name",
            "created",
        ]
        read_only_fields = fields


class PersistentVolumeClaimCreateSerializer(serializers.Serializer):
    """Either the fields (name, size, access_modes, storage_class) or a whole ``yaml``."""

    namespace = RestrictedRelatedField(Namespace, action="work")
    name = serializers.CharField(max_length=253, required=False)
    size = serializers.CharField(required=False, help_text="A quantity, e.g. 10Gi.")
    access_modes = serializers.ListField(
        child=serializers.ChoiceField(choices=[mode for mode, _label in ACCESS_MODES]),
        required=False,
        default=["ReadWriteOnce"],
    )
    storage_class = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Empty: the cluster's default."
    )
    yaml = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="A PersistentVolumeClaim as YAML, instead of the other fields; it must be "
        "in the chosen namespace.",
    )

    def validate(self, data):
        if "yaml" not in data:
            missing = {f: "This field is required." for f in ("name", "size") if f not in data}
            if missing:
                raise serializers.ValidationError(missing)
        return data


class ExpandSerializer(serializers.Serializer):
    size = serializers.CharField(
        help_text="The new size: more than now, and only if the storage class allows expansion."
    )


# --- viewsets ----------------------------------------------------------------------


def _yaml(text):
    return Response({"yaml": text})


class StorageClassViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, RestrictedViewSet
):
    """StorageClasses of the clusters the user may view. Creating, setting the default,
    the YAML and deleting are for cloud admins."""

    pagination_class = KeysetPagination

    queryset = StorageClass.objects.all()
    serializer_class = StorageClassSerializer
    filterset_class = filters.StorageClassApiFilterSet
    ordering_fields = ["name", "cluster", "created"]
    search_fields = ["name", "provisioner"]

    @extend_schema(request=StorageClassCreateSerializer, responses={201: StorageClassSerializer})
    def create(self, request):
        data = StorageClassCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        created = services.create_storage_class(request.user, **data.validated_data)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.delete_storage_class(self.request.user, instance)

    @extend_schema(request=DefaultSerializer, responses=StorageClassSerializer)
    @action(detail=True, methods=["post"], url_path="set-default")
    def set_default(self, request, pk=None):
        data = DefaultSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.set_default(
            request.user, self.get_object(), data.validated_data["default"]
        )
        return Response(self.get_serializer(changed).data)

    @extend_schema(responses=YamlSerializer)
    @action(detail=True, methods=["get"])
    def yaml(self, request, pk=None):
        return _yaml(services.storage_class_yaml(request.user, self.get_object()))


class PersistentVolumeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, RestrictedViewSet
):
    """PersistentVolumes of the clusters the user may view; YAML and delete for cloud admins."""

    pagination_class = KeysetPagination

    queryset = PersistentVolume.objects.all()
    serializer_class = PersistentVolumeSerializer
    filterset_class = filters.PersistentVolumeApiFilterSet
    ordering_fields = ["name", "cluster", "capacity", "phase", "created"]

    def perform_destroy(self, instance):
        services.delete_volume(self.request.user, instance)

    @extend_schema(responses=YamlSerializer)
    @action(detail=True, methods=["get"])
    def yaml(self, request, pk=None):
        return _yaml(services.volume_yaml(request.user, self.get_object()))


class PersistentVolumeClaimViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, RestrictedViewSet
):
    """PersistentVolumeClaims in the namespaces the user may work in. PATCH `size` expands
    a claim (when its class allows it); quota refusals carry Kubernetes' own message."""

    pagination_class = KeysetPagination

    queryset = PersistentVolumeClaim.objects.all()
    serializer_class = PersistentVolumeClaimSerializer
    filterset_class = filters.PersistentVolumeClaimFilterSet
    ordering_fields = ["name", "namespace_name", "phase", "created"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    @extend_schema(
        request=PersistentVolumeClaimCreateSerializer,
        responses={201: PersistentVolumeClaimSerializer},
    )
    def create(self, request):
        data = PersistentVolumeClaimCreateSerializer(
            data=request.data, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        namespace = values.pop("namespace")
        if "yaml" in values:
            claim = services.create_claim_from_yaml(request.user, namespace, values["yaml"])
        else:
            claim = services.create_claim(request.user, namespace=namespace, **values)
        return Response(self.get_serializer(claim).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ExpandSerializer, responses=PersistentVolumeClaimSerializer)
    def partial_update(self, request, pk=None):
        data = ExpandSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = services.expand_claim(request.user, self.get_object(), data.validated_data["size"])
        return Response(self.get_serializer(claim).data)

    def perform_destroy(self, instance):
        services.delete_claim(self.request.user, instance)

    @extend_schema(methods=["GET"], responses=YamlSerializer)
    @extend_schema(methods=["PUT"], request=YamlSerializer, responses=YamlSerializer)
    @action(detail=True, methods=["get", "put"])
    def yaml(self, request, pk=None):
        claim = self.get_object()
        if request.method == "PUT":
            data = YamlSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            claim = services.update_claim_yaml(request.user, claim, data.validated_data["yaml"])
        return _yaml(services.claim_yaml(request.user, claim))
