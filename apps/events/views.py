"""The events page: every event the user may see, newest first, with filters."""

from apps.core.views import ObjectListView

from . import filters, tables
from .models import Event


class EventListView(ObjectListView):
    live_models = (Event,)
    queryset = Event.objects.for_list().select_related("cluster")
    table = tables.EventTable
    filterset_class = filters.EventFilterSet
