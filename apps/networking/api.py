"""Services and Ingresses over the REST API: the same fields as the portal's forms, their
YAML, and the "does it answer?" check (``GET {id}/check/``)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import RestrictedRelatedField
from apps.core.api.base import ServiceViewSet as CrudViewSet
from apps.core.api.pagination import KeysetPagination
from apps.kube.api import YamlActions
from apps.namespaces.models import Namespace

from . import filters, lb, routes, services
from .models import Ingress, Service


class ServicePortSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, default="")
    protocol = serializers.ChoiceField(choices=["TCP", "UDP", "SCTP"], default="TCP")
    port = serializers.IntegerField(min_value=1, max_value=65535)
    target_port = serializers.CharField(
        required=False, allow_null=True, default=None, help_text="A number or a port's name."
    )
    node_port = serializers.IntegerField(required=False, allow_null=True, default=None)


class ServiceSerializer(serializers.ModelSerializer):
    namespace = RestrictedRelatedField(Namespace, action="work")
    ports = ServicePortSerializer(many=True, required=False, default=list)
    selector = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
    session_affinity = serializers.ChoiceField(choices=["None", "ClientIP"], default="None")
    affinity_timeout = serializers.IntegerField(
        required=False, allow_null=True, write_only=True, help_text="ClientIP: seconds."
    )
    external_traffic_policy = serializers.ChoiceField(
        choices=["", "Cluster", "Local"], required=False, default="", write_only=True
    )
    headless = serializers.BooleanField(required=False, default=False)
    external_name = serializers.CharField(
        required=False, allow_blank=True, default="", write_only=True
    )
    load_balancer = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="LoadBalancer: settings written as lb.kcs.io/ annotations (listener-protocol, "
        "certificate-secret, algorithm, backend-weights, session-persistence, session-timeout, "
        "health-check-protocol, health-check-path, health-check-interval, "
        "health-check-timeout, healthy-threshold, unhealthy-threshold).",
    )
    external_ips = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        write_only=True,
        help_text="Cloud administrators only.",
    )
    load_balancer_ip = serializers.CharField(
        required=False, allow_blank=True, write_only=True, help_text="Cloud administrators only."
    )
    backends = serializers.SerializerMethodField(
        help_text="Per-backend health the cloud's controller reports."
    )
    resource_version = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = Service
        fields = [
            "id",
            "cluster",
            "namespace",
            "namespace_name",
            "name",
            "type",
            "cluster_ip",
            "external_address",
            "ports",
            "selector",
            "session_affinity",
            "affinity_timeout",
            "external_traffic_policy",
            "headless",
            "external_name",
            "load_balancer",
            "external_ips",
            "load_balancer_ip",
            "backends",
            "labels",
            "resource_version",
            "created",
        ]
        read_only_fields = [
            "cluster",
            "namespace_name",
            "cluster_ip",
            "external_address",
            "labels",
            "created",
        ]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            for name in ("namespace", "name", "headless"):
                fields[name].read_only = True
        return fields

    def get_backends(self, obj) -> list[dict]:
        return lb.backend_health(obj.annotations)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["headless"] = instance.headless
        data["load_balancer"] = lb.settings_of(instance.annotations)
        return data


def service_spec(data: dict, service: Service | None = None) -> dict:
    spec = {
        "type": data.get("type") or (service.type if service else Service.Type.CLUSTER_IP),
        "selector": data.get("selector", service.selector if service else {}),
        "ports": [dict(p) for p in data.get("ports") or []]
        if "ports" in data or service is None
        else list(service.ports),
        "headless": data.get("headless", service.headless if service else False),
        "external_name": data.get("external_name", ""),
        "session_affinity": data.get(
            "session_affinity", service.session_affinity if service else "None"
        ),
        "affinity_timeout": data.get("affinity_timeout"),
        "external_traffic_policy": data.get("external_traffic_policy", ""),
    }
    if "load_balancer" in data:
        spec["load_balancer"] = data["load_balancer"]
    if data.get("external_ips"):
        spec["externalIPs"] = data["external_ips"]
    if data.get("load_balancer_ip"):
        spec["loadBalancerIP"] = data["load_balancer_ip"]
    return spec


AnswerSerializer = inline_serializer(
    "RouteAnswer",
    {
        "ok": serializers.BooleanField(),
        "route": serializers.CharField(),
        "pods": serializers.ListField(child=serializers.DictField()),
        "reasons": serializers.ListField(child=serializers.CharField()),
        "notes": serializers.ListField(child=serializers.CharField()),
        "port": serializers.CharField(help_text="The Service port answered for, e.g. http 80/TCP."),
        "ports": serializers.ListField(
            child=serializers.DictField(),
            required=False,
            help_text="A Service checked without ?port=: the answer of each of its ports "
            "(ok overall only when every port answers).",
        ),
    },
)


def _answer(answer, ports=None) -> Response:
    body = vars(answer)
    if ports is not None:
        body = {**body, "ports": [vars(a) for a in ports]}
    return Response(body)


class ServiceViewSet(YamlActions, CrudViewSet):
    """Services in the namespaces you may work in: ClusterIP, NodePort, LoadBalancer (with the
    cloud's load balancer settings) and ExternalName. `GET {id}/check/` says whether it
    answers: which pods a request reaches, or why none, for every port (`ports`) or for one
    (`?port=`)."""

    pagination_class = KeysetPagination
    queryset = Service.objects.for_list()
    serializer_class = ServiceSerializer
    yaml_read = services.service_yaml
    yaml_replace = services.replace_service_yaml
    yaml_create = services.create_service_from_yaml
    filterset_class = filters.ServiceFilterSet
    ordering_fields = ["name", "namespace_name", "type", "created"]
    search_fields = ["name"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        queryset = super().get_queryset()
        return (
            queryset
            if self.action == "list"
            else Service.objects.restrict(self.request.user, "view")
        )

    def create_object(self, data):
        return services.create_service(
            self.request.user,
            namespace=data["namespace"],
            name=data["name"],
            spec=service_spec(data),
        )

    def update_object(self, obj, data):
        return services.update_service(
            self.request.user,
            obj,
            spec=service_spec(data, obj),
            resource_version=data.get("resource_version", ""),
        )

    def delete_object(self, obj):
        services.delete_service(self.request.user, obj)

    @extend_schema(
        parameters=[OpenApiParameter("port", str, description="A port number or name.")],
        responses=AnswerSerializer,
    )
    @action(detail=True, methods=["get"])
    def check(self, request, pk=None):
        service, port = self.get_object(), request.GET.get("port")
        if port:
            return _answer(routes.service_answers(service, port))
        answers = routes.service_port_answers(service)
        return _answer(routes.overall(answers, service), answers)


class IngressRuleSerializer(serializers.Serializer):
    host = serializers.CharField(required=False, allow_blank=True, default="")
    path = serializers.CharField(required=False, default="/", initial="/")
    path_type = serializers.ChoiceField(choices=list(services.PATH_TYPES), default="Prefix")
    service = serializers.CharField()
    port = serializers.CharField(help_text="The Service's port: a number or a name.")


class IngressBackendSerializer(serializers.Serializer):
    service = serializers.CharField()
    port = serializers.CharField()


class IngressTlsSerializer(serializers.Serializer):
    hosts = serializers.ListField(child=serializers.CharField())
    secret = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="A TLS Secret of the namespace; empty while there is no certificate yet.",
    )


class IngressSerializer(serializers.ModelSerializer):
    namespace = RestrictedRelatedField(Namespace, action="work")
    ingress_class = serializers.CharField(required=False, allow_blank=True, default="")
    rules = IngressRuleSerializer(many=True, required=False, default=list)
    default_backend = IngressBackendSerializer(
        required=False, allow_null=True, default=None, source="default_backend_or_none"
    )
    tls = IngressTlsSerializer(many=True, required=False, default=list)
    allow_conflicts = serializers.BooleanField(
        required=False,
        default=False,
        write_only=True,
        help_text="Apply even if another Ingress of the cluster routes the same host and path "
        "(refused with the conflicts otherwise).",
    )
    resource_version = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = Ingress
        fields = [
            "id",
            "cluster",
            "namespace",
            "namespace_name",
            "name",
            "ingress_class",
            "address",
            "hosts",
            "rules",
            "default_backend",
            "tls",
            "allow_conflicts",
            "labels",
            "resource_version",
            "created",
        ]
        read_only_fields = ["cluster", "namespace_name", "address", "hosts", "labels", "created"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            for name in ("namespace", "name"):
                fields[name].read_only = True
        return fields


def _ingress_spec(data: dict, ingress: Ingress | None = None) -> dict:
    def keep(key, default):
        return data[key] if key in data else (getattr(ingress, key) if ingress else default)

    return {
        "ingress_class": keep("ingress_class", ""),
        "rules": [dict(r) for r in keep("rules", [])],
        "default_backend": dict(
            data["default_backend_or_none"] or {}
            if "default_backend_or_none" in data
            else (ingress.default_backend if ingress else {})
        ),
        "tls": [dict(t) for t in keep("tls", [])],
    }


class IngressViewSet(YamlActions, CrudViewSet):
    """Ingresses in the namespaces you may work in: class, rules (host + path → service:port),
    default backend and TLS. A host and path another Ingress of the cluster routes is refused
    unless `allow_conflicts`. `GET {id}/check/?host=&path=` resolves a request."""

    pagination_class = KeysetPagination
    queryset = Ingress.objects.for_list()
    serializer_class = IngressSerializer
    yaml_read = services.ingress_yaml
    yaml_replace = services.replace_ingress_yaml
    yaml_create = services.create_ingress_from_yaml
    filterset_class = filters.IngressFilterSet
    ordering_fields = ["name", "namespace_name", "created"]
    search_fields = ["name"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        queryset = super().get_queryset()
        return (
            queryset
            if self.action == "list"
            else Ingress.objects.restrict(self.request.user, "view")
        )

    def create_object(self, data):
        return services.create_ingress(
            self.request.user,
            namespace=data["namespace"],
            name=data["name"],
            spec=_ingress_spec(data),
            allow_conflicts=data.get("allow_conflicts", False),
        )

    def update_object(self, obj, data):
        return services.update_ingress(
            self.request.user,
            obj,
            spec=_ingress_spec(data, obj),
            resource_version=data.get("resource_version", ""),
            allow_conflicts=data.get("allow_conflicts", False),
        )

    def delete_object(self, obj):
        services.delete_ingress(self.request.user, obj)

    @extend_schema(
        parameters=[OpenApiParameter("host", str), OpenApiParameter("path", str)],
        responses=AnswerSerializer,
    )
    @action(detail=True, methods=["get"])
    def check(self, request, pk=None):
        ingress = self.get_object()
        first = ingress.rules[0] if ingress.rules else {}
        host = request.GET.get("host", first.get("host", ""))
        path = request.GET.get("path", first.get("path", "/"))
        return _answer(routes.ingress_answers(ingress, host, path))
