"""Every list page pages by cursor (the audit log here, the pods and workloads in
tests/workloads/test_list_paging.py): newest first through every event once, ties in
time included, with the filters kept, at one cost per page."""

import html
import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.models import AuditEvent


def _trail(org, n, same_time_every=1, **fields):
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor_name="admin",
            action="configmap.create",
            target_name=f"cm-{i:03d}",
            project=org.web,
            project_name=org.web.name,
            # several events in the same instant: the id orders them
            created=now - timedelta(seconds=i // same_time_every),
            **fields,
        )
        for i in range(n)
    )


def _open(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    page = response.content.decode()
    names = re.findall(r"(cm-\d{3})", page)
    found = re.search(r'<a href="([^"]+)"[^>]*data-testid="pager-next"', page)
    following = html.unescape(found[1]) if found else None
    found = re.search(r'<a href="([^"]+)"[^>]*data-testid="pager-previous"', page)
    previous = html.unescape(found[1]) if found else None
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    return list(dict.fromkeys(names)), following, previous, sql, len(ctx.captured_queries)


def test_the_audit_log_pages_through_every_event_once_newest_first(org, portal):
    _trail(org, 130, same_time_every=4)
    client = portal("admin")
    seen, url, pages, costs = [], "/audit/?action=configmap.", [], set()
    while url:
        names, url, _previous, _sql, cost = _open(client, url)
        seen += names
        pages.append(names)
        costs.add(cost)
        assert url is None or "action=configmap." in url  # the filter stays in the link
    # The newest first; within one second, the one written last first (by id).
    expected = list(
        AuditEvent.objects.filter(action="configmap.create")
        .order_by("-created", "-pk")
        .values_list("target_name", flat=True)
    )
    assert seen == expected and len(pages) == 3
    assert len(costs) == 1  # the last page costs what the first does


def test_previous_comes_back_to_the_same_events(org, portal):
    _trail(org, 120)
    client = portal("admin")
    first, following, previous, _, _ = _open(client, "/audit/?result=success")
    assert previous is None
    second, _, back, _, _ = _open(client, following)
    assert not set(first) & set(second)
    again, _, none, _, _ = _open(client, back)
    assert again == first and none is None
