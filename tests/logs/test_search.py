"""Searching the log centre in the portal and the API: what each tenant may read, the
histogram, context, export, live tail, and query counts that do not grow with the hits."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.logs.store import Record, get_store, to_us


@pytest.fixture
def logs(shop, lab, cluster):
    """Lines in web-shop's namespace (shop) and data-lab's (lab), written a minute ago."""
    now = timezone.now()

    def line(seconds, namespace, pod, message):
        return Record(
            ts=to_us(now - timezone.timedelta(seconds=seconds)),
            namespace=namespace,
            pod=pod,
            container="app",
            workload=pod.rsplit("-", 2)[0],
            message=message,
        )

    get_store().ingest(
        cluster.pk,
        [
            line(60, "shop", "web-7d4f9-abcde", "ERROR payment 付款失败 for order_id=7"),
            line(50, "shop", "web-7d4f9-abcde", "INFO next line after the error"),
            line(70, "shop", "web-7d4f9-abcde", "INFO line before the error"),
            line(40, "lab", "notebook-5c6b7-zzzzz", "ERROR secret experiment failed"),
            line(30, "kube-system", "coredns-1-2", "ERROR dns"),
        ],
    )
    return cluster


def messages(response):
    return [hit["message"] for hit in response.json()["results"]]


def test_an_operator_finds_a_line_by_keyword_across_a_namespace(portal, logs):
    page = portal("admin").get("/logs/", {"q": "付款失败", "namespace": "shop"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "<mark>付款失败</mark>" in html
    assert "order_id=7" in html
    assert "secret experiment" not in html


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("admin", {"shop", "lab", "kube-system"}),
        ("projadmin", {"shop"}),  # web-shop's admin
        ("member", {"shop"}),  # shop was opened to web-shop's member
        ("outsider", set()),  # data-lab's member: lab is not opened to them
        ("deptadmin", {"shop", "lab"}),
    ],
)
def test_tenants_search_only_their_namespaces(api, logs, username, visible):
    answer = api(username).get("/api/v1/logs/", {"q": "ERROR"})
    assert answer.status_code == 200, answer.content
    assert {hit["namespace"] for hit in answer.json()["results"]} == visible


def test_asking_for_another_projects_namespace_finds_nothing(api, portal, logs):
    assert messages(api("member").get("/api/v1/logs/", {"namespace": "lab"})) == []
    assert api("member").get("/api/v1/logs/histogram/", {"namespace": "lab*"}).json()["total"] == 0
    page = portal("member").get("/logs/", {"q": "secret"}).content.decode()
    assert "secret experiment" not in page
    exported = b"".join(portal("member").get("/logs/export/", {"format": "text"}).streaming_content)
    assert b"secret experiment" not in exported and b"payment" in exported


def test_context_of_another_tenants_line_is_404(api, portal, org, logs, lab):
    from apps.namespaces import services as ns_services

    lab_line = next(
        h for h in api("admin").get("/api/v1/logs/", {"q": "experiment"}).json()["results"]
    )
    assert api("member").get(f"/api/v1/logs/{lab_line['id']}/context/").status_code == 404
    assert portal("member").get(f"/logs/lines/{lab_line['id']}/context/").status_code == 404
    assert api("outsider").get(f"/api/v1/logs/{lab_line['id']}/context/").status_code == 404
    ns_services.set_members(org.admin, lab, [org.outsider])  # opened to data-lab's member
    assert api("outsider").get(f"/api/v1/logs/{lab_line['id']}/context/").status_code == 200
    assert messages(api("outsider").get("/api/v1/logs/", {"q": "ERROR"})) == [
        "ERROR secret experiment failed"
    ]


def test_a_member_without_the_namespace_opened_sees_nothing(api, org, logs, shop):
    from apps.namespaces import services as ns_services

    ns_services.set_members(org.projadmin, shop, [])
    assert messages(api("member").get("/api/v1/logs/")) == []


def test_context_shows_the_lines_around_a_hit(api, portal, logs):
    hit = api("member").get("/api/v1/logs/", {"q": "付款失败"}).json()["results"][0]
    around = api("member").get(f"/api/v1/logs/{hit['id']}/context/").json()
    assert [h["message"] for h in around["before"]] == ["INFO line before the error"]
    assert [h["message"] for h in around["after"]] == ["INFO next line after the error"]
    page = portal("member").get(f"/logs/lines/{hit['id']}/context/").content.decode()
    assert page.index("line before the error") < page.index("付款失败") < page.index("next line")


def test_histogram_counts_the_hits(api, portal, logs):
    answer = api("admin").get("/api/v1/logs/histogram/", {"q": "ERROR", "range": "15m"})
    data = answer.json()
    assert data["total"] == 5  # case-insensitive: "the error" too
    assert sum(b["count"] for b in data["buckets"]) == 5
    assert data["step_seconds"] == 30
    html = portal("admin").get("/logs/histogram/", {"q": "ERROR"}).content.decode()
    assert "5 hits" in html and "<rect" in html


def test_export_as_text_and_json_lines_is_bounded_and_audited(portal, api, logs, settings):
    settings.LOGS_EXPORT_MAX_LINES = 2
    answer = portal("projadmin").get("/logs/export/", {"namespace": "shop", "format": "jsonl"})
    assert answer["Content-Disposition"].startswith("attachment;")
    rows = [json.loads(line) for line in b"".join(answer.streaming_content).splitlines()]
    # The newest two, oldest first.
    assert [r["message"] for r in rows] == [
        "ERROR payment 付款失败 for order_id=7",
        "INFO next line after the error",
    ]
    answer = portal("projadmin").get("/logs/export/", {"q": "付款失败", "format": "text"})
    text = b"".join(answer.streaming_content).decode()
    assert text.strip().endswith("/shop/web-7d4f9-abcde/app ERROR payment 付款失败 for order_id=7")
    event = AuditEvent.objects.filter(action="logs.export").latest("pk")
    assert event.actor_name == "projadmin" and event.detail["lines"] == 1


def test_bad_input_is_a_clear_error_not_a_500(api, portal, logs):
    answer = api("admin").get("/api/v1/logs/", {"q": '"unclosed'})
    assert answer.status_code == 400
    assert "q" in answer.json()
    assert api("admin").get("/api/v1/logs/", {"start": "yesterday"}).status_code == 400
    assert api("admin").get("/api/v1/logs/", {"cluster": "nope"}).status_code == 400
    page = portal("admin").get("/logs/", {"q": "a OR"})
    assert page.status_code == 200
    assert "add a word after it" in page.content.decode()
    assert portal("admin").get("/logs/export/", {"format": "xml"}).status_code == 400
    hit = api("admin").get("/api/v1/logs/", {"q": "付款失败"}).json()["results"][0]
    answer = api("admin").get(f"/api/v1/logs/{hit['id']}/context/", {"before": "null"})
    assert answer.status_code == 400 and "before" in answer.json()  # was a 500


def test_live_tail_returns_what_arrived_since(api, portal, logs):
    newest = api("admin").get("/api/v1/logs/").json()["results"][0]["cursor"]
    assert api("admin").get("/api/v1/logs/tail/", {"after": newest}).json()["results"] == []
    get_store().ingest(
        logs.pk,
        [
            Record(
                ts=to_us(timezone.now()),
                namespace="shop",
                pod="web-7d4f9-abcde",
                container="app",
                message="brand new line",
            )
        ],
    )
    fresh = api("admin").get("/api/v1/logs/tail/", {"after": newest}).json()["results"]
    assert [h["message"] for h in fresh] == ["brand new line"]
    html = portal("member").get("/logs/tail/", {"after": newest}).content.decode()
    assert "brand new line" in html and 'hx-trigger="every 2s"' in html


def test_results_are_paged_with_a_cursor(api, logs):
    first = api("admin").get("/api/v1/logs/", {"limit": 2}).json()
    second = api("admin").get("/api/v1/logs/", {"limit": 2, "before": first["next"]}).json()
    ids = [h["id"] for h in first["results"]] + [h["id"] for h in second["results"]]
    assert len(ids) == len(set(ids)) == 4


@pytest.mark.parametrize("url", ["/logs/", "/api/v1/logs/"])
def test_search_runs_constant_queries(portal, api, logs, url):
    client = api("member") if url.startswith("/api/") else portal("member")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"namespace": "shop"}).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    now = timezone.now()
    get_store().ingest(
        logs.pk,
        [
            Record(
                ts=to_us(now - timezone.timedelta(seconds=i)),
                namespace="shop",
                pod=f"web-{i}-x",
                container="app",
                message=f"more {i}",
            )
            for i in range(150)
        ],
    )
    assert count() == small


def test_the_search_page_is_in_the_menu_of_every_role(portal, logs):
    for username in ("admin", "projadmin", "member"):
        assert 'href="/logs/"' in portal(username).get("/").content.decode()
    assert 'href="/logs/shippers/"' not in portal("member").get("/").content.decode()
    assert portal("member").get("/logs/shippers/").status_code == 403


def test_the_api_exports_json_lines_although_drf_reads_format_as_a_renderer(api, logs):
    answer = api("projadmin").get("/api/v1/logs/export/", {"namespace": "shop", "format": "jsonl"})
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in b"".join(answer.streaming_content).splitlines()]
    assert {r["namespace"] for r in rows} == {"shop"} and len(rows) == 3
