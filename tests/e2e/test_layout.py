"""Layout at a common desktop width: wide tables fit, short values stay on one line."""

import pytest
from playwright.sync_api import expect

from apps.core.models import AuditEvent
from apps.tenancy.models import Project

pytestmark = pytest.mark.browser

WIDTH = 1440


def _audit_events():
    """Events like the demo's: long actions, targets and names in every column."""
    web = Project.objects.get(name="web-shop")
    rows = [
        ("cluster.create", "Cluster", "demo", "", ""),
        ("namespace.create", "Namespace", "web-shop", "demo", "web-shop"),
        (
            "persistentvolumeclaim.expand",
            "PersistentVolumeClaim",
            "data-postgres-0",
            "demo",
            "web-shop",
        ),
        ("secret.reveal", "Secret", "registry-credentials-for-production", "demo", "web-shop"),
        ("configmap.update", "ConfigMap", "nginx-configuration-overrides", "demo", "web-shop"),
        ("project.member.change", "Membership", "member@web-shop", "", ""),
    ]
    for action, kind, target, cluster, namespace in rows * 3:
        AuditEvent.objects.create(
            actor_name="deptadmin",
            action=action,
            target_type=kind,
            target_name=target,
            project=web,
            project_name=web.name,
            cluster=cluster,
            namespace=namespace,
            result="failure" if action == "secret.reveal" else "success",
            reason="You do not have permission to do this." if action == "secret.reveal" else "",
            source_ip="2001:db8:85a3::8a2e:370:7334",
            request_id="0" * 32,
        )


def test_audit_table_fits_at_1440_px_with_the_time_on_one_line(sign_in, live_server):
    page = sign_in("admin")
    _audit_events()
    page.set_viewport_size({"width": WIDTH, "height": 900})
    page.goto(f"{live_server.url}/audit/")
    table = page.get_by_test_id("object-table")
    expect(table).to_be_visible()
    # nothing sticks out of the page or out of the table's own box
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    box = table.bounding_box()
    main = page.locator("main").bounding_box()
    assert box["x"] + box["width"] <= main["x"] + main["width"] + 0.5
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth")
    # the time: one line of text in each row
    for cell in table.locator("tbody tr td:first-child").all():
        lines = cell.evaluate(
            "td => { const r = document.createRange(); r.selectNodeContents(td);"
            " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }"
        )
        assert lines == 1, cell.inner_text()
