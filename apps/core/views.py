"""Generic portal views: concrete pages are a few declarative attributes over these.

Every list and object lookup goes through ``Model.objects.restrict(user, action)``,
so a tenant never sees, and gets a 404 for, what authz does not allow. Writes
call a service function; its ValidationError becomes form errors and its
PermissionDenied a 403 page.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import DetailView, FormView, ListView, TemplateView

from apps.events.mixins import ObjectEventsMixin
from apps.kube import changes

from . import audit, authz, health, keyset, services
from .filters import AuditEventFilterSet, OperationFilterSet
from .forms import ApiTokenForm, ConfirmDeleteForm
from .models import ApiToken, AuditEvent, Operation
from .tables import ApiTokenTable, AuditEventTable, OperationTable

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class PortalView(LoginRequiredMixin):
    """Base of every portal page: signed-in users only; HTMX requests get a partial.

    A page showing mirrored objects names their models in ``live_models``: it polls
    with the change token it was rendered at (``apps.kube.changes``), and is rendered
    again only when those rows changed (otherwise 204, and the page stays as it is).
    Lists refresh their table; detail pages the part marked ``core/partials/live.html``
    (forms stay out of it, so nothing a user is typing is replaced).

    A page that only some roles may use says so with ``needs`` (a project
    permission the user must hold in some project) or ``cloud_admin_only``; the
    others get a 403 page, as for /system/, and do not see it in the menu. A
    refused POST to a page that names its ``audit_action`` is in the audit trail,
    as the service would have recorded it.
    """

    partial_template_name: str | None = None
    live_models: tuple = ()
    needs: str | None = None
    cloud_admin_only = False

    @classmethod
    def may_open(cls, request) -> bool:
        if authz.is_cloud_admin(request.user):
            return True
        if cls.cloud_admin_only:
            return False
        return cls.needs is None or cls.needs in authz.held_permissions(request)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.may_open(request):
            denied = PermissionDenied(
                _("Only cloud administrators may do this.")
                if self.cloud_admin_only
                else _("Your role does not include this page.")
            )
            action = getattr(self, "audit_action", "")
            if request.method not in SAFE_METHODS and action:
                audit.refused(
                    request.user,
                    action,
                    model=getattr(self, "audit_model", None),
                    name=str(request.POST.get("name", "")),
                    reason=str(denied),
                )
            raise denied
        return super().dispatch(request, *args, **kwargs)

    def get_template_names(self):
        htmx = getattr(self.request, "htmx", None)
        if self.partial_template_name and htmx and not htmx.boosted:
            return [self.partial_template_name]
        return super().get_template_names()

    def get(self, request, *args, **kwargs):
        # Read before the rows: a change made while they are read shows at the next poll.
        self.live_token = changes.token(*self.live_models) if self.live_models else ""
        if self.live_token and request.headers.get("X-KCS-Live") == self.live_token:
            return HttpResponse(status=204)
        parent = getattr(super(), "get", None)
        if parent is None:  # a view that only takes POST
            return self.http_method_not_allowed(request, *args, **kwargs)
        return parent(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["live_token"] = getattr(self, "live_token", "")
        return context


class ObjectListView(PortalView, ListView):
    """A filtered, paginated, permission-restricted table of objects.

    Pages by cursor (``?cursor=``, see ``apps.core.keyset``): one query per page however
    deep, no count of every row (the pager says whether more rows follow), and a row
    inserted meanwhile neither repeats nor hides one on the next page. Headers named in
    ``sort_fields`` sort the list (``?sort=created``, ``?sort=-created``); every ordering
    offered has an index that serves it.
    """

    table = None  # a core.tables.Table subclass
    filterset_class = None
    action = "view"
    paginate_by = 50
    # Sortable columns: a column's accessor -> the ordering it sorts by (ascending).
    sort_fields: dict[str, tuple[str, ...]] = {}
    template_name = "core/object_list.html"
    partial_template_name = "core/partials/results.html"
    title = ""
    add_url_name: str | None = None  # shown as an "Add" button when the user may add

    scoped = True  # the list follows the project chosen in the project switcher

    def get_queryset(self):
        queryset = super().get_queryset().restrict(self.request.user, self.action)
        if hasattr(queryset, "for_list"):
            queryset = queryset.for_list()  # mirrored rows without the manifest, for detail pages
        self.scoped_project = getattr(self.request, "project", None) if self.scoped else None
        if self.scoped_project:
            queryset = authz.in_project(queryset, self.scoped_project)
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(
                self.request.GET, queryset=queryset, request=self.request
            )
            queryset = self.filterset.qs
        else:
            self.filterset = None
        sort = self.sort()
        if sort:
            descending, fields = sort.startswith("-"), self.sort_fields[sort.lstrip("-")]
            queryset = queryset.order_by(*(_flip(f) if descending else f for f in fields))
        return queryset

    def sort(self) -> str:
        """The column the reader sorts by (``-`` first: descending), or "" for the default."""
        sort = self.request.GET.get("sort", "")
        return sort if sort.lstrip("-") in self.sort_fields else ""

    def paginate_queryset(self, queryset, page_size):
        cursor = self.request.GET.get("cursor")
        try:
            page = keyset.paginate(queryset, cursor, page_size)
        except keyset.InvalidCursor:  # an old bookmark (another sort, say): the first page
            page = keyset.paginate(queryset, None, page_size)
        page.next_url = self.page_url(page.next_cursor)
        page.previous_url = self.page_url(page.previous_cursor)
        return None, page, page.rows, page.has_next or page.has_previous

    def page_url(self, cursor: str | None = None, **params) -> str | None:
        """This list with the same filters and sort, at ``cursor`` (the first page if none)."""
        query = self.request.GET.copy()
        for name in ("cursor", "page", *params):
            query.pop(name, None)
        query.update({name: value for name, value in params.items() if value})
        if cursor:
            query["cursor"] = cursor
        return f"{self.request.path}?{query.urlencode()}"

    def sort_links(self) -> dict[str, tuple[str, str]]:
        """Sortable columns: accessor -> (the link that sorts by it, "asc"/"desc"/"")."""
        current = self.sort()
        links = {}
        for accessor in self.sort_fields:
            state = {accessor: "asc", f"-{accessor}": "desc"}.get(current, "")
            # A click sorts ascending, and a second click descending; from the first page.
            links[accessor] = (
                self.page_url(sort=f"-{accessor}" if state == "asc" else accessor),
                state,
            )
        return links

    def can_add(self) -> bool:
        return False

    def get_table(self, rows):
        return self.table(rows)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        table = self.get_table(context["object_list"])
        table.sort_links = self.sort_links()
        context.update(
            title=self.title or capfirst(self.object_list.model._meta.verbose_name_plural),
            table=table,
            pager=context["page_obj"],
            sort=self.sort(),
            filterset=self.filterset,
            add_url_name=self.add_url_name if self.can_add() else None,
            scoped_project=self.scoped_project,
        )
        return context


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


class ObjectDetailView(ObjectEventsMixin, PortalView, DetailView):
    """One object's page; a Kubernetes object's shows its events (``ObjectEventsMixin``)."""

    action = "view"

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, self.action)

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            if not request.headers.get("X-KCS-Live"):
                raise
            # The page was open when the object went: say so (and stop polling).
            return render(request, "core/partials/gone.html", {"back_url": self.back_url()})

    def back_url(self) -> str:
        try:
            return reverse(f"portal:{self.model._meta.model_name}_list")
        except NoReverseMatch:
            return ""


class ServiceFormView(PortalView, FormView):
    """A form whose valid data is handed to a service function by ``perform``.

    ``perform(form)`` returns the object to redirect to (or a URL; a partial drawn instead
    overrides ``success_response``). Errors the
    service raises are shown on the form, so nothing is half-saved or lost.
    ``audit_action`` names the action, so that a form refused before it reaches
    the service (a required field left empty) is in the audit trail too; the
    service audits everything else.
    """

    template_name = "core/object_form.html"
    title = ""
    success_message = ""
    audit_action = ""
    audit_model = None

    def perform(self, form):
        raise NotImplementedError

    def audit_target(self):
        return None

    def audit_reason(self, form) -> str:
        """Why the form was refused, as the audit trail records it."""
        return audit.errors_reason(form.errors)

    def form_invalid(self, form):
        if self.request.method == "POST" and self.audit_action and not self._refused:
            audit.refused(
                self.request.user,
                self.audit_action,
                self.audit_target(),
                model=self.audit_model,
                name=str(form.data.get("name", "")),
                reason=self.audit_reason(form),
            )
        return super().form_invalid(form)

    _refused = False  # the service refused the form, and audited it

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except ValidationError as exc:
            _add_errors(form, exc)
            self._refused = getattr(exc, "kcs_audited", False)
            return self.form_invalid(form)
        return self.success_response(result)

    def success_response(self, result):
        """After the service succeeded: by default, to the object (or URL) it returned."""
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

    @property
    def audit_action(self) -> str:
        return f"{self.model._meta.model_name}.{self.required_action()}"

    @property
    def audit_model(self):
        return self.model

    def audit_target(self):
        return self.object

    def get_checked_object(self, request, pk):
        """The object, if the user may take the action; a refused change is audited."""
        queryset = self.model.objects.restrict(request.user, "view")
        if request.method in SAFE_METHODS:
            obj = get_object_or_404(queryset, pk=pk)
            authz.require(request.user, self.required_action(), obj)
            return obj
        obj = queryset.filter(pk=pk).first()
        # What the user asked to change, even if they may not see it: its project's admins
        # see who tried.
        target = obj or self.model._default_manager.filter(pk=pk).first()
        name = "" if target is not None else f"#{pk}"
        with audit.attempt(request.user, self.audit_action, target, model=self.model, name=name):
            if obj is None:
                raise Http404
            authz.require(request.user, self.required_action(), obj)
        return obj

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if issubclass(self.get_form_class(), forms.ModelForm):
            kwargs["instance"] = self.object  # an edit form starts from the object
        return kwargs

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.object = self.get_checked_object(request, kwargs["pk"])
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

    read_errors = ()

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if self.read_errors:  # Kubernetes did not answer: say so, and that a retry may work
            response.status_code = 503
            response["Retry-After"] = "5"
        return response

    def get_initial(self):
        try:
            return {"yaml": type(self).read(self.request.user, self.object)}
        except ValidationError as exc:
            self.read_errors = exc.messages
            return {"yaml": ""}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = (
            self.write is not None
            and not self.read_errors
            and authz.can(self.request.user, self.action, self.object)
        )
        context["read_errors"] = self.read_errors
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
    charted_clusters = 6  # usage charts drawn on the dashboard, at most

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
        # usage charts of the clusters the user may see that run (their data is fetched by
        # the page: apps/monitoring)
        context["charted_clusters"] = [
            c
            for c in context["clusters"]
            if c.status in (Cluster.Status.RUNNING, Cluster.Status.DEGRADED)
        ][: self.charted_clusters]
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
    """The operation log: filters, a histogram of the filtered events, a CSV export."""

    needs = authz.Perm.VIEW_AUDIT
    queryset = AuditEvent.objects.all()
    table = AuditEventTable
    filterset_class = AuditEventFilterSet
    template_name = "core/auditevent_list.html"
    partial_template_name = "core/partials/audit_results.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        bars = audit.histogram(self.object_list)
        peak = max((bar["count"] for bar in bars), default=0)
        width = 600 / max(len(bars), 1)
        for i, bar in enumerate(bars):
            bar["height"] = round(60 * bar["count"] / peak, 1) if peak else 0
            bar["x"], bar["y"] = round(i * width, 2), round(60 - bar["height"], 1)
        context.update(bars=bars, bar_width=width * 0.9, query_string=self.request.GET.urlencode())
        return context


class AuditEventExportView(AuditEventListView):
    """The filtered operation log as CSV."""

    def get(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        if self.filterset is not None and not self.filterset.is_valid():
            return HttpResponse(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in self.filterset.errors.items()),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        response = StreamingHttpResponse(
            audit.export_csv(request.user, queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response


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
    cloud_admin_only = True

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
    """The process can do its work: database, cache and task broker reachable."""
    checks = health.readiness()
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


# --- error pages ---------------------------------------------------------------------


def not_found(request, exception=None):
    """A 404: JSON under /api/ (a path no endpoint has), the portal's page elsewhere."""
    from django.views import defaults

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    from django.views import defaults

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Internal error; it was logged.")}, status=500)
    return defaults.server_error(request)
