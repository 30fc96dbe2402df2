"""The log centre's operations: shipping, ingest, search. Validate → authorize → act → audit.

Collection is push, as on real platforms: a prepared cluster runs fluent-bit
(shipper.py), which posts its containers' lines to ``ingest`` with the cluster's token.
Reading goes through ``build_query``, which puts the reader's scope (the namespaces they
may work in, from ``apps.core.authz``) into the query the store runs.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from apps.core import audit, authz
from apps.core.audit import audited

from . import shipper as fluentbit
from .models import LogShipper, digest
from .query import LogQuery, Match, parse_keywords
from .store import Line, Record, get_store, parse_cursor, to_us

MAX_MESSAGE = 32 * 1024  # characters kept of one line
MAX_RANGE = timedelta(days=31)
PAGE = 100
TAIL_PAGE = 500
RANGES = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
STEPS = [
    s * 1_000_000
    for s in (1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)
]
HISTOGRAM_BARS = 60


class IngestRefused(Exception):
    """Why the ingest endpoint answers with an error: ``status`` and a message."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


# --- the shipper and its token ------------------------------------------------------------


def shipper_of(cluster) -> LogShipper:
    found, _created = LogShipper.objects.get_or_create(cluster=cluster)
    return found


def install(cluster, kube=None) -> LogShipper:
    """Deploy (or refresh) the cluster's fluent-bit with a new ingest token.

    Called when a cluster is prepared for the portal and by ``redeploy_shipper``. Only
    the token's digest is kept: deploying again issues a new one, which ends the old.
    """
    kube = kube or cluster.kube()
    shipper = shipper_of(cluster)
    token = shipper.issue()
    shipper.endpoint = settings.LOGS_INGEST_URL
    fluentbit.apply(kube, shipper.endpoint, token)
    shipper.deployed = timezone.now()
    shipper.save()
    return shipper


@audited("logs.shipper.deploy")
def redeploy_shipper(actor, cluster) -> LogShipper:
    authz.require_cloud_admin(actor)
    shipper = install(cluster)
    audit.record(
        actor,
        "logs.shipper.deploy",
        cluster,
        detail={"endpoint": shipper.endpoint, "token": shipper.token_hint + "…"},
    )
    return shipper


@audited("logs.token.revoke")
def revoke_token(actor, cluster) -> LogShipper:
    """The cluster's shipper may no longer send (its lines get 401 until redeployed)."""
    authz.require_cloud_admin(actor)
    shipper = shipper_of(cluster)
    if not shipper.active:
        raise ValidationError(_("The cluster has no ingest token to revoke."))
    shipper.revoked = timezone.now()
    shipper.save(update_fields=["revoked"])
    audit.record(actor, "logs.token.revoke", cluster, detail={"token": shipper.token_hint + "…"})
    return shipper


@audited("logs.retention")
def set_retention(actor, cluster, days: int) -> LogShipper:
    authz.require_cloud_admin(actor)
    if not 1 <= int(days) <= 365:
        raise ValidationError({"retention_days": _("Keep logs between 1 and 365 days.")})
    shipper = shipper_of(cluster)
    shipper.retention_days = int(days)
    shipper.save(update_fields=["retention_days"])
    audit.record(actor, "logs.retention", cluster, detail={"days": int(days)})
    return shipper


def drop_expired(now: datetime | None = None) -> dict[int, int]:
    """Retention: each cluster's lines older than its retention are dropped (beat)."""
    now = now or timezone.now()
    store = get_store()
    dropped = {}
    for shipper in LogShipper.objects.all():
        dropped[shipper.cluster_id] = store.drop_before(
            shipper.cluster_id, now - timedelta(days=shipper.retention_days)
        )
    return dropped


# --- ingest ---------------------------------------------------------------------------------

_slots = None
_slots_lock = threading.Lock()


def _ingest_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None or _slots._initial_value != settings.LOGS_INGEST_CONCURRENCY:
            _slots = threading.BoundedSemaphore(settings.LOGS_INGEST_CONCURRENCY)
            _slots._initial_value = settings.LOGS_INGEST_CONCURRENCY
        return _slots


