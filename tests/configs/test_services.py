"""ConfigMaps and Secrets through their services, against kubesim."""

import base64
import json
import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import Http404
from kubernetes import client as k8s

from apps.configs import services
from apps.configs.models import ConfigMap, Secret
from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster
from tests.kube.conftest import eventually

from .conftest import b64, make_pair

SECRET_VALUE = "hunter2-very-secret-Zq9"


def _core(cluster):
    return k8s.CoreV1Api(cluster.kube().api_client)


def test_configmap_create_update_multiline_and_binary(org, shop):
    cm = services.create_configmap(
        org.member,
        namespace=shop,
        name="app-config",
        data={"app.ini": "[main]\nport = 8080\n", "mode": "prod"},
        binary_data={"logo.bin": b"\x89PNG\x00\xff"},
    )
    live = _core(shop.cluster).read_namespaced_config_map("app-config", "shop")
    assert live.data == {"app.ini": "[main]\nport = 8080\n", "mode": "prod"}
    assert base64.b64decode(live.binary_data["logo.bin"]) == b"\x89PNG\x00\xff"
    assert cm.keys == ["app.ini", "logo.bin", "mode"] and cm.binary_keys == ["logo.bin"]
    assert cm.namespace == shop and cm.data["mode"] == "prod"

    services.update_configmap(org.member, cm, data={"mode": "dev"})
    live = _core(shop.cluster).read_namespaced_config_map("app-config", "shop")
    assert live.data == {"mode": "dev"} and "logo.bin" in live.binary_data
    event = AuditEvent.objects.filter(action="configmap.update").last()
    assert event.detail["removed"] == ["app.ini"]


def test_configmap_bad_keys_and_outsiders(org, shop, lab):
    with pytest.raises(ValidationError) as error:
        services.create_configmap(org.member, namespace=shop, name="Bad_Name", data={"a b": "x"})
    assert "lowercase" in str(error.value.message_dict["name"])
    assert "a b is not a valid key" in str(error.value.message_dict["data"])
    with pytest.raises(Http404):
        services.create_configmap(org.outsider, namespace=shop, name="x", data={})
    with pytest.raises(Http404):
        services.create_configmap(org.member, namespace=lab, name="x", data={})


def test_secret_values_never_stored_logged_or_audited(org, shop, caplog):
    caplog.set_level(logging.DEBUG)
    secret = services.create_secret(
        org.member, namespace=shop, name="db", data={"password": SECRET_VALUE}
    )
    services.update_secret(org.member, secret, data={"token": SECRET_VALUE + "-2"})
    revealed = services.reveal_secret(org.projadmin, secret)
    assert revealed == {"password": SECRET_VALUE, "token": SECRET_VALUE + "-2"}
    sync_cluster(shop.cluster)
    dump = _dumpdata()
    for text in (SECRET_VALUE, b64(SECRET_VALUE), b64(SECRET_VALUE + "-2")):
        assert text not in dump
        assert text not in caplog.text
    events = AuditEvent.objects.filter(action__startswith="secret.")
    assert [e.action for e in events.order_by("pk")] == [
        "secret.create",
        "secret.update",
        "secret.reveal",
    ]
    assert events.get(action="secret.reveal").detail == {"keys": ["password", "token"]}
    assert Secret.objects.get(pk=secret.pk).keys == ["password", "token"]


def _dumpdata() -> str:
    import io

    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def test_reveal_is_refused_to_those_outside(org, shop):
    secret = services.create_secret(org.projadmin, namespace=shop, name="s", data={"k": "v"})
    with pytest.raises(Http404):
        services.reveal_secret(org.outsider, secret)
    assert not AuditEvent.objects.filter(action="secret.reveal", result="success").exists()
    refused = AuditEvent.objects.get(action="secret.reveal")
    assert (refused.actor_name, refused.result) == ("outsider", "failure")
    assert refused.reason == "Not found, or not visible to this user."


def test_registry_credentials(org, shop):
    secret = services.create_secret(
        org.member,
        namespace=shop,
        name="registry",
        type=Secret.Type.DOCKERCONFIGJSON,
        data=services.dockerconfig_data(
            "registry.example.com", "bob", SECRET_VALUE, "bob@example.com"
        ),
    )
    live = _core(shop.cluster).read_namespaced_secret("registry", "shop")
    assert live.type == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(live.data[".dockerconfigjson"]))
    entry = config["auths"]["registry.example.com"]
    assert entry["username"] == "bob" and entry["email"] == "bob@example.com"
    assert base64.b64decode(entry["auth"]).decode() == f"bob:{SECRET_VALUE}"
    assert secret.keys == [".dockerconfigjson"]
    with pytest.raises(ValidationError) as error:
        services.dockerconfig_data("", "", "")
    assert set(error.value.message_dict) == {"server", "username", "password"}


