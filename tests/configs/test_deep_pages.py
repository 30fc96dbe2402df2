"""Lists of mirrored objects stay fast at any size (issue 9, "Lists that stay fast").

The ordering is served by an index (no sort of every row), and the API pages by cursor,
so page 100 of 5,000 ConfigMaps costs what page 1 costs (portal and API).
"""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.configs.models import ConfigMap

ROWS = 5000


@pytest.fixture
def many(shop):
    ConfigMap.objects.bulk_create(
        ConfigMap(cluster=shop.cluster, namespace=shop, namespace_name="shop", name=f"cm-{i:05d}")
        for i in range(ROWS)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return ROWS


def _list_query(queries) -> str:
    """The query that reads the page's rows (the one that orders them)."""
    table = ConfigMap._meta.db_table
    return next(
        q["sql"] for q in queries if f'FROM "{table}"' in q["sql"] and "ORDER BY" in q["sql"]
    )


def _plan(sql: str) -> str:
    """How the database would run the query, if an index can give the order.

    PostgreSQL weighs a sort of a few thousand rows as cheap; with sorting made
    prohibitive it still sorts only when no index can serve the ordering.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(str(row) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _sorts_every_row(plan: str) -> bool:
    return "TEMP B-TREE FOR ORDER BY" in plan or " Sort " in f" {plan} ".replace("\n", " ")


@pytest.mark.parametrize("username", ["admin", "member"])
def test_the_list_page_is_ordered_by_an_index(org, portal, shop, many, username):
    client = portal(username)
    url, seen = f"/configmaps/?namespace={shop.pk}", []
    for _page in range(3):  # the first page, and two by their "Next" links (cursors)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        seen.extend(n for n in re.findall(r">(cm-\d{5})<", page))
        sql = _list_query(ctx.captured_queries)
        plan = _plan(sql)
        assert not _sorts_every_row(plan), plan
        assert "COUNT(" not in " ".join(q["sql"] for q in ctx.captured_queries).upper()
        url = html.unescape(re.search(r'<a href="([^"]+)"[^>]*data-testid="pager-next"', page)[1])
    assert seen == [f"cm-{i:05d}" for i in range(150)]


@pytest.mark.parametrize("username", ["admin", "member"])
def test_the_api_pages_by_cursor_through_every_row_once(org, api, many, username):
    client = api(username)
    seen, url, pages, counts = [], "/api/v1/configmaps/?limit=500", 0, set()
    while url:
        with CaptureQueriesContext(connection) as ctx:
            answer = client.get(url).json()
        counts.add(len(ctx.captured_queries))
        plan = _plan(_list_query(ctx.captured_queries))
        assert not _sorts_every_row(plan), plan
        seen.extend(row["name"] for row in answer["results"])
        url, pages = answer["next"], pages + 1
    # beside the rows made here: kube-root-ca.crt, which Kubernetes keeps in every namespace
    assert [n for n in seen if n != "kube-root-ca.crt"] == [f"cm-{i:05d}" for i in range(ROWS)]
    system = ConfigMap.objects.restrict(org.users[username], "view").filter(name="kube-root-ca.crt")
    assert len(seen) == ROWS + system.count()
    assert pages == -(-len(seen) // 500)
    assert len(counts) == 1  # the last page costs what the first does
    bad = client.get("/api/v1/configmaps/?cursor=not-a-cursor")
    assert bad.status_code == 400 and "cursor" in bad.json()
