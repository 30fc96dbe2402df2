"""The API's schema and interactive docs, served from local assets."""

import re

import yaml


def test_schema_documents_every_endpoint(org, portal):
    response = portal("member").get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    for path in (
        "/api/v1/departments/",
        "/api/v1/projects/",
        "/api/v1/memberships/",
        "/api/v1/department-admins/",
        "/api/v1/operations/",
        "/api/v1/operations/{id}/cancel/",
        "/api/v1/audit-events/",
        "/api/v1/tokens/",
    ):
        assert path in schema["paths"], path
    assert "delete" not in schema["paths"]["/api/v1/audit-events/{id}/"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_docs_load_only_local_assets(org, portal):
    client = portal("member")
    page = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, page
    for source in sources:
        assert source.startswith("/"), f"external asset {source}"
        assert client.get(source).status_code == 200, source


def test_api_refuses_anonymous_requests(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/projects/")
    assert response.status_code in (401, 403)


def test_schema_and_docs_need_a_signed_in_user(db):
    from django.test import Client

    assert Client().get("/api/schema/").status_code in (401, 403)
    assert Client().get("/api/docs/").status_code in (401, 403)
