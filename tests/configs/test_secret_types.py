"""Tenants create only the Secret types the form offers, from YAML too (hole 2); the API
reads back whatever type Kubernetes has and documents it so."""

import html

import pytest
import yaml
from django.core.exceptions import ValidationError
from kubernetes import client as k8s

from apps.configs import services
from apps.configs.models import Secret
from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster

TOKEN = """apiVersion: v1
kind: Secret
metadata:
  name: stolen-token
  annotations:
    kubernetes.io/service-account.name: default
type: kubernetes.io/service-account-token
"""


def _core(cluster):
    return k8s.CoreV1Api(cluster.kube().api_client)


def test_a_tenant_cannot_create_a_service_account_token_from_yaml(org, shop, cluster):
    with pytest.raises(ValidationError, match="cannot be created here"):
        services.create_secret_from_yaml(org.member, shop, TOKEN)
    assert _core(cluster).list_namespaced_secret("shop").items == []
    refusal = AuditEvent.objects.filter(action="secret.create").latest("pk")
    assert refusal.result == "failure" and "cannot be created here" in refusal.reason


@pytest.mark.parametrize("type_", ["kubernetes.io/basic-auth", "bootstrap.kubernetes.io/token"])
def test_portal_and_api_refuse_other_types(org, portal, api, shop, cluster, type_):
    text = TOKEN.replace("kubernetes.io/service-account-token", type_)
    page = portal("member").post("/secrets/add/yaml/", {"namespace": shop.pk, "yaml": text})
    assert page.status_code == 200
    assert "cannot be created here" in html.unescape(page.content.decode())
    answer = api("member").post(
        "/api/v1/secrets/yaml/", {"namespace": shop.pk, "yaml": text}, format="json"
    )
    assert answer.status_code == 400 and "cannot be created here" in str(answer.json())
    typed = api("member").post(
        "/api/v1/secrets/",
        {"namespace": shop.pk, "name": "typed", "type": type_, "data": {"a": "b"}},
        format="json",
    )
    assert typed.status_code == 400 and "type" in typed.json()
    assert _core(cluster).list_namespaced_secret("shop").items == []


def test_an_edit_cannot_change_the_type(org, shop):
    secret = services.create_secret(org.member, namespace=shop, name="s", data={"a": "b"})
    text = services.secret_yaml(org.member, secret)
    assert "type: Opaque" in text
    with pytest.raises(ValidationError, match="cannot be created here"):
        services.replace_secret_yaml(
            org.member, secret, text.replace("type: Opaque", "type: kubernetes.io/basic-auth")
        )


def test_the_api_reads_back_a_type_the_portal_does_not_offer(org, api, shop, cluster):
    """A token Secret made outside the portal is listed with its type, and the schema
    says a response's type is any text (a request's is one of the form's)."""
    _core(cluster).create_namespaced_secret(
        "shop",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "native", "annotations": {"a": "b"}},
            "type": "kubernetes.io/basic-auth",
            "stringData": {"username": "u", "password": "p"},
        },
    )
    sync_cluster(cluster)
    assert Secret.objects.get(name="native").type == "kubernetes.io/basic-auth"
    listed = api("member").get("/api/v1/secrets/", {"namespace": shop.pk}).json()["results"]
    assert [row["type"] for row in listed] == ["kubernetes.io/basic-auth"]
    schema = yaml.safe_load(api("member").get("/api/schema/").content)["components"]["schemas"]
    assert "enum" not in schema["Secret"]["properties"]["type"]
    assert schema["Secret"]["properties"]["type"]["type"] == "string"
    request_type = schema["SecretRequest"]["properties"]["type"]["allOf"][0]["$ref"]
    enum = schema[request_type.rsplit("/", 1)[1]]["enum"]
    assert set(enum) == set(Secret.Type.values)
