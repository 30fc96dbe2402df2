"""Workloads and pods in the portal: lists and pages live from the informer, and every
action a service call."""

import orjson
from csp.constants import NONCE
from csp.decorators import csp_update
from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView
from django_htmx.http import HttpResponseClientRedirect

from apps.configs import services as config_services
from apps.configs.forms import YamlCreateForm
from apps.configs.models import Secret
from apps.core import audit, authz, diff
from apps.core import yaml as kyaml
from apps.core.views import (
    SAFE_METHODS,
    ObjectActionView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    ObjectYamlView,
    PortalView,
    ServiceFormView,
)
from apps.kube.errors import KubeError
from apps.namespaces.models import Namespace

from . import autoscaling, containers, cron, filters, services, tables, wizard
from . import forms as wizard_forms
from .models import HorizontalPodAutoscaler, Pod, Workload

K = Workload.Kind


class WorkloadListView(ObjectListView):
    needs = authz.Perm.OPERATE
    queryset = Workload.objects.for_list().select_related("cluster")
    table = tables.WorkloadTable
    filterset_class = filters.WorkloadFilterSet
    live_models = (Workload,)
    add_url_name = "portal:workload_add"
    template_name = "workloads/workload_list.html"
    title = _("Workloads")
    # (each served by an index: the unique one, and workloads_workload_created)
    sort_fields = {
        "name": ("cluster_id", "namespace_name", "kind", "name"),
        "created": ("created",),
    }

    def can_add(self):
        from apps.namespaces.models import Namespace

        return Namespace.objects.restrict(self.request.user, "work").exists()


class WorkloadView(ObjectDetailView):
    model = Workload
    queryset = Workload.objects.select_related("cluster", "namespace__project")
    template_name = "workloads/workload_detail.html"
    live_models = (Workload, Pod, HorizontalPodAutoscaler)

    def events_also(self):
        """A workload's page shows the events of what it made too: its ReplicaSets, Jobs
        and pods (named after it), and its autoscaler's decisions."""
        workload = self.object
        autoscalers = HorizontalPodAutoscaler.objects.filter(
            cluster_id=workload.cluster_id,
            namespace_name=workload.namespace_name,
            target_kind=workload.kind,
            target_name=workload.name,
        ).values("name")
        return Q(
            involved_kind__in=("ReplicaSet", "Pod", "Job"),
            involved_name__startswith=f"{workload.name}-",
        ) | Q(involved_kind="HorizontalPodAutoscaler", involved_name__in=autoscalers)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, workload = self.request.user, self.object
        can_change = authz.can(user, "change", workload)
        try:
            revisions = services.revisions(user, workload)
        except ValidationError:
            revisions = []
        if revisions:
            # each earlier revision's pod template against the running one's, side by side
            running = kyaml.dump(revisions[0]["template"])
            for revision in revisions[1:]:
                revision["compare"] = diff.side_by_side(kyaml.dump(revision["template"]), running)
        autoscaler = autoscaling.autoscaler_of(workload) if workload.scalable else None
        pods = list(workload.pods().select_related("cluster")[:200])
        usage, total = containers.usage_rows(user, pods)
        context.update(
            autoscaler=autoscaler,
            autoscaler_metrics=autoscaling.current_metrics(autoscaler) if autoscaler else [],
            autoscaler_decisions=autoscaling.decisions(autoscaler) if autoscaler else [],
            autoscaler_settings=autoscaling.settings_of(autoscaler),
            pods=tables.WorkloadPodTable(pods),
            usage_rows=usage,
            usage_total=total,
            revisions=revisions,
            can_change=can_change,
            can_delete=authz.can(user, "delete", workload),
            rollout=services.rollout_of(workload),
            stopped=workload.desired == 0
            or (workload.kind in (K.CRONJOB, K.JOB) and workload.status == "suspended"),
        )
        return context


class WorkloadYamlView(ObjectYamlView):
    model = Workload
    read = services.workload_yaml
    write = services.replace_yaml


STARTER = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""


