import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, Operation


def restricted(model_label: str):
    """Choices for a related-object filter: only what the requesting user may see.

    Without it a filter's dropdown would list every project in the system.
    """

    def queryset(request):
        from django.apps import apps

        model = apps.get_model(model_label)
        if request is None:
            return model.objects.none()
        return model.objects.restrict(request.user, "view")

    return queryset


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with a free-text ``q`` over ``search_fields``."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label=_("Search"))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class OperationFilterSet(SearchFilterSet):
    search_fields = ("target_name", "step", "kind")
    project = django_filters.ModelChoiceFilter(queryset=restricted("tenancy.Project"))

    class Meta:
        model = Operation
        fields = ["status", "kind", "project"]


class AuditEventFilterSet(SearchFilterSet):
    search_fields = ("actor_name", "action", "target_name", "project_name", "namespace")
    since = django_filters.IsoDateTimeFilter(
        field_name="created", lookup_expr="gte", label=_("Since")
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="created", lookup_expr="lt", label=_("Until")
    )
    project = django_filters.ModelChoiceFilter(queryset=restricted("tenancy.Project"))

    class Meta:
        model = AuditEvent
        fields = ["result", "action", "actor_name", "project", "cluster", "namespace"]
