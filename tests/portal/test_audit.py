"""The audit trail: written by services, append-only, read-only in every surface."""

import pytest

from apps.core.models import AuditEvent
from apps.tenancy import services


def test_service_actions_are_recorded_with_request_context(org, api):
    response = api("admin").post(
        "/api/v1/projects/",
        {"name": "audited", "department": org.engineering.pk},
        format="json",
        HTTP_X_REQUEST_ID="audit-request-0001",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 201
    event = AuditEvent.objects.get(action="project.create", target_name="audited")
    assert event.actor_name == "admin"
    assert event.result == "success"
    assert event.source_ip == "203.0.113.9"
    assert event.request_id == "audit-request-0001"
    assert event.target_type == "tenancy.project"


def test_audit_events_cannot_be_changed_or_deleted(org):
    event = AuditEvent.objects.first()
    event.action = "forged"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.update(action="forged")
    assert not AuditEvent.objects.filter(action="forged").exists()


def test_api_has_no_write_methods_for_audit(org, api):
    pk = AuditEvent.objects.first().pk
    client = api("admin")
    assert client.delete(f"/api/v1/audit-events/{pk}/").status_code == 405
    assert client.patch(f"/api/v1/audit-events/{pk}/", {}, format="json").status_code == 405
    assert client.post("/api/v1/audit-events/", {}, format="json").status_code == 405


def test_admin_site_shows_audit_read_only(org, portal):
    client = portal("admin")
    pk = AuditEvent.objects.first().pk
    assert client.get("/admin/core/auditevent/").status_code == 200
    page = client.get(f"/admin/core/auditevent/{pk}/change/")
    assert page.status_code == 200
    assert 'name="action"' not in page.content.decode()  # no editable field
    assert client.get("/admin/core/auditevent/add/").status_code == 403
    assert client.post(f"/admin/core/auditevent/{pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=pk).exists()


def test_project_admins_see_their_projects_audit_members_see_none(org, api):
    services.update_project(org.admin, org.data, display_name="Data")
    projadmin = api("projadmin").get("/api/v1/audit-events/").json()["results"]
    assert projadmin and {e["project"] for e in projadmin} == {org.web.pk}
    assert api("member").get("/api/v1/audit-events/").json()["results"] == []