class WorkloadYamlCreateView(ServiceFormView):
    form_class = YamlCreateForm
    title = _("New workload from YAML")
    audit_action = "workload.create"
    audit_model = Workload

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {"yaml": STARTER}

    def get_cancel_url(self):
        return reverse("portal:workload_list")

    def perform(self, form):
        return services.create_from_yaml(
            self.request.user, form.cleaned_data["namespace"], form.cleaned_data["yaml"]
        )


class ScaleForm(django_forms.Form):
    replicas = django_forms.IntegerField(
        label=_("Replicas"), min_value=0, max_value=services.MAX_REPLICAS
    )


class WorkloadScaleView(ObjectFormView):
    """Scale to a number, or one up or down (the page's +/- buttons), in one request."""

    model = Workload
    form_class = ScaleForm
    action = "change"
    title = _("Scale")

    def get_initial(self):
        return {"replicas": self.object.desired or 0}

    def perform(self, form):
        result = services.scale(self.request.user, self.object, form.cleaned_data["replicas"])
        if getattr(self.request, "htmx", None):
            # the +/- buttons stay on the page, which links to the Operation following it
            return self.object
        return result


class WorkloadActionView(ObjectActionView):
    model = Workload
    action = "change"
    service = None  # (actor, workload) -> workload or Operation

    def perform(self, form):
        result = type(self).service(self.request.user, self.object)
        return result if hasattr(result, "get_absolute_url") else self.object


class WorkloadStopView(WorkloadActionView):
    title = _("Stop")
    button = _("Stop")
    service = services.stop


class WorkloadStartView(WorkloadActionView):
    title = _("Start")
    button = _("Start")
    service = services.start


class WorkloadRedeployView(WorkloadActionView):
    title = _("Redeploy")
    button = _("Redeploy every pod")
    service = services.redeploy


class WorkloadRunNowView(WorkloadActionView):
    title = _("Run now")
    button = _("Run a job now")
    service = services.run_now


class RollbackForm(django_forms.Form):
    revision = django_forms.IntegerField(min_value=1, widget=django_forms.HiddenInput)


class WorkloadRollbackView(ObjectFormView):
    model = Workload
    form_class = RollbackForm
    action = "change"
    title = _("Roll back")

    def perform(self, form):
        return services.rollback(self.request.user, self.object, form.cleaned_data["revision"])


