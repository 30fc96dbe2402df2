"""The operation log (操作日志): the filters operators expect, a histogram, CSV export,
links to each event's object and operation; tenants see their projects' events only."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.clusters.models import Cluster
from apps.core.models import AuditEvent, Operation


def event(org, minutes_ago, **fields):
    values = {
        "actor_name": "admin",
        "action": "cluster.create",
        "target_type": "clusters.cluster",
        "target_name": "prod",
        "project": org.web,
        "project_name": org.web.name,
        "result": AuditEvent.Result.SUCCESS,
        "source_ip": "10.0.0.1",
        "created": timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    }
    found = AuditEvent(**values)
    found.save()
    return found


@pytest.fixture
def trail(org):
    cluster = Cluster.objects.create(name="prod", provider="sandbox", project=org.admin_project)
    operation = Operation.objects.create(kind="cluster.create", target_name="prod")
    return {
        "create": event(org, 50, target_id=str(cluster.pk), operation=operation),
        "scale": event(
            org, 40, action="cluster.scale_out", actor_name="deptadmin", target_id=str(cluster.pk)
        ),
        "refused": event(
            org,
            30,
            action="namespace.create",
            target_type="namespaces.namespace",
            target_name="shop",
            result=AuditEvent.Result.FAILURE,
            reason="quota",
            source_ip="192.168.1.9",
        ),
        "data": event(
            org,
            20,
            action="secret.reveal",
            target_type="configs.secret",
            target_name="db-password",
            project=org.data,
            project_name=org.data.name,
        ),
        "old": event(
            org,
            60 * 24 * 3,
            action="project.create",
            target_type="tenancy.project",
            target_name="ancient",
        ),
        "cluster": cluster,
        "operation": operation,
    }


def names(answer):
    return sorted(e["target_name"] + ":" + e["action"] for e in answer.json()["results"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor_name": "deptadmin"}, ["prod:cluster.scale_out"]),
        ({"action": "cluster."}, ["prod:cluster.create", "prod:cluster.scale_out"]),
        ({"action": "namespace.create"}, ["shop:namespace.create"]),
        ({"target_type": "configs.secret"}, ["db-password:secret.reveal"]),
        ({"target_name": "PASS"}, ["db-password:secret.reveal"]),
        ({"result": "failure"}, ["shop:namespace.create"]),
        ({"source_ip": "192.168.1.9"}, ["shop:namespace.create"]),
        ({"source_ip": "not-an-address"}, []),
    ],
)
def test_each_filter(api, portal, trail, params, expected):
    assert names(api("admin").get("/api/v1/audit-events/", params)) == expected
    page = portal("admin").get("/audit/", params).content.decode()
    for item in expected:
        assert item.split(":")[0] in page


def test_project_and_time_range(api, org, trail):
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    before_seed = (timezone.now() - timedelta(minutes=10)).isoformat()  # seed_demo's are now
    recent = names(
        api("admin").get("/api/v1/audit-events/", {"since": since, "until": before_seed})
    )
    assert "ancient:project.create" not in recent and len(recent) == 4
    until = (timezone.now() - timedelta(minutes=35)).isoformat()
    window = names(api("admin").get("/api/v1/audit-events/", {"since": since, "until": until}))
    assert window == ["prod:cluster.create", "prod:cluster.scale_out"]
    data = names(
        api("admin").get("/api/v1/audit-events/", {"project": org.data.pk, "until": before_seed})
    )
    assert data == ["db-password:secret.reveal"]


def test_tenants_see_and_export_their_projects_events_only(api, portal, trail):
    seen = names(api("projadmin").get("/api/v1/audit-events/"))
    assert "db-password:secret.reveal" not in seen and "prod:cluster.create" in seen
    exported = b"".join(portal("projadmin").get("/audit/export/").streaming_content).decode()
    assert "db-password" not in exported and "prod" in exported
    assert api("member").get("/api/v1/audit-events/export/").status_code == 200
    assert portal("member").get("/audit/export/").status_code == 403  # not their page


def test_export_is_csv_of_the_filtered_events_and_is_itself_recorded(portal, api, trail):
    answer = portal("admin").get("/audit/export/", {"action": "cluster."})
    assert answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["cluster.scale_out", "cluster.create"]
    assert rows[1]["operation_id"] == str(trail["operation"].pk)
    assert rows[0]["source_ip"] == "10.0.0.1"
    assert AuditEvent.objects.filter(action="audit.export", actor_name="admin").exists()
    via_api = api("admin").get("/api/v1/audit-events/export/", {"result": "failure"})
    body = b"".join(via_api.streaming_content).decode()
    assert "namespace.create" in body and "cluster.create" not in body


def test_histogram_of_the_filtered_events(api, portal, trail):
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    until = (timezone.now() - timedelta(minutes=10)).isoformat()
    params = {"since": since, "until": until}
    data = api("admin").get("/api/v1/audit-events/histogram/", params).json()
    assert data["total"] == 4
    page = portal("admin").get("/audit/").content.decode()
    assert 'data-testid="audit-histogram"' in page and "<rect" in page


def test_events_link_to_their_object_and_operation(portal, trail):
    page = portal("admin").get("/audit/").content.decode()
    assert f'href="/clusters/{trail["cluster"].pk}/"' in page
    assert f'href="/operations/{trail["operation"].pk}/"' in page


def test_the_log_page_runs_constant_queries(portal, org, trail):
    client = portal("admin")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/audit/").status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(60):
        event(org, i, target_name=f"more-{i}")
    assert count() == small
