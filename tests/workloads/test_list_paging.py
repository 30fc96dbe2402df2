"""Paging through the pod and workload lists by cursor, as a reader does (issue 11,
"pagination at 20,000 pods"): Next and Previous, rows inserted meanwhile, filters and
sort kept, another project's rows never shown, and a page's cost not growing with rows."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core import keyset
from apps.workloads.models import Pod, Workload

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _pods(namespace, names, **fields):
    Pod.objects.bulk_create(
        Pod(
            cluster=namespace.cluster,
            namespace=namespace,
            namespace_name=namespace.name,
            name=name,
            phase="Running",
            status=fields.get("status", "Running"),
            restarts=fields.get("restarts", 0),
            ready=True,
            ready_containers=1,
            container_count=1,
            node_name="worker-1",
            created=T0 + datetime.timedelta(minutes=i),
        )
        for i, name in enumerate(names)
    )


def _open(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    page = response.content.decode()
    return page, re.findall(r">((?:web|lab)-[\w-]+)</a>", page)


def _link(page, which):
    """The href of the pager's Next or Previous link, or None."""
    found = re.search(rf'<a href="([^"]+)"[^>]*data-testid="pager-{which}"', page)
    return html.unescape(found[1]) if found else None


def _position(page):
    return re.search(r'data-testid="pager-position">([^<]+)<', page)[1]


def test_next_and_previous_walk_the_pages_and_say_whether_more_follow(org, portal, shop):
    _pods(shop, [f"web-{i:03d}" for i in range(120)])
    client = portal("member")
    first, rows = _open(client, f"/pods/?namespace={shop.pk}")
    assert rows == [f"web-{i:03d}" for i in range(50)]
    assert _position(first) == "Rows 1\u201350; more follow"
    assert _link(first, "previous") is None
    # No count of every pod: the reader is told more follow, not "page 1 of 3".
    assert "of 3" not in first

    second, rows = _open(client, _link(first, "next"))
    assert rows == [f"web-{i:03d}" for i in range(50, 100)]
    assert _position(second) == "Rows 51\u2013100; more follow"

    last, rows = _open(client, _link(second, "next"))
    assert rows == [f"web-{i:03d}" for i in range(100, 120)]
    assert _position(last) == "Rows 101\u2013120, the last"
    assert _link(last, "next") is None

    back, rows = _open(client, _link(last, "previous"))
    assert rows == [f"web-{i:03d}" for i in range(50, 100)]
    assert _position(back) == "Rows 51\u2013100; more follow"
    start, rows = _open(client, _link(back, "previous"))
    assert rows == [f"web-{i:03d}" for i in range(50)]
    assert _link(start, "previous") is None and _position(start) == "Rows 1\u201350; more follow"


def test_pods_created_between_two_pages_neither_repeat_nor_hide_a_row(org, portal, shop):
    _pods(shop, [f"web-{i:03d}" for i in range(120)])
    client = portal("member")
    first, seen = _open(client, f"/pods/?namespace={shop.pk}")
    # Two pods appear while the reader looks at page 1: one before it ends, one after.
    _pods(shop, ["web-010a", "web-060a"])
    url = _link(first, "next")
    while url:
        page, rows = _open(client, url)
        seen += rows
        url = _link(page, "next")
    # With an offset, "web-049" would show again on page 2 (pushed down by web-010a).
    assert len(seen) == len(set(seen)) == 121
    assert "web-060a" in seen and "web-010a" not in seen  # (it sorts on the page already read)


def test_filters_and_sort_stay_in_the_links(org, portal, shop):
    _pods(shop, [f"web-crash-{i:03d}" for i in range(60)], status="CrashLoopBackOff")
    Pod.objects.filter(namespace=shop).update(restarts=0)
    for i, pod in enumerate(Pod.objects.filter(namespace=shop).order_by("name")):
        Pod.objects.filter(pk=pod.pk).update(restarts=i % 7)
    _pods(shop, [f"web-ok-{i:03d}" for i in range(60)])
    client = portal("member")
    url = f"/pods/?namespace={shop.pk}&status=CrashLoopBackOff&sort=-restarts"
    first, rows = _open(client, url)
    following = _link(first, "next")
    assert "status=CrashLoopBackOff" in following and "sort=-restarts" in following
    assert f"namespace={shop.pk}" in following
    second, more = _open(client, following)
    everything = rows + more
    assert len(everything) == len(set(everything)) == 60
    assert all(name.startswith("web-crash-") for name in everything)
    restarts = dict(Pod.objects.filter(namespace=shop).values_list("name", "restarts"))
    assert [restarts[n] for n in everything] == sorted(restarts[n] for n in everything)[::-1]
    # The header shows the sort, and sorts the other way keeping the filters (from page 1).
    header = re.search(r'<a href="([^"]+)" data-testid="sort-restarts">Restarts ▼', second)
    assert header, "the Restarts header shows the descending sort"
    assert "sort=restarts" in html.unescape(header[1]) and "cursor" not in header[1]
    assert "status=CrashLoopBackOff" in html.unescape(header[1])
    # A new filter keeps the sort.
    assert '<input type="hidden" name="sort" value="-restarts">' in second


def test_a_page_asked_by_htmx_is_the_table_alone(org, portal, shop):
    _pods(shop, [f"web-{i:03d}" for i in range(60)])
    client = portal("member")
    first, _ = _open(client, f"/pods/?namespace={shop.pk}")
    following = _link(first, "next")
    page, rows = _open(client, following, HTTP_HX_REQUEST="true")
    assert rows == [f"web-{i:03d}" for i in range(50, 60)]
    assert page.lstrip().startswith('<div id="results"') and "<html" not in page
    # ...and its live refresh asks for that page again, not the first.
    assert f'hx-get="{html.escape(following)}"' in page


