"""Where log lines are kept: one interface, two engines.

- PostgreSQL (production, CI): ``logs_line`` is partitioned by cluster (LIST), and each
  cluster's partition by day (RANGE on the time), so retention per cluster drops whole
  day partitions; a btree on (namespace, time) and on time, and a pg_trgm GIN index on
  the message, which serves substring matches (ILIKE), Chinese and punctuation included,
  without reading every line.
- SQLite (the embedded default): one table and an FTS5 index with the trigram tokenizer
  over the message (kept by triggers); terms shorter than three characters, which a
  trigram index cannot look up, are checked on the lines the other conditions chose.

Both answer the same ``LogQuery`` (query.py). The reader's scope (the namespaces they
may work in) is part of every statement's WHERE clause: a store never returns a line
and leaves the filtering to its caller. Times are integer microseconds since the epoch
(UTC) in both.
"""

# SQL is assembled from this module's own fragments; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError, connection, transaction

from .query import And, LogQuery, Match, Not, Or, Term, like_escape

COLUMNS = ("cluster_id", "ts", "namespace", "workload", "pod", "container", "node", "stream")
SELECT = (
    "l.id, l.cluster_id, l.ts, l.namespace, l.workload, l.pod, l.container, l.node, "
    "l.stream, l.message"
)
DAY = 86_400_000_000  # microseconds


def to_us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def from_us(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, tz=UTC)


@dataclass(frozen=True)
class Record:
    """One line to store."""

    ts: int  # microseconds since the epoch
    namespace: str
    pod: str
    container: str
    message: str
    workload: str = ""
    node: str = ""
    stream: str = "stdout"


@dataclass
class Line:
    id: int
    cluster_id: int
    ts: int
    namespace: str
    workload: str
    pod: str
    container: str
    node: str
    stream: str
    message: str

    @property
    def time(self) -> datetime:
        return from_us(self.ts)

    @property
    def cursor(self) -> str:
        return f"{self.ts}:{self.id}"


