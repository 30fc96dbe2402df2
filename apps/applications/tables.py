from django.utils.translation import gettext_lazy as _

from apps.core.tables import Column, Table

from .models import Application


class ApplicationTable(Table):
    columns = [
        Column("name", _("Name"), link=True),
        Column("namespace_name", _("Namespace")),
        Column("cluster", _("Cluster")),
        Column(
            "status", _("Status"), template="core/cells/status.html", choices=Application.Status
        ),
        Column("workload_count", _("Workloads")),
        Column("version", _("Version")),
        Column("synced", _("Updated")),
    ]
    empty_text = _("No applications.")
