"""Applications in the portal: the list, a page with the topology and every operation,
and the import with its preview. Each action is a service call."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from apps.core import authz
from apps.core.models import Operation
from apps.core.views import (
    ObjectActionView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    ObjectYamlView,
    PortalView,
    ServiceFormView,
)
from apps.namespaces.models import Namespace
from apps.networking import forms as networking_forms
from apps.networking import lb
from apps.networking import services as networking_services
from apps.networking.models import Service
from apps.networking.views import RowsFormMixin
from apps.workloads.models import Pod, Workload
from apps.workloads.tables import WorkloadTable
from apps.workloads.views import WorkloadWizardView

from . import drafts, filters, forms, services, tables, topology
from .models import Application, Import


class ApplicationListView(ObjectListView):
    needs = authz.Perm.OPERATE
    queryset = Application.objects.select_related("cluster")
    table = tables.ApplicationTable
    filterset_class = filters.ApplicationFilterSet
    live_models = (Application,)
    add_url_name = "portal:application_add"
    template_name = "applications/application_list.html"
    title = _("Applications")

    def can_add(self):
        return Namespace.objects.restrict(self.request.user, "work").exists()


def _workloads_of(application):
    rows = Workload.objects.for_list().filter(
        cluster_id=application.cluster_id, namespace_name=application.namespace_name
    )
    return [w for w in rows.select_related("cluster") if application.selects(w.labels or {})]


class ApplicationView(ObjectDetailView):
    model = Application
    queryset = Application.objects.select_related("cluster", "namespace__project")
    template_name = "applications/application_detail.html"
    live_models = (Application, Workload, Pod)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, application = self.request.user, self.object
        operations = Operation.objects.filter(
            target_type__app_label="applications",
            target_type__model="application",
            target_id=application.pk,
        ).select_related("actor")[:5]
        imports = Import.objects.filter(
            namespace_id=application.namespace_id, application=application.name
        ).select_related("operation")[:5]
        context.update(
            graph=topology.of(application),
            workloads=WorkloadTable(_workloads_of(application)),
            operations=operations,
            imports=imports,
            can_change=authz.can(user, "change", application),
            wizard_kinds=[(kind.lower(), kind) for kind in Workload.Kind.values],
            can_delete=authz.can(user, "delete", application),
        )
        return context


class ApplicationCreateView(ServiceFormView):
    """Name, description and version; then either an empty application, or on to its
    workloads (``compose``: a draft, ``ApplicationDraftView``)."""

    form_class = forms.ApplicationForm
    template_name = "applications/application_form.html"
    title = _("New application")
    audit_action = "application.create"
    audit_model = Application

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_cancel_url(self):
        return reverse("portal:application_list")

    def perform(self, form):
        data = form.cleaned_data
        if "compose" in self.request.POST:  # go on to describe its workloads
            name = services.check_new(self.request.user, data["namespace"], data["name"])
            key = drafts.start(
                self.request,
                namespace=data["namespace"],
                name=name,
                description=data["description"],
                version=data["version"],
            )
            return reverse("portal:application_draft", args=[key])
        return services.create(
            self.request.user,
            data["namespace"],
            name=data["name"],
            description=data["description"],
            version=data["version"],
        )


# --- a new application with its workloads ---------------------------------------------


class DraftMixin:
    """A view of one draft application (``drafts``): 404 if it is not this user's."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.key = kwargs["key"]
            self.draft = drafts.get(request, self.key)
            self.namespace = get_object_or_404(
                Namespace.objects.restrict(request.user, "work").select_related("cluster"),
                pk=self.draft["namespace"],
            )
        return super().dispatch(request, *args, **kwargs)

    def draft_url(self) -> str:
        return reverse("portal:application_draft", args=[self.key])

    def get_cancel_url(self):
        return self.draft_url()


def _draft_errors(exc: ValidationError) -> list[str]:
    """A refusal of the draft as lines a user reads ("workloads.1.image: ...")."""
    if not hasattr(exc, "error_dict"):
        return exc.messages
    return [
        f"{key}: {message}" if key != "__all__" else message
        for key, messages in exc.message_dict.items()
        for message in messages
    ]