def parse_cursor(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        ts, _sep, pk = text.partition(":")
        return int(ts), int(pk or 0)
    except ValueError:
        return None


class LogStore:
    """The interface every engine implements."""

    vendor = ""

    # -- writing -------------------------------------------------------------------------

    def ingest(self, cluster_id: int, records: list[Record]) -> int:
        raise NotImplementedError

    def drop_before(self, cluster_id: int, cutoff: datetime) -> int:
        """Forget the cluster's lines older than ``cutoff``; returns what was dropped."""
        raise NotImplementedError

    # -- reading -------------------------------------------------------------------------

    def term_sql(self, text: str) -> tuple[str, list]:
        raise NotImplementedError

    def search(
        self,
        query: LogQuery,
        *,
        limit: int = 100,
        before: tuple[int, int] | None = None,
        after: tuple[int, int] | None = None,
    ) -> list[Line]:
        """Newest first, older than ``before``; or, with ``after``, the oldest newer lines
        first (a live tail reads what came since it last looked)."""
        where, params = self.where(query)
        if before is not None:
            where.append("(l.ts < %s OR (l.ts = %s AND l.id < %s))")
            params += [before[0], before[0], before[1]]
        if after is not None:
            where.append("(l.ts > %s OR (l.ts = %s AND l.id > %s))")
            params += [after[0], after[0], after[1]]
        if after is not None:
            order = "l.ts ASC, l.id ASC"
        elif self.bitmap_first(query):
            # Keywords within a namespace (or workload, pod): the indexes on the message
            # and on (namespace, time) find the few matches; walking the time index
            # backwards instead, which the planner prefers as it thinks keywords match
            # often, reads the whole range when they do not.
            order = "l.ts + 0 DESC, l.id DESC"
        else:
            order = "l.ts DESC, l.id DESC"
        sql = (
            f"SELECT {SELECT} FROM logs_line l WHERE {' AND '.join(where)} "
            f"ORDER BY {order} LIMIT %s"
        )
        return self._lines(sql, [*params, int(limit)])

    def bitmap_first(self, query: LogQuery) -> bool:
        return False

    def histogram(self, query: LogQuery, step: int) -> list[tuple[int, int]]:
        """(bucket start in µs, hits) for every bucket of ``step`` µs that has hits."""
        where, params = self.where(query)
        sql = (
            f"SELECT (l.ts - %s) / %s AS bucket, COUNT(*) FROM logs_line l "
            f"WHERE {' AND '.join(where)} GROUP BY bucket ORDER BY bucket"
        )
        start = to_us(query.start)
        with connection.cursor() as cursor:
            cursor.execute(sql, [start, step, *params])
            return [(start + int(bucket) * step, count) for bucket, count in cursor.fetchall()]

    def get(self, line_id: int, scope: tuple[str, list] | None) -> Line | None:
        where, params = ["l.id = %s"], [line_id]
        self._scope(where, params, scope)
        found = self._lines(f"SELECT {SELECT} FROM logs_line l WHERE {' AND '.join(where)}", params)
        return found[0] if found else None

    def context(self, line: Line, before: int, after: int) -> tuple[list[Line], list[Line]]:
        """The lines the same container wrote just before and just after ``line``."""
        same = (
            "l.cluster_id = %s AND l.namespace = %s AND l.pod = %s AND l.container = %s "
            "AND l.ts BETWEEN %s AND %s"
        )
        # A day either side bounds the partitions read; a container's neighbours are close.
        base = [line.cluster_id, line.namespace, line.pod, line.container]
        earlier = self._lines(
            f"SELECT {SELECT} FROM logs_line l WHERE {same} "
            "AND (l.ts < %s OR (l.ts = %s AND l.id < %s)) ORDER BY l.ts DESC, l.id DESC LIMIT %s",
            [*base, line.ts - DAY, line.ts, line.ts, line.ts, line.id, before],
        )
        later = self._lines(
            f"SELECT {SELECT} FROM logs_line l WHERE {same} "
            "AND (l.ts > %s OR (l.ts = %s AND l.id > %s)) ORDER BY l.ts ASC, l.id ASC LIMIT %s",
            [*base, line.ts, line.ts + DAY, line.ts, line.ts, line.id, after],
        )
        return list(reversed(earlier)), later

    # -- SQL -----------------------------------------------------------------------------

    def where(self, query: LogQuery) -> tuple[list[str], list]:
        where = ["l.ts >= %s", "l.ts < %s"]
        params: list = [to_us(query.start), to_us(query.end)]
        if query.clusters is not None:
            if not query.clusters:
                where.append("1 = 0")
            else:
                where.append(f"l.cluster_id IN ({', '.join(['%s'] * len(query.clusters))})")
                params += list(query.clusters)
        for column in ("namespace", "workload", "pod", "container"):
            match = getattr(query, column)
            if match is not None:
                sql, more = self._match(f"l.{column}", match)
                where.append(sql)
                params += more
        if query.keywords is not None:
            sql, more = self._keywords(query.keywords)
            where.append(sql)
            params += more
        self._scope(where, params, query.scope)
        return where, params

    def _scope(self, where: list, params: list, scope) -> None:
        if scope is not None:
            sql, more = scope
            where.append(f"(l.cluster_id, l.namespace) IN ({sql})")
            params += list(more)

    def _match(self, column: str, match: Match) -> tuple[str, list]:
        if match.prefix:
            return f"{column} LIKE %s ESCAPE '\\'", [like_escape(match.value) + "%"]
        return f"{column} = %s", [match.value]

    def _keywords(self, node) -> tuple[str, list]:
        if isinstance(node, Term):
            return self.term_sql(node.text)
        if isinstance(node, Not):
            sql, params = self._keywords(node.node)
            return f"NOT ({sql})", params
        parts = [self._keywords(n) for n in node.nodes]
        joiner = " AND " if isinstance(node, And) else " OR "
        assert isinstance(node, And | Or)
        return "(" + joiner.join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]

    def _lines(self, sql: str, params: list) -> list[Line]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [Line(*row) for row in cursor.fetchall()]