def authenticate(header: str) -> LogShipper:
    scheme, _sep, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise IngestRefused(401, "an ingest token is required (Authorization: Bearer ...)")
    shipper = (
        LogShipper.objects.select_related("cluster")
        .filter(token_digest=digest(token.strip()), revoked__isnull=True)
        .first()
    )
    if shipper is None:
        raise IngestRefused(401, "unknown or revoked ingest token")
    return shipper


def _decompress(body: bytes, encoding: str) -> bytes:
    limit = settings.LOGS_INGEST_MAX_BYTES
    if encoding in ("gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise IngestRefused(400, f"the body is not valid {encoding}") from exc
        if len(out) > limit or inflater.unconsumed_tail:
            raise IngestRefused(413, f"the decompressed body is larger than {limit} bytes")
        return out
    if encoding not in ("", "identity"):
        raise IngestRefused(415, f"unsupported Content-Encoding {encoding}")
    return body


def parse_body(body: bytes, encoding: str = "") -> list:
    """fluent-bit's http output: a JSON array of records (Format json), or one record a
    line (json_lines / json_stream)."""
    text = _decompress(body, encoding.strip().lower()).decode("utf-8", errors="replace").strip()
    if not text:
        return []
    try:
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        pass
    records = []
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.strip():
            try:
                records.append(json.loads(raw))
            except json.JSONDecodeError as exc:
                raise IngestRefused(400, f"line {number} is not JSON: {exc.msg}") from exc
    return records


def _timestamp(record: dict) -> int | None:
    value = record.get("date", record.get("time", record.get("@timestamp")))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(float(value) * 1_000_000)
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None
        return to_us(moment)
    return None


def workload_of(pod: str, labels: dict) -> str:
    """The workload a pod belongs to, from what its controller put in its name and labels."""
    if labels.get("statefulset.kubernetes.io/pod-name") == pod:
        return pod.rsplit("-", 1)[0]
    template_hash = labels.get("pod-template-hash")
    if template_hash and f"-{template_hash}-" in pod:
        return pod.rsplit(f"-{template_hash}-", 1)[0]
    job = labels.get("batch.kubernetes.io/job-name") or labels.get("job-name")
    if job:
        return job
    if labels.get("controller-revision-hash") and "-" in pod:
        return pod.rsplit("-", 1)[0]  # a DaemonSet's pod
    return ""


def to_record(record) -> Record | None:
    if not isinstance(record, dict):
        return None
    meta = record.get("kubernetes")
    if not isinstance(meta, dict):
        return None
    ts = _timestamp(record)
    message = record.get("log", record.get("message"))
    namespace, pod = meta.get("namespace_name"), meta.get("pod_name")
    container = meta.get("container_name")
    if ts is None or not isinstance(message, str) or not (namespace and pod and container):
        return None
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    return Record(
        ts=ts,
        namespace=str(namespace)[:253],
        pod=str(pod)[:253],
        container=str(container)[:253],
        workload=workload_of(str(pod), labels)[:253],
        node=str(meta.get("host") or "")[:253],
        stream=str(record.get("stream") or "stdout")[:16],
        message=message.rstrip("\n")[:MAX_MESSAGE],
    )


def _admit(shipper: LogShipper, lines: int) -> None:
    """Back-pressure: each cluster may send so many lines a second (429 beyond)."""
    window = int(time.time())
    key = f"logs:ingest:{shipper.cluster_id}:{window}"
    cache.add(key, 0, timeout=5)
    try:
        used = cache.incr(key, lines)
    except ValueError:  # expired between add and incr
        cache.set(key, lines, timeout=5)
        used = lines
    if used > settings.LOGS_INGEST_LINES_PER_SECOND:
        raise IngestRefused(429, "too many lines; slow down", retry_after=1)


def ingest(authorization: str, body: bytes, encoding: str = "") -> dict:
    """Store what a cluster's shipper sent; raises IngestRefused for the HTTP answer."""
    if len(body) > settings.LOGS_INGEST_MAX_BYTES:
        raise IngestRefused(413, f"the body is larger than {settings.LOGS_INGEST_MAX_BYTES} bytes")
    shipper = authenticate(authorization)
    slots = _ingest_slots()
    if not slots.acquire(blocking=False):
        raise IngestRefused(429, "the portal is busy storing logs; try again", retry_after=1)
    try:
        raw = parse_body(body, encoding)
        records = [r for r in map(to_record, raw) if r is not None]
        _admit(shipper, len(records))
        stored = get_store().ingest(shipper.cluster_id, records)
    finally:
        slots.release()
    if stored:
        LogShipper.objects.filter(pk=shipper.pk).update(
            lines_received=F("lines_received") + stored, last_received=timezone.now()
        )
    return {"accepted": stored, "rejected": len(raw) - stored}


# --- reading ------------------------------------------------------------------------------


def scope_for(user) -> tuple[str, list] | None:
    """The (cluster id, namespace) pairs ``user`` may read logs of, as SQL; None: all."""
    from apps.namespaces.models import Namespace

    if authz.is_cloud_admin(user):
        return None
    namespaces = (
        Namespace.objects.restrict(user, "work").order_by().values_list("cluster_id", "name")
    )
    try:
        sql, params = namespaces.query.sql_with_params()
    except EmptyResultSet:
        return "SELECT 0, '' WHERE 1 = 0", []  # typed: PostgreSQL compares (integer, text)
    return sql, list(params)


def readable_clusters(user):
    """Clusters with a namespace whose logs ``user`` may read (for the cluster filter)."""
    from apps.clusters.models import Cluster
    from apps.namespaces.models import Namespace

    clusters = Cluster.objects.exclude(status=Cluster.Status.DELETED)
    if authz.is_cloud_admin(user):
        return clusters
    return clusters.filter(pk__in=Namespace.objects.restrict(user, "work").values("cluster"))


def build_query(
    user,
    *,
    cluster: str = "",
    namespace: str = "",
    workload: str = "",
    pod: str = "",
    container: str = "",
    q: str = "",
    range: str = "1h",
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> LogQuery:
    """A validated query over what ``user`` may read; ValidationError names the field."""
    if not (user and user.is_authenticated and user.is_active):
        raise Http404
    errors: dict[str, list[str]] = {}
    now = now or timezone.now()
    if start is None and end is None:
        span = RANGES.get(range or "1h")
        if span is None:
            errors["range"] = [_("Choose one of: %(r)s.") % {"r": ", ".join(RANGES)}]
            span = RANGES["1h"]
        end, start = now, now - span
    else:
        end = end or now
        start = start or end - RANGES["1h"]
        if start >= end:
            errors["start"] = [_("The start must be before the end.")]
        elif end - start > MAX_RANGE:
            errors["start"] = [_("Search at most %(d)s days at once.") % {"d": MAX_RANGE.days}]
    try:
        keywords, terms = parse_keywords(q)
    except ValidationError as exc:
        errors["q"] = exc.messages
        keywords, terms = None, []
    clusters = None
    readable = readable_clusters(user)
    if cluster:
        clusters = list(readable.filter(name=cluster).values_list("pk", flat=True))
        if not clusters:
            errors["cluster"] = [_("No cluster of this name has logs you may read.")]
    elif not authz.is_cloud_admin(user):
        clusters = list(readable.values_list("pk", flat=True))
    if errors:
        raise ValidationError(errors)
    return LogQuery(
        start=start,
        end=end,
        clusters=clusters,
        namespace=Match.parse(namespace),
        workload=Match.parse(workload),
        pod=Match.parse(pod),
        container=Match.parse(container),
        keywords=keywords,
        scope=scope_for(user),
        text=q or "",
        terms=terms,
    )


@dataclass
class Hit:
    """A line as a reader sees it: its cluster's name and the matches marked."""

    line: Line
    cluster: str
    highlighted: SafeString

    def __getattr__(self, name):
        return getattr(self.line, name)


def highlight(text: str, terms: list[str]) -> SafeString:
    """The line, escaped, with every term that matched in <mark>."""
    if not terms:
        return mark_safe(escape(text))  # noqa: S308 (escaped)
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE
    )
    out, last = [], 0
    for found in pattern.finditer(text):
        out.append(escape(text[last : found.start()]))
        out.append(f"<mark>{escape(found.group())}</mark>")
        last = found.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 (every piece escaped)


def match_spans(text: str, terms: list[str]) -> list[list[int]]:
    if not terms:
        return []
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE
    )
    return [[m.start(), m.end()] for m in pattern.finditer(text)]