def test_another_projects_pods_never_show_whatever_the_cursor(org, portal, shop, lab):
    # The same names in data-lab's namespace, interleaved with web-shop's in the ordering.
    _pods(shop, [f"web-{i:03d}" for i in range(0, 120, 2)])
    _pods(lab, [f"lab-{i:03d}" for i in range(60)])
    client = portal("member")
    seen, url = [], "/pods/"
    while url:
        page, rows = _open(client, url)
        seen += rows
        url = _link(page, "next")
    assert not [n for n in seen if n.startswith("lab-")]
    assert {n for n in seen if n.startswith("web-")} == {f"web-{i:03d}" for i in range(0, 120, 2)}
    # A cursor made by hand, pointing into data-lab's rows, still shows only what may be seen.
    hidden = Pod.objects.filter(namespace=lab).order_by("name")[10]
    keys = keyset.keys_of(Pod.objects.all())
    _, rows = _open(client, f"/pods/?cursor={keyset.encode(keys, hidden, 11)}")
    assert rows and not [n for n in rows if n.startswith("lab-")]
    # A cursor that is not one: the first page.
    _, rows = _open(client, "/pods/?cursor=garbage!")
    assert rows[0] == "web-000"


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200, url
    return len(ctx.captured_queries)


# Queries per page, at most (the first page, a deep one, filtered, sorted): the session,
# the user's grants, the change token, the filters' choices, the rows and their clusters.
POD_PAGE_QUERIES = {"admin": 8, "member": 8}
WORKLOAD_PAGE_QUERIES = {"admin": 9, "member": 9}


@pytest.mark.parametrize("username", ["admin", "member"])
def test_every_pod_page_costs_the_same_queries_for_3_pods_and_300(org, portal, shop, username):
    client = portal(username)
    ordered = Pod.objects.order_by("cluster_id", "namespace_name", "name")
    keys = keyset.keys_of(ordered)

    def pages():
        second = ordered.filter(namespace=shop)[1]
        by_restarts = Pod.objects.order_by("-restarts", "-id")
        after = by_restarts.filter(namespace=shop)[1]
        urls = [
            f"/pods/?namespace={shop.pk}",
            f"/pods/?namespace={shop.pk}&cursor={keyset.encode(keys, second, 3)}",
            f"/pods/?namespace={shop.pk}&cursor={keyset.encode(keys, second, 1, before=True)}",
            f"/pods/?namespace={shop.pk}&status=Running&label=app",
            f"/pods/?namespace={shop.pk}&sort=-restarts&cursor="
            + keyset.encode(keyset.keys_of(by_restarts), after, 3),
        ]
        return [_count(client, url) for url in urls]

    _pods(shop, [f"web-{i:03d}" for i in range(3)])
    few = pages()
    _pods(shop, [f"web-{i:03d}" for i in range(3, 303)])
    assert pages() == few
    assert max(few) <= POD_PAGE_QUERIES[username], few


@pytest.mark.parametrize("username", ["admin", "member"])
def test_every_workload_page_costs_the_same_queries_for_3_and_300(org, portal, shop, username):
    client = portal(username)

    def grow(start, n):
        Workload.objects.bulk_create(
            Workload(
                cluster=shop.cluster,
                namespace=shop,
                namespace_name=shop.name,
                kind="Deployment",
                name=f"web-{start + i:03d}",
                desired=1,
                status="running",
                created=T0 + datetime.timedelta(minutes=start + i),
            )
            for i in range(n)
        )

    def pages():
        ordered = Workload.objects.filter(namespace=shop).order_by(
            "cluster_id", "namespace_name", "kind", "name"
        )
        cursor = keyset.encode(keyset.keys_of(ordered), ordered[1], 3)
        urls = [
            f"/workloads/?namespace={shop.pk}",
            f"/workloads/?namespace={shop.pk}&cursor={cursor}",
            f"/workloads/?namespace={shop.pk}&status=running&kind=Deployment",
            f"/workloads/?namespace={shop.pk}&sort=-created",
        ]
        return [_count(client, url) for url in urls]

    grow(0, 3)
    few = pages()
    grow(3, 300)
    assert pages() == few
    assert max(few) <= WORKLOAD_PAGE_QUERIES[username], few


def test_the_workload_list_sorts_by_age_through_every_row_once(org, portal, shop):
    Workload.objects.bulk_create(
        Workload(
            cluster=shop.cluster,
            namespace=shop,
            namespace_name=shop.name,
            kind="Deployment",
            name=f"web-{i:03d}",
            status="running",
            # (some not yet known to Kubernetes' clock: no creation time)
            created=None if i % 10 == 0 else T0 + datetime.timedelta(minutes=(i * 37) % 90),
        )
        for i in range(90)
    )
    client = portal("member")
    seen, url = [], f"/workloads/?namespace={shop.pk}&sort=-created"
    while url:
        page, rows = _open(client, url)
        seen += rows
        url = _link(page, "next")
    assert len(seen) == len(set(seen)) == 90
    created = dict(Workload.objects.filter(namespace=shop).values_list("name", "created"))
    dated = [created[n] for n in seen if created[n] is not None]
    assert dated == sorted(dated, reverse=True)
