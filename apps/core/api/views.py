from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import audit, operations, services
from ..filters import AuditEventFilterSet, OperationFilterSet
from ..models import ApiToken, AuditEvent, Operation
from .base import RestrictedViewSet
from .pagination import KeysetPagination


class OperationSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="operation-detail")
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    target_type = serializers.SlugRelatedField(slug_field="model", read_only=True)
    # Kept untranslated, shown in the reader's language (Accept-Language), as in the portal.
    step = serializers.SerializerMethodField()
    log = serializers.SerializerMethodField()

    class Meta:
        model = Operation
        fields = [
            "id",
            "url",
            "kind",
            "kind_display",
            "target_type",
            "target_id",
            "target_name",
            "actor",
            "project",
            "status",
            "progress",
            "step",
            "log",
            "error",
            "request_id",
            "created",
            "started",
            "finished",
        ]
        read_only_fields = fields

    def get_step(self, operation) -> str:
        return operations.translated(operation.step)

    def get_log(self, operation) -> list[str]:
        return operations.log_lines(operation)


def accepted(operation, request) -> Response:
    """202 with the Operation doing what was asked: what a client follows to its end."""
    data = OperationSerializer(operation, context={"request": request}).data
    return Response(data, status=status.HTTP_202_ACCEPTED)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created",
            "actor_name",
            "action",
            "target_type",
            "target_id",
            "target_name",
            "project",
            "project_name",
            "cluster",
            "namespace",
            "result",
            "reason",
            "detail",
            "operation",
            "source_ip",
            "request_id",
        ]
        read_only_fields = fields


class ApiTokenSerializer(serializers.ModelSerializer):
    expires_in_days = serializers.IntegerField(
        write_only=True, required=False, allow_null=True, min_value=1, max_value=3650
    )

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created", "expires", "last_used", "expires_in_days"]
        read_only_fields = ["prefix", "created", "expires", "last_used"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text=_("Shown once; store it now."))

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]


class OperationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    """Long-running operations and their progress."""

    pagination_class = KeysetPagination

    queryset = Operation.objects.select_related("actor", "project", "target_type")
    serializer_class = OperationSerializer
    filterset_class = OperationFilterSet
    ordering_fields = ["created", "status"]

    @extend_schema(request=None, responses=OperationSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        operation = services.cancel_operation(request.user, self.get_object())
        return Response(self.get_serializer(operation).data)


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    """The audit trail: read-only in every surface."""

    pagination_class = KeysetPagination

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    ordering_fields = ["created"]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False)
    def histogram(self, request):
        """Events per minute, hour, day or week over the filtered events' span."""
        bars = audit.histogram(self.filter_queryset(self.get_queryset()))
        return Response(
            {
                "total": sum(bar["count"] for bar in bars),
                "buckets": [{"start": b["start"].isoformat(), "count": b["count"]} for b in bars],
            }
        )

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False)
    def export(self, request):
        """The filtered events as CSV, newest first (at most 10,000)."""
        rows = audit.export_csv(request.user, self.filter_queryset(self.get_queryset()))
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    RestrictedViewSet,
):
    """The requesting user's personal API tokens."""

    queryset = ApiToken.objects.all()
    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        return super().get_queryset().filter(user=self.request.user)

    @extend_schema(responses={201: ApiTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.create_token(request.user, **serializer.validated_data)
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.revoke_token(self.request.user, instance)
