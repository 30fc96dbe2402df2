"""The configuration centre through the tenant portal: the permission matrix, the key/value
editor, each Secret type, masked values and audited reveals, YAML guards, query budgets, CSP."""

import base64
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from kubernetes import client as k8s

from apps.configs import services
from apps.configs.models import ConfigMap, Secret
from apps.core.models import AuditEvent

from .conftest import b64, make_pair

VALUE = "s3cr3t-Portal-Value-7731"

# Who may do what on web-shop's objects in its namespace "shop" (opened to the member).
MATRIX = {
    "admin": 200,
    "deptadmin": 200,
    "projadmin": 200,
    "member": 200,
    "outsider": 404,
}


def _text(response) -> str:
    return response.content.decode()


def _core(cluster):
    return k8s.CoreV1Api(cluster.kube().api_client)


def _rows(rows, prefix="data"):
    """POST data for the key/value editor's rows."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{i}-{name}"] = value
    return data


@pytest.fixture
def objects_(org, shop, lab):
    return {
        "cm": services.create_configmap(org.admin, namespace=shop, name="web", data={"a": "1"}),
        "secret": services.create_secret(
            org.admin, namespace=shop, name="creds", data={"password": VALUE}
        ),
        "other_cm": services.create_configmap(
            org.admin, namespace=lab, name="lab-config", data={"b": "2"}
        ),
        "other_secret": services.create_secret(
            org.admin, namespace=lab, name="lab-creds", data={"k": "v"}
        ),
    }


@pytest.mark.parametrize("username", list(MATRIX))
def test_permission_matrix_portal(org, portal, objects_, username):
    client, expected = portal(username), MATRIX[username]
    cm, secret = objects_["cm"], objects_["secret"]
    assert ("web" in _text(client.get("/configmaps/"))) is (expected == 200)
    assert ("creds" in _text(client.get("/secrets/"))) is (expected == 200)
    for url in (
        f"/configmaps/{cm.pk}/",
        f"/configmaps/{cm.pk}/edit/",
        f"/configmaps/{cm.pk}/yaml/",
        f"/configmaps/{cm.pk}/delete/",
        f"/secrets/{secret.pk}/",
        f"/secrets/{secret.pk}/edit/",
        f"/secrets/{secret.pk}/yaml/",
        f"/secrets/{secret.pk}/delete/",
    ):
        assert client.get(url).status_code == expected, url
    # Another project's objects, by id: a 404 unless admin of it (the department admin is).
    other = 200 if username in ("admin", "deptadmin") else 404
    for name in ("other_cm", "other_secret"):
        kind = "configmaps" if name == "other_cm" else "secrets"
        status = client.get(f"/{kind}/{objects_[name].pk}/").status_code
        assert status == other, (name, status)
    reveal = client.post(f"/secrets/{objects_['other_secret'].pk}/reveal/")
    assert reveal.status_code == other

    # Changing values: those who may see may change; others get a 404 and nothing changes.
    response = client.post(
        f"/configmaps/{cm.pk}/edit/",
        {"resource_version": cm.resource_version, **_rows([{"key": "a", "value": username}])},
    )
    assert response.status_code == (302 if expected == 200 else 404)
    live = _core(cm.cluster).read_namespaced_config_map("web", "shop")
    assert (live.data["a"] == username) is (expected == 200)
    deleted = client.post(f"/secrets/{secret.pk}/delete/")
    assert deleted.status_code == (302 if expected == 200 else 404)
    assert Secret.objects.filter(pk=secret.pk).exists() is (expected != 200)


def test_member_sees_nothing_of_a_namespace_not_opened_to_them(org, portal, shop, cluster):
    from apps.namespaces import services as ns_services

    closed = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="closed", quota={}
    )
    cm = services.create_configmap(org.projadmin, namespace=closed, name="cm-hidden-x", data={})
    member = portal("member")
    assert member.get(f"/configmaps/{cm.pk}/").status_code == 404
    assert "cm-hidden-x" not in _text(member.get("/configmaps/"))
    page = _text(member.get("/configmaps/add/"))
    assert f'value="{closed.pk}"' not in page and f'value="{shop.pk}"' in page


def test_yaml_create_in_another_projects_namespace_is_refused(org, portal, shop, lab):
    client = portal("projadmin")
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sneaky\n  namespace: lab\n"
    page = client.post("/configmaps/add/yaml/", {"namespace": shop.pk, "yaml": text})
    assert page.status_code == 200
    assert "must stay in namespace shop" in _text(page)
    page = client.post("/configmaps/add/yaml/", {"namespace": lab.pk, "yaml": text})
    assert page.status_code == 200 and "Select a valid choice" in _text(page)
    secret = text.replace("ConfigMap", "Secret")
    page = client.post("/secrets/add/yaml/", {"namespace": shop.pk, "yaml": secret})
    assert "must stay in namespace shop" in _text(page)
    assert not _core(lab.cluster).list_namespaced_config_map("lab").items or all(
        cm.metadata.name != "sneaky"
        for cm in _core(lab.cluster).list_namespaced_config_map("lab").items
    )
    assert not Secret.objects.filter(name="sneaky").exists()
    # In its own namespace it works.
    ok = client.post(
        "/configmaps/add/yaml/", {"namespace": shop.pk, "yaml": text.replace("lab", "shop")}
    )
    assert ok.status_code == 302
    assert ConfigMap.objects.get(name="sneaky").namespace == shop


def test_configmap_key_value_editor(org, portal, shop):
    client = portal("member")
    # Without JavaScript, "Add row" shows the rows typed so far and one more; nothing saved.
    more = client.post(
        "/configmaps/add/",
        {
            "namespace": shop.pk,
            "name": "app",
            "add_row": "1",
            **_rows([{"key": "x", "value": "1"}]),
        },
    )
    assert more.status_code == 200 and 'name="data-TOTAL_FORMS" value="2"' in _text(more)
    assert not ConfigMap.objects.filter(name="app").exists()

    multiline = "server {\n  listen 80;\n}\n"
    response = client.post(
        "/configmaps/add/",
        {
            "namespace": shop.pk,
            "name": "app",
            **_rows(
                [
                    {"key": "nginx.conf", "value": multiline},
                    {"key": "", "value": ""},
                    {"key": "", "file": SimpleUploadedFile("settings.json", b'{"debug": true}')},
                    {"key": "logo.png", "file": SimpleUploadedFile("x.png", b"\x89PNG\xff\x00")},
                ]
            ),
        },
    )
    assert response.status_code == 302, _text(response)
    live = _core(shop.cluster).read_namespaced_config_map("app", "shop")
    assert live.data == {"nginx.conf": multiline, "settings.json": '{"debug": true}'}
    assert base64.b64decode(live.binary_data["logo.png"]) == b"\x89PNG\xff\x00"
    cm = ConfigMap.objects.get(name="app")
    detail = _text(client.get(f"/configmaps/{cm.pk}/"))
    assert "listen 80;" in detail and "logo.png" in detail

    # Edit: change one value, remove another, add a row; the binary key is kept.
    edit = _text(client.get(f"/configmaps/{cm.pk}/edit/"))
    assert "listen 80;" in edit and "data-kv-template" in edit
    data = {
        "resource_version": cm.resource_version,
        **_rows(
            [
                {"key": "nginx.conf", "value": "server {}\n"},
                {"key": "settings.json", "value": "{}", "DELETE": "on"},
                {"key": "new", "value": "line 1\nline 2"},
            ]
        ),
    }
    data["data-INITIAL_FORMS"] = "2"
    assert client.post(f"/configmaps/{cm.pk}/edit/", data).status_code == 302
    live = _core(shop.cluster).read_namespaced_config_map("app", "shop")
    assert live.data == {"nginx.conf": "server {}\n", "new": "line 1\nline 2"}
    assert "logo.png" in live.binary_data

    # Two rows with one key, or a value without a key, are explained.
    bad = client.post(
        f"/configmaps/{cm.pk}/edit/",
        {
            "resource_version": "",
            **_rows([{"key": "a", "value": "1"}, {"key": "a", "value": "2"}, {"value": "x"}]),
        },
    )
    assert "The key a is used twice" in _text(bad) and "Give each value a key" in _text(bad)


def test_configmap_stale_yaml_edit_is_a_conflict_and_keeps_the_yaml(org, portal, shop):
    cm = services.create_configmap(org.member, namespace=shop, name="app", data={"a": "1"})
    client = portal("member")
    page = _text(client.get(f"/configmaps/{cm.pk}/yaml/"))
    text = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)
    import html

    text = html.unescape(text)
    assert "resourceVersion" in text
    services.update_configmap(org.projadmin, cm, data={"a": "2"})
    edited = text.replace("a: '1'", "a: mine").replace('a: "1"', "a: mine")
    assert "mine" in edited
    response = client.post(f"/configmaps/{cm.pk}/yaml/", {"yaml": edited})
    assert response.status_code == 200
    assert "changed by someone else" in _text(response)
    assert "a: mine" in html.unescape(_text(response))
    assert _core(shop.cluster).read_namespaced_config_map("app", "shop").data == {"a": "2"}


def test_secret_types_through_the_portal(org, portal, shop):
    client = portal("member")
    assert client.get("/secrets/add/").status_code == 200
    created = client.post(
        "/secrets/add/opaque/",
        {"namespace": shop.pk, "name": "app", **_rows([{"key": "password", "value": VALUE}])},
    )
    assert created.status_code == 302
    registry = client.post(
        "/secrets/add/registry/",
        {
            "namespace": shop.pk,
            "name": "pull",
            "server": "registry.example.com",
            "username": "ci",
            "password": VALUE,
            "email": "ci@example.com",
        },
    )
    assert registry.status_code == 302
    live = _core(shop.cluster).read_namespaced_secret("pull", "shop")
    assert live.type == "kubernetes.io/dockerconfigjson"
    cert, key = make_pair()
    _cert2, key2 = make_pair("other.example.com")
    mismatch = client.post(
        "/secrets/add/tls/",
        {"namespace": shop.pk, "name": "tls", "certificate": cert, "private_key": key2},
    )
    assert mismatch.status_code == 200
    assert "The private key does not match the certificate." in _text(mismatch)
    invalid = client.post(
        "/secrets/add/tls/",
        {"namespace": shop.pk, "name": "tls", "certificate": "garbage", "private_key": "nope"},
    )
    page = _text(invalid)
    assert "The certificate is not in PEM format" in page
    assert "The private key is not in PEM format" in page
    ok = client.post(
        "/secrets/add/tls/",
        {
            "namespace": shop.pk,
            "name": "tls",
            "certificate_file": SimpleUploadedFile("tls.crt", cert.encode()),
            "private_key_file": SimpleUploadedFile("tls.key", key.encode()),
        },
    )
    assert ok.status_code == 302, _text(ok)
    assert _core(shop.cluster).read_namespaced_secret("tls", "shop").type == "kubernetes.io/tls"

    # Values are masked everywhere until revealed.
    secret = Secret.objects.get(name="app")
    for url in (
        "/secrets/",
        f"/secrets/{secret.pk}/",
        f"/secrets/{secret.pk}/yaml/",
        f"/secrets/{secret.pk}/edit/",
    ):
        page = _text(client.get(url))
        assert VALUE not in page and b64(VALUE) not in page, url
    assert services.MASK in _text(client.get(f"/secrets/{secret.pk}/"))

    # Editing an Opaque Secret: an empty value keeps it, a new key is added.
    data = {
        "resource_version": secret.resource_version,
        **_rows([{"key": "password", "value": ""}, {"key": "user", "value": "bob"}]),
    }
    data["data-INITIAL_FORMS"] = "1"
    assert client.post(f"/secrets/{secret.pk}/edit/", data).status_code == 302
    assert services.reveal_secret(org.admin, secret) == {"password": VALUE, "user": "bob"}


def test_reveal_is_audited_and_refused_to_outsiders(org, portal, shop):
    secret = services.create_secret(
        org.member, namespace=shop, name="app", data={"password": VALUE, "user": "bob"}
    )
    assert portal("outsider").post(f"/secrets/{secret.pk}/reveal/").status_code == 404
    assert portal("outsider").post(f"/secrets/{secret.pk}/yaml/reveal/").status_code == 404
    assert not AuditEvent.objects.filter(action="secret.reveal").exists()
    client = portal("member")
    assert client.get(f"/secrets/{secret.pk}/reveal/").status_code == 405
    one = client.post(f"/secrets/{secret.pk}/reveal/", {"key": "password"})
    assert one.status_code == 200 and VALUE in _text(one) and "bob" not in _text(one)
    assert one["Cache-Control"] == "no-store"
    yaml_page = client.post(f"/secrets/{secret.pk}/yaml/reveal/")
    assert b64(VALUE) in _text(yaml_page)
    events = AuditEvent.objects.filter(action="secret.reveal").order_by("pk")
    assert [e.detail["keys"] for e in events] == [["password"], ["password", "user"]]
    assert all(e.actor_name == "member" for e in events)
    for event in AuditEvent.objects.all():
        assert VALUE not in str(event.detail) and b64(VALUE) not in str(event.detail)


def test_secret_yaml_edit_keeps_masked_values(org, portal, shop):
    import html

    secret = services.create_secret(
        org.member, namespace=shop, name="app", data={"password": VALUE, "user": "bob"}
    )
    client = portal("member")
    page = _text(client.get(f"/secrets/{secret.pk}/yaml/"))
    text = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1))
    assert "password: '********'" in text
    edited = text.replace("user: '********'", "user: " + b64("alice"))
    response = client.post(f"/secrets/{secret.pk}/yaml/", {"yaml": edited})
    assert response.status_code == 302, _text(response)
    assert services.reveal_secret(org.admin, secret) == {"password": VALUE, "user": "alice"}


# --- query budgets and CSP ------------------------------------------------------------


def _grow(shop, n):
    ConfigMap.objects.bulk_create(
        ConfigMap(
            cluster=shop.cluster,
            namespace=shop,
            namespace_name=shop.name,
            name=f"cm-{n}-{i}",
            keys=["a"],
            data={"a": "1"},
        )
        for i in range(n)
    )
    Secret.objects.bulk_create(
        Secret(
            cluster=shop.cluster,
            namespace=shop,
            namespace_name=shop.name,
            name=f"s-{n}-{i}",
            keys=["a"],
        )
        for i in range(n)
    )


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


LISTS = ["/configmaps/", "/secrets/", "/api/v1/configmaps/", "/api/v1/secrets/"]


@pytest.mark.parametrize("username", ["admin", "member"])
@pytest.mark.parametrize("url", LISTS)
def test_list_query_count_does_not_grow_with_rows(org, portal, api, shop, username, url):
    client = api(username) if url.startswith("/api/") else portal(username)
    url += "?limit=1000" if url.startswith("/api/") else "?cluster=" + str(shop.cluster.pk)
    _grow(shop, 3)
    small = _count(client, url)
    _grow(shop, 300)
    large = _count(client, url)
    assert ConfigMap.objects.restrict(org.users[username]).count() >= 300
    assert small == large, f"{url}: {small} queries for few rows, {large} for many"


def test_pages_satisfy_the_content_security_policy(org, portal, shop):
    cm = services.create_configmap(org.member, namespace=shop, name="app", data={"a": "1"})
    secret = services.create_secret(org.member, namespace=shop, name="s", data={"a": "1"})
    client = portal("member")
    pages = [
        "/configmaps/",
        "/configmaps/add/",
        "/configmaps/add/yaml/",
        f"/configmaps/{cm.pk}/",
        f"/configmaps/{cm.pk}/edit/",
        f"/configmaps/{cm.pk}/yaml/",
        f"/configmaps/{cm.pk}/delete/",
        "/secrets/",
        "/secrets/add/",
        "/secrets/add/opaque/",
        "/secrets/add/registry/",
        "/secrets/add/tls/",
        "/secrets/add/yaml/",
        f"/secrets/{secret.pk}/",
        f"/secrets/{secret.pk}/edit/",
        f"/secrets/{secret.pk}/yaml/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = _text(response)
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], url
        assert not re.search(r"\son[a-z]+\s*=", html), url
        assert not re.search(r"\sstyle\s*=", html), url
        assert "javascript:" not in html, url
    editor = _text(client.get("/configmaps/add/"))
    assert "/static/js/keyvalue.js" in editor and 'enctype="multipart/form-data"' in editor


def test_tls_and_registry_secrets_are_changed_in_full(org, portal, shop):
    import html

    cert, key = make_pair()
    tls = services.create_secret(
        org.member,
        namespace=shop,
        name="tls",
        type=Secret.Type.TLS,
        data=services.tls_data(cert, key),
    )
    client = portal("member")
    _cert2, key2 = make_pair("b.example.com")
    page = client.post(
        f"/secrets/{tls.pk}/edit/",
        {"resource_version": tls.resource_version, "certificate": cert, "private_key": key2},
    )
    assert page.status_code == 200
    assert "The private key does not match the certificate." in _text(page)
    cert3, key3 = make_pair("c.example.com")
    done = client.post(
        f"/secrets/{tls.pk}/edit/",
        {"resource_version": tls.resource_version, "certificate": cert3, "private_key": key3},
    )
    assert done.status_code == 302
    assert services.reveal_secret(org.member, tls)["tls.key"].strip() == key3.strip()

    pull = services.create_secret(
        org.member,
        namespace=shop,
        name="pull",
        type=Secret.Type.DOCKERCONFIGJSON,
        data=services.dockerconfig_data("ghcr.io", "ci", VALUE),
    )
    form = _text(client.get(f"/secrets/{pull.pk}/edit/"))
    assert VALUE not in form and 'name="password"' in form
    # A stale YAML edit is refused with the YAML kept, and nothing changes.
    page = _text(client.get(f"/secrets/{pull.pk}/yaml/"))
    text = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1))
    changed = client.post(
        f"/secrets/{pull.pk}/edit/",
        {
            "resource_version": pull.resource_version,
            "server": "ghcr.io",
            "username": "robot",
            "password": "another",
        },
    )
    assert changed.status_code == 302
    stale = client.post(f"/secrets/{pull.pk}/yaml/", {"yaml": text + "  # mine\n"})
    assert stale.status_code == 200 and "changed by someone else" in _text(stale)
    assert "# mine" in html.unescape(_text(stale))
    assert '"robot"' in services.reveal_secret(org.member, pull)[".dockerconfigjson"]


def test_multiline_values_typed_in_a_browser_are_stored_with_unix_line_breaks():
    from apps.configs.forms import KeyValueRow

    row = KeyValueRow(data={"key": "nginx.conf", "value": "server {\r\n  listen 80;\r\n}\r\n"})
    assert row.is_valid()
    assert row.cleaned_data["value"] == "server {\n  listen 80;\n}\n"
