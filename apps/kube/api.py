"""API building blocks for mirrored objects: their YAML, read and written as in the portal."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import RestrictedRelatedField
from apps.core.api.views import accepted
from apps.core.models import Operation


class YamlSerializer(serializers.Serializer):
    yaml = serializers.CharField(
        trim_whitespace=False,
        help_text="The object as YAML. Keep metadata.resourceVersion when replacing: a stale "
        "one is refused with 400 (changed by someone else).",
    )


class NamespacedYamlSerializer(YamlSerializer):
    namespace = RestrictedRelatedField(
        "namespaces.Namespace",
        action="work",
        help_text="The namespace to create it in (the YAML's own, if it names one, must match).",
    )


class YamlActions:
    """``GET``/``PUT {id}/yaml/`` and ``POST yaml/`` for a viewset of a namespaced kind.

    The viewset names the app's service functions: ``yaml_read(actor, obj) -> text``,
    ``yaml_replace(actor, obj, text)`` and ``yaml_create(actor, namespace, text)``. A
    replace that returns an Operation (the change goes on after the answer) is a 202.
    """

    yaml_read = yaml_replace = yaml_create = None

    @extend_schema(methods=["GET"], responses=YamlSerializer)
    @extend_schema(methods=["PUT"], request=YamlSerializer, responses=YamlSerializer)
    @action(detail=True, methods=["get", "put"], url_path="yaml")
    def yaml(self, request, pk=None):
        obj = self.get_object()
        if request.method == "PUT":
            data = YamlSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            result = type(self).yaml_replace(request.user, obj, data.validated_data["yaml"])
            if isinstance(result, Operation):  # the change goes on (a rollout): follow it
                return accepted(result, request)
            obj = result
        return Response({"yaml": type(self).yaml_read(request.user, obj)})

    @extend_schema(request=NamespacedYamlSerializer, responses={201: None})
    @action(detail=False, methods=["post"], url_path="yaml")
    def create_from_yaml(self, request):
        data = NamespacedYamlSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        created = type(self).yaml_create(
            request.user, data.validated_data["namespace"], data.validated_data["yaml"]
        )
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)
