"""ConfigMaps and Secrets through the REST API: the matrix, write-only values, reveal, filters,
and the OpenAPI schema."""

import json

import pytest
import yaml
from kubernetes import client as k8s

from apps.configs import services
from apps.configs.models import ConfigMap, Secret
from apps.core.models import AuditEvent

from .conftest import b64, make_pair

VALUE = "api-Secret-Value-0042"
MATRIX = {"admin": 200, "deptadmin": 200, "projadmin": 200, "member": 200, "outsider": 404}


def _core(cluster):
    return k8s.CoreV1Api(cluster.kube().api_client)


@pytest.mark.parametrize("username", list(MATRIX))
def test_permission_matrix_api(org, api, shop, lab, username):
    client, expected = api(username), MATRIX[username]
    cm = services.create_configmap(org.admin, namespace=shop, name="web", data={"a": "1"})
    secret = services.create_secret(org.admin, namespace=shop, name="s", data={"k": VALUE})
    other = services.create_configmap(org.admin, namespace=lab, name="lab", data={})
    listed = [row["name"] for row in client.get("/api/v1/configmaps/").json()["results"]]
    assert ("web" in listed) is (expected == 200)
    assert client.get(f"/api/v1/configmaps/{cm.pk}/").status_code == expected
    assert client.get(f"/api/v1/secrets/{secret.pk}/").status_code == expected
    other_status = 200 if username in ("admin", "deptadmin") else 404
    assert client.get(f"/api/v1/configmaps/{other.pk}/").status_code == other_status

    patched = client.patch(f"/api/v1/configmaps/{cm.pk}/", {"data": {"a": "2"}}, format="json")
    assert patched.status_code == expected
    live = _core(shop.cluster).read_namespaced_config_map("web", "shop")
    assert (live.data == {"a": "2"}) is (expected == 200)

    created = client.post(
        "/api/v1/configmaps/",
        {"namespace": shop.pk, "name": f"new-{username}", "data": {"x": "line1\nline2"}},
        format="json",
    )
    assert created.status_code == (201 if expected == 200 else 400)
    # Another project's namespace is not a choice (as if it did not exist).
    elsewhere = client.post(
        "/api/v1/configmaps/", {"namespace": lab.pk, "name": "x", "data": {}}, format="json"
    )
    assert elsewhere.status_code == (201 if other_status == 200 else 400)
    if other_status == 404:
        assert "namespace" in elsewhere.json()

    reveal = client.post(f"/api/v1/secrets/{secret.pk}/reveal/")
    assert reveal.status_code == expected
    if expected == 200:
        assert reveal.json() == {"data": {"k": VALUE}}
    deleted = client.delete(f"/api/v1/secrets/{secret.pk}/")
    assert deleted.status_code == (204 if expected == 200 else 404)


