"""Declarative tables for list pages: columns named once, rendered by one template."""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, Operation

TIME = "core/cells/time.html"  # how every table shows a moment: one line, to the second


@dataclass(frozen=True)
class Column:
    accessor: str  # dotted attribute path on the row object, e.g. "department.name"
    label: str
    link: bool | str = False  # link to the row (True) or to the object at this accessor
    template: str | None = None  # a template for the cell, given `row` and `value`
    nowrap: bool = False  # a short value that reads badly broken (a user name)
    breakable: bool = False  # a long technical name: may wrap at its dots, colons, words
    choices: type | None = None  # TextChoices: a known value is shown as its label

    def value(self, row):
        value = _resolve(row, self.accessor)
        return choice_label(self.choices, value) if self.choices else value

    def cell_template(self, value) -> str | None:
        if self.template is None and isinstance(value, datetime):
            return TIME
        return self.template

    def url(self, row) -> str | None:
        if not self.link:
            return None
        target = row if self.link is True else _resolve(row, self.link)
        return target.get_absolute_url() if target is not None else None


def choice_label(choices, value):
    """A Kubernetes value by its label in the reader's language, if it is one we name."""
    return _labels(choices).get(value, value)


@functools.cache
def _labels(choices) -> dict:
    # Lazy labels: translated when shown, so one dict serves every language.
    return dict(choices.choices)


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

    def __init__(self, rows, *, unlinked=()):
        self.rows = rows
        self.unlinked = set(unlinked)  # accessors whose links the reader may not follow
        # Sortable columns, set by the list view: accessor -> (link, "asc"/"desc"/"").
        self.sort_links = {}

    def headers(self):
        """(column, the link that sorts by it or None, "asc"/"desc"/"") per column."""
        for column in self.columns:
            url, state = self.sort_links.get(column.accessor, (None, ""))
            yield column, url, state

    def __iter__(self):
        for row in self.rows:
            cells = []
            for column in self.columns:
                value = column.value(row)
                url = None if column.accessor in self.unlinked else column.url(row)
                cells.append((column, value, url, column.cell_template(value)))
            yield row, cells


class OperationTable(Table):
    columns = [
        Column("get_kind_display", _("Operation"), link=True),  # (labels of registered kinds)
        Column("target_name", _("Target")),
        Column("project", _("Project")),
        Column("actor", _("By")),
        Column("status", _("Status"), template="core/cells/status.html", choices=Operation.Status),
        Column("progress", _("Progress"), template="core/cells/progress.html"),
        Column("created", _("Started")),
    ]


class AuditEventTable(Table):
    columns = [
        Column("created", _("Time")),
        Column("actor_name", _("User"), nowrap=True),
        Column("action", _("Action"), breakable=True),
        Column("target_type", _("Type"), breakable=True),
        Column("target_name", _("Target"), breakable=True, template="core/cells/audit_target.html"),
        Column("project_name", _("Project")),
        Column("cluster", _("Cluster")),
        Column("namespace", _("Namespace")),
        Column("result", _("Result"), template="core/cells/result.html", choices=AuditEvent.Result),
        Column("reason", _("Reason")),
        Column("source_ip", _("Source IP"), breakable=True),
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
