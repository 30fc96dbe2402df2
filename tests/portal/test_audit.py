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


def test_staff_cloud_admin_manages_users_in_the_admin_site_and_it_is_audited(org, portal):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_user("ops", is_staff=True)  # not a superuser
    client = portal("admin")
    client.force_login(staff)
    assert client.get("/admin/auth/user/").status_code == 200
    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "newcomer",
            "password1": "Long-enough-pw-1",
            "password2": "Long-enough-pw-1",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor_name, event.target_name) == ("ops", "newcomer")
    assert "Long-enough" not in str(event.detail)


def test_tenants_cannot_enter_the_admin_site(org, portal):
    for username in ("deptadmin", "projadmin", "member"):
        assert portal(username).get("/admin/").status_code == 302  # to the admin login
        assert portal(username).get("/admin/tenancy/project/").status_code == 302
