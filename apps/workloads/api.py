"""Workloads and pods over the REST API; actions that start a rollout answer 202 with the
Operation that follows it (what a CI/CD pipeline waits on)."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import RestrictedViewSet
from apps.core.api.pagination import KeysetPagination
from apps.core.api.views import OperationSerializer, accepted
from apps.kube.api import NamespacedYamlSerializer, YamlActions, YamlSerializer
from apps.monitoring.api import MetricsMixin

from . import autoscaling, containers, filters, services, wizard
from .forms import LogOptionsForm
from .models import HorizontalPodAutoscaler, Pod, Workload
from .serializers import (
    PreviewSerializer,
    WizardCreateSerializer,
    WizardEditSerializer,
    preview_data,
)


class WorkloadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Workload
        fields = [
            "id",
            "cluster",
            "namespace",
            "namespace_name",
            "kind",
            "name",
            "uid",
            "labels",
            "images",
            "desired",
            "ready",
            "available",
            "updated",
            "status",
            "reason",
            "revision",
            "selector",
            "schedule",
            "owner_kind",
            "owner_name",
            "resource_version",
            "created",
        ]
        read_only_fields = fields


class PodSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pod
        fields = [
            "id",
            "cluster",
            "namespace",
            "namespace_name",
            "name",
            "uid",
            "labels",
            "phase",
            "status",
            "ready",
            "ready_containers",
            "container_count",
            "restarts",
            "node_name",
            "owner_kind",
            "owner_name",
            "workload_kind",
            "workload_name",
            "pod_ip",
            "host_ip",
            "containers",
            "resource_version",
            "created",
        ]
        read_only_fields = fields


class ScaleSerializer(serializers.Serializer):
    replicas = serializers.IntegerField(min_value=0, max_value=services.MAX_REPLICAS)


class RollbackSerializer(serializers.Serializer):
    revision = serializers.IntegerField(min_value=1, help_text="One of the listed revisions.")


class ImageSerializer(serializers.Serializer):
    container = serializers.CharField(help_text="The container's name.")
    image = serializers.CharField(help_text="The image to run, e.g. registry.example.com/app:v2.")
    cause = serializers.CharField(
        required=False, allow_blank=True, help_text="Why (kept as the revision's change cause)."
    )


class RevisionSerializer(serializers.Serializer):
    revision = serializers.IntegerField()
    name = serializers.CharField(help_text="The ReplicaSet or ControllerRevision.")
    created = serializers.CharField(help_text="When Kubernetes created it (RFC 3339).")
    cause = serializers.CharField(help_text="Its change cause annotation; empty if none.")
    images = serializers.ListField(child=serializers.CharField())
    changed_by = serializers.CharField(
        help_text="Who made this revision in the portal, from the audit trail; empty when "
        "it was made outside the portal (kubectl, a CI tool with its own credentials)."
    )
    changed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When: the audit event's time, or the object's creation time when it was "
        "made outside the portal.",
    )
    change = serializers.CharField(
        help_text="What made it, in the user's language (e.g. Image set, Rolled back); "
        "empty when it was made outside the portal."
    )
    action = serializers.CharField(
        help_text="The same as the audit action (workload.create, workload.update, "
        "workload.set_image, workload.redeploy, workload.restart, workload.rollback); empty "
        "when it was made outside the portal."
    )


class AutoscalerSerializer(serializers.ModelSerializer):
    class Meta:
        model = HorizontalPodAutoscaler
        fields = [
            "id",
            "cluster",
            "namespace",
            "namespace_name",
            "name",
            "uid",
            "target_kind",
            "target_name",
            "min_replicas",
            "max_replicas",
            "cpu_target",
            "memory_target",
            "cpu_current",
            "memory_current",
            "current_replicas",
            "desired_replicas",
            "last_scale_time",
            "resource_version",
            "created",
        ]
        read_only_fields = fields


class DecisionSerializer(serializers.Serializer):
    time = serializers.CharField()
    type = serializers.CharField()
    reason = serializers.CharField()
    message = serializers.CharField()
    count = serializers.IntegerField()


class AutoscalerDetailSerializer(AutoscalerSerializer):
    """One HPA with what its controller reports: conditions and recent decisions."""

    conditions = serializers.ListField(child=serializers.DictField(), read_only=True)
    behavior = serializers.DictField(read_only=True)
    decisions = serializers.SerializerMethodField()
    spec_hash = serializers.SerializerMethodField(
        help_text="Send it back with a change: a change made meanwhile is not overwritten."
    )

    class Meta(AutoscalerSerializer.Meta):
        fields = [
            *AutoscalerSerializer.Meta.fields,
            "behavior",
            "conditions",
            "decisions",
            "spec_hash",
        ]
        read_only_fields = fields

    def get_spec_hash(self, obj) -> str:
        return autoscaling.spec_hash(obj.manifest)

    @extend_schema_field(DecisionSerializer(many=True))
    def get_decisions(self, obj):
        return DecisionSerializer(autoscaling.decisions(obj), many=True).data


class AutoscalingSerializer(serializers.Serializer):
    """How to autoscale a workload (the service checks the values)."""

    min_replicas = serializers.IntegerField()
    max_replicas = serializers.IntegerField()
    cpu_target = serializers.IntegerField(
        required=False, allow_null=True, help_text="Average CPU use, % of the pods' requests."
    )
    memory_target = serializers.IntegerField(
        required=False, allow_null=True, help_text="Average memory use, % of the pods' requests."
    )
    scale_up_window = serializers.IntegerField(required=False, default=0)
    scale_down_window = serializers.IntegerField(
        required=False, default=autoscaling.DEFAULT_DOWN_WINDOW
    )
    scale_up_pods = serializers.IntegerField(
        required=False, allow_null=True, help_text="At most this many pods added a minute."
    )
    scale_down_pods = serializers.IntegerField(
        required=False, allow_null=True, help_text="At most this many pods removed a minute."
    )
    spec_hash = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The autoscaler's spec_hash you read; refused with a 400 asking to reload "
        "if its spec changed since.",
    )


class ContainerLogLineSerializer(serializers.Serializer):
    pod = serializers.CharField()
    container = serializers.CharField()
    time = serializers.CharField(help_text="The kubelet's RFC 3339 timestamp.")
    text = serializers.CharField()


class LogPageSerializer(serializers.Serializer):
    lines = ContainerLogLineSerializer(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="The next page: the lines written after this one's last."
    )


class UsageSerializer(serializers.Serializer):
    pod = serializers.CharField()
    cpu = serializers.IntegerField(allow_null=True, help_text="Millicores in use now.")
    memory = serializers.IntegerField(allow_null=True, help_text="Bytes in use now.")
    cpu_requests = serializers.IntegerField(allow_null=True)
    cpu_limits = serializers.IntegerField(allow_null=True)
    memory_requests = serializers.IntegerField(allow_null=True)
    memory_limits = serializers.IntegerField(allow_null=True)


LOG_PARAMETERS = [
    OpenApiParameter("container", str, description="The container (default: the pod's first)."),
    OpenApiParameter("tail_lines", int, description="The last N lines (default 1000)."),
    OpenApiParameter("since_seconds", int, description="Lines of the last N seconds."),
    OpenApiParameter("since_time", OpenApiTypes.DATETIME, description="Lines since then."),
    OpenApiParameter("after", str, description="Lines after this timestamp (the next page)."),
    OpenApiParameter("previous", bool, description="The previous (crashed) container's log."),
    OpenApiParameter("filter", str, description="Only lines containing this text."),
    OpenApiParameter("regex", bool, description="The filter is a regular expression."),
    OpenApiParameter("limit", int, description="Lines per page (default 1000, at most 10000)."),
    OpenApiParameter(
        "follow",
        bool,
        description="Stream the lines as they are written (application/x-ndjson, one line "
        'object each; {} is a heartbeat, {"end": true} the container\'s end).',
    ),
]


def _logs(request, target):
    """A page of log lines (``next`` continues after its last line), or with ``follow`` the
    lines streamed as they come."""
    from rest_framework.exceptions import ValidationError as ApiValidationError

    from .views import log_lines_response

    form = LogOptionsForm(request.query_params)
    if not form.is_valid():
        raise ApiValidationError(form.errors)
    query = form.query()
    try:
        limit = min(max(int(request.query_params.get("limit", 1000)), 1), 10_000)
    except ValueError:
        raise ApiValidationError({"limit": ["A whole number."]}) from None
    if query.follow:
        return log_lines_response(request._request, containers.follow(request.user, target, query))
    if not query.after and query.tail_lines is not None:
        query.tail_lines = min(query.tail_lines, limit)
    lines = containers.read(request.user, target, query)
    page = lines[:limit]
    following = None
    if page:
        params = request.query_params.copy()
        for name in ("tail_lines", "since_seconds", "since_time"):
            params.pop(name, None)
        params["after"] = page[-1].time
        following = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    return Response({"lines": [line.as_dict() for line in page], "next": following})


def _usage(request, pods):
    rows, _total = containers.usage_rows(request.user, pods)
    data = [{key: row.get(key) for key in UsageSerializer().fields} for row in rows]
    for entry, row in zip(data, rows, strict=True):
        entry["pod"] = row["pod"].name
    return Response(UsageSerializer(data, many=True).data)


@extend_schema_view(
    yaml=extend_schema(
        methods=["PUT"],
        request=YamlSerializer,
        responses={200: YamlSerializer, 202: OperationSerializer},
        description="Replace the workload with the YAML (keep metadata.resourceVersion). A "
        "change to the pods of a Deployment, StatefulSet or DaemonSet answers 202 with the "
        "Operation following its rollout; any other change, 200 with the new YAML.",
    )
)
class WorkloadViewSet(
    MetricsMixin,
    YamlActions,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    RestrictedViewSet,
):
    """Deployments, StatefulSets, DaemonSets, Jobs and CronJobs in the namespaces you may
    work in. Create one with the wizard's body (`POST /`, `preview/` first to see the YAML
    and the dry run) or with `POST yaml/`; `set-image/`, `redeploy/`, `rollback/`,
    `scale/` and a wizard edit (`PUT form/`) answer 202 with the Operation following the
    rollout."""

    queryset = Workload.objects.for_list()
    serializer_class = WorkloadSerializer
    filterset_class = filters.WorkloadFilterSet
    pagination_class = KeysetPagination
    ordering_fields = ["name", "namespace_name", "kind", "created"]
    search_fields = ["name"]
    http_method_names = ["get", "post", "put", "delete", "head", "options"]
    yaml_read = services.workload_yaml
    yaml_replace = services.replace_yaml
    yaml_create = services.create_from_yaml

    def perform_destroy(self, instance):
        services.delete(self.request.user, instance)

    # --- the create wizard's structured body --------------------------------------------

    @staticmethod
    def _wizard_body(serializer_class, request):
        body = serializer_class(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        namespace = data.pop("namespace", None)
        version = data.pop("resource_version", "")
        return namespace, data, version

    @extend_schema(
        request=WizardCreateSerializer,
        responses={201: WorkloadSerializer},
        description="Create a workload from the wizard's structured body (containers, ports, "
        "env, volumes, probes, scheduling, upgrades, kind-specific fields). It is dry-run "
        "first: 400 with the errors by field path when Kubernetes or the quota refuses.",
    )
    def create(self, request):
        namespace, data, _version = self._wizard_body(WizardCreateSerializer, request)
        created = wizard.create(request.user, namespace, data)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="v1_workloads_preview",
        request=WizardCreateSerializer,
        responses=PreviewSerializer,
        description="What the body would make: the YAML and Kubernetes' dry run (errors by "
        "field path), with the namespace's remaining quota. Nothing is changed.",
    )
    @action(detail=False, methods=["post"], url_path="preview")
    def preview(self, request):
        namespace, data, _version = self._wizard_body(WizardCreateSerializer, request)
        return Response(preview_data(wizard.preview(request.user, namespace, data)))

    @extend_schema(
        methods=["GET"],
        responses=inline_serializer(
            "WizardData",
            {"data": serializers.DictField(), "resource_version": serializers.CharField()},
        ),
        description="The running workload as the wizard's body (what an edit starts from).",
    )
    @extend_schema(
        methods=["PUT"],
        request=WizardEditSerializer,
        responses={202: OperationSerializer, 200: WorkloadSerializer},
        description="Replace the workload with the body (dry-run first, errors by field path); "
        "a stale resource_version is refused when someone else changed what the body shows "
        "(a status update alone is no conflict). A Deployment, StatefulSet or DaemonSet whose "
        "spec changed answers 202 with the Operation following its rollout.",
    )
    @action(detail=True, methods=["get", "put"], url_path="form")
    def form(self, request, pk=None):
        workload = self.get_object()
        if request.method == "GET":
            data, version = wizard.initial(request.user, workload)
            return Response({"data": data, "resource_version": version})
        _namespace, data, version = self._wizard_body(WizardEditSerializer, request)
        result = wizard.update(request.user, workload, data, resource_version=version)
        return self._changed_or_following(request, result)

    @extend_schema(
        operation_id="v1_workloads_preview_edit",
        request=WizardEditSerializer,
        responses=PreviewSerializer,
        description="An edit's preview: the YAML, the diff against what runs, the dry run.",
    )
    @action(detail=True, methods=["post"], url_path="preview")
    def preview_edit(self, request, pk=None):
        workload = self.get_object()
        _namespace, data, version = self._wizard_body(WizardEditSerializer, request)
        preview = wizard.preview(
            request.user, workload.namespace, data, workload=workload, resource_version=version
        )
        return Response(preview_data(preview))

    def _changed(self, request, workload):
        return Response(self.get_serializer(workload).data)

    def _changed_or_following(self, request, result):
        """202 with the Operation following the rollout a change started, else the row."""
        if isinstance(result, Workload):
            return self._changed(request, result)
        return accepted(result, request)

    @extend_schema(
        request=ScaleSerializer,
        responses={202: OperationSerializer, 200: WorkloadSerializer},
        description="Scale a Deployment or StatefulSet: 202 with the Operation following the "
        "pods coming and going (200 with the workload for an OnDelete StatefulSet, whose "
        "rollout cannot be followed).",
    )
    @action(detail=True, methods=["post"])
    def scale(self, request, pk=None):
        data = ScaleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.scale(request.user, self.get_object(), data.validated_data["replicas"])
        return self._changed_or_following(request, result)

    @extend_schema(request=None, responses=WorkloadSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return self._changed(request, services.stop(request.user, self.get_object()))

    @extend_schema(request=None, responses=WorkloadSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._changed(request, services.start(request.user, self.get_object()))

    @extend_schema(request=None, responses={201: WorkloadSerializer})
    @action(detail=True, methods=["post"], url_path="run-now")
    def run_now(self, request, pk=None):
        job = services.run_now(request.user, self.get_object())
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"])
    def redeploy(self, request, pk=None):
        return accepted(services.redeploy(request.user, self.get_object()), request)

    @extend_schema(request=RollbackSerializer, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        data = RollbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        operation = services.rollback(
            request.user, self.get_object(), data.validated_data["revision"]
        )
        return accepted(operation, request)

    @extend_schema(request=ImageSerializer, responses={202: OperationSerializer})
    @action(detail=True, methods=["post"], url_path="set-image")
    def set_image(self, request, pk=None):
        data = ImageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        operation = services.set_image(request.user, self.get_object(), **data.validated_data)
        return accepted(operation, request)

    @extend_schema(
        methods=["GET"],
        responses=AutoscalerDetailSerializer,
        description="The workload's HorizontalPodAutoscaler; 404 if it is not autoscaled.",
    )
    @extend_schema(
        methods=["PUT"],
        request=AutoscalingSerializer,
        responses=AutoscalerDetailSerializer,
        description="Autoscale the workload, or change how.",
    )
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["get", "put", "delete"])
    def autoscaling(self, request, pk=None):
        workload = self.get_object()
        if request.method == "PUT":
            data = AutoscalingSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            row = autoscaling.set_autoscaling(request.user, workload, **data.validated_data)
            return Response(AutoscalerDetailSerializer(row).data)
        row = autoscaling.get_autoscaler(request.user, workload)
        if row is None:
            raise Http404
        if request.method == "DELETE":
            autoscaling.delete_autoscaler(request.user, row)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(AutoscalerDetailSerializer(row).data)

    @extend_schema(responses=RevisionSerializer(many=True))
    # All of them, newest first: the list's filters and pages do not apply (nor are documented).
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def revisions(self, request, pk=None):
        found = services.revisions(request.user, self.get_object())
        return Response(RevisionSerializer(found, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("pod", str, description="One of its pods (default: all, merged)."),
            *LOG_PARAMETERS,
        ],
        responses=LogPageSerializer,
    )
    @action(detail=True, methods=["get"])
    def logs(self, request, pk=None):
        """The logs of the workload's pods, merged in time order, each line naming its pod."""
        return _logs(request, self.get_object())

    @extend_schema(responses=UsageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def usage(self, request, pk=None):
        """Current CPU and memory of each pod (metrics API) next to its requests and limits."""
        workload = self.get_object()
        return _usage(request, list(containers.workload_pods(request.user, workload)[:200]))

    @extend_schema(
        request=NamespacedYamlSerializer,
        responses=inline_serializer("DryRun", {"object": serializers.DictField()}),
        description="What Kubernetes would make of the YAML (a server-side dry run); "
        "400 with the errors by field otherwise. Nothing is changed.",
    )
    @action(detail=False, methods=["post"], url_path="dry-run")
    def dry_run(self, request):
        data = NamespacedYamlSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        answer = services.dry_run(
            request.user, data.validated_data["namespace"], data.validated_data["yaml"]
        )
        return Response({"object": answer})


class PodViewSet(
    MetricsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    RestrictedViewSet,
):
    """Pods in the namespaces you may work in, as the informer keeps them (live). Deleting
    one lets its controller make another."""

    queryset = Pod.objects.for_list()
    serializer_class = PodSerializer
    filterset_class = filters.PodFilterSet
    pagination_class = KeysetPagination
    ordering_fields = ["name", "namespace_name", "created", "restarts"]
    search_fields = ["name"]

    def perform_destroy(self, instance):
        services.delete_pod(self.request.user, instance)

    @extend_schema(responses=YamlSerializer)
    @action(detail=True, methods=["get"])
    def yaml(self, request, pk=None):
        return Response({"yaml": services.pod_yaml(request.user, self.get_object())})

    @extend_schema(parameters=LOG_PARAMETERS, responses=LogPageSerializer)
    @action(detail=True, methods=["get"])
    def logs(self, request, pk=None):
        """The container's log, a page at a time (``next``), or streamed with ``follow``."""
        return _logs(request, self.get_object())

    @extend_schema(responses=UsageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def usage(self, request, pk=None):
        """Current CPU and memory (metrics API) next to the requests and limits."""
        return _usage(request, [self.get_object()])


class AutoscalerViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, RestrictedViewSet
):
    """HorizontalPodAutoscalers in the namespaces you may work in (those made with kubectl
    too). Create or change one through `PUT /api/v1/workloads/{id}/autoscaling/`."""

    queryset = HorizontalPodAutoscaler.objects.for_list()
    serializer_class = AutoscalerSerializer
    filterset_class = filters.AutoscalerFilterSet
    pagination_class = KeysetPagination
    ordering_fields = ["name", "namespace_name", "created"]
    search_fields = ["name", "target_name"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = HorizontalPodAutoscaler.objects.restrict(self.request.user, "view")
        return queryset

    def get_serializer_class(self):
        return AutoscalerDetailSerializer if self.action == "retrieve" else AutoscalerSerializer

    def perform_destroy(self, instance):
        autoscaling.delete_autoscaler(self.request.user, instance)