def test_secret_values_are_write_only(org, api, shop):
    client = api("member")
    created = client.post(
        "/api/v1/secrets/",
        {"namespace": shop.pk, "name": "app", "data": {"password": VALUE}},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["keys"] == ["password"] and "data" not in body
    secret_id = body["id"]
    for response in (
        client.get("/api/v1/secrets/"),
        client.get(f"/api/v1/secrets/{secret_id}/"),
        client.patch(f"/api/v1/secrets/{secret_id}/", {"data": {"user": "bob"}}, format="json"),
    ):
        assert response.status_code == 200
        assert VALUE not in response.content.decode()
        assert b64(VALUE) not in response.content.decode()
    revealed = client.post(f"/api/v1/secrets/{secret_id}/reveal/", {"keys": ["password"]})
    assert revealed.json() == {"data": {"password": VALUE}}
    assert revealed["Cache-Control"] == "no-store"  # values stay out of caches
    event = AuditEvent.objects.get(action="secret.reveal")
    assert event.detail == {"keys": ["password"]} and event.actor_name == "member"
    assert api("outsider").post(f"/api/v1/secrets/{secret_id}/reveal/").status_code == 404
    assert AuditEvent.objects.filter(action="secret.reveal", result="success").count() == 1
    assert AuditEvent.objects.get(action="secret.reveal", result="failure").actor_name == "outsider"
    removed = client.patch(f"/api/v1/secrets/{secret_id}/", {"remove": ["user"]}, format="json")
    assert removed.json()["keys"] == ["password"]


def test_registry_and_tls_secrets(org, api, shop):
    client = api("member")
    registry = client.post(
        "/api/v1/secrets/",
        {
            "namespace": shop.pk,
            "name": "pull",
            "type": "kubernetes.io/dockerconfigjson",
            "registry": {"server": "ghcr.io", "username": "ci", "password": VALUE},
        },
        format="json",
    )
    assert registry.status_code == 201, registry.json()
    assert registry.json()["keys"] == [".dockerconfigjson"]
    cert, key = make_pair()
    _c, other_key = make_pair("b.example.com")
    mismatch = client.post(
        "/api/v1/secrets/",
        {
            "namespace": shop.pk,
            "name": "tls",
            "type": "kubernetes.io/tls",
            "tls": {"certificate": cert, "private_key": other_key},
        },
        format="json",
    )
    assert mismatch.status_code == 400
    assert mismatch.json() == {"private_key": ["The private key does not match the certificate."]}
    missing = client.post(
        "/api/v1/secrets/",
        {"namespace": shop.pk, "name": "tls", "type": "kubernetes.io/tls", "data": {"a": "b"}},
        format="json",
    )
    assert missing.status_code == 400 and "tls.crt" in str(missing.json())
    ok = client.post(
        "/api/v1/secrets/",
        {
            "namespace": shop.pk,
            "name": "tls",
            "type": "kubernetes.io/tls",
            "tls": {"certificate": cert, "private_key": key},
        },
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["keys"] == ["tls.crt", "tls.key"]
    config = client.post(f"/api/v1/secrets/{registry.json()['id']}/reveal/").json()["data"]
    assert json.loads(config[".dockerconfigjson"])["auths"]["ghcr.io"]["password"] == VALUE


def test_filters_by_cluster_project_and_namespace(org, api, shop, lab):
    services.create_configmap(org.admin, namespace=shop, name="in-shop", data={})
    services.create_configmap(org.admin, namespace=lab, name="in-lab", data={})
    services.create_secret(org.admin, namespace=lab, name="s-lab", data={})
    client = api("admin")

    def names(url):
        return sorted(
            r["name"]
            for r in client.get(url).json()["results"]
            if r["name"].startswith(("in-", "s-"))
        )

    assert names(f"/api/v1/configmaps/?namespace={shop.pk}") == ["in-shop"]
    assert names(f"/api/v1/configmaps/?project={org.data.pk}") == ["in-lab"]
    assert names(f"/api/v1/configmaps/?cluster={shop.cluster.pk}") == ["in-lab", "in-shop"]
    assert names(f"/api/v1/secrets/?project={org.data.pk}") == ["s-lab"]
    assert names(f"/api/v1/secrets/?project={org.web.pk}") == []
    # A member cannot even name another project in a filter.
    refused = api("member").get(f"/api/v1/configmaps/?project={org.data.pk}")
    assert refused.status_code == 400


def test_openapi_documents_both_endpoints(org, api):
    schema = yaml.safe_load(api("admin").get("/api/schema/").content)
    paths = schema["paths"]
    assert "/api/v1/configmaps/" in paths and "/api/v1/secrets/{id}/reveal/" in paths
    components = schema["components"]["schemas"]
    assert "data" not in components["Secret"]["properties"]
    assert "data" in components["SecretRequest"]["properties"]
    params = {p["name"] for p in paths["/api/v1/secrets/"]["get"]["parameters"]}
    assert {"cluster", "project", "namespace"} <= params
    assert ConfigMap.objects.count() == 0 and Secret.objects.count() == 0


def test_admin_site_lists_and_deletes_through_the_service(org, portal, shop):
    secret = services.create_secret(org.member, namespace=shop, name="app", data={"k": VALUE})
    client = portal("admin")
    listing = client.get("/admin/configs/secret/")
    assert listing.status_code == 200 and "app" in listing.content.decode()
    page = client.get(f"/admin/configs/secret/{secret.pk}/change/").content.decode()
    assert VALUE not in page and b64(VALUE) not in page
    assert client.get("/admin/configs/configmap/").status_code == 200
    assert portal("projadmin").get("/admin/configs/secret/").status_code in (302, 403)
    client.post(f"/admin/configs/secret/{secret.pk}/delete/", {"post": "yes"})
    assert not Secret.objects.filter(pk=secret.pk).exists()
    assert AuditEvent.objects.filter(action="secret.delete", actor_name="admin").exists()
