"""ConfigMaps and Secrets over the REST API. Secret values are write-only; reading them is
the audited ``reveal`` action."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from apps.core.api.base import RestrictedRelatedField, ServiceViewSet, WriteChoiceField
from apps.core.api.pagination import KeysetPagination
from apps.kube.api import YamlActions
from apps.namespaces.models import Namespace

from . import filters, services
from .models import ConfigMap, Secret


class ConfigMapSerializer(serializers.ModelSerializer):
    namespace = RestrictedRelatedField(Namespace, action="work")
    data = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
        help_text="Key → text value (multi-line values as they are).",
    )
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    resource_version = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="On update: the version you edited; a newer one in Kubernetes is a conflict.",
    )

    class Meta:
        model = ConfigMap
        fields = [
            "id",
            "cluster",
            "namespace",
            "namespace_name",
            "name",
            "keys",
            "binary_keys",
            "data",
            "labels",
            "resource_version",
            "created",
        ]
        read_only_fields = ["cluster", "namespace_name", "keys", "binary_keys", "created"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            fields["namespace"].read_only = True
            fields["name"].read_only = True
        return fields


class DockerConfigSerializer(serializers.Serializer):
    server = serializers.CharField()
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})
    email = serializers.CharField(required=False, allow_blank=True, default="")


class TlsSerializer(serializers.Serializer):
    certificate = serializers.CharField(trim_whitespace=False, help_text="PEM certificate (chain).")
    private_key = serializers.CharField(trim_whitespace=False, help_text="PEM private key.")


class SecretSerializer(serializers.ModelSerializer):
    namespace = RestrictedRelatedField(Namespace, action="work")
    type = WriteChoiceField(choices=Secret.Type.choices, default=Secret.Type.OPAQUE)
    data = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        write_only=True,
        help_text="Write-only. Key → value (plain text). On update, the keys given are set and "
        "the others kept.",
    )
    remove = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        write_only=True,
        help_text="Write-only, on update: keys to remove.",
    )
    registry = DockerConfigSerializer(
        required=False,
        write_only=True,
        help_text="For kubernetes.io/dockerconfigjson: the registry credentials (write-only).",
    )
    tls = TlsSerializer(
        required=False,
        write_only=True,
        help_text="For kubernetes.io/tls: certificate and matching key (write-only).",
    )
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    resource_version = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = Secret
        fields = [
            "id",
            "cluster",
            "namespace",
            "namespace_name",
            "name",
            "type",
            "keys",
            "data",
            "remove",
            "registry",
            "tls",
            "labels",
            "resource_version",
            "created",
        ]
        read_only_fields = ["cluster", "namespace_name", "keys", "created"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            for name in ("namespace", "name", "type"):
                fields[name].read_only = True
        return fields


class RevealSerializer(serializers.Serializer):
    keys = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The keys to reveal; all of them when left out.",
    )


def secret_data(type_: str, validated: dict) -> dict | None:
    """The values to write, from whichever of data / registry / tls was given."""
    if validated.get("registry") is not None:
        return services.dockerconfig_data(**validated["registry"])
    if validated.get("tls") is not None:
        return services.tls_data(**validated["tls"])
    return validated.get("data")


class ConfigMapViewSet(YamlActions, ServiceViewSet):
    """ConfigMaps in the namespaces you may work in. Values are plain text (not secret)."""

    pagination_class = KeysetPagination

    queryset = ConfigMap.objects.all()
    serializer_class = ConfigMapSerializer
    yaml_read = services.configmap_yaml
    yaml_replace = services.replace_configmap_yaml
    yaml_create = services.create_configmap_from_yaml
    filterset_class = filters.ConfigMapFilterSet
    ordering_fields = ["name", "namespace_name", "created"]
    search_fields = ["name"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def create_object(self, data):
        return services.create_configmap(
            self.request.user,
            namespace=data["namespace"],
            name=data["name"],
            data=data.get("data") or {},
            labels=data.get("labels"),
        )

    def update_object(self, obj, data):
        return services.update_configmap(
            self.request.user,
            obj,
            data=data.get("data", obj.data),
            labels=data.get("labels"),
            resource_version=data.get("resource_version", ""),
        )

    def delete_object(self, obj):
        services.delete_configmap(self.request.user, obj)


class SecretViewSet(YamlActions, ServiceViewSet):
    """Secrets in the namespaces you may work in. Values are write-only: give them as
    `data` (Opaque), `registry` (kubernetes.io/dockerconfigjson) or `tls`
    (kubernetes.io/tls); read them with `POST /secrets/{id}/reveal/` (audited)."""

    pagination_class = KeysetPagination

    queryset = Secret.objects.all()
    serializer_class = SecretSerializer
    # Values masked (********) when read; a masked value kept in an edit keeps its value.
    yaml_read = services.secret_yaml
    yaml_replace = services.replace_secret_yaml
    yaml_create = services.create_secret_from_yaml
    filterset_class = filters.SecretFilterSet
    ordering_fields = ["name", "namespace_name", "type", "created"]
    search_fields = ["name"]
    # PUT only for the YAML: a Secret's values are changed key by key (PATCH), never retyped.
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    @extend_schema(exclude=True)
    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            raise MethodNotAllowed(request.method)
        return super().update(request, *args, **kwargs)

    def create_object(self, data):
        return services.create_secret(
            self.request.user,
            namespace=data["namespace"],
            name=data["name"],
            type=data["type"],
            data=secret_data(data["type"], data) or {},
            labels=data.get("labels"),
        )

    def update_object(self, obj, data):
        values = secret_data(obj.type, data)
        return services.update_secret(
            self.request.user,
            obj,
            data=values,
            remove=data.get("remove") or (),
            replace_all="registry" in data or "tls" in data,
            labels=data.get("labels"),
            resource_version=data.get("resource_version", ""),
        )

    def delete_object(self, obj):
        services.delete_secret(self.request.user, obj)

    @extend_schema(
        request=RevealSerializer,
        responses=inline_serializer(
            "SecretReveal",
            {"data": serializers.DictField(child=serializers.CharField())},
        ),
        description="The Secret's values (or those of `keys`), read live from Kubernetes and "
        "decoded. Audited as secret.reveal (key names only).",
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        secret = self.get_object()
        wanted = RevealSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        keys = wanted.validated_data.get("keys") or None
        values = services.reveal_secret(request.user, secret, keys=keys)
        # Secret values: no cache on the way (or the client's) keeps a copy.
        return Response({"data": values}, headers={"Cache-Control": "no-store"})
