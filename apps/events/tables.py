from django.utils.translation import gettext_lazy as _

from apps.core.tables import Column, Table

from .models import Event


class EventTable(Table):
    columns = [
        Column("last_seen", _("Last seen")),
        Column("type", _("Type"), choices=Event.Type, template="events/cells/type.html"),
        Column("reason", _("Reason"), nowrap=True),
        Column("object_display", _("Object"), breakable=True),
        Column("message", _("Message")),
        Column("namespace_name", _("Namespace")),
        Column("cluster", _("Cluster")),
        Column("count", _("Count")),
        Column("first_seen", _("First seen")),
    ]
    empty_text = _("No events.")
