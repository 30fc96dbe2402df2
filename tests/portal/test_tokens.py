"""Personal API tokens: created and revoked in the portal, used with `Authorization: Token`."""

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import ApiToken, AuditEvent


def _client_with(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_token_created_in_portal_authenticates_api_requests(org, portal):
    page = portal("member").post("/tokens/add/", {"name": "ci"})
    assert page.status_code == 200
    key = page.context["key"]
    assert key in page.content.decode()  # shown once, on this page

    token = ApiToken.objects.get(user=org.member)
    assert token.digest != key and key not in str(vars(token))  # only a hash is stored
    response = _client_with(key).get("/api/v1/projects/")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["results"]] == ["web-shop"]
    assert key not in portal("member").get("/tokens/").content.decode()


def test_revoked_token_no_longer_works(org, portal):
    key = portal("member").post("/tokens/add/", {"name": "ci"}).context["key"]
    token = ApiToken.objects.get(user=org.member)
    assert portal("member").post(f"/tokens/{token.pk}/revoke/", {}).status_code == 302
    assert _client_with(key).get("/api/v1/projects/").status_code == 401
    assert AuditEvent.objects.filter(action="token.revoke", actor=org.member).exists()


def test_users_cannot_see_or_revoke_each_others_tokens(org, api):
    created = api("member").post("/api/v1/tokens/", {"name": "mine"}, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api("outsider").get("/api/v1/tokens/").json()["results"] == []
    assert api("outsider").delete(f"/api/v1/tokens/{pk}/").status_code == 404
    assert ApiToken.objects.filter(pk=pk).exists()


def test_expired_token_is_refused(org, api):
    key = api("member").post("/api/v1/tokens/", {"name": "short"}, format="json").json()["key"]
    ApiToken.objects.update(expires=timezone.now() - timedelta(minutes=1))
    response = _client_with(key).get("/api/v1/projects/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_createapitoken_prints_a_working_key(org, capsys):
    call_command("createapitoken", "projadmin")
    key = capsys.readouterr().out.strip()
    assert len(key) == 40
    assert _client_with(key).get("/api/v1/memberships/").status_code == 200


def test_token_without_a_name_is_refused_with_a_message(org, portal):
    page = portal("member").post("/tokens/add/", {"name": "  "})
    assert page.status_code == 200
    assert "key" not in page.context or page.context.get("key") is None
    assert ApiToken.objects.count() == 0