class SqliteStore(LogStore):
    vendor = "sqlite"

    def ingest(self, cluster_id: int, records: list[Record]) -> int:
        rows = [
            (
                cluster_id,
                r.ts,
                r.namespace,
                r.workload,
                r.pod,
                r.container,
                r.node,
                r.stream,
                r.message,
            )
            for r in records
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO logs_line (cluster_id, ts, namespace, workload, pod, container, "
                "node, stream, message) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
        return len(rows)

    def drop_before(self, cluster_id: int, cutoff: datetime) -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM logs_line WHERE cluster_id = %s AND ts < %s",
                [cluster_id, to_us(cutoff)],
            )
            return cursor.rowcount

    def term_sql(self, text: str) -> tuple[str, list]:
        if len(text) >= 3:
            phrase = '"' + text.replace('"', '""') + '"'
            return (
                "l.id IN (SELECT rowid FROM logs_line_fts WHERE logs_line_fts MATCH %s)",
                [phrase],
            )
        # Too short for a trigram: checked on the lines the other conditions chose.
        return "instr(lower(l.message), lower(%s)) > 0", [text]


class PostgresStore(LogStore):
    vendor = "postgresql"

    def ingest(self, cluster_id: int, records: list[Record]) -> int:
        if not records:
            return 0
        with transaction.atomic():
            self._partitions(cluster_id, {r.ts // DAY for r in records})
            buffer = io.StringIO()
            for r in records:
                fields = (
                    str(cluster_id),
                    str(r.ts),
                    r.namespace,
                    r.workload,
                    r.pod,
                    r.container,
                    r.node,
                    r.stream,
                    r.message,
                )
                buffer.write("\t".join(map(_copy_escape, fields)) + "\n")
            with connection.cursor() as cursor:
                raw = cursor.cursor
                with raw.copy(
                    "COPY logs_line (cluster_id, ts, namespace, workload, pod, container, node, "
                    "stream, message) FROM STDIN"
                ) as copy:
                    copy.write(buffer.getvalue())
        return len(records)

    def _partitions(self, cluster_id: int, days: set[int]) -> None:
        parent = f"logs_line_c{int(cluster_id)}"
        wanted = [(parent, None)] + [(f"{parent}_d{_day_name(d)}", d) for d in sorted(days)]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NULL",
                [[name for name, _d in wanted]],
            )
            missing = {row[0] for row in cursor.fetchall()}
            for name, day in wanted:
                if name not in missing:
                    continue
                if day is None:
                    ddl = (
                        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF logs_line "
                        f"FOR VALUES IN ({int(cluster_id)}) PARTITION BY RANGE (ts)"
                    )
                else:
                    ddl = (
                        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {parent} "
                        f"FOR VALUES FROM ({day * DAY}) TO ({(day + 1) * DAY})"
                    )
                try:
                    with transaction.atomic():
                        cursor.execute(ddl)
                except DatabaseError:
                    # Another ingest created it meanwhile; it is there either way.
                    cursor.execute("SELECT to_regclass(%s)", [name])
                    if cursor.fetchone()[0] is None:
                        raise

    def day_partitions(self, cluster_id: int) -> list[tuple[str, datetime]]:
        """The cluster's day partitions: (name, day), oldest first."""
        parent = f"logs_line_c{int(cluster_id)}"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
                [parent],
            )
            names = [row[0] for row in cursor.fetchall()]
        return [
            (n, datetime.strptime(n.rsplit("_d", 1)[1], "%Y%m%d").replace(tzinfo=UTC))
            for n in names
        ]

    def drop_before(self, cluster_id: int, cutoff: datetime) -> int:
        dropped = 0
        with connection.cursor() as cursor:
            for name, day in self.day_partitions(cluster_id):
                if day + timedelta(days=1) <= cutoff:
                    with transaction.atomic():
                        cursor.execute(f"SELECT COUNT(*) FROM {name}")
                        dropped += cursor.fetchone()[0]
                        cursor.execute(f"DROP TABLE {name}")
        return dropped

    def term_sql(self, text: str) -> tuple[str, list]:
        return "l.message ILIKE %s ESCAPE '\\'", ["%" + like_escape(text) + "%"]

    def bitmap_first(self, query: LogQuery) -> bool:
        narrowed = query.namespace or query.workload or query.pod
        return query.keywords is not None and narrowed is not None


def _day_name(day: int) -> str:
    return from_us(day * DAY).strftime("%Y%m%d")


def _copy_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def get_store() -> LogStore:
    if connection.vendor == "postgresql":
        return PostgresStore()
    if connection.vendor == "sqlite":
        return SqliteStore()
    raise RuntimeError(f"No log store for {connection.vendor}")


# -- schema (called by the migration) --------------------------------------------------

SQLITE_SCHEMA = [
    "CREATE TABLE logs_line (id INTEGER PRIMARY KEY, cluster_id integer NOT NULL, "
    "ts integer NOT NULL, namespace text NOT NULL, workload text NOT NULL DEFAULT '', "
    "pod text NOT NULL, container text NOT NULL, node text NOT NULL DEFAULT '', "
    "stream text NOT NULL DEFAULT 'stdout', message text NOT NULL)",
    "CREATE INDEX logs_line_cluster_ts ON logs_line (cluster_id, ts)",
    "CREATE INDEX logs_line_ns_ts ON logs_line (namespace, ts)",
    "CREATE INDEX logs_line_source ON logs_line (cluster_id, namespace, pod, container, ts)",
    "CREATE VIRTUAL TABLE logs_line_fts USING fts5(message, content='logs_line', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER logs_line_ai AFTER INSERT ON logs_line BEGIN "
    "INSERT INTO logs_line_fts(rowid, message) VALUES (new.id, new.message); END",
    "CREATE TRIGGER logs_line_ad AFTER DELETE ON logs_line BEGIN "
    "INSERT INTO logs_line_fts(logs_line_fts, rowid, message) "
    "VALUES ('delete', old.id, old.message); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS logs_line_ai",
    "DROP TRIGGER IF EXISTS logs_line_ad",
    "DROP TABLE IF EXISTS logs_line_fts",
    "DROP TABLE IF EXISTS logs_line",
]
POSTGRES_SCHEMA = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE logs_line (id bigserial NOT NULL, cluster_id integer NOT NULL, "
    "ts bigint NOT NULL, namespace varchar(253) NOT NULL, workload varchar(253) NOT NULL "
    "DEFAULT '', pod varchar(253) NOT NULL, container varchar(253) NOT NULL, "
    "node varchar(253) NOT NULL DEFAULT '', stream varchar(16) NOT NULL DEFAULT 'stdout', "
    "message text NOT NULL) PARTITION BY LIST (cluster_id)",
    "CREATE INDEX logs_line_ts ON logs_line (ts)",
    "CREATE INDEX logs_line_ns_ts ON logs_line (namespace, ts)",
    "CREATE INDEX logs_line_source ON logs_line (namespace, pod, container, ts)",
    "CREATE INDEX logs_line_message_trgm ON logs_line USING gin (message gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP TABLE IF EXISTS logs_line CASCADE"]


def create_schema(schema_editor) -> None:
    postgres = schema_editor.connection.vendor == "postgresql"
    statements = POSTGRES_SCHEMA if postgres else SQLITE_SCHEMA
    for sql in statements:
        schema_editor.execute(sql)


def drop_schema(schema_editor) -> None:
    statements = POSTGRES_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP
    for sql in statements:
        schema_editor.execute(sql)
