"""Networking in the portal: Services and Ingresses, their pages with endpoints, backends
and the "does it answer?" check, and every write a service call."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.configs.forms import YamlCreateForm
from apps.core import authz
from apps.core.views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    ObjectYamlView,
    ServiceFormView,
)
from apps.namespaces.models import Namespace
from apps.workloads.models import Pod, Workload

from . import filters, forms, lb, routes, services, tables
from .models import EndpointSlice, Ingress, Service


def may_create(user) -> bool:
    return Namespace.objects.restrict(user, "work").exists()


class RowsFormMixin:
    """A form with rows: the rows it starts with, and "Add row" / "Remove" buttons.

    static/js/rows.js does both in the page; without JavaScript the button posts
    ``add_row`` (a formset prefix) or ``remove_row`` (a row's prefix) and the form comes
    back with the row added or removed, nothing applied."""

    template_name = "networking/service_form.html"

    def get_rows(self) -> dict:
        return {}

    def row_change(self) -> str:
        return self.request.POST.get("add_row") or self.request.POST.get("remove_row") or ""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, rows=self.get_rows())
        if "data" in kwargs and self.row_change():
            data = kwargs["data"].copy()
            adding, removing = self.request.POST.get("add_row"), self.request.POST.get("remove_row")
            if adding and f"{adding}-TOTAL_FORMS" in data:
                total = f"{adding}-TOTAL_FORMS"
                data[total] = str(int(data.get(total) or 0) + 1)
            if removing and f"{removing.rpartition('-')[0]}-TOTAL_FORMS" in data:
                data[f"{removing}-DELETE"] = "on"
            kwargs["data"] = data
        return kwargs

    def post(self, request, *args, **kwargs):
        if self.row_change():
            form = self.get_form()
            return self.render_to_response(self.get_context_data(form=form))
        return super().post(request, *args, **kwargs)


# --- Services -------------------------------------------------------------------------


class ServiceListView(ObjectListView):
    live_models = (Service,)
    needs = authz.Perm.OPERATE
    queryset = Service.objects.for_list().select_related("cluster")
    table = tables.ServiceTable
    filterset_class = filters.ServiceFilterSet
    add_url_name = "portal:service_add"

    def can_add(self):
        return may_create(self.request.user)


def workloads_reached(service: Service, user) -> list:
    """The workloads whose pods the Service selects (one query for the pods, one for them)."""
    if not service.selector:
        return []
    pods = Pod.objects.filter(
        cluster_id=service.cluster_id,
        namespace_name=service.namespace_name,
        **{f"labels__{k}": v for k, v in service.selector.items()},
    ).values_list("workload_kind", "workload_name")
    wanted = {(kind, name) for kind, name in pods if kind}
    if not wanted:
        return []
    rows = Workload.objects.restrict(user, "view").filter(
        cluster_id=service.cluster_id,
        namespace_name=service.namespace_name,
        name__in={name for _kind, name in wanted},
    )
    return [w for w in rows if (w.kind, w.name) in wanted]


class ServiceView(ObjectDetailView):
    live_models = (Service, EndpointSlice, Pod)
    model = Service
    queryset = Service.objects.select_related("cluster", "namespace__project")
    template_name = "networking/service_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, service = self.request.user, self.object
        slices = EndpointSlice.objects.filter(
            cluster_id=service.cluster_id,
            namespace_name=service.namespace_name,
            service_name=service.name,
        ).order_by("name")
        events = services.events_of(service)
        context.update(
            endpoints=[
                {**e, "slice": s.name, "ports": s.ports} for s in slices for e in s.endpoints
            ],
            workloads=workloads_reached(service, user),
            answers=routes.service_port_answers(service),
            lb_settings=[
                (forms.LB_LABELS[key], value)
                for key, value in lb.effective(service.annotations).items()
                if key in forms.LB_LABELS
            ]
            if service.type == Service.Type.LOAD_BALANCER
            else [],
            lb_written=lb.settings_of(service.annotations),
            backends=lb.backend_health(service.annotations),
            weighted=lb.effective(service.annotations)["algorithm"] == "weighted-round-robin",
            warnings=[e for e in events if e["type"] == "Warning"],
            node_ports=[p["node_port"] for p in service.ports if p.get("node_port")],
            can_change=authz.can(user, "change", service),
            can_delete=authz.can(user, "delete", service),
        )
        return context


def _expose_initial(workload: Workload) -> tuple[dict, dict]:
    """The form filled for exposing a workload: its namespace, name, selector and ports."""
    template = (((workload.manifest or {}).get("spec") or {}).get("template") or {}).get(
        "spec"
    ) or {}
    ports = [
        {
            "name": (p.get("name") or "")[:15],
            "protocol": p.get("protocol") or "TCP",
            "port": p.get("containerPort"),
            "target_port": p.get("name") or p.get("containerPort"),
        }
        for c in template.get("containers") or []
        for p in c.get("ports") or []
    ]
    initial = {
        "namespace": workload.namespace_id,
        "name": workload.name,
        "workload": workload.pk,
        "selector": forms.labels_text(workload.selector),
        "type": Service.Type.CLUSTER_IP,
    }
    return initial, {"ports": ports}


class ServiceCreateView(RowsFormMixin, ServiceFormView):
    form_class = forms.ServiceForm
    title = _("New Service")
    audit_action = "service.create"
    audit_model = Service

    def dispatch(self, request, *args, **kwargs):
        self.workload = None
        if request.user.is_authenticated and request.GET.get("workload", "").isdigit():
            self.workload = get_object_or_404(
                Workload.objects.restrict(request.user, "view"), pk=request.GET["workload"]
            )
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        if self.workload is None:
            return {"type": Service.Type.CLUSTER_IP}
        return _expose_initial(self.workload)[0]

    def get_rows(self):
        return _expose_initial(self.workload)[1] if self.workload else {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.workload is not None:
            context["title"] = _("Expose %(name)s") % {"name": self.workload.name}
        return context

    def get_cancel_url(self):
        if self.workload is not None:
            return self.workload.get_absolute_url()
        return reverse("portal:service_list")

    def perform(self, form):
        return services.create_service(
            self.request.user,
            namespace=form.cleaned_data["namespace"],
            name=form.cleaned_data["name"],
            spec=form.spec(),
        )


class ServiceEditView(RowsFormMixin, ObjectFormView):
    model = Service
    form_class = forms.ServiceEditForm
    title = _("Edit")

    def get_initial(self):
        return forms.service_initial(self.object)[0]

    def get_rows(self):
        return forms.service_initial(self.object)[1]

    def perform(self, form):
        spec = form.spec()
        spec["headless"] = self.object.headless
        return services.update_service(
            self.request.user,
            self.object,
            spec=spec,
            seen=form.cleaned_data["seen"],
            resource_version=""
            if form.cleaned_data["seen"]
            else form.cleaned_data["resource_version"],
        )


class ServiceYamlView(ObjectYamlView):
    model = Service
    read = services.service_yaml
    write = services.replace_service_yaml


SERVICE_STARTER = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: ClusterIP
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 80}
"""


class ServiceYamlCreateView(ServiceFormView):
    form_class = YamlCreateForm
    title = _("New Service from YAML")
    audit_action = "service.create"
    audit_model = Service

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {"yaml": SERVICE_STARTER}

    def get_cancel_url(self):
        return reverse("portal:service_list")

    def perform(self, form):
        return services.create_service_from_yaml(
            self.request.user, form.cleaned_data["namespace"], form.cleaned_data["yaml"]
        )


class ServiceDeleteView(ObjectDeleteView):
    model = Service

    def delete(self, obj):
        services.delete_service(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:service_list")


# --- Ingresses ------------------------------------------------------------------------


class IngressListView(ObjectListView):
    live_models = (Ingress,)
    needs = authz.Perm.OPERATE
    queryset = Ingress.objects.for_list().select_related("cluster")
    table = tables.IngressTable
    filterset_class = filters.IngressFilterSet
    add_url_name = "portal:ingress_add"
    title = _("Ingresses")

    def can_add(self):
        return may_create(self.request.user)


class IngressView(ObjectDetailView):
    live_models = (Ingress, Service, EndpointSlice, Pod)
    model = Ingress
    queryset = Ingress.objects.select_related("cluster", "namespace__project")
    template_name = "networking/ingress_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, ingress = self.request.user, self.object
        check = forms.CheckForm(self.request.GET or None)
        first = ingress.rules[0] if ingress.rules else {}
        host, path = first.get("host", ""), first.get("path", "/")
        if check.is_bound and check.is_valid():
            host = check.cleaned_data["host"] or ""
            path = check.cleaned_data["path"] or "/"
        else:
            check = forms.CheckForm(initial={"host": host, "path": path})
        secrets = services._secret_types(ingress.cluster_id, ingress.namespace_name)
        context.update(
            backends=routes.backends(ingress),
            tls=[
                {**entry, "present": secrets.get(entry["secret"]) == "kubernetes.io/tls"}
                for entry in ingress.tls
            ],
            check_form=check,
            answer=routes.ingress_answers(ingress, host, path),
            can_change=authz.can(user, "change", ingress),
            can_delete=authz.can(user, "delete", ingress),
        )
        return context


class IngressFormMixin(RowsFormMixin):
    template_name = "networking/ingress_form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["conflict"] = any(
            getattr(error, "code", "") == "conflict"
            for error in form.errors.as_data().get("rules", [])
        ) or bool(form.errors.get("allow_conflicts"))
        return context


class IngressCreateView(IngressFormMixin, ServiceFormView):
    form_class = forms.IngressForm
    title = _("New Ingress")
    audit_action = "ingress.create"
    audit_model = Ingress

    def get_rows(self):
        return {"rules": [{"path": "/", "path_type": "Prefix"}]}

    def get_cancel_url(self):
        return reverse("portal:ingress_list")

    def perform(self, form):
        return services.create_ingress(
            self.request.user,
            namespace=form.cleaned_data["namespace"],
            name=form.cleaned_data["name"],
            spec=form.spec(),
            allow_conflicts=form.cleaned_data["allow_conflicts"],
        )


class IngressEditView(IngressFormMixin, ObjectFormView):
    model = Ingress
    form_class = forms.IngressEditForm
    title = _("Edit")

    def get_initial(self):
        return forms.ingress_initial(self.object)[0]

    def get_rows(self):
        return forms.ingress_initial(self.object)[1]

    def perform(self, form):
        return services.update_ingress(
            self.request.user,
            self.object,
            spec=form.spec(),
            seen=form.cleaned_data["seen"],
            resource_version=""
            if form.cleaned_data["seen"]
            else form.cleaned_data["resource_version"],
            allow_conflicts=form.cleaned_data["allow_conflicts"],
        )


class IngressYamlView(ObjectYamlView):
    model = Ingress
    read = services.ingress_yaml
    write = services.replace_ingress_yaml


INGRESS_STARTER = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  ingressClassName: nginx
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
"""


class IngressYamlCreateView(ServiceFormView):
    form_class = forms.IngressYamlCreateForm
    title = _("New Ingress from YAML")
    audit_action = "ingress.create"
    audit_model = Ingress

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {"yaml": INGRESS_STARTER}

    def get_cancel_url(self):
        return reverse("portal:ingress_list")

    def perform(self, form):
        return services.create_ingress_from_yaml(
            self.request.user,
            form.cleaned_data["namespace"],
            form.cleaned_data["yaml"],
            allow_conflicts=form.cleaned_data["allow_conflicts"],
        )


class IngressDeleteView(ObjectDeleteView):
    model = Ingress

    def delete(self, obj):
        services.delete_ingress(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:ingress_list")
