import django_filters
from django import forms
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
        choices = model.objects.restrict(request.user, "view")
        # A mirrored kind (namespaces): its manifest is not needed to name it.
        return choices.for_list() if hasattr(choices, "for_list") else choices

    return queryset


# What a dropdown offers when it filters nothing, by filter name ("Any" otherwise).
ANY = {
    "cluster": _("Any cluster"),
    "department": _("Any department"),
    "kind": _("Any kind"),
    "namespace": _("Any namespace"),
    "phase": _("Any phase"),
    "project": _("Any project"),
    "provider": _("Any provider"),
    "result": _("Any result"),
    "role": _("Any role"),
    "status": _("Any status"),
    "type": _("Any type"),
}


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with a free-text ``q`` over ``search_fields``.

    Its dropdowns start with a meaningful "Any …" (not "---------", and "Any / Yes /
    No" rather than "Unknown / Yes / No" for yes-or-no fields).
    """

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label=_("Search"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, filter_ in self.filters.items():
            # Form fields are built for this request: labels in the reader's language,
            # choices restricted to this user. (A field cached on the class's filter,
            # e.g. by the API schema generator, would carry neither.)
            filter_.__dict__.pop("_field", None)
            if isinstance(filter_, django_filters.BooleanFilter):
                filter_.extra["widget"] = forms.Select(
                    choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
                )
            elif isinstance(filter_, django_filters.ChoiceFilter):
                filter_.extra["empty_label"] = ANY.get(name, _("Any"))

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
    """What operators ask of the trail: who, where, what, on which object, how it went."""

    search_fields = ("actor_name", "action", "target_name", "project_name", "namespace", "reason")
    actor_name = django_filters.CharFilter(label=_("User"))
    action = django_filters.CharFilter(
        lookup_expr="startswith", label=_("Action"), help_text=_("e.g. cluster. for all of them")
    )
    target_type = django_filters.CharFilter(label=_("Object kind"))
    target_name = django_filters.CharFilter(lookup_expr="icontains", label=_("Object name"))
    source_ip = django_filters.CharFilter(method="source", label=_("Source address"))
    since = django_filters.IsoDateTimeFilter(
        field_name="created", lookup_expr="gte", label=_("Since")
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="created", lookup_expr="lt", label=_("Until")
    )
    project = django_filters.ModelChoiceFilter(queryset=restricted("tenancy.Project"))

    class Meta:
        model = AuditEvent
        fields = [
            "result",
            "action",
            "actor_name",
            "project",
            "cluster",
            "namespace",
            "target_type",
            "target_name",
            "source_ip",
        ]

    def source(self, queryset, name, value):
        import ipaddress

        try:
            address = str(ipaddress.ip_address(value.strip()))
        except ValueError:
            return queryset.none()  # no event came from something that is not an address
        return queryset.filter(source_ip=address)
