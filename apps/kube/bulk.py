"""Writing many mirrored rows at once, at the speed the database allows.

Django's ``bulk_create`` and ``bulk_update`` compile one statement per batch value by
value (``bulk_update`` as a CASE per column per row); for tens of thousands of pods that
compiling, not the database, is most of the cost. Here a batch is one prepared
statement sent with ``executemany``: an INSERT, or an UPDATE by primary key. Values
are adapted per field type the way the backend's own operations do it, so the stored
values are what the ORM would store.
"""

from collections.abc import Iterable

import orjson
from django.db import connections, models


def _dumps(value) -> str:
    return orjson.dumps(value).decode()


def _json_adapter(connection):
    """JSON as the backend stores it, encoded by orjson (several times faster than json)."""
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return lambda value: Jsonb(value, dumps=_dumps)
    return _dumps


def _datetime_adapter(connection):
    """Datetimes as the backend stores them: SQLite keeps naive text in the connection's zone
    (what its adapt_datetimefield_value does, without looking up settings per value)."""
    if connection.vendor != "sqlite":
        return connection.ops.adapt_datetimefield_value
    zone = connection.timezone

    def adapt(value):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(zone).replace(tzinfo=None)
        return str(value)

    return adapt


def _adapters(model, names: list[str], connection):
    fields = [model._meta.get_field(name) for name in names]
    adapters = []
    for field in fields:
        if isinstance(field, models.JSONField):
            adapters.append(_json_adapter(connection))
        elif isinstance(field, models.DateTimeField):
            adapters.append(_datetime_adapter(connection))
        else:
            adapters.append(None)
    return [f.column for f in fields], adapters


def _row(values: dict, names: list[str], adapters) -> tuple:
    return tuple(
        values[name] if adapt is None else adapt(values[name])
        for name, adapt in zip(names, adapters, strict=True)
    )


def insert(model, rows: Iterable[dict]) -> int:
    """INSERT the rows (dicts of field name → value, every row the same fields)."""
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[model._default_manager.db]
    names = list(rows[0])
    columns, adapters = _adapters(model, names, connection)
    quote = connection.ops.quote_name
    # Identifiers are the model's own, quoted by the backend; values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(map(quote, columns)),
        ", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_row(row, names, adapters) for row in rows])
    return len(rows)


def update(model, rows: Iterable[dict]) -> int:
    """UPDATE each row by its ``pk`` to the other values it has (every row the same fields)."""
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[model._default_manager.db]
    names = [name for name in rows[0] if name != "pk"]
    columns, adapters = _adapters(model, names, connection)
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(f"{quote(column)} = %s" for column in columns),
        quote(model._meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*_row(row, names, adapters), row["pk"]) for row in rows])
    return len(rows)
