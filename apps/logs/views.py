"""The log centre in the portal: search, histogram, context, live tail, export; and the
ingest endpoint the clusters' shippers post to (token-authenticated, not a portal page).

Every page builds its query with ``services.build_query`` (the reader's scope included),
so a tenant's page can only ever show lines of namespaces they may work in.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from apps.core import authz
from apps.core.views import PortalView

from . import services
from .forms import LogSearchForm, RetentionForm
from .models import LogShipper

QUERY_FIELDS = (
    "q",
    "cluster",
    "namespace",
    "workload",
    "pod",
    "container",
    "range",
    "start",
    "end",
)


class LogQueryMixin(PortalView):
    """Reads the query from the GET parameters, as the search form sends them."""

    needs = authz.Perm.OPERATE

    def get_form(self):
        data = self.request.GET if any(k in self.request.GET for k in QUERY_FIELDS) else None
        form = LogSearchForm(data, user=self.request.user, initial={"range": "1h"})
        if data is None:
            form = LogSearchForm({"range": "1h"}, user=self.request.user)
        form.is_valid()
        return form

    def query_string(self) -> str:
        params = self.request.GET.copy()
        for key in ("before", "after"):
            params.pop(key, None)
        return params.urlencode()


class LogSearchView(LogQueryMixin, TemplateView):
    template_name = "logs/search.html"
    partial_template_name = "logs/partials/page.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = self.get_form()
        hits = []
        if form.query is not None:
            hits = services.search(form.query, before=self.request.GET.get("before", ""))
        context.update(
            title=_("Log search"),
            form=form,
            hits=hits,
            terms=form.query.terms if form.query else [],
            more=hits[-1].cursor if len(hits) == services.PAGE else "",
            newest=hits[0].cursor if hits else "",
            query_string=self.query_string(),
            paging="before" in self.request.GET,
        )
        return context


class LogHistogramView(LogQueryMixin, TemplateView):
    template_name = "logs/partials/histogram.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = self.get_form()
        bars = services.histogram(form.query) if form.query is not None else []
        peak = max([b["count"] for b in bars], default=0)
        width = 600 / max(len(bars), 1)
        for i, bar in enumerate(bars):
            bar["height"] = round(80 * bar["count"] / peak, 1) if peak else 0
            bar["x"] = round(i * width, 2)
            bar["y"] = round(80 - bar["height"], 1)
        context.update(
            bars=bars, peak=peak, total=sum(b["count"] for b in bars), bar_width=width * 0.9
        )
        return context


class LogTailView(LogQueryMixin, TemplateView):
    """New lines since ``after``; the page polls it while the live tail is on."""

    template_name = "logs/partials/tail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = self.get_form()
        after = self.request.GET.get("after", "")
        hits = []
        if form.query is not None:
            form.query.end = timezone.now() + timezone.timedelta(minutes=5)
            hits = services.tail(form.query, after=after)
        context.update(
            hits=hits,
            terms=form.query.terms if form.query else [],
            after=hits[-1].cursor if hits else after,
            query_string=self.query_string(),
        )
        return context


class LogContextView(PortalView, TemplateView):
    needs = authz.Perm.OPERATE
    template_name = "logs/context.html"
    partial_template_name = "logs/partials/context.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        around = services.context(
            self.request.user,
            kwargs["pk"],
            before=_int(self.request.GET.get("before"), 10),
            after=_int(self.request.GET.get("after"), 10),
        )
        context.update(title=_("Lines around the hit"), **around)
        return context


class LogExportView(LogQueryMixin, View):
    def get(self, request):
        form = self.get_form()
        if form.query is None:
            return HttpResponse(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        fmt = request.GET.get("format", "text")
        try:
            lines, _count = services.export(request.user, form.query, fmt)
        except ValidationError as exc:
            return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
        kind = "application/x-ndjson" if fmt == "jsonl" else "text/plain; charset=utf-8"
        response = StreamingHttpResponse(lines, content_type=kind)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        extension = "jsonl" if fmt == "jsonl" else "log"
        response["Content-Disposition"] = f'attachment; filename="logs-{stamp}.{extension}"'
        return response


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@csrf_exempt
@require_POST
def ingest(request):
    """fluent-bit's http output posts here (one bearer token per cluster)."""
    limit = services.settings.LOGS_INGEST_MAX_BYTES
    try:
        if _int(request.headers.get("Content-Length"), 0) > limit:
            raise services.IngestRefused(413, f"the body is larger than {limit} bytes")
        # Read up to the limit from the stream (request.body would stop at Django's own
        # DATA_UPLOAD_MAX_MEMORY_SIZE), one byte more to tell a larger body.
        body = request.read(limit + 1)
        result = services.ingest(
            request.headers.get("Authorization", ""),
            body,
            request.headers.get("Content-Encoding", ""),
        )
    except services.IngestRefused as exc:
        response = JsonResponse({"error": exc.message}, status=exc.status)
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    return JsonResponse(result, status=201)


# --- the shippers, for cloud admins -----------------------------------------------------------


class ShipperListView(PortalView, TemplateView):
    cloud_admin_only = True
    template_name = "logs/shipper_list.html"

    def get_context_data(self, **kwargs):
        from apps.clusters.models import Cluster

        context = super().get_context_data(**kwargs)
        shippers = {s.cluster_id: s for s in LogShipper.objects.all()}
        clusters = Cluster.objects.exclude(status=Cluster.Status.DELETED).order_by("name")
        context.update(
            title=_("Log shippers"),
            rows=[(c, shippers.get(c.pk)) for c in clusters],
            retention_form=RetentionForm(),
        )
        return context


class ShipperActionView(PortalView, View):
    cloud_admin_only = True
    ACTIONS = {
        "deploy": gettext_lazy("The log shipper was deployed with a new ingest token."),
        "revoke": gettext_lazy("The ingest token was revoked."),
        "retention": gettext_lazy("The retention was changed."),
    }

    def post(self, request, pk, action):
        from apps.clusters.models import Cluster

        cluster = get_object_or_404(Cluster, pk=pk)
        if action not in self.ACTIONS:
            return HttpResponse(status=404)
        try:
            if action == "deploy":
                services.redeploy_shipper(request.user, cluster)
            elif action == "revoke":
                services.revoke_token(request.user, cluster)
            else:
                form = RetentionForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(
                        [m for messages_ in form.errors.values() for m in messages_]
                    )
                services.set_retention(request.user, cluster, form.cleaned_data["retention_days"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except PermissionDenied:
            raise
        except Exception as exc:  # a Kubernetes failure: said on the page, audited by the service
            messages.error(request, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, self.ACTIONS[action])
        return HttpResponseRedirect(reverse("portal:logshipper_list"))


__all__ = ["ingest", "json"]
