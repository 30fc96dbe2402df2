"""The log centre over the REST API: the same queries as the portal's search page.

Query parameters (all optional): ``q`` (keywords: AND implied, OR, NOT/-word,
"phrases", parentheses), ``cluster``, ``namespace``, ``workload``, ``pod``,
``container`` (exact, or a prefix ending with ``*``), ``range`` (15m, 1h, 6h, 24h, 7d)
or ``start``/``end`` (ISO 8601).
"""

from types import SimpleNamespace

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from . import services

PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.STR, description=text)
    for name, text in (
        ("q", 'Keywords: AND (implied), OR, NOT or -word, "a phrase", parentheses.'),
        ("cluster", "Cluster name."),
        ("namespace", "Exact, or a prefix ending with *."),
        ("workload", "Exact, or a prefix ending with *."),
        ("pod", "Exact, or a prefix ending with *."),
        ("container", "Exact, or a prefix ending with *."),
        ("range", "15m, 1h (default), 6h, 24h or 7d."),
        ("start", "ISO 8601; with end, instead of range."),
        ("end", "ISO 8601."),
    )
]


class LogLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    time = serializers.DateTimeField()
    cluster = serializers.CharField()
    namespace = serializers.CharField()
    workload = serializers.CharField()
    pod = serializers.CharField()
    container = serializers.CharField()
    node = serializers.CharField()
    stream = serializers.CharField()
    message = serializers.CharField()
    cursor = serializers.CharField()
    matches = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class LogSearchPageSerializer(serializers.Serializer):
    next = serializers.CharField(
        allow_null=True, help_text="The cursor of the next (older) page: pass it as before."
    )
    results = LogLineSerializer(many=True)


def _time(params, name):
    value = params.get(name)
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise serializers.ValidationError({name: ["Give an ISO 8601 date and time."]})
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def query_from(request):
    params = request.query_params
    return services.build_query(
        request.user,
        **{k: params.get(k, "") for k in ("q", "cluster", "namespace", "workload", "pod")},
        container=params.get("container", ""),
        range=params.get("range", "1h"),
        start=_time(params, "start"),
        end=_time(params, "end"),
    )


def _limit(request) -> int:
    raw = request.query_params.get("limit") or str(services.PAGE)
    if not raw.isdigit() or int(raw) < 1:
        raise serializers.ValidationError({"limit": ["A whole number from 1 to 1000."]})
    return min(int(raw), 1000)


def _count(request, name: str) -> int:
    """How many lines ``name`` asks for around a line (10 by default), or a 400."""
    raw = request.query_params.get(name) or "10"
    try:
        return int(raw)
    except ValueError:
        raise serializers.ValidationError({name: [_("A whole number.")]}) from None


class PageSchema(AutoSchema):
    """The search answers one page object (``next`` and ``results``), not a bare list."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class FormatIsAFilter(DefaultContentNegotiation):
    """``format`` is the export's own parameter (text or jsonl), not DRF's renderer
    override, which answered ``?format=jsonl`` with a 404 for want of a "jsonl" renderer."""

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)


class LogViewSet(viewsets.ViewSet):
    """Search the log centre (newest first, paged by ``before`` cursors)."""

    lookup_value_regex = "[0-9]+"
    schema = PageSchema()
    content_negotiation_class = FormatIsAFilter

    @extend_schema(
        parameters=[
            *PARAMETERS,
            OpenApiParameter("before", OpenApiTypes.STR),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Lines a page (at most 1000)."),
        ],
        responses=LogSearchPageSerializer,
    )
    def list(self, request):
        query = query_from(request)
        limit = _limit(request)
        hits = services.search(query, before=request.query_params.get("before", ""), limit=limit)
        return Response(
            {
                "next": hits[-1].cursor if len(hits) == limit else None,
                "results": [services.hit_json(h, query.terms) for h in hits],
            }
        )

    @extend_schema(parameters=PARAMETERS, responses=OpenApiTypes.OBJECT)
    @action(detail=False)
    def histogram(self, request):
        query = query_from(request)
        buckets = services.histogram(query)
        return Response(
            {
                "step_seconds": services.histogram_step(query) // 1_000_000,
                "total": sum(b["count"] for b in buckets),
                "buckets": [
                    {"start": b["start"].isoformat(), "count": b["count"]} for b in buckets
                ],
            }
        )

    @extend_schema(
        parameters=[*PARAMETERS, OpenApiParameter("after", OpenApiTypes.STR)],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=False)
    def tail(self, request):
        query = query_from(request)
        query.end = timezone.now() + timezone.timedelta(minutes=5)
        hits = services.tail(query, after=request.query_params.get("after", ""))
        return Response({"results": [services.hit_json(h, query.terms) for h in hits]})

    @extend_schema(
        parameters=[*PARAMETERS, OpenApiParameter("format", OpenApiTypes.STR)],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
    )
    @action(detail=False)
    def export(self, request):
        query = query_from(request)
        fmt = request.query_params.get("format", "jsonl")
        lines, _count = services.export(request.user, query, fmt)
        kind = "application/x-ndjson" if fmt == "jsonl" else "text/plain; charset=utf-8"
        return StreamingHttpResponse(lines, content_type=kind)

    @extend_schema(
        parameters=[
            OpenApiParameter("before", OpenApiTypes.INT),
            OpenApiParameter("after", OpenApiTypes.INT),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True)
    def context(self, request, pk=None):
        try:
            line_id = int(pk)
        except (TypeError, ValueError):
            from django.http import Http404

            raise Http404 from None
        around = services.context(
            request.user,
            line_id,
            before=_count(request, "before"),
            after=_count(request, "after"),
        )
        return Response(
            {
                "line": services.hit_json(around["line"]),
                "before": [services.hit_json(h) for h in around["before"]],
                "after": [services.hit_json(h) for h in around["after"]],
            }
        )