def test_tls_pair_checked(org, shop):
    cert, key = make_pair()
    secret = services.create_secret(
        org.member,
        namespace=shop,
        name="tls",
        type=Secret.Type.TLS,
        data=services.tls_data(cert, key),
    )
    assert secret.keys == ["tls.crt", "tls.key"]
    _other_cert, other_key = make_pair("other.example.com")
    cases = [
        (cert, other_key, "private_key", "does not match the certificate"),
        ("hello", key, "certificate", "not in PEM format"),
        (
            "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n",
            key,
            "certificate",
            "not a valid PEM certificate",
        ),
        (
            cert,
            "-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----",
            "private_key",
            "not a valid PEM private key",
        ),
        (cert, "", "private_key", "Give the private key"),
    ]
    for certificate, private_key, field, message in cases:
        with pytest.raises(ValidationError) as error:
            services.tls_data(certificate, private_key)
        assert message in str(error.value.message_dict[field]), (field, message)
    with pytest.raises(ValidationError, match="does not match"):
        services.update_secret(org.member, secret, data={"tls.key": other_key})


def test_secret_yaml_masked_and_kept_on_edit(org, shop):
    secret = services.create_secret(
        org.member, namespace=shop, name="app", data={"a": SECRET_VALUE, "b": "bee"}
    )
    text = services.secret_yaml(org.member, secret)
    assert SECRET_VALUE not in text and b64(SECRET_VALUE) not in text
    assert "a: '********'" in text
    edited = text.replace("b: '********'", f"b: {b64('new-bee')}")
    services.replace_secret_yaml(org.member, secret, edited)
    assert services.reveal_secret(org.member, secret) == {"a": SECRET_VALUE, "b": "new-bee"}
    # A stale edit (the old resourceVersion) is a conflict, not an overwrite.
    with pytest.raises(ValidationError) as error:
        services.replace_secret_yaml(org.member, secret, edited)
    assert "changed by someone else" in str(error.value)


def test_member_may_not_touch_namespace_not_opened(org, shop, cluster):
    from apps.namespaces import services as ns_services

    closed = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="closed", quota={}
    )
    with pytest.raises(Http404):
        services.create_secret(org.member, namespace=closed, name="x", data={})
    secret = services.create_secret(org.projadmin, namespace=closed, name="x", data={"k": "v"})
    with pytest.raises(Http404):
        services.reveal_secret(org.member, secret)
    with pytest.raises((Http404, PermissionDenied)):
        services.delete_secret(org.member, secret)


def test_native_objects_float_up_linked_to_their_namespace(org, shop):
    _core(shop.cluster).create_namespaced_config_map(
        "shop", {"metadata": {"name": "native"}, "data": {"x": "1"}}
    )
    _core(shop.cluster).create_namespaced_secret(
        "shop", {"metadata": {"name": "native-s"}, "stringData": {"x": SECRET_VALUE}}
    )
    sync_cluster(shop.cluster)
    cm = ConfigMap.objects.get(cluster=shop.cluster, name="native")
    assert cm.namespace == shop and cm.data == {"x": "1"}
    assert ConfigMap.objects.restrict(org.member).filter(pk=cm.pk).exists()
    secret = Secret.objects.get(cluster=shop.cluster, name="native-s")
    assert secret.namespace == shop and secret.keys == ["x"]
    assert "data" not in secret.manifest
    assert not ConfigMap.objects.restrict(org.outsider).filter(pk=cm.pk).exists()


def test_tls_secret_written_as_yaml_gets_the_same_checks(org, shop):
    cert, _key = make_pair()
    _other, other_key = make_pair("other.example.com")

    def b64(value):
        return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()

    text = f"""
apiVersion: v1
kind: Secret
metadata: {{name: tls-yaml}}
type: kubernetes.io/tls
data:
  tls.crt: {b64(cert)}
  tls.key: {b64(other_key)}
"""
    with pytest.raises(ValidationError) as error:
        services.create_secret_from_yaml(org.member, shop, text)
    assert "does not match the certificate" in str(error.value.message_dict["yaml"])
    assert not Secret.objects.filter(name="tls-yaml").exists()


def test_the_clusters_ca_configmap_is_shown_but_left_to_kubernetes(org, shop, portal):
    core = _core(shop.cluster)

    def published():
        """kubesim's root CA publisher put kube-root-ca.crt in the new namespace"""
        try:
            return core.read_namespaced_config_map("kube-root-ca.crt", "shop")
        except k8s.ApiException:
            return None

    live = eventually(published)
    sync_cluster(shop.cluster)
    cm = ConfigMap.objects.get(cluster=shop.cluster, namespace_name="shop", name="kube-root-ca.crt")
    assert cm.is_system and cm.keys == ["ca.crt"]

    page = portal("member").get(cm.get_absolute_url()).content.decode()
    assert 'data-testid="configmap-system"' in page
    assert "/edit" not in page and "/delete" not in page
    yaml_page = portal("member").get(f"{cm.get_absolute_url()}yaml/").content.decode()
    assert "ca.crt" in yaml_page and "You may view this YAML but not change it." in yaml_page

    for change in (
        lambda: services.update_configmap(org.member, cm, data={"ca.crt": "mine"}),
        lambda: services.replace_configmap_yaml(org.member, cm, "kind: ConfigMap\n"),
        lambda: services.delete_configmap(org.member, cm),
    ):
        with pytest.raises(ValidationError) as refused:
            change()
        assert "is kept by Kubernetes" in str(refused.value)
    assert core.read_namespaced_config_map("kube-root-ca.crt", "shop").data == live.data
    failed = AuditEvent.objects.filter(result="failure", target_name="kube-root-ca.crt")
    assert sorted(e.action for e in failed) == [
        "configmap.delete",
        "configmap.update",
        "configmap.update",
    ]
    assert all("is kept by Kubernetes" in e.reason for e in failed)


