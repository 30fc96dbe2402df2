"""Declarative tables for list pages: columns named once, rendered by one template."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    accessor: str  # dotted attribute path on the row object, e.g. "department.name"
    label: str
    link: bool | str = False  # link to the row (True) or to the object at this accessor
    template: str | None = None  # a template for the cell, given `row` and `value`

    def value(self, row):
        return _resolve(row, self.accessor)

    def url(self, row) -> str | None:
        if not self.link:
            return None
        target = row if self.link is True else _resolve(row, self.link)
        return target.get_absolute_url() if target is not None else None


def _resolve(row, accessor: str):
    value = row
    for part in accessor.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
        if callable(value) and not hasattr(value, "all"):
            value = value()
    return value


class Table:
    """Subclasses declare ``columns``; a table wraps the rows of one page."""

    columns: list[Column] = []
    empty_text = _("Nothing here yet.")

    def __init__(self, rows):
        self.rows = rows

    def __iter__(self):
        for row in self.rows:
            yield row, [(column, column.value(row), column.url(row)) for column in self.columns]


class OperationTable(Table):
    columns = [
        Column("get_kind_display", _("Operation"), link=True),
        Column("target_name", _("Target")),
        Column("project", _("Project")),
        Column("actor", _("By")),
        Column("get_status_display", _("Status"), template="core/cells/status.html"),
        Column("progress", _("Progress"), template="core/cells/progress.html"),
        Column("created", _("Started")),
    ]


class AuditEventTable(Table):
    columns = [
        Column("created", _("Time")),
        Column("actor_name", _("User")),
        Column("action", _("Action")),
        Column("target_type", _("Type")),
        Column("target_name", _("Target")),
        Column("project_name", _("Project")),
        Column("cluster", _("Cluster")),
        Column("namespace", _("Namespace")),
        Column("get_result_display", _("Result"), template="core/cells/result.html"),
        Column("source_ip", _("Source IP")),
    ]


class ApiTokenTable(Table):
    columns = [
        Column("name", _("Name")),
        Column("prefix", _("Key starts with")),
        Column("created", _("Created")),
        Column("expires", _("Expires")),
        Column("last_used", _("Last used")),
        Column("pk", _("Revoke"), template="core/cells/revoke_token.html"),
    ]
