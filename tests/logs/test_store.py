"""The store's query model, on whichever engine runs the tests (SQLite FTS5 or PostgreSQL).

Each keyword operator, field filter and the time range, with the text KubeSphere's
search gets wrong: Chinese, snake_case names, punctuation.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from apps.logs.query import LogQuery, Match, parse_keywords
from apps.logs.store import get_store

from .conftest import NOW

LINES = [
    (1, "shop", "web-7d4f9-abcde", "GET /api/v1/items status=200 duration=12ms"),
    (2, "shop", "web-7d4f9-abcde", "ERROR connection refused to db:5432"),
    (3, "shop", "web-7d4f9-fghij", "WARN retrying connection (attempt 2/5)"),
    (4, "shop", "worker-5c6b7-zzzzz", "订单 1024 支付失败: 余额不足"),
    (5, "shop", "worker-5c6b7-zzzzz", "user_id=42 order_total=99.5 cache_miss"),
    (6, "shop-staging", "web-1a2b3-qqqqq", "ERROR connection refused to db:5432 (staging)"),
    (7, "lab", "notebook-0", "training step 50% done; loss=0.25 [epoch 3/10]"),
    (90, "shop", "web-7d4f9-abcde", "ERROR an old connection refused, an hour and a half ago"),
]


@pytest.fixture
def lines(db, write_lines):
    write_lines(1, LINES)
    write_lines(2, [(1, "shop", "web-x-y", "ERROR connection refused in the other cluster")])


def find(q="", **fields):
    keywords, terms = parse_keywords(q)
    query = LogQuery(
        start=NOW - timedelta(hours=1),
        end=NOW + timedelta(seconds=1),
        keywords=keywords,
        terms=terms,
        **{k: Match.parse(v) if isinstance(v, str) else v for k, v in fields.items()},
    )
    return [line.message for line in get_store().search(query)]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (
            "refused",
            [
                "ERROR connection refused to db:5432",
                "ERROR connection refused to db:5432 (staging)",
                "ERROR connection refused in the other cluster",
            ],
        ),
        ("connection refused", 3),  # AND: both words, anywhere
        ('"connection (attempt"', ["WARN retrying connection (attempt 2/5)"]),
        ("refused AND staging", ["ERROR connection refused to db:5432 (staging)"]),
        ("refused NOT staging NOT other", ["ERROR connection refused to db:5432"]),
        ("refused -staging -other", ["ERROR connection refused to db:5432"]),
        ("支付失败", ["订单 1024 支付失败: 余额不足"]),
        ("余额", ["订单 1024 支付失败: 余额不足"]),  # two characters: shorter than a trigram
        ('"订单 1024"', ["订单 1024 支付失败: 余额不足"]),
        ("user_id=42", ["user_id=42 order_total=99.5 cache_miss"]),
        ("cache_miss", ["user_id=42 order_total=99.5 cache_miss"]),
        ("r_t", ["user_id=42 order_total=99.5 cache_miss"]),  # _ is not a wildcard
        ("50%", ["training step 50% done; loss=0.25 [epoch 3/10]"]),
        ("[epoch", ["training step 50% done; loss=0.25 [epoch 3/10]"]),
        ("/api/v1/items", ["GET /api/v1/items status=200 duration=12ms"]),
        ("db:5432", 2),
        (
            "warn OR 订单",
            ["WARN retrying connection (attempt 2/5)", "订单 1024 支付失败: 余额不足"],
        ),
        ("(GET OR WARN) connection", ["WARN retrying connection (attempt 2/5)"]),
        ("error", 3),  # case-insensitive
        ("nothing-like-this", []),
    ],
)
def test_keyword_operators(lines, q, expected):
    found = find(q)
    if isinstance(expected, int):
        assert len(found) == expected, found
    else:
        assert sorted(found) == sorted(expected)


def test_newest_first_within_the_range(lines):
    found = find(namespace="shop", clusters=[1])
    assert found[0].startswith("GET /api/v1/items")  # one minute ago
    assert found[-1] == "user_id=42 order_total=99.5 cache_miss"  # five minutes ago
    assert "an hour and a half ago" not in " ".join(found)  # outside the last hour
    assert len(found) == 5


@pytest.mark.parametrize(
    ("fields", "count"),
    [
        ({"namespace": "shop"}, 6),
        ({"namespace": "shop*"}, 7),
        ({"namespace": "sho"}, 0),
        ({"pod": "web-7d4f9-abcde"}, 2),
        ({"pod": "web-7d4f9*"}, 3),
        ({"workload": "worker"}, 2),
        ({"workload": "web*"}, 5),
        ({"container": "app"}, 8),
        ({"container": "sidecar"}, 0),
        ({"clusters": [2]}, 1),
        ({"clusters": [1], "namespace": "shop"}, 5),
        ({"clusters": []}, 0),
    ],
)
def test_field_filters(lines, fields, count):
    assert len(find(**fields)) == count


def test_prefix_treats_like_wildcards_literally(db, write_lines):
    write_lines(1, [(1, "a_b", "p-1", "one"), (1, "axb", "p-2", "two")])
    assert find(namespace="a_*") == ["one"]


def test_paging_by_cursor_returns_each_line_once(db, write_lines):
    write_lines(1, [(i / 10, "shop", "web-a-b", f"line {i}") for i in range(25)])
    store = get_store()
    query = LogQuery(start=NOW - timedelta(hours=1), end=NOW + timedelta(seconds=1))
    seen, before = [], None
    while True:
        page = store.search(query, limit=10, before=before)
        if not page:
            break
        seen += [line.message for line in page]
        before = (page[-1].ts, page[-1].id)
    assert seen == [f"line {i}" for i in range(25)]


@pytest.mark.parametrize("bad", ['"unclosed', "(a OR b", "a)", "a OR", "NOT", "OR a", '""'])
def test_bad_keywords_are_a_clear_error(bad):
    with pytest.raises(ValidationError):
        parse_keywords(bad)


def test_lower_case_operators_are_words():
    _node, terms = parse_keywords("cats and dogs")
    assert terms == ["cats", "and", "dogs"]


def test_context_is_the_same_containers_neighbours(db, write_lines):
    write_lines(1, [(10 - i, "shop", "web-a-b", f"line {i}") for i in range(10)])
    write_lines(1, [(5, "shop", "web-c-d", "another pod's line")])
    store = get_store()
    hit = next(
        line
        for line in store.search(
            LogQuery(start=NOW - timedelta(hours=1), end=NOW, pod=Match("web-a-b"))
        )
        if line.message == "line 5"
    )
    before, after = store.context(hit, 3, 2)
    assert [line.message for line in before] == ["line 2", "line 3", "line 4"]
    assert [line.message for line in after] == ["line 6", "line 7"]


def test_histogram_counts_hits_per_bucket(db, write_lines):
    write_lines(1, [(30, "shop", "web-a-b", "ERROR x")] * 3 + [(10, "shop", "web-a-b", "ERROR y")])
    keywords, _terms = parse_keywords("ERROR")
    query = LogQuery(start=NOW - timedelta(hours=1), end=NOW, keywords=keywords)
    buckets = get_store().histogram(query, 60 * 1_000_000)
    assert [count for _start, count in buckets] == [3, 1]
