import django_filters
from django.utils.translation import gettext_lazy as _

from apps.workloads.filters import KubeFilterSet

from .models import Event


class EventFilterSet(KubeFilterSet):
    search_fields = ("message", "involved_name", "reason")
    type = django_filters.ChoiceFilter(choices=Event.Type.choices, label=_("Type"))
    reason = django_filters.CharFilter(label=_("Reason"))
    kind = django_filters.CharFilter(
        field_name="involved_kind", lookup_expr="iexact", label=_("Object kind")
    )
    object = django_filters.CharFilter(
        field_name="involved_name", lookup_expr="icontains", label=_("Object name")
    )
    since = django_filters.IsoDateTimeFilter(
        field_name="last_seen", lookup_expr="gte", label=_("Since")
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="last_seen", lookup_expr="lt", label=_("Until")
    )

    class Meta:
        model = Event
        fields = [
            "cluster",
            "project",
            "namespace",
            "type",
            "reason",
            "kind",
            "object",
            "since",
            "until",
        ]