class ApplicationDraftView(DraftMixin, PortalView, TemplateView):
    """The new application's workloads, each with its Service, reviewed together (every
    object built and dry-run), then created as one Operation."""

    needs = authz.Perm.OPERATE
    template_name = "applications/application_draft.html"

    def workload_rows(self) -> list[dict]:
        rows = []
        for index, entry in enumerate(self.draft["workloads"]):
            data, service = entry["workload"], entry.get("service")
            rows.append(
                {
                    "index": index,
                    "kind": data.get("kind"),
                    "name": data.get("name"),
                    "images": [c.get("image") for c in data.get("containers") or []],
                    "service": service,
                    "ports": ", ".join(
                        f"{p.get('port')}/{p.get('protocol') or 'TCP'}"
                        for p in (service or {}).get("ports") or []
                    ),
                }
            )
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        preview, errors = None, kwargs.get("errors") or []
        if self.draft["workloads"] and not errors:
            try:
                preview = services.preview_create(
                    self.request.user, self.namespace, **self._fields()
                )
            except ValidationError as exc:
                errors = _draft_errors(exc)
        context.update(
            title=_("New application %(name)s") % {"name": self.draft["name"]},
            draft=self.draft,
            namespace=self.namespace,
            rows=self.workload_rows(),
            wizard_kinds=[(kind.lower(), kind) for kind in Workload.Kind.values],
            key=self.key,
            preview=preview,
            errors=errors,
            cancel_url=reverse("portal:application_list"),
        )
        return context

    def _fields(self) -> dict:
        return {
            "name": self.draft["name"],
            "description": self.draft["description"],
            "version": self.draft["version"],
            "workloads": self.draft["workloads"],
        }

    def post(self, request, *args, **kwargs):
        workloads = self.draft["workloads"]
        index = request.POST.get("index", "")
        if index.isdigit() and int(index) < len(workloads):
            if "remove" in request.POST:
                workloads.pop(int(index))
            elif "remove_service" in request.POST:
                workloads[int(index)]["service"] = None
            drafts.save(request, self.key, self.draft)
            return HttpResponseRedirect(self.draft_url())
        if "create" not in request.POST:
            return HttpResponseRedirect(self.draft_url())
        try:
            application, _operation = services.create_with_workloads(
                request.user, self.namespace, **self._fields()
            )
        except ValidationError as exc:
            context = self.get_context_data(errors=_draft_errors(exc))
            return self.render_to_response(context)
        drafts.drop(request, self.key)
        return HttpResponseRedirect(application.get_absolute_url())


class _Url(str):
    """Where the wizard goes once its workload is in the draft (it asks for an object)."""

    def get_absolute_url(self) -> str:
        return str(self)


class DraftWorkloadView(DraftMixin, WorkloadWizardView):
    """The workload wizard, for a workload of the new application: the same form, preview
    and dry run; "Add" puts it in the draft instead of creating it."""

    @property
    def title(self):
        return _("New %(kind)s for %(name)s") % {
            "kind": Workload.Kind(self.kind).label,
            "name": self.draft["name"],
        }

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["namespace"].initial = self.namespace.pk
        form.fields["namespace"].disabled = True  # the application's own
        return form

    def joining(self) -> dict:
        return {"namespace": self.namespace.pk}

    def apply(self, form, data):
        taken = {entry["workload"].get("name") for entry in self.draft["workloads"]}
        if data.get("name") in taken:
            raise ValidationError(
                {"name": _("The application has a workload named %(name)s.") % data}
            )
        self.draft["workloads"].append({"workload": data, "service": None})
        drafts.save(self.request, self.key, self.draft)
        return _Url(self.draft_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["apply_label"] = _("Add to the application")
        return context


class DraftServiceView(DraftMixin, RowsFormMixin, ServiceFormView):
    """The Service form (its fields and ports), for one workload of the new application:
    checked now, created with the rest."""

    form_class = networking_forms.ServiceEditForm
    template_name = "networking/service_form.html"
    needs = authz.Perm.OPERATE

    def dispatch(self, request, *args, **kwargs):
        known = drafts.get(request, kwargs["key"]) if request.user.is_authenticated else None
        if known is not None and kwargs["index"] >= len(known["workloads"]):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    @property
    def entry(self) -> dict:
        return self.draft["workloads"][self.kwargs["index"]]

    @property
    def title(self):
        return _("Service for %(name)s") % {"name": self.entry["workload"].get("name")}

    def get_initial(self):
        service = self.entry.get("service") or {}
        initial = {"type": service.get("type") or Service.Type.CLUSTER_IP}
        for key in ("session_affinity", "affinity_timeout", "external_traffic_policy"):
            if service.get(key):
                initial[key] = service[key]
        if service.get("selector"):
            initial["selector"] = networking_forms.labels_text(service["selector"])
        for key, value in (service.get("load_balancer") or {}).items():
            initial[lb.field_name(key)] = value
        return initial

    def get_rows(self):
        service = self.entry.get("service")
        if service:
            return {"ports": service.get("ports") or []}
        ports = self.entry["workload"].get("ports") or []
        return {
            "ports": [
                {
                    "name": (p.get("name") or "")[:15],
                    "protocol": p.get("protocol") or "TCP",
                    "port": p.get("port"),
                    "target_port": p.get("name") or p.get("port"),
                }
                for p in ports
                if p.get("port")
            ]
        }

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "composing": True}

    def perform(self, form):
        spec = form.spec()
        data = self.entry["workload"]
        checked = {**spec, "selector": spec.get("selector") or {"app": data.get("name")}}
        networking_services.checked_manifest(self.namespace, data.get("name"), checked)
        self.entry["service"] = spec
        drafts.save(self.request, self.key, self.draft)
        return self.draft_url()


