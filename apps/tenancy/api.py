from django.contrib.auth import get_user_model
from django.db.models import Count
from rest_framework import serializers

from apps.core.api.base import RestrictedRelatedField, ServiceViewSet

from . import filters, services
from .models import Department, DepartmentAdmin, Membership, Project, Role, dns_label

User = get_user_model()


class UsernameField(serializers.SlugRelatedField):
    """Users are named by username; the directory itself is not browsable.

    The browsable API's HTML form shows a text input, not a dropdown of every user.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("style", {"base_template": "input.html"})
        super().__init__(
            slug_field="username", queryset=User.objects.filter(is_active=True), **kwargs
        )


# --- serializers -----------------------------------------------------------------


class DepartmentSerializer(serializers.ModelSerializer):
    project_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name", "display_name", "description", "project_count", "created"]


class ProjectSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(Department)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "display_name",
            "description",
            "department",
            "is_admin_project",
            "member_count",
            "created",
        ]
        read_only_fields = ["is_admin_project"]
        # The service checks that the name is free, in words that confirm nothing.
        extra_kwargs = {"name": {"validators": [dns_label]}}

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:  # name and department are fixed once created
            fields["name"].read_only = True
            fields["department"].read_only = True
        return fields


class MembershipSerializer(serializers.ModelSerializer):
    project = RestrictedRelatedField(Project)
    user = UsernameField()

    class Meta:
        model = Membership
        fields = ["id", "project", "user", "role", "created"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:  # only the role changes
            fields["project"].read_only = True
            fields["user"].read_only = True
        return fields


class DepartmentAdminSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(Department)
    user = UsernameField()

    class Meta:
        model = DepartmentAdmin
        fields = ["id", "department", "user", "created"]


# --- viewsets --------------------------------------------------------------------


class DepartmentViewSet(ServiceViewSet):
    queryset = Department.objects.annotate(project_count=Count("projects")).order_by("name")
    serializer_class = DepartmentSerializer
    filterset_class = filters.DepartmentFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create_object(self, data):
        return services.create_department(self.request.user, **data)

    def update_object(self, obj, data):
        data.pop("name", None)
        return services.update_department(self.request.user, obj, **data)

    def delete_object(self, obj):
        services.delete_department(self.request.user, obj)


class ProjectViewSet(ServiceViewSet):
    queryset = Project.objects.annotate(member_count=Count("memberships")).order_by("name")
    serializer_class = ProjectSerializer
    filterset_class = filters.ProjectFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create_object(self, data):
        return services.create_project(self.request.user, data.pop("department"), **data)

    def update_object(self, obj, data):
        return services.update_project(self.request.user, obj, **data)

    def delete_object(self, obj):
        services.delete_project(self.request.user, obj)


class MembershipViewSet(ServiceViewSet):
    queryset = Membership.objects.select_related("user")
    serializer_class = MembershipSerializer
    filterset_class = filters.MembershipFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create_object(self, data):
        return services.add_member(
            self.request.user, data["project"], data["user"], data.get("role", Role.MEMBER)
        )

    def update_object(self, obj, data):
        return services.change_member_role(self.request.user, obj, data.get("role", obj.role))

    def delete_object(self, obj):
        services.remove_member(self.request.user, obj)


class DepartmentAdminViewSet(ServiceViewSet):
    queryset = DepartmentAdmin.objects.select_related("user")
    serializer_class = DepartmentAdminSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def create_object(self, data):
        return services.add_department_admin(self.request.user, data["department"], data["user"])

    def delete_object(self, obj):
        services.remove_department_admin(self.request.user, obj)