class AutoscalerForm(django_forms.Form):
    """An HPA's settings; the service checks them (the API sends the same)."""

    min_replicas = django_forms.IntegerField(
        label=_("Minimum replicas"), min_value=1, max_value=autoscaling.MAX_REPLICAS
    )
    max_replicas = django_forms.IntegerField(
        label=_("Maximum replicas"), min_value=1, max_value=autoscaling.MAX_REPLICAS
    )
    cpu_target = django_forms.IntegerField(
        label=_("CPU target (%)"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=_("Average CPU use of the pods, as a percentage of their CPU requests."),
    )
    memory_target = django_forms.IntegerField(
        label=_("Memory target (%)"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=_("Average memory use of the pods, as a percentage of their memory requests."),
    )
    scale_up_window = django_forms.IntegerField(
        label=_("Scale-up stabilisation (seconds)"),
        min_value=0,
        max_value=autoscaling.MAX_WINDOW,
        help_text=_("Scale up only to the lowest count recommended over this time."),
    )
    scale_down_window = django_forms.IntegerField(
        label=_("Scale-down stabilisation (seconds)"),
        min_value=0,
        max_value=autoscaling.MAX_WINDOW,
        help_text=_("Scale down only to the highest count recommended over this time."),
    )
    scale_up_pods = django_forms.IntegerField(
        label=_("Pods added per minute at most"),
        required=False,
        min_value=1,
        max_value=autoscaling.MAX_REPLICAS,
        help_text=_("Empty: Kubernetes' default (4 pods or double, every 15 seconds)."),
    )
    scale_down_pods = django_forms.IntegerField(
        label=_("Pods removed per minute at most"),
        required=False,
        min_value=1,
        max_value=autoscaling.MAX_REPLICAS,
        help_text=_("Empty: Kubernetes' default (any number)."),
    )
    spec_hash = django_forms.CharField(required=False, widget=django_forms.HiddenInput)


class WorkloadAutoscalingView(ObjectFormView):
    """Autoscale the workload, or change how (one HPA per workload)."""

    model = Workload
    form_class = AutoscalerForm
    action = "change"
    title = _("Autoscaling")
    audit_action = "autoscaler.update"

    def get_initial(self):
        return autoscaling.settings_of(autoscaling.autoscaler_of(self.object))

    def perform(self, form):
        autoscaling.set_autoscaling(self.request.user, self.object, **form.cleaned_data)
        return f"{self.object.get_absolute_url()}#autoscaling"


class WorkloadAutoscalingDeleteView(ObjectActionView):
    model = Workload
    action = "change"
    title = _("Stop autoscaling")
    button = _("Stop autoscaling")
    audit_action = "autoscaler.delete"

    def perform(self, form):
        autoscaler = autoscaling.autoscaler_of(self.object)
        if autoscaler is None:
            raise ValidationError(_("It is not autoscaled."))
        autoscaling.delete_autoscaler(self.request.user, autoscaler)
        return self.object


class WorkloadDeleteView(ObjectDeleteView):
    model = Workload
    confirm_by_name = True

    def delete(self, obj):
        services.delete(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:workload_list")


# --- pods -----------------------------------------------------------------------------


class PodListView(ObjectListView):
    needs = authz.Perm.OPERATE
    queryset = Pod.objects.for_list().select_related("cluster")
    table = tables.PodTable
    filterset_class = filters.PodFilterSet
    live_models = (Pod,)
    # (each served by an index: the unique one, workloads_pod_created and _restarts)
    sort_fields = {
        "name": ("cluster_id", "namespace_name", "name"),
        "created": ("created",),
        "restarts": ("restarts",),
    }


class PodView(ObjectDetailView):
    model = Pod
    queryset = Pod.objects.select_related("cluster", "namespace__project")
    template_name = "workloads/pod_detail.html"
    live_models = (Pod,)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pod = self.object
        status = pod.manifest.get("status") or {}
        workload = None
        if pod.workload_kind:
            workload = (
                Workload.objects.restrict(self.request.user, "view")
                .filter(
                    Q(cluster_id=pod.cluster_id, namespace_name=pod.namespace_name)
                    & Q(kind=pod.workload_kind, name=pod.workload_name)
                )
                .first()
            )
        context.update(
            conditions=status.get("conditions") or [],
            workload=workload,
            can_delete=authz.can(self.request.user, "delete", pod),
            can_logs=authz.can(self.request.user, "logs", pod),
            can_exec=authz.can(self.request.user, "exec", pod),
            usage_rows=containers.usage_rows(self.request.user, [pod])[0],
        )
        return context


class PodYamlView(ObjectYamlView):
    model = Pod
    read = services.pod_yaml


class PodDeleteView(ObjectDeleteView):
    """Delete a pod; its controller makes another (the page says so)."""

    model = Pod

    def delete(self, obj):
        services.delete_pod(self.request.user, obj)

    def get_success_url(self):
        workload = Workload.objects.filter(
            cluster_id=self.object.cluster_id,
            namespace_name=self.object.namespace_name,
            kind=self.object.workload_kind,
            name=self.object.workload_name,
        ).first()
        return workload.get_absolute_url() if workload else reverse("portal:pod_list")


# --- the create/edit wizard -----------------------------------------------------------


class WorkloadKindsView(PortalView, TemplateView):
    """Which kind to create (each has its wizard), or YAML."""

    needs = authz.Perm.OPERATE
    template_name = "workloads/wizard_kinds.html"

    def get_context_data(self, **kwargs):
        kinds = [
            (slug, K(kind).label, KIND_HELP[kind]) for slug, kind in wizard_forms.KIND_SLUGS.items()
        ]
        return {**super().get_context_data(**kwargs), "kinds": kinds}


KIND_HELP = {
    K.DEPLOYMENT: _("Stateless pods, replicated and rolled out one by one (web servers, APIs)."),
    K.STATEFULSET: _("Pods with stable names and their own volumes (databases, queues)."),
    K.DAEMONSET: _("One pod on every node (agents, log collectors)."),
    K.JOB: _("Pods that run to completion once."),
    K.CRONJOB: _("A job run on a schedule."),
}


class WizardMixin:
    """The wizard's round trips: Preview (YAML, diff, dry run, errors on the fields), then
    Apply, which only acts on what was previewed; "add a row" without JavaScript."""

    template_name = "workloads/wizard.html"

    def wizard_form_kwargs(self, kind, *, editing):
        kwargs = {"kind": kind, "editing": editing, "user": self.request.user}
        if self.request.method == "POST":
            data = self.request.POST.copy()
            adding = data.get("add_row", "")
            if adding in wizard_forms.ROWS:
                total = f"{adding}-TOTAL_FORMS"
                data[total] = str(int(data.get(total) or 0) + 1)
            kwargs["data"] = data
        kwargs["node_labels"] = node_labels(self.request.user)
        return kwargs

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        if request.POST.get("add_row"):
            return self.render_to_response(self.get_context_data(form=form))
        if not form.is_valid():
            self._refused = "apply" not in request.POST  # a preview refused is no create
            try:  # what the wizard itself would say too, all at once
                wizard.check({**form.wizard_data(), **self.fixed()})
            except ValidationError as exc:
                form.add_wizard_errors(_error_dict(exc), only_new=True)
            return self.form_invalid(form)
        data = form.wizard_data()
        seen = wizard.digest(data, self.scope(form))
        if "apply" in request.POST and form.cleaned_data.get("previewed") == seen:
            try:
                url = self.apply(form, data).get_absolute_url()
                if getattr(request, "htmx", None):
                    return HttpResponseClientRedirect(url)
                return HttpResponseRedirect(url)
            except ValidationError as exc:
                form.add_wizard_errors(_error_dict(exc))
        try:
            preview = self.preview(form, data)
        except ValidationError as exc:
            form.add_wizard_errors(_error_dict(exc))
            return self.render_to_response(self.get_context_data(form=form))
        form.add_wizard_errors(preview.errors)
        if preview.ok:
            form.data = form.data.copy()
            form.data["previewed"] = seen
        changed = "apply" in request.POST and form.cleaned_data.get("previewed") != seen
        context = self.get_context_data(form=form, preview=preview, changed=changed)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context.update(
            kind=form.kind,
            slug=form.kind.lower(),
            cron_url=reverse("portal:workload_wizard_cron"),
        )
        preview = context.get("preview")
        if preview is not None and preview.diff:
            context["diff_lines"] = [
                ("added" if line[:1] == "+" else "removed" if line[:1] == "-" else "", line)
                for line in preview.diff.splitlines()
            ]
        return context


def _error_dict(exc: ValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def node_labels(user) -> list[str]:
    """The labels of the nodes this user may see, for the node selector (one query)."""
    from apps.clusters.models import Node

    found = set()
    for labels in Node.objects.restrict(user, "view").values_list("labels", flat=True)[:500]:
        found.update(f"{k}={v}" for k, v in (labels or {}).items())
    return sorted(found)


class WorkloadWizardView(WizardMixin, ServiceFormView):
    needs = authz.Perm.OPERATE
    audit_action = "workload.create"
    audit_model = Workload

    def dispatch(self, request, *args, **kwargs):
        self.kind = wizard_forms.KIND_SLUGS.get(kwargs["kind"])
        if self.kind is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    @property
    def title(self):
        return _("New %(kind)s") % {"kind": K(self.kind).label}

    def get_form(self, form_class=None):
        kwargs = self.wizard_form_kwargs(self.kind, editing=False)
        if self.request.method != "POST":
            kwargs["initial"] = {"replicas": 1, "restart_policy": "Never", **self.joining()}
        return wizard_forms.WizardForm(**kwargs)

    def joining(self) -> dict:
        """Started from an application's page: its namespace, and the labels that make the
        new workload one of its components."""
        from apps.applications.models import Application

        pk = self.request.GET.get("application", "")
        application = (
            Application.objects.restrict(self.request.user, "change").filter(pk=pk).first()
            if pk.isdigit()
            else None
        )
        if application is None:
            return {}
        return {"namespace": application.namespace_id, "labels": dict(application.selector)}

    def fixed(self):
        return {}

    def scope(self, form):
        return f"namespace:{form.cleaned_data['namespace'].pk}"

    def preview(self, form, data):
        return wizard.preview(self.request.user, form.cleaned_data["namespace"], data)

    def apply(self, form, data):
        return wizard.create(self.request.user, form.cleaned_data["namespace"], data)

    def get_cancel_url(self):
        return reverse("portal:workload_list")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["quota_url"] = reverse("portal:workload_wizard_quota", args=[self.kind.lower()])
        if context["form"].fields["namespace"].queryset.exists():  # somewhere to put a Secret
            context["registry_secret_url"] = reverse(
                "portal:workload_wizard_registry_secret", args=[self.kind.lower()]
            )
        return context


class WorkloadEditView(WizardMixin, ObjectFormView):
    """The same wizard, pre-filled from the running object; the preview shows the diff."""

    model = Workload
    title = _("Edit")

    def get_form(self, form_class=None):
        kwargs = self.wizard_form_kwargs(self.object.kind, editing=True)
        kwargs["pull_namespace"] = self.object.namespace
        if self.request.method != "POST":
            data, version = wizard.initial(self.request.user, self.object)
            initial, rows = wizard_forms.initial_for(data)
            kwargs.update(initial={**initial, "resource_version": version}, rows=rows)
        return wizard_forms.WizardForm(**kwargs)

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except ValidationError as exc:  # the cluster did not answer
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(self.object.get_absolute_url())

    def fixed(self):
        return {"name": self.object.name}

    def scope(self, form):
        return f"workload:{self.object.pk}:{form.cleaned_data.get('resource_version')}"

    def preview(self, form, data):
        return wizard.preview(
            self.request.user,
            self.object.namespace,
            data,
            workload=self.object,
            resource_version=form.cleaned_data.get("resource_version", ""),
        )

    def apply(self, form, data):
        return wizard.update(
            self.request.user,
            self.object,
            data,
            resource_version=form.cleaned_data.get("resource_version", ""),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["quota_url"] = reverse("portal:workload_edit_quota", args=[self.object.pk])
        if config_services.may_create_secret(self.request.user, self.object.namespace):
            context["registry_secret_url"] = reverse(
                "portal:workload_edit_registry_secret", args=[self.object.pk]
            )
        return context


class WizardQuotaView(PortalView, View):
    """The remaining-quota panel, re-rendered as the resources fields change (HTMX)."""

    needs = authz.Perm.OPERATE

    def post(self, request, kind=None, pk=None):
        workload = None
        if pk is not None:
            workload = get_object_or_404(Workload.objects.restrict(request.user, "change"), pk=pk)
            kind = workload.kind
        else:
            kind = wizard_forms.KIND_SLUGS.get(kind)
            if kind is None:
                raise Http404
        form = wizard_forms.WizardForm(
            data=request.POST, kind=kind, editing=workload is not None, user=request.user
        )
        form.is_valid()
        namespace = workload.namespace if workload else form.cleaned_data.get("namespace")
        rows = []
        if namespace is not None:
            data = form.wizard_data()
            rows = wizard.remaining_quota(request.user, namespace, data, workload=workload)
        return render(
            request,
            "workloads/partials/quota.html",
            {"quota": rows, "namespace": namespace},
        )


class WizardRegistrySecretView(ServiceFormView):
    """The wizard's "New registry Secret" dialog (HTMX). GET: the dialog, for the namespace
    the wizard has chosen (the workload's, on an edit). POST: the Secret is created there
    (``configs.services.create_registry_secret``) and the picker is drawn again, out of
    band, with it ticked beside what was ticked before; the wizard keeps all else typed.
    Refused, the dialog comes back with the errors next to its fields."""

    needs = authz.Perm.OPERATE
    form_class = wizard_forms.RegistrySecretDialogForm
    template_name = "workloads/partials/registry_secret_dialog.html"
    audit_action = "secret.create"
    audit_model = Secret

    def dispatch(self, request, *args, kind=None, pk=None, **kwargs):
        self.workload = None
        if pk is None:
            self.kind = wizard_forms.KIND_SLUGS.get(kind)
            if self.kind is None:
                raise Http404
        if request.user.is_authenticated:
            self.namespace = self.checked_namespace(request, pk)
        return super().dispatch(request, *args, **kwargs)

    def checked_namespace(self, request, pk):
        """The namespace the Secret goes in, if the user may work in it (on an edit: the
        workload's, if they may change it); else a 404, a refused POST audited."""
        user = request.user
        params = request.POST if request.method == "POST" else request.GET
        if pk is not None:
            self.workload = Workload.objects.restrict(user, "change").filter(pk=pk).first()
            found = self.workload.namespace if self.workload is not None else None
            if self.workload is not None:
                self.kind = self.workload.kind
            asked = Workload.objects.filter(pk=pk).values_list("namespace", flat=True).first()
        else:
            chosen = params.get("namespace", "")
            if not chosen:
                return None  # the wizard has no namespace yet: the dialog says so
            asked = int(chosen) if chosen.isdigit() else None
            found = Namespace.objects.restrict(user, "work").filter(pk=asked).first()
        if found is not None:
            return found
        if request.method not in SAFE_METHODS:
            target = Namespace.objects.filter(pk=asked).first()
            name = str(params.get("name", ""))
            with audit.attempt(user, self.audit_action, target, model=Secret, name=name):
                raise Http404
        raise Http404

    def url(self) -> str:
        if self.workload is not None:
            return reverse("portal:workload_edit_registry_secret", args=[self.workload.pk])
        return reverse("portal:workload_wizard_registry_secret", args=[self.kind.lower()])

    def audit_target(self):
        return self.namespace

    def get_initial(self):
        if self.namespace is None:
            return {}
        return {"name": config_services.free_secret_name(self.namespace)}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        if self.namespace is None:
            raise ValidationError(_("Choose the workload's namespace first."))
        return config_services.create_registry_secret(
            self.request.user, self.namespace, **form.credentials(), name=form.cleaned_data["name"]
        )

    def success_response(self, secret):
        ticked = self.request.POST.getlist("registry_secrets")
        form = wizard_forms.WizardForm(
            kind=self.kind,
            editing=self.workload is not None,
            user=self.request.user,
            pull_namespace=self.namespace if self.workload is not None else None,
            initial={"image_pull_secrets": list(dict.fromkeys([*ticked, secret.name]))},
        )
        context = {
            "form": form,
            "oob": True,
            "created": secret,
            "registry_secret_url": self.url(),
        }
        return render(self.request, "workloads/partials/registry_picker.html", context)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "namespace": self.namespace,
            "url": self.url(),
        }


class WizardCronView(PortalView, View):
    """The next runs of a schedule as it is typed (HTMX)."""

    def get(self, request):
        runs, problem = cron.next_runs(
            request.GET.get("schedule", ""), request.GET.get("time_zone", "")
        )
        return render(request, "workloads/partials/cron.html", {"runs": runs, "problem": problem})


# --- logs, terminal -------------------------------------------------------------------


def _ndjson(item) -> bytes:
    return orjson.dumps(item) + b"\n"


def log_lines_response(
    request, lines, *, download: str = "", timestamps: bool = True, labelled: bool = True
):
    """Lines read (a list) or followed (a ``containers.Follow``) as a streamed response:
    NDJSON objects (pod, container, time, text; ``{}`` is a heartbeat, ``{"end": true}``
    the end of a followed log), or with ``download`` a text file of that name, each line
    prefixed with its pod when ``labelled`` (a workload's log: even when the lines asked
    for all happen to come from one pod, the file says which)."""

    def text(line):
        prefix = f"{line.time} " if timestamps and line.time else ""
        label = f"[{line.pod}] " if labelled else ""
        return f"{label}{prefix}{line.text}\n".encode()

    def encode(line) -> bytes:
        if download:
            return b"" if line is None else text(line)
        return _ndjson({} if line is None else line.as_dict())

    end = _ndjson({"end": True}) if not download and isinstance(lines, containers.Follow) else b""

    def chunks():
        for line in lines:
            yield encode(line)
        if end:
            yield end

    async def async_chunks():
        # In the event loop: the followed lines arrive from the reader threads.
        if isinstance(lines, containers.Follow):
            async for line in lines:
                yield encode(line)
        else:
            for line in lines:
                yield encode(line)
        if end:
            yield end

    content_type = "text/plain; charset=utf-8" if download else "application/x-ndjson"
    stream = async_chunks() if isinstance(request, ASGIRequest) else chunks()
    response = StreamingHttpResponse(stream, content_type=content_type)
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a reverse proxy passes each line on at once
    if download:
        response["Content-Disposition"] = f'attachment; filename="{download}"'
    return response


class LogsView(ObjectDetailView):
    """A pod's or a workload's live log page; its lines come from ``LogStreamView``."""

    template_name = "workloads/logs.html"
    action = "view"
    show_events = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.object
        if isinstance(obj, Pod):
            pods = [obj]
            stream_url = reverse("portal:pod_logs_stream", args=[obj.pk])
        else:
            pods = list(containers.workload_pods(self.request.user, obj)[: containers.MAX_PODS])
            stream_url = reverse("portal:workload_logs_stream", args=[obj.pk])
        names = []
        for pod in pods:
            for c in containers.containers_of(pod):
                if c["name"] not in [n["name"] for n in names]:
                    names.append(c)
        context.update(
            pods=pods,
            container_names=names,
            default_container=containers.default_container(pods[0]) if pods else "",
            stream_url=stream_url,
            is_pod=isinstance(obj, Pod),
            max_tail=containers.MAX_TAIL,
        )
        return context


class PodLogsView(LogsView):
    model = Pod
    action = "logs"
    queryset = Pod.objects.select_related("cluster", "namespace__project")


class WorkloadLogsView(LogsView):
    model = Workload
    queryset = Workload.objects.select_related("cluster", "namespace__project")


class LogStreamView(PortalView, View):
    """The lines of a log page (``?follow=1``: streamed as they come), or a download."""

    model = None

    def get(self, request, pk):
        target = get_object_or_404(self.model.objects.restrict(request.user, "view"), pk=pk)
        form = wizard_forms.LogOptionsForm(request.GET)
        if not form.is_valid():
            errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
            return JsonResponse({"errors": errors}, status=400)
        query = form.query()
        download = ""
        if request.GET.get("download"):
            download = f"{target.name}.log"
            query.follow = False
        try:
            if query.follow:
                lines = containers.follow(request.user, target, query)
            else:
                lines = containers.read(request.user, target, query)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            return JsonResponse({"errors": errors}, status=400)
        except KubeError as exc:  # the cluster cannot be reached at all
            return JsonResponse({"errors": {"": [exc.message]}}, status=503)
        timestamps = request.GET.get("timestamps", "1") not in ("0", "false", "")
        return log_lines_response(
            request,
            lines,
            download=download,
            timestamps=timestamps,
            labelled=not isinstance(target, Pod),
        )


class PodLogStreamView(LogStreamView):
    model = Pod


class WorkloadLogStreamView(LogStreamView):
    model = Workload


class PodTerminalView(ObjectDetailView):
    """The web terminal: xterm.js over the WebSocket ``ws/pods/<id>/terminal/``."""

    model = Pod
    show_events = False
    queryset = Pod.objects.select_related("cluster", "namespace__project")
    template_name = "workloads/terminal.html"
    action = "exec"

    @method_decorator(csp_update({"style-src": [NONCE]}))
    def dispatch(self, request, *args, **kwargs):
        # xterm.js adds <style> elements; they carry this page's nonce (terminal.js).
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pod = self.object
        context.update(
            container_names=[
                c
                for c in containers.containers_of(pod)
                if not c["init"]
                or next((s for s in pod.containers if s.get("name") == c["name"]), {}).get("state")
                == "running"
            ],
            default_container=containers.default_container(pod),
            socket_path=reverse("portal:pod_terminal", args=[pod.pk]).replace(
                "/pods/", "/ws/pods/", 1
            ),
        )
        return context
