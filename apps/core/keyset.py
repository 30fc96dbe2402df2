"""Keyset ("seek") pagination, shared by the portal's lists and the API.

An OFFSET makes the database read and skip every row before the page, and "page 3 of
400" needs a COUNT(*) of every row the filters let through: both grow with the table.
A cursor instead names the sort key of the row where a page ends (or starts), and the
next page starts after it through the index that serves the list's ordering (with the
primary key as tie-breaker, so that the key is unique). Page 400 costs what page 1
costs, and a row inserted while someone reads neither repeats a row on their next page
nor hides one. What it gives up: the total. Lists say whether more rows follow, and
the position of the page, counted from the first page the reader came from.

The cursor is only a position in the ordering: the rows still come through the list's
queryset (its ``restrict`` and filters), so a forged cursor shows nothing more.
"""

import base64
import datetime
import decimal
import json
import uuid
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import F, Q

# Row-value comparisons, as Django 5.2 builds them for composite keys.
from django.db.models.fields.tuple_lookups import (
    Tuple,
    TupleGreaterThan,
    TupleLessThan,
    TupleLookupMixin,
)


class _RowsAfter(TupleGreaterThan):
    """(a, b) > (x, y) as a row comparison on SQLite too, which has row values (3.15) and
    reads an index as one range for them; Django writes it out column by column there,
    which SQLite reads as a range on the first column only."""

    def as_sqlite(self, compiler, connection):
        return super(TupleLookupMixin, self).as_sql(compiler, connection)


class _RowsBefore(TupleLessThan):
    def as_sqlite(self, compiler, connection):
        return super(TupleLookupMixin, self).as_sql(compiler, connection)


class InvalidCursor(ValueError):
    """A cursor that is not one this list handed out (garbled, or of another ordering)."""


@dataclass(frozen=True)
class Key:
    """One column of the ordering."""

    name: str  # as order_by takes it: "name", "cluster_id", "cluster__name", an annotation
    descending: bool
    field: object = None  # the model field at the end of the path (to read cursor values)
    nullable: bool = False

    @property
    def term(self) -> str:
        return f"-{self.name}" if self.descending else self.name

    @property
    def flipped(self) -> str:
        return self.name if self.descending else f"-{self.name}"


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None
    start: int  # the 1-based position of the first row, counted from the first page

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1


def keys_of(queryset, ordering=None) -> list[Key]:
    """The ordering of ``queryset`` (or ``ordering``), made unique by the primary key.

    A relation sorts by its id (the column of this table, which an index can serve),
    not by the related model's own ordering as Django would.
    """
    model = queryset.model
    terms = list(ordering or queryset.query.order_by or model._meta.ordering)
    keys = []
    for term in terms:
        if not isinstance(term, str):
            raise TypeError(f"keyset pagination orders by field names, not {term!r}")
        descending, name = term.startswith("-"), term.lstrip("-")
        keys.append(_key(queryset, name, descending))
    if not _unique(model, {k.name for k in keys}):
        keys.append(Key("pk", bool(keys) and keys[0].descending, model._meta.pk))
    return keys


def _key(queryset, name: str, descending: bool) -> Key:
    model = queryset.model
    if name == "pk":
        return Key("pk", descending, model._meta.pk)
    parts, nullable, path = name.split("__"), False, []
    for i, part in enumerate(parts):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            if i == 0 and name in queryset.query.annotations:
                # An annotation (a count, say): its value, which may be null.
                output = queryset.query.annotations[name].output_field
                return Key(name, descending, output, True)
            raise
        nullable |= bool(getattr(field, "null", False))
        if field.is_relation and i < len(parts) - 1:
            model = field.related_model
            path.append(part)
        elif field.is_relation:
            path.append(field.attname)
        else:
            path.append(part)
    return Key("__".join(path), descending, field, nullable)


def _unique(model, names: set[str]) -> bool:
    """Whether these columns (by name or attname) identify one row."""
    meta = model._meta
    attnames = {f.name: f.attname for f in meta.fields}
    columns = {attnames.get(name, name) for name in names} | names
    if "pk" in names or any(f.unique and f.attname in columns for f in meta.fields):
        return True
    return any(
        {attnames.get(name, name) for name in constraint.fields} <= columns
        for constraint in meta.total_unique_constraints
    )