class PreviewMixin:
    """A YAML form answered first with a preview (each object checked and dry-run), and
    applied only when the user confirms (the ``apply`` button)."""

    template_name = "applications/import.html"

    def target(self, form):
        """(namespace, application name) the YAML goes into."""
        raise NotImplementedError

    def form_valid(self, form):
        if "apply" in self.request.POST:
            return super().form_valid(form)
        namespace, name = self.target(form)
        try:
            preview = services.preview_import(
                self.request.user, namespace, form.cleaned_data["yaml"], name
            )
        except ValidationError as exc:
            form.add_error("yaml", exc.messages)
            return self.form_invalid(form)
        return self.render_to_response(self.get_context_data(form=form, preview=preview))


class ApplicationImportView(PreviewMixin, ServiceFormView):
    form_class = forms.ImportForm
    title = _("Import YAML")
    audit_action = "application.import"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {"namespace": self.request.GET.get("namespace")}

    def get_cancel_url(self):
        return reverse("portal:application_list")

    def target(self, form):
        return form.cleaned_data["namespace"], form.cleaned_data["application"].strip()

    def perform(self, form):
        namespace, name = self.target(form)
        return services.import_(self.request.user, namespace, form.cleaned_data["yaml"], name)


class ApplicationAddView(PreviewMixin, ObjectFormView):
    model = Application
    form_class = forms.AddForm
    title = _("Add to the application")

    def target(self, form):
        return self.object.namespace, self.object.name

    def perform(self, form):
        return services.add(self.request.user, self.object, form.cleaned_data["yaml"])


class ImportRetryView(ObjectActionView):
    model = Import
    title = _("Retry the import")
    button = _("Continue from the failed object")

    def perform(self, form):
        return services.retry_import(self.request.user, self.object)


class WorkloadsView(ObjectFormView):
    """Associate (label in) or detach workloads of the application's namespace."""

    model = Application
    form_class = forms.WorkloadsForm
    template_name = "core/object_form.html"
    service = None
    inside = False  # choose among the application's workloads (detach) or the others

    def get_form_kwargs(self):
        rows = Workload.objects.restrict(self.request.user, "change").filter(
            cluster_id=self.object.cluster_id,
            namespace_name=self.object.namespace_name,
            owner_kind="",
        )
        pks = [w.pk for w in rows if self.object.selects(w.labels or {}) == self.inside]
        choices = Workload.objects.filter(pk__in=pks).order_by("kind", "name")
        return {**super().get_form_kwargs(), "choices": choices}

    def perform(self, form):
        return type(self).service(self.request.user, self.object, form.cleaned_data["workloads"])


class ApplicationAssociateView(WorkloadsView):
    title = _("Associate workloads")
    service = services.associate


class ApplicationDetachView(WorkloadsView):
    title = _("Detach workloads")
    service = services.detach
    inside = True


class LifecycleView(ObjectActionView):
    model = Application
    service = None

    def perform(self, form):
        return type(self).service(self.request.user, self.object)


class ApplicationStartView(LifecycleView):
    title = _("Start")
    button = _("Start every workload")
    service = services.start


class ApplicationStopView(LifecycleView):
    title = _("Stop")
    button = _("Stop every workload")
    service = services.stop


class ApplicationRedeployView(LifecycleView):
    title = _("Redeploy")
    button = _("Redeploy every workload")
    service = services.redeploy


class ApplicationDeleteView(ObjectFormView):
    model = Application
    action = "delete"
    form_class = forms.DeleteForm
    template_name = "applications/application_delete.html"
    title = _("Delete")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "name": self.object.name}

    def perform(self, form):
        return services.delete(
            self.request.user, self.object, with_components=form.cleaned_data["components"]
        )


class ApplicationYamlView(ObjectYamlView):
    model = Application
    read = services.application_yaml
    write = services.replace_yaml


def _attachment(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # it holds the Secrets' data
    return response


class ExportView(PortalView, View):
    """A download of the export; a refusal (the cluster away, ...) is shown on the page."""

    model = None
    export = None

    def get(self, request, pk):
        obj = get_object_or_404(self.model.objects.restrict(request.user, "view"), pk=pk)
        try:
            text = type(self).export(request.user, obj)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(obj.get_absolute_url())
        return _attachment(text, f"{obj.cluster.name}-{obj}.yaml".replace("/", "-"))


class ApplicationExportView(ExportView):
    model = Application
    export = services.export


class NamespaceExportView(ExportView):
    model = Namespace
    export = services.export_namespace


class ApplicationGroupView(ServiceFormView):
    form_class = forms.GroupForm
    title = _("Group workloads into an application")
    audit_action = "application.create"
    audit_model = Application

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        chosen = [pk for pk in self.request.GET.getlist("workload") if pk.isdigit()]
        return {"namespace": self.request.GET.get("namespace"), "workloads": chosen}

    def get_cancel_url(self):
        return reverse("portal:workload_list")

    def perform(self, form):
        data = form.cleaned_data
        return services.group(
            self.request.user, data["namespace"], name=data["name"], workloads=data["workloads"]
        )