def test_a_registry_secret_is_made_from_the_credentials_and_keeps_the_password_out(
    org, shop, caplog
):
    caplog.set_level(logging.DEBUG)
    secret = services.create_registry_secret(
        org.member,
        shop,
        name="harbor",
        server="harbor.example.com",
        username="ci-bot",
        password=SECRET_VALUE,
        email="ci@example.com",
    )
    live = _core(shop.cluster).read_namespaced_secret("harbor", "shop")
    assert live.type == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(live.data[".dockerconfigjson"]))
    entry = config["auths"]["harbor.example.com"]
    assert (entry["username"], entry["password"]) == ("ci-bot", SECRET_VALUE)
    assert base64.b64decode(entry["auth"]).decode() == f"ci-bot:{SECRET_VALUE}"
    assert entry["email"] == "ci@example.com"
    row = Secret.objects.get(pk=secret.pk)
    assert (row.type, row.keys, row.namespace) == (
        Secret.Type.DOCKERCONFIGJSON,
        [".dockerconfigjson"],
        shop,
    )
    event = AuditEvent.objects.get(action="secret.create")
    assert (event.actor_name, event.result, event.target_name) == ("member", "success", "harbor")
    assert event.detail == {
        "type": "kubernetes.io/dockerconfigjson",
        "keys": [".dockerconfigjson"],
        "source": "form",
    }
    auth = base64.b64encode(f"ci-bot:{SECRET_VALUE}".encode()).decode()
    dump = _dumpdata()
    for text in (SECRET_VALUE, b64(SECRET_VALUE), auth):
        assert text not in dump and text not in caplog.text

    # The next default name is free; the taken one is refused on the name.
    assert services.free_secret_name(shop) == "regcred"
    services.create_registry_secret(
        org.member, shop, name="regcred", server="r.example.com", username="u", password="p"
    )
    assert services.free_secret_name(shop) == "regcred-2"
    with pytest.raises(ValidationError) as error:
        services.create_registry_secret(
            org.member, shop, name="harbor", server="r.example.com", username="u", password="p"
        )
    assert list(error.value.message_dict) == ["name"]
    assert "already exists" in error.value.message_dict["name"][0]


def test_a_registry_secret_is_refused_without_permission_and_on_bad_fields(org, shop, lab):
    assert services.may_create_secret(org.member, shop)
    assert not services.may_create_secret(org.member, lab)
    assert not services.may_create_secret(org.outsider, shop)
    with pytest.raises(Http404):
        services.create_registry_secret(
            org.member,
            lab,
            name="sneaky",
            server="r.example.com",
            username="u",
            password=SECRET_VALUE,
        )
    refused = AuditEvent.objects.get(action="secret.create", result="failure")
    assert (refused.actor_name, refused.target_name, refused.namespace) == (
        "member",
        "sneaky",
        "lab",
    )
    assert refused.reason == "Not found, or not visible to this user."
    assert refused.project == org.data  # data-lab's admins see who tried
    assert (
        not _core(lab.cluster)
        .list_namespaced_secret("lab", field_selector="metadata.name=sneaky")
        .items
    )

    with pytest.raises(ValidationError) as error:
        services.create_registry_secret(
            org.member, shop, name="Bad_Name", server="", username="u", password=SECRET_VALUE
        )
    assert set(error.value.message_dict) == {"name", "server"}
    bad = AuditEvent.objects.filter(action="secret.create", result="failure").order_by("pk").last()
    assert bad.target_name == "Bad_Name" and "server: Give the registry server" in bad.reason
    for event in AuditEvent.objects.all():
        assert SECRET_VALUE not in f"{event.detail} {event.reason}"


def test_a_registry_secret_while_kubernetes_is_away_is_refused_and_audited(org, shop, kubesim):
    kubesim.admin("PUT", f"/clusters/{shop.cluster.name}/faults", {"refuse": True})
    try:
        with pytest.raises(ValidationError) as error:
            services.create_registry_secret(
                org.member,
                shop,
                name="harbor",
                server="r.example.com",
                username="u",
                password=SECRET_VALUE,
            )
    finally:
        kubesim.admin("PUT", f"/clusters/{shop.cluster.name}/faults", {})
    assert "Kubernetes is unavailable" in " ".join(error.value.messages)
    event = AuditEvent.objects.get(action="secret.create")
    assert event.result == "failure" and "Kubernetes is unavailable" in event.reason
    assert not Secret.objects.filter(name="harbor").exists()
