from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core import authz
from apps.core.views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    ObjectYamlView,
    ServiceFormView,
)
from apps.tenancy.models import Project

from . import filters, forms, services, tables
from .models import SYSTEM_NAMESPACES, Namespace


def _warn(request, namespace) -> None:
    """The service's warnings about a saved quota (e.g. more than the cluster has)."""
    for warning in getattr(namespace, "warnings", []):
        messages.warning(request, warning)


class NamespaceListView(ObjectListView):
    """Namespaces of projects: cloud admins see all, tenants those they may work in."""

    live_models = (Namespace,)
    queryset = Namespace.objects.filter(project__isnull=False).select_related("cluster", "project")
    table = tables.NamespaceTable
    filterset_class = filters.NamespaceFilterSet
    template_name = "namespaces/namespace_list.html"
    add_url_name = "portal:namespace_add"

    def can_add(self):
        return Project.objects.restrict(self.request.user, "manage_namespaces").exists()

    def get_table(self, rows):
        # Cluster pages are for those who see infrastructure: no link to a 404 for others.
        infrastructure = authz.holds(self.request, authz.Perm.VIEW_INFRASTRUCTURE)
        return self.table(rows, unlinked=() if infrastructure else {"cluster"})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_assign"] = authz.is_cloud_admin(self.request.user)
        return context


class UnassignedNamespaceListView(ObjectListView):
    """Cloud admins: namespaces created outside the portal, waiting for a project."""

    live_models = (Namespace,)
    queryset = (
        Namespace.objects.filter(project__isnull=True)
        .exclude(name__in=SYSTEM_NAMESPACES)
        .select_related("cluster")
    )
    table = tables.UnassignedNamespaceTable
    filterset_class = None
    title = _("Unassigned namespaces")
    cloud_admin_only = True


class NamespaceView(ObjectDetailView):
    live_models = (Namespace,)
    model = Namespace
    queryset = Namespace.objects.select_related("cluster", "project")
    template_name = "namespaces/namespace_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, namespace = self.request.user, self.object
        active = not namespace.is_terminating
        can_change = active and authz.can(user, "change", namespace)
        can_manage_members = (
            active
            and namespace.project_id is not None
            and authz.can(user, "manage_members", namespace)
        )
        members = services.members(namespace)
        context.update(
            usage_is_live=active and services.current_usage(user, namespace),
            quota=tables.quota_rows(namespace),
            members=members,
            can_change=can_change,
            can_manage_members=can_manage_members,
            can_delete=active and not namespace.is_system and authz.can(user, "delete", namespace),
            can_assign=namespace.project_id is None
            and not namespace.is_system
            and authz.is_cloud_admin(user),
            can_view_cluster=authz.can(user, "view", namespace.cluster),
            quota_form=forms.QuotaForm(namespace=namespace) if can_change else None,
            members_form=forms.MembersForm(
                namespace=namespace, initial={"users": [u.pk for u in members]}
            )
            if can_manage_members
            else None,
        )
        return context


class NamespaceCreateView(ServiceFormView):
    form_class = forms.NamespaceForm
    template_name = "namespaces/namespace_form.html"
    title = _("New namespace")

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if (
            user.is_authenticated
            and not Project.objects.restrict(user, "manage_namespaces").exists()
        ):
            raise PermissionDenied(_("You may not create namespaces in any project."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        query = self.request.GET
        return {"cluster": query.get("cluster"), "project": query.get("project")}

    def get_cancel_url(self):
        return reverse("portal:namespace_list")

    def perform(self, form):
        namespace = services.create_namespace(self.request.user, **form.service_arguments())
        _warn(self.request, namespace)
        return namespace


class NamespaceQuotaView(ObjectFormView):
    """Change the quota; going below what is in use is refused with what is in use."""

    model = Namespace
    form_class = forms.QuotaForm
    template_name = "namespaces/quota_form.html"
    title = _("Edit quota")
    success_message = _("The quota was changed.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "namespace": self.object}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["quota"] = tables.quota_rows(self.object)
        return context

    def perform(self, form):
        namespace = services.update_quota(self.request.user, self.object, form.quota())
        _warn(self.request, namespace)
        return namespace


class NamespaceMembersView(ObjectFormView):
    model = Namespace
    form_class = forms.MembersForm
    action = "manage_members"
    title = _("Namespace members")
    success_message = _("The namespace's members were changed.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "namespace": self.object}

    def get_initial(self):
        return {"users": [u.pk for u in services.members(self.object)]}

    def perform(self, form):
        services.set_members(self.request.user, self.object, form.cleaned_data["users"])
        return self.object


class NamespaceAssignView(ObjectFormView):
    model = Namespace
    action = "assign"  # cloud admins only
    form_class = forms.AssignForm
    title = _("Assign to a project")
    success_message = _("The namespace now belongs to the project.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_cancel_url(self):
        return reverse("portal:namespace_unassigned")

    def perform(self, form):
        return services.assign(self.request.user, self.object, form.cleaned_data["project"])


class NamespaceDeleteView(ObjectDeleteView):
    """Type the name to confirm; the namespace then shows Terminating until it is gone."""

    model = Namespace
    confirm_by_name = True

    def form_valid(self, form):
        try:
            self.object = services.delete_namespace(self.request.user, self.object)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Kubernetes is deleting %(name)s; it shows Terminating until it is gone.")
            % {"name": self.object.name},
        )
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        if Namespace.objects.filter(pk=self.object.pk).exists():
            return self.object.get_absolute_url()
        return reverse("portal:namespace_list")


class NamespaceYamlView(ObjectYamlView):
    """The live Namespace, read-only (its quota and members have their own forms)."""

    model = Namespace
    read = services.namespace_yaml
    http_method_names = ["get", "head", "options"]