def paginate(queryset, cursor: str | None, size: int, keys: list[Key] | None = None) -> Page:
    """One page of ``queryset``: the first, or the one ``cursor`` (from a Page) leads to.

    One query, whatever the page (a cursor whose page has emptied since it was handed
    out leads back to the first page, with one query more).
    """
    keys = keys or keys_of(queryset)
    backwards, values, start = decode(cursor, keys)
    if values is not None:
        # (the page may have emptied: then the first page, one query more)
        order = [k.flipped for k in keys] if backwards else [k.term for k in keys]
        rows = list(queryset.order_by(*order).filter(beyond(keys, values, backwards))[: size + 1])
        if rows:
            more = len(rows) > size
            rows = rows[:size]
            if backwards:
                rows.reverse()
                start = max(1, start) if more else 1
                return _page(keys, rows, size, start, True, more)
            return _page(keys, rows, size, max(1, start), more, True)
    rows = list(queryset.order_by(*[k.term for k in keys])[: size + 1])
    return _page(keys, rows[:size], size, 1, len(rows) > size, False)


def _page(keys, rows, size, start, has_next, has_previous) -> Page:
    return Page(
        rows=rows,
        next_cursor=encode(keys, rows[-1], start + len(rows)) if has_next and rows else None,
        previous_cursor=(
            encode(keys, rows[0], start - size, before=True) if has_previous and rows else None
        ),
        start=start,
    )


# --- the condition -------------------------------------------------------------------


def beyond(keys: list[Key], values: list, backwards: bool = False) -> Q:
    """Rows after the cursor's values in the ordering (before them, ``backwards``).

    As one row comparison, (a, b) > (x, y), when every column sorts the same way and no
    null can sort past the values (the index serves it as one range), else column by
    column, with NULLs where the database sorts them (after every value on PostgreSQL,
    before on SQLite), which is where an index has them too.
    """
    greater = {k.descending == backwards for k in keys}
    if len(greater) == 1 and all(
        value is not None and not (key.nullable and greater == {_nulls_largest()})
        for key, value in zip(keys, values, strict=True)
    ):
        # (exact when no null can sort past a value: a row with one compares as unknown)
        compare = _RowsAfter if greater == {True} else _RowsBefore
        return Q(compare(Tuple(*[F(k.name) for k in keys]), tuple(values)))
    condition, equal = Q(pk__in=[]), Q()
    for key, value in zip(keys, values, strict=True):
        step = _past(key, value, greater=key.descending == backwards)
        if step is not None:
            condition |= equal & step
        equal &= Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})
    first, value = keys[0], values[0]
    if value is not None:
        # A bound on the leading column, so that the index is read as a range (and its
        # nulls, where they sort past every value).
        greater = first.descending == backwards
        bound = Q(**{f"{first.name}__{'gte' if greater else 'lte'}": value})
        if first.nullable and greater == _nulls_largest():
            bound |= Q(**{f"{first.name}__isnull": True})
        condition &= bound
    return condition


def _nulls_largest() -> bool:
    return connections["default"].features.nulls_order_largest


def _past(key: Key, value, greater: bool) -> Q | None:
    """Rows whose ``key`` sorts strictly past ``value`` (None: no row can)."""
    nulls_largest = _nulls_largest()
    null = Q(**{f"{key.name}__isnull": True})
    if value is None:
        if greater == nulls_largest:  # nothing sorts past a null at that end
            return None
        return ~null
    past = Q(**{f"{key.name}__{'gt' if greater else 'lt'}": value})
    if key.nullable and greater == nulls_largest:
        past |= null
    return past


# --- cursors ---------------------------------------------------------------------------


def encode(keys: list[Key], row, start: int, before: bool = False) -> str:
    values = [_plain(_read(row, key.name)) for key in keys]
    body = {"b" if before else "a": values, "n": max(1, start)}
    text = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())
    return text.decode().rstrip("=")


def decode(cursor: str | None, keys: list[Key]) -> tuple[bool, list | None, int]:
    """(backwards, values, start) of a cursor; (False, None, 1) for none."""
    if not cursor:
        return False, None, 1
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        raise InvalidCursor(cursor) from None
    if isinstance(body, list):  # the API's first cursors: the values after which to go on
        body = {"a": body}
    if not isinstance(body, dict):
        raise InvalidCursor(cursor)
    backwards = "b" in body
    values, start = body.get("b" if backwards else "a"), body.get("n", 1)
    if not isinstance(values, list) or len(values) != len(keys) or not isinstance(start, int):
        raise InvalidCursor(cursor)
    try:
        values = [_typed(key, value) for key, value in zip(keys, values, strict=True)]
    except (ValidationError, ValueError, TypeError):
        raise InvalidCursor(cursor) from None
    return backwards, values, start


def _read(row, name: str):
    value = row
    for part in name.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _typed(key: Key, value):
    if value is None:
        if not key.nullable:
            raise ValueError("null for a column that is never null")
        return None
    if isinstance(value, dict | list):
        raise ValueError("not a column value")
    # What no column holds and a database refuses (an error, not an empty page).
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValueError("out of range")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("a null character")
    to_python = getattr(key.field, "to_python", None)
    return to_python(value) if to_python else value
