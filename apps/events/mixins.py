"""Events on every object's page: one mixin of the generic detail view, one partial.

``ObjectDetailView`` puts ``object_events`` (the stored Event rows about the object,
newest first, at most ``services.SHOWN``, one query) in the context of every page of a
mirrored Kubernetes object; its template includes ``events/partials/object_events.html``.
A page whose object's events include those of what it made (a Deployment's ReplicaSets
and pods) says so in ``events_also``.
"""

from django.db.models import Q

from . import services


class ObjectEventsMixin:
    show_events = True

    def events_also(self) -> Q | None:
        return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = context.get("object")
        if self.show_events and obj is not None and services.kind_of(obj):
            context["object_events"] = services.of_object(obj, self.events_also())
            context["events_url"] = services.list_url(obj)
        return context