def _hits(lines: list[Line], terms: list[str]) -> list[Hit]:
    from apps.clusters.models import Cluster

    names = dict(
        Cluster.objects.filter(pk__in={line.cluster_id for line in lines}).values_list("pk", "name")
    )
    return [
        Hit(line, names.get(line.cluster_id, ""), highlight(line.message, terms)) for line in lines
    ]


def search(query: LogQuery, *, before: str = "", limit: int = PAGE) -> list[Hit]:
    """A page of hits, newest first, older than the cursor ``before``."""
    limit = max(1, min(int(limit), 1000))
    return _hits(get_store().search(query, limit=limit, before=parse_cursor(before)), query.terms)


def tail(query: LogQuery, *, after: str) -> list[Hit]:
    """What arrived since ``after`` (the newest line the reader has), oldest first."""
    cursor = parse_cursor(after) or (to_us(query.end), 0)
    return _hits(get_store().search(query, limit=TAIL_PAGE, after=cursor), query.terms)


def histogram_step(query: LogQuery) -> int:
    span = to_us(query.end) - to_us(query.start)
    for step in STEPS:
        if span / step <= HISTOGRAM_BARS:
            return step
    return STEPS[-1]


def histogram(query: LogQuery) -> list[dict]:
    """Hits per time bucket over the whole range (empty buckets included)."""
    step = histogram_step(query)
    counts = dict(get_store().histogram(query, step))
    start, end = to_us(query.start), to_us(query.end)
    from .store import from_us

    return [{"start": from_us(t), "count": counts.get(t, 0)} for t in range(start, end, step)]


