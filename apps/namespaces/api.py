from django.contrib.auth import get_user_model
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.clusters.models import Cluster
from apps.core import authz
from apps.core.api.base import RestrictedRelatedField, ServiceViewSet
from apps.core.api.pagination import KeysetPagination
from apps.tenancy.models import Project

from . import filters, services
from .models import Namespace

QUOTA_SCHEMA = {
    "type": "object",
    "description": "The ResourceQuota in Kubernetes' own keys; quantities as strings "
    '("2", "500m", "4Gi"). On PATCH, the keys given replace those values and null removes one.',
    "properties": {
        key: {"type": "string", "nullable": True, "description": str(label)}
        for key, label in services.QUOTA_KEYS.items()
    },
    "additionalProperties": False,
}


@extend_schema_field(QUOTA_SCHEMA)
class QuotaField(serializers.DictField):
    """A quota as {Kubernetes key: quantity}; checked by the service (clean_quota)."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(allow_null=True, allow_blank=True), **kwargs)


class NamespaceSerializer(serializers.ModelSerializer):
    cluster = RestrictedRelatedField(Cluster)
    project = RestrictedRelatedField(
        Project,
        action="manage_namespaces",
        null_when_read=True,
        help_text="The project that owns it; null for a namespace no project owns yet.",
    )
    quota = QuotaField(source="quota_hard", required=False, default=dict)
    quota_used = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="Use of each quota key."
    )
    status = serializers.CharField(source="phase", read_only=True)
    warnings = serializers.SerializerMethodField(
        help_text="After a create or a quota change: what in the quota exceeds all the "
        "cluster's nodes can allocate (saved all the same). Empty otherwise."
    )

    class Meta:
        model = Namespace
        fields = [
            "id",
            "cluster",
            "project",
            "name",
            "status",
            "labels",
            "quota",
            "quota_used",
            "created",
            "warnings",
        ]
        read_only_fields = ["labels", "created"]
        # The service checks that the name is free in the cluster, in words that do not
        # confirm another project's namespace.
        validators = []

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, obj) -> list[str]:
        return list(getattr(obj, "warnings", []))

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:  # only the quota changes once created
            for name in ("cluster", "project", "name"):
                fields[name].read_only = True
        return fields


class MembersSerializer(serializers.Serializer):
    users = serializers.SlugRelatedField(
        slug_field="username",
        many=True,
        queryset=get_user_model().objects.filter(is_active=True),
        help_text="Usernames of the project's members who may work in the namespace "
        "(exactly these; the project's admins always may).",
    )


class AssignSerializer(serializers.Serializer):
    project = RestrictedRelatedField(Project, action="manage_namespaces")


class NamespaceViewSet(ServiceViewSet):
    """Namespaces with their quota (Kubernetes' ResourceQuota keys) and members.

    Deleting answers 202: the namespace shows `Terminating` until Kubernetes has
    removed everything in it.
    """

    pagination_class = KeysetPagination

    queryset = Namespace.objects.select_related("cluster", "project")
    serializer_class = NamespaceSerializer
    filterset_class = filters.NamespaceApiFilterSet
    ordering_fields = ["name", "cluster", "project", "created"]
    search_fields = ["name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create_object(self, data):
        return services.create_namespace(
            self.request.user,
            cluster=data["cluster"],
            project=data["project"],
            name=data["name"],
            quota=data.get("quota_hard") or {},
        )

    def update_object(self, obj, data):
        quota = None
        if "quota_hard" in data:
            # PATCH semantics: given keys replace, null (or "") removes, others stay.
            quota = {k: v for k, v in obj.quota_hard.items() if k in services.QUOTA_KEYS}
            quota.update(data["quota_hard"])
        return services.update_namespace(self.request.user, obj, quota=quota)

    @extend_schema(responses={202: NamespaceSerializer, 204: None})
    def destroy(self, request, *args, **kwargs):
        namespace = services.delete_namespace(request.user, self.get_object())
        if not Namespace.objects.filter(pk=namespace.pk).exists():
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(namespace).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(methods=["get"], responses=MembersSerializer)
    @extend_schema(methods=["post"], request=MembersSerializer, responses=MembersSerializer)
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk=None):
        """The project members the namespace is opened to; POST sets exactly these."""
        namespace = self.get_object()
        if request.method == "POST":
            data = MembersSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            services.set_members(request.user, namespace, data.validated_data["users"])
        users = sorted(u.get_username() for u in services.members(namespace))
        return Response({"users": users})

    @extend_schema(request=AssignSerializer, responses=NamespaceSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Cloud admins: give a namespace created outside the portal to a project."""
        namespace = self.get_object()
        authz.require_cloud_admin(request.user)  # before the body: 403, not a 400 about it
        data = AssignSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        namespace = services.assign(request.user, namespace, data.validated_data["project"])
        return Response(self.get_serializer(namespace).data)

    @extend_schema(
        responses={
            (200, "application/yaml"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The live Namespace object, as a YAML document."
            )
        }
    )
    @action(detail=True, methods=["get"])
    def yaml(self, request, pk=None):
        """The live Namespace from Kubernetes as YAML (server-managed fields left out)."""
        text = services.namespace_yaml(request.user, self.get_object())
        return HttpResponse(text, content_type="application/yaml")
