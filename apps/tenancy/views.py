from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import View

from apps.core import authz
from apps.core.views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    PortalView,
    ServiceFormView,
)

from . import filters, forms, services, tables
from .middleware import SESSION_KEY
from .models import Department, DepartmentAdmin, Membership, Project

# --- departments -----------------------------------------------------------------


class DepartmentListView(ObjectListView):
    scoped = False  # the switcher chooses among these
    queryset = Department.objects.annotate(project_count=Count("projects")).order_by("name")
    table = tables.DepartmentTable
    filterset_class = filters.DepartmentFilterSet
    add_url_name = "portal:department_add"

    def can_add(self):
        return authz.is_cloud_admin(self.request.user)


class DepartmentView(ObjectDetailView):
    model = Department
    template_name = "tenancy/department_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            projects=Project.objects.restrict(user, "view")
            .filter(department=self.object)
            .annotate(member_count=Count("memberships")),
            admins=self.object.admins.select_related("user"),
            can_change=authz.can(user, "change", self.object),
            can_add_project=authz.can(user, "add_project", self.object),
            admin_form=forms.DepartmentAdminAddForm(),
        )
        return context


class DepartmentCreateView(ServiceFormView):
    form_class = forms.DepartmentForm
    title = _("New department")
    cloud_admin_only = True
    audit_action, audit_model = "department.create", Department

    def perform(self, form):
        return services.create_department(self.request.user, **form.cleaned_data)


class DepartmentEditView(ObjectFormView):
    model = Department
    form_class = forms.DepartmentEditForm
    title = _("Edit department")

    def perform(self, form):
        return services.update_department(self.request.user, self.object, **form.cleaned_data)


class DepartmentDeleteView(ObjectDeleteView):
    model = Department
    confirm_by_name = True

    def delete(self, obj):
        services.delete_department(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:department_list")


class DepartmentAdminAddView(ObjectFormView):
    model = Department
    action = "manage_admins"
    form_class = forms.DepartmentAdminAddForm
    title = _("Add department admin")

    def perform(self, form):
        services.add_department_admin(self.request.user, self.object, form.cleaned_data["user"])
        return self.object


class DepartmentAdminRemoveView(ObjectDeleteView):
    model = DepartmentAdmin

    def delete(self, obj):
        services.remove_department_admin(self.request.user, obj)

    def get_success_url(self):
        return self.object.department.get_absolute_url()


# --- projects --------------------------------------------------------------------


class ProjectListView(ObjectListView):
    scoped = False  # the switcher chooses among these
    queryset = (
        Project.objects.select_related("department")
        .annotate(member_count=Count("memberships"))
        .order_by("name")
    )
    table = tables.ProjectTable
    filterset_class = filters.ProjectFilterSet
    add_url_name = "portal:project_add"

    def can_add(self):
        return Department.objects.restrict(self.request.user, "add_project").exists()


class ProjectView(ObjectDetailView):
    model = Project
    queryset = Project.objects.select_related("department")
    template_name = "tenancy/project_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            memberships=self.object.memberships.select_related("user"),
            can_change=authz.can(user, "change", self.object),
            can_delete=authz.can(user, "delete", self.object),
            can_manage_members=authz.can(user, "manage_members", self.object),
            member_form=forms.MemberAddForm(),
        )
        return context


class ProjectCreateView(ServiceFormView):
    form_class = forms.ProjectForm
    title = _("New project")
    audit_action, audit_model = "project.create", Project

    @classmethod
    def may_open(cls, request) -> bool:
        # Only whoever may add a project somewhere (a department's admins, cloud admins):
        # the others get the 403 page, for the form as for a POST.
        return authz.is_cloud_admin(request.user) or (
            Department.objects.restrict(request.user, "add_project").exists()
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {"department": self.request.GET.get("department")}

    def perform(self, form):
        data = dict(form.cleaned_data)
        return services.create_project(self.request.user, data.pop("department"), **data)


class ProjectEditView(ObjectFormView):
    model = Project
    form_class = forms.ProjectEditForm
    title = _("Edit project")

    def perform(self, form):
        return services.update_project(self.request.user, self.object, **form.cleaned_data)


class ProjectDeleteView(ObjectDeleteView):
    model = Project
    confirm_by_name = True

    def delete(self, obj):
        services.delete_project(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:project_list")


# --- members ---------------------------------------------------------------------


class MembershipListView(ObjectListView):
    queryset = Membership.objects.select_related("user", "project")
    table = tables.MembershipTable
    filterset_class = filters.MembershipFilterSet
    title = _("Members")


class MemberAddView(ObjectFormView):
    model = Project
    action = "manage_members"
    form_class = forms.MemberAddForm
    title = _("Add member")

    def perform(self, form):
        data = form.cleaned_data
        services.add_member(self.request.user, self.object, data["user"], data["role"])
        return self.object


class MemberRoleView(ObjectFormView):
    model = Membership
    form_class = forms.MemberRoleForm
    title = _("Change role")

    def get_initial(self):
        return {"role": self.object.role}

    def perform(self, form):
        services.change_member_role(self.request.user, self.object, form.cleaned_data["role"])
        return self.object.project


class MemberRemoveView(ObjectDeleteView):
    model = Membership

    def delete(self, obj):
        services.remove_member(self.request.user, obj)

    def get_success_url(self):
        return self.object.project.get_absolute_url()


class SwitchProjectView(PortalView, View):
    """Remember the project chosen in the switcher (only one the user may see); an empty
    choice is "all projects"."""

    def post(self, request):
        chosen = request.POST.get("project", "")
        if chosen == "":
            request.session.pop(SESSION_KEY, None)
        elif chosen.isdigit():
            project = get_object_or_404(Project.objects.restrict(request.user, "view"), pk=chosen)
            request.session[SESSION_KEY] = project.pk
        else:
            raise Http404
        target = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
            target = reverse("portal:dashboard")
        return HttpResponseRedirect(target)