def context(user, line_id: int, *, before: int = 10, after: int = 10) -> dict:
    """The lines around one hit, from the same container; a line out of scope is a 404."""
    store = get_store()
    line = store.get(int(line_id), scope_for(user))
    if line is None:
        raise Http404
    before, after = max(0, min(int(before), 200)), max(0, min(int(after), 200))
    earlier, later = store.context(line, before, after)
    hits = _hits([*earlier, line, *later], [])
    return {
        "line": hits[len(earlier)],
        "before": hits[: len(earlier)],
        "after": hits[len(earlier) + 1 :],
    }


@audited("logs.export")
def export(user, query: LogQuery, fmt: str = "text") -> tuple[Iterator[str], int]:
    """The newest lines of a query, oldest first, at most LOGS_EXPORT_MAX_LINES of them."""
    if fmt not in ("text", "jsonl"):
        raise ValidationError({"format": _("Export as text or jsonl.")})
    limit = settings.LOGS_EXPORT_MAX_LINES
    lines = get_store().search(query, limit=limit)
    hits = list(reversed(_hits(lines, [])))
    audit.record(
        user,
        "logs.export",
        target_name=query.text or "*",
        target_type="logs.query",
        detail={
            "lines": len(hits),
            "format": fmt,
            "from": query.start.isoformat(),
            "to": query.end.isoformat(),
        },
    )

    def text():
        for hit in hits:
            yield (
                f"{hit.time.isoformat()} {hit.cluster}/{hit.namespace}/{hit.pod}/"
                f"{hit.container} {hit.message}\n"
            )

    def jsonl():
        for hit in hits:
            yield json.dumps(hit_json(hit), ensure_ascii=False) + "\n"

    return (text() if fmt == "text" else jsonl()), len(hits)


def hit_json(hit: Hit, terms: list[str] | None = None) -> dict:
    data = {
        "id": hit.id,
        "time": hit.time.isoformat(),
        "cluster": hit.cluster,
        "namespace": hit.namespace,
        "workload": hit.workload,
        "pod": hit.pod,
        "container": hit.container,
        "node": hit.node,
        "stream": hit.stream,
        "message": hit.message,
        "cursor": hit.cursor,
    }
    if terms is not None:
        data["matches"] = match_spans(hit.message, terms)
    return data


__all__ = ["IngestRefused", "build_query", "context", "export", "gzip", "histogram", "search"]
