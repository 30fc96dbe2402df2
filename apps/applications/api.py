"""Applications over the REST API. What touches many objects (import, add, start, stop,
redeploy, delete) answers 202 with the Operation that does it."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import RestrictedRelatedField, RestrictedViewSet
from apps.core.api.pagination import KeysetPagination
from apps.core.api.views import OperationSerializer, accepted
from apps.kube.api import YamlSerializer
from apps.networking.api import ServicePortSerializer, service_spec
from apps.networking.models import Service
from apps.workloads.serializers import WizardSerializer

from . import filters, services
from .models import Application, Import


class ApplicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Application
        fields = [
            "id",
            "cluster",
            "namespace",
            "namespace_name",
            "name",
            "uid",
            "description",
            "version",
            "labels",
            "selector",
            "component_kinds",
            "status",
            "workload_count",
            "resource_version",
            "created",
            "synced",
        ]
        read_only_fields = fields


class ComposedServiceSerializer(serializers.Serializer):
    """A workload's Service: the fields of the Service form; its selector defaults to the
    workload's pods and its name to the workload's."""

    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=63)
    type = serializers.ChoiceField(choices=Service.Type.values, default=Service.Type.CLUSTER_IP)
    ports = ServicePortSerializer(many=True, required=False, default=list)
    selector = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
    session_affinity = serializers.ChoiceField(choices=["None", "ClientIP"], default="None")
    affinity_timeout = serializers.IntegerField(required=False, allow_null=True)
    external_traffic_policy = serializers.ChoiceField(
        choices=["", "Cluster", "Local"], required=False, default=""
    )
    headless = serializers.BooleanField(required=False, default=False)
    load_balancer = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="LoadBalancer: the lb.kcs.io/ settings, as for /api/v1/services/.",
    )


class ComposedWorkloadSerializer(serializers.Serializer):
    workload = WizardSerializer(
        help_text="The workload wizard's body (as POST /api/v1/workloads/)."
    )
    service = ComposedServiceSerializer(required=False, allow_null=True, default=None)


class CreateSerializer(serializers.Serializer):
    namespace = RestrictedRelatedField("namespaces.Namespace", action="work")
    name = serializers.CharField(max_length=63)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    workloads = ComposedWorkloadSerializer(
        many=True,
        required=False,
        help_text="Create the application with these workloads, each maybe with a Service, "
        "as one Operation (202). Left out: an application with no components yet (201).",
    )
    dry_run = serializers.BooleanField(
        default=False,
        help_text="With workloads: only preview (200, each object checked and dry-run).",
    )


class ImportSerializer(serializers.Serializer):
    namespace = RestrictedRelatedField("namespaces.Namespace", action="work")
    application = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=63,
        help_text="The application's name; may be left out when the YAML holds an Application.",
    )
    yaml = serializers.CharField(trim_whitespace=False, help_text="One or more YAML documents.")
    dry_run = serializers.BooleanField(
        default=True,
        help_text="true (the default): only preview; false: apply, answering the Operation.",
    )


class PlanItemSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    exists = serializers.BooleanField(allow_null=True)
    errors = serializers.ListField(child=serializers.CharField())


class PlanSerializer(serializers.Serializer):
    application = serializers.CharField()
    ok = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField())
    items = PlanItemSerializer(many=True)


class CreatedSerializer(serializers.Serializer):
    application = ApplicationSerializer()
    operation = OperationSerializer()


class AddSerializer(serializers.Serializer):
    yaml = serializers.CharField(trim_whitespace=False, help_text="The objects to add.")


class WorkloadsSerializer(serializers.Serializer):
    workloads = serializers.ListField(
        child=RestrictedRelatedField("workloads.Workload", action="change"), allow_empty=False
    )


class NamespaceQuerySerializer(serializers.Serializer):
    namespace = RestrictedRelatedField("namespaces.Namespace", action="view")


class ImportRecordSerializer(serializers.ModelSerializer):
    total = serializers.IntegerField(read_only=True)

    class Meta:
        model = Import
        fields = [
            "id",
            "namespace",
            "application",
            "summary",
            "applied",
            "total",
            "operation",
            "created",
        ]
        read_only_fields = fields


def _no_store(response):
    response["Cache-Control"] = "no-store"  # an export holds Secrets' data
    return response


class ApplicationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, RestrictedViewSet
):
    """Applications (``app.k8s.io/v1beta1``) in the namespaces you may work in, with their
    status rolled up from their workloads. `import/` previews (dry_run, the default) or
    applies a multi-document YAML; DELETE takes ``?components=true`` to delete what the
    application groups as well."""

    queryset = Application.objects.select_related("cluster")
    serializer_class = ApplicationSerializer
    filterset_class = filters.ApplicationFilterSet
    pagination_class = KeysetPagination
    ordering_fields = ["name", "namespace_name", "created"]
    search_fields = ["name"]

    @extend_schema(
        request=CreateSerializer,
        responses={201: ApplicationSerializer, 202: CreatedSerializer, 200: PlanSerializer},
        description="An application by name (201); with `workloads` (each the workload "
        "wizard's body and maybe a Service), the application and all of them as one "
        "Operation (202: the application and the Operation applying the objects in "
        "dependency order), or with `dry_run` only their preview (200). 400 names each "
        "refused field (workloads.<n>.<field>, workloads.<n>.service.<field>) or object; "
        "then nothing is applied.",
    )
    def create(self, request):
        data = CreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        namespace, workloads = fields.pop("namespace"), fields.pop("workloads", None)
        dry_run = fields.pop("dry_run")
        if workloads is None:
            created = services.create(request.user, namespace, **fields)
            return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)
        workloads = [
            {
                "workload": dict(entry["workload"]),
                "service": service_spec(entry["service"]) | {"name": entry["service"]["name"]}
                if entry["service"]
                else None,
            }
            for entry in workloads
        ]
        if dry_run:
            preview = services.preview_create(
                request.user, namespace, workloads=workloads, **fields
            )
            return Response(PlanSerializer(preview).data)
        application, operation = services.create_with_workloads(
            request.user, namespace, workloads=workloads, **fields
        )
        application.refresh_from_db()
        body = {
            "application": self.get_serializer(application).data,
            "operation": OperationSerializer(operation, context={"request": request}).data,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "components", OpenApiTypes.BOOL, description="Delete the components too."
            )
        ],
        responses={202: OperationSerializer},
    )
    def destroy(self, request, pk=None):
        with_components = request.query_params.get("components", "").lower() in ("1", "true", "yes")
        operation = services.delete(
            request.user, self.get_object(), with_components=with_components
        )
        return accepted(operation, request)

    @extend_schema(methods=["GET"], responses=YamlSerializer)
    @extend_schema(methods=["PUT"], request=YamlSerializer, responses=YamlSerializer)
    @action(detail=True, methods=["get", "put"], url_path="yaml")
    def yaml(self, request, pk=None):
        obj = self.get_object()
        if request.method == "PUT":
            data = YamlSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            obj = services.replace_yaml(request.user, obj, data.validated_data["yaml"])
        return Response({"yaml": services.application_yaml(request.user, obj)})

    @extend_schema(
        request=ImportSerializer,
        responses={200: PlanSerializer, 202: OperationSerializer},
        description="Preview (dry_run true, the default): each object checked and dry-run "
        "by Kubernetes, nothing changed. Apply (dry_run false): 202 with the Operation, or "
        "400 naming each refused object (then nothing is applied).",
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_(self, request):
        data = ImportSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        args = (request.user, fields["namespace"], fields["yaml"], fields["application"])
        if fields["dry_run"]:
            preview = services.preview_import(*args)
            return Response(PlanSerializer(preview).data)
        return accepted(services.import_(*args), request)

    @extend_schema(request=AddSerializer, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"])
    def add(self, request, pk=None):
        data = AddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        operation = services.add(request.user, self.get_object(), data.validated_data["yaml"])
        return accepted(operation, request)

    def _workloads(self, request, service):
        data = WorkloadsSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        application = service(request.user, self.get_object(), data.validated_data["workloads"])
        application.refresh_from_db()
        return Response(self.get_serializer(application).data)

    @extend_schema(request=WorkloadsSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def associate(self, request, pk=None):
        return self._workloads(request, services.associate)

    @extend_schema(request=WorkloadsSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def detach(self, request, pk=None):
        return self._workloads(request, services.detach)

    @extend_schema(request=None, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return accepted(services.start(request.user, self.get_object()), request)

    @extend_schema(request=None, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return accepted(services.stop(request.user, self.get_object()), request)

    @extend_schema(request=None, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"])
    def redeploy(self, request, pk=None):
        return accepted(services.redeploy(request.user, self.get_object()), request)

    @extend_schema(responses=YamlSerializer)
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        text = services.export(request.user, self.get_object())
        return _no_store(Response({"yaml": text}))

    @extend_schema(
        parameters=[OpenApiParameter("namespace", OpenApiTypes.INT, required=True)],
        responses=YamlSerializer,
        description="Every application and every object one may group, of a namespace.",
    )
    @action(detail=False, methods=["get"], url_path="export-namespace", filterset_class=None)
    def export_namespace(self, request):
        data = NamespaceQuerySerializer(data=request.query_params, context={"request": request})
        data.is_valid(raise_exception=True)
        text = services.export_namespace(request.user, data.validated_data["namespace"])
        return _no_store(Response({"yaml": text}))


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    """Imports and how far each got; `retry/` continues a failed one from where it stopped."""

    queryset = Import.objects.all()
    serializer_class = ImportRecordSerializer
    pagination_class = KeysetPagination
    ordering_fields = ["created"]

    @extend_schema(request=None, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return accepted(services.retry_import(request.user, self.get_object()), request)
