"""Generic portal views: concrete pages are a few declarative attributes over these.

Every list and object lookup goes through ``Model.objects.restrict(user, action)``,
so a tenant never sees, and gets a 404 for, what authz does not allow. Writes
call a service function; its ValidationError becomes form errors and its
PermissionDenied a 403 page.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import DetailView, FormView, ListView, TemplateView

from . import authz, health, services
from .filters import AuditEventFilterSet, OperationFilterSet
from .forms import ApiTokenForm, ConfirmDeleteForm
from .models import ApiToken, AuditEvent, Operation
from .tables import ApiTokenTable, AuditEventTable, OperationTable


class PortalView(LoginRequiredMixin):
    """Base of every portal page: signed-in users only; HTMX requests get a partial."""

    partial_template_name: str | None = None

    def get_template_names(self):
        htmx = getattr(self.request, "htmx", None)
        if self.partial_template_name and htmx and not htmx.boosted:
            return [self.partial_template_name]
        return super().get_template_names()


class ObjectListView(PortalView, ListView):
    """A filtered, paginated, permission-restricted table of objects."""

    table = None  # a core.tables.Table subclass
    filterset_class = None
    action = "view"
    paginate_by = 50
    template_name = "core/object_list.html"
    partial_template_name = "core/partials/table.html"
    title = ""
    add_url_name: str | None = None  # shown as an "Add" button when the user may add

    def get_queryset(self):
        queryset = super().get_queryset().restrict(self.request.user, self.action)
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(
                self.request.GET, queryset=queryset, request=self.request
            )
            queryset = self.filterset.qs
        else:
            self.filterset = None
        return queryset

    def can_add(self) -> bool:
        return False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=self.title or self.object_list.model._meta.verbose_name_plural.capitalize(),
            table=self.table(context["object_list"]),
            filterset=self.filterset,
            add_url_name=self.add_url_name if self.can_add() else None,
        )
        return context


class ObjectDetailView(PortalView, DetailView):
    action = "view"

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, self.action)


class ServiceFormView(PortalView, FormView):
    """A form whose valid data is handed to a service function by ``perform``.

    ``perform(form)`` returns the object to redirect to (or a URL). Errors the
    service raises are shown on the form, so nothing is half-saved or lost.
    """

    template_name = "core/object_form.html"
    title = ""
    success_message = ""

    def perform(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except ValidationError as exc:
            _add_errors(form, exc)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        url = result if isinstance(result, str) else result.get_absolute_url()
        return HttpResponseRedirect(url)

    def get_cancel_url(self) -> str:
        obj = getattr(self, "object", None)
        if hasattr(obj, "get_absolute_url"):
            return obj.get_absolute_url()
        return reverse("portal:dashboard")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        context["cancel_url"] = self.get_cancel_url()
        return context


class ObjectFormView(ServiceFormView):
    """Edit (or act on) one restricted object through a service.

    The form is only shown to users who may take ``action`` (403 for those who
    only see the object, 404 for the rest); the service checks again on POST.
    """

    model = None
    action = "change"

    def required_action(self) -> str:
        return self.action

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if issubclass(self.get_form_class(), forms.ModelForm):
            kwargs["instance"] = self.object  # an edit form starts from the object
        return kwargs

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.object = get_object_or_404(
                self.model.objects.restrict(request.user, "view"), pk=kwargs["pk"]
            )
            authz.require(request.user, self.required_action(), self.object)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        return context


class ObjectActionView(ObjectFormView):
    """A button (POST) that calls a service; on GET, a page that asks to confirm."""

    form_class = forms.Form
    template_name = "core/object_action.html"
    button = ""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "button": self.button}


class ObjectYamlView(ObjectFormView):
    """An object's live YAML; those who may change it can edit and apply it.

    Subclasses set ``read`` (actor, obj) -> YAML text and ``write`` (actor, obj,
    text) -> obj, both service functions. Kubernetes' refusals (a stale
    resourceVersion, 422 field causes) appear next to the YAML, which is kept.
    """

    template_name = "core/object_yaml.html"
    read = None
    write = None
    read_action = "view"  # who may see the YAML; ``action`` is who may apply it

    def required_action(self) -> str:
        return self.read_action if self.request.method in ("GET", "HEAD") else self.action

    def get_form_class(self):
        from .forms import YamlForm

        return YamlForm

    def get_initial(self):
        return {"yaml": type(self).read(self.request.user, self.object)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = self.write is not None and authz.can(
            self.request.user, self.action, self.object
        )
        context["title"] = self.title or _("YAML")
        return context

    def perform(self, form):
        return type(self).write(self.request.user, self.object, form.cleaned_data["yaml"])


class ObjectDeleteView(ObjectFormView):
    """Deletion behind a confirmation (type the name for destructive ones)."""

    template_name = "core/object_delete.html"
    action = "delete"
    confirm_by_name = False

    def get_form_class(self):
        return ConfirmDeleteForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["expected"] = self.object.name if self.confirm_by_name else None
        return kwargs

    def form_valid(self, form):
        try:
            self.delete(self.object)
        except ValidationError as exc:
            _add_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("%(object)s was deleted.") % {"object": self.object})
        return HttpResponseRedirect(self.get_success_url())

    def delete(self, obj):
        raise NotImplementedError

    def get_cancel_url(self):
        if hasattr(self.object, "get_absolute_url"):
            return self.object.get_absolute_url()
        return self.get_success_url()


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- pages of the portal itself ---------------------------------------------------


class DashboardView(PortalView, TemplateView):
    template_name = "core/dashboard.html"

    def get_context_data(self, **kwargs):
        from django.db.models import Count

        from apps.clusters.models import Cluster
        from apps.tenancy.models import Membership, Project

        context = super().get_context_data(**kwargs)
        user = self.request.user
        roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
        projects = (
            Project.objects.restrict(user, "view")
            .select_related("department")
            .annotate(member_count=Count("memberships"))
            .order_by("name")
        )
        context.update(
            projects=[(project, roles.get(project.pk)) for project in projects],
            operations=Operation.objects.restrict(user, "view").select_related("project")[:10],
            clusters=Cluster.objects.restrict(user, "view").exclude(status=Cluster.Status.DELETED),
        )
        return context


class OperationListView(ObjectListView):
    queryset = Operation.objects.select_related("actor", "project")
    table = OperationTable
    filterset_class = OperationFilterSet


class OperationView(ObjectDetailView):
    model = Operation
    queryset = Operation.objects.select_related("actor", "project")
    template_name = "core/operation_detail.html"
    partial_template_name = "core/partials/operation_progress.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_cancel"] = not self.object.is_finished and authz.can(
            self.request.user, "cancel", self.object
        )
        # A way back to what the operation worked on, for those who may see it.
        target = self.object.target
        if (
            target is not None
            and hasattr(target, "get_absolute_url")
            and authz.can(self.request.user, "view", target)
        ):
            context["target_url"] = target.get_absolute_url()
        return context


class OperationCancelView(ObjectFormView):
    model = Operation
    action = "cancel"
    form_class = forms.Form
    title = gettext_lazy("Cancel operation")

    def perform(self, form):
        return services.cancel_operation(self.request.user, self.object)


class AuditEventListView(ObjectListView):
    queryset = AuditEvent.objects.all()
    table = AuditEventTable
    filterset_class = AuditEventFilterSet


class ApiTokenListView(ObjectListView):
    queryset = ApiToken.objects.select_related("user")
    table = ApiTokenTable
    template_name = "core/apitoken_list.html"
    add_url_name = "portal:apitoken_add"

    def get_queryset(self):
        # The token page is personal, for cloud admins too (the admin site shows all).
        return super().get_queryset().filter(user=self.request.user)

    def can_add(self):
        return True


class ApiTokenCreateView(ServiceFormView):
    form_class = ApiTokenForm
    title = gettext_lazy("New API token")
    template_name = "core/apitoken_form.html"

    def form_valid(self, form):
        try:
            token, key = services.create_token(self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
            return self.form_invalid(form)
        # The key is shown on this response only; it is stored as a hash.
        return self.render_to_response(self.get_context_data(form=form, token=token, key=key))


class ApiTokenRevokeView(ObjectDeleteView):
    model = ApiToken

    def delete(self, obj):
        services.revoke_token(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:apitoken_list")


class SystemView(PortalView, TemplateView):
    """Cloud admins: the portal's own health, and a diagnostics run through a worker."""

    template_name = "core/system.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            authz.require_cloud_admin(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["checks"] = health.readiness()
        context["operations"] = Operation.objects.filter(kind="diagnostics").select_related(
            "actor"
        )[:5]
        return context

    def post(self, request):
        operation = services.start_diagnostics(request.user)
        return HttpResponseRedirect(operation.get_absolute_url())


# --- probes for load balancers and orchestrators -----------------------------------
@never_cache
@require_GET
def healthz(request):
    """The process is alive and serving requests."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """The process can do its work: database and task broker reachable."""
    checks = health.readiness()
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
