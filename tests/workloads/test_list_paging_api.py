"""The API's pod and workload lists page by cursor: `next` and `previous`, every row once
whatever is inserted meanwhile or however the list is ordered, at the same query cost."""

import base64
import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.workloads.models import Workload

from .test_list_paging import T0, _pods


def _walk(client, url, direction="next"):
    """Every page from ``url`` on, following ``direction``: (names per page, queries)."""
    pages, counts = [], set()
    while url:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, response.content
        counts.add(len(ctx.captured_queries))
        answer = response.json()
        pages.append([row["name"] for row in answer["results"]])
        url = answer[direction]
    return pages, counts


@pytest.mark.parametrize("username", ["admin", "member"])
def test_pods_page_forward_and_back_at_one_query_cost(org, api, shop, username):
    _pods(shop, [f"web-{i:03d}" for i in range(23)])
    client = api(username)
    pages, counts = _walk(client, f"/api/v1/pods/?namespace={shop.pk}&limit=5")
    assert pages == [[f"web-{i:03d}" for i in range(j, min(j + 5, 23))] for j in range(0, 23, 5)]
    assert len(counts) == 1  # the fifth page costs what the first does
    last = client.get(f"/api/v1/pods/?namespace={shop.pk}&limit=5").json()
    for _ in range(4):
        last = client.get(last["next"]).json()
    assert last["next"] is None and [r["name"] for r in last["results"]] == pages[-1]
    back, counts_back = _walk(client, last["previous"], "previous")
    assert back == pages[-2::-1] and counts_back == counts
    first = client.get(f"/api/v1/pods/?namespace={shop.pk}&limit=5").json()
    assert first["previous"] is None


def test_pods_created_while_paging_neither_repeat_nor_hide_one(org, api, shop):
    _pods(shop, [f"web-{i:03d}" for i in range(20)])
    client = api("member")
    first = client.get(f"/api/v1/pods/?namespace={shop.pk}&limit=8").json()
    _pods(shop, ["web-002a", "web-012a"])  # one before the cursor, one after
    pages, _ = _walk(client, first["next"])
    seen = [r["name"] for r in first["results"]] + [n for page in pages for n in page]
    assert len(seen) == len(set(seen)) == 21 and "web-012a" in seen


def test_ordering_by_creation_with_unknown_times_pages_every_row_once(org, api, shop):
    Workload.objects.bulk_create(
        Workload(
            cluster=shop.cluster,
            namespace=shop,
            namespace_name=shop.name,
            kind="Deployment",
            name=f"web-{i:03d}",
            status="running",
            created=None if i % 4 == 0 else T0 + datetime.timedelta(minutes=i % 5),
        )
        for i in range(30)
    )
    client = api("member")
    for ordering in ("created", "-created"):
        url = f"/api/v1/workloads/?namespace={shop.pk}&ordering={ordering}&limit=4"
        pages, counts = _walk(client, url)
        seen = [n for page in pages for n in page]
        assert sorted(seen) == [f"web-{i:03d}" for i in range(30)], ordering
        assert len(counts) == 1
        # ...and back from the last page, the same pages in reverse.
        answer = client.get(url).json()
        while answer["next"]:
            answer = client.get(answer["next"]).json()
        back, _ = _walk(client, answer["previous"], "previous")
        assert back == pages[-2::-1], ordering


def test_a_cursor_never_reaches_another_projects_pods(org, api, shop, lab):
    _pods(shop, [f"web-{i:03d}" for i in range(0, 20, 2)])
    _pods(lab, [f"web-{i:03d}" for i in range(1, 20, 2)])
    pages, _ = _walk(api("member"), "/api/v1/pods/?limit=3")
    seen = [n for page in pages for n in page if n.startswith("web-")]
    # (data-lab's pods, interleaved with web-shop's in the ordering, are never among them)
    assert seen == [f"web-{i:03d}" for i in range(0, 20, 2)]
    bad = api("member").get("/api/v1/pods/?cursor=not-a-cursor")
    assert bad.status_code == 400 and "cursor" in bad.json()


@pytest.mark.parametrize(
    "values",
    [[10**30, "shop", "web-000"], [1, "shop\x00", "web-000"], [1, {"a": 1}, "x"], [1, "shop"]],
)
def test_a_forged_cursor_is_a_400_not_an_error(org, api, shop, values):
    cursor = base64.urlsafe_b64encode(json.dumps({"a": values}).encode()).decode()
    answer = api("member").get(f"/api/v1/pods/?cursor={cursor}")
    assert answer.status_code == 400 and "cursor" in answer.json()
