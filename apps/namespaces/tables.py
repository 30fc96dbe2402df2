from django.utils.translation import gettext_lazy as _

from apps.core.tables import Column, Table
from apps.kube import quantity

from .services import QUOTA_KEYS, in_display_order

# The quota keys summarised in a list row (the detail page shows them all).
SUMMARY_KEYS = ("requests.cpu", "requests.memory", "pods")


def quota_rows(namespace, keys=None) -> list[dict]:
    """Used vs hard for each quota key the namespace has, in display order (for bars)."""
    hard, used = namespace.quota_hard or {}, namespace.quota_used or {}
    ordered = in_display_order(hard)
    return [
        {
            "key": key,
            "label": QUOTA_KEYS.get(key, key),
            "hard": hard[key],
            "used": used.get(key, "0"),
            "percent": quantity.percent(used.get(key, "0"), hard[key]),
        }
        for key in ordered
        if keys is None or key in keys
    ]


class NamespaceTable(Table):
    columns = [
        Column("name", _("Name"), link=True),
        Column("cluster", _("Cluster"), link="cluster"),
        Column("project", _("Project"), link="project"),
        Column("phase", _("Status"), template="namespaces/cells/phase.html"),
        Column("quota_summary", _("Quota usage"), template="namespaces/cells/quota.html"),
        Column("created", _("Created")),
    ]
    empty_text = _("No namespaces.")

    def __init__(self, rows, **options):
        rows = list(rows)
        for row in rows:  # computed from the row itself: no queries
            row.quota_summary = quota_rows(row, SUMMARY_KEYS)
        super().__init__(rows, **options)


class UnassignedNamespaceTable(Table):
    columns = [
        Column("name", _("Name")),
        Column("cluster", _("Cluster"), link="cluster"),
        Column("phase", _("Status"), template="namespaces/cells/phase.html"),
        Column("created", _("Created")),
        Column("pk", _("Assign"), template="namespaces/cells/assign.html"),
    ]
    empty_text = _("Every namespace belongs to a project.")
