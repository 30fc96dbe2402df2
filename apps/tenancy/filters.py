import django_filters

from apps.core.filters import SearchFilterSet, restricted

from .models import Department, Membership, Project


class DepartmentFilterSet(SearchFilterSet):
    search_fields = ("name", "display_name", "description")

    class Meta:
        model = Department
        fields = []


class ProjectFilterSet(SearchFilterSet):
    search_fields = ("name", "display_name", "description")
    department = django_filters.ModelChoiceFilter(queryset=restricted("tenancy.Department"))

    class Meta:
        model = Project
        fields = ["department"]


class MembershipFilterSet(SearchFilterSet):
    search_fields = ("user__username", "project__name")
    project = django_filters.ModelChoiceFilter(queryset=restricted("tenancy.Project"))

    class Meta:
        model = Membership
        fields = ["project", "role"]
