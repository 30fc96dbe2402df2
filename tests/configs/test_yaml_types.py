"""Values of the wrong type in YAML are a field error in every surface (issue 9, defect 2).

Before, a ConfigMap's ``data: {port: 8080}`` was a 500 in the portal: Kubernetes refuses
such a body with a decoding error naming no field.
"""

import html

import pytest

from apps.configs import services
from apps.configs.models import ConfigMap, Secret
from apps.storage.models import PersistentVolumeClaim

CASES = [
    (
        "/configmaps/add/yaml/",
        "/api/v1/configmaps/yaml/",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typed\ndata:\n  port: 8080\n",
        "data.port must be text, not 8080.",
        ConfigMap,
    ),
    (
        "/secrets/add/yaml/",
        "/api/v1/secrets/yaml/",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: typed\nstringData:\n  port: 8080\n",
        "stringData.port must be text, not 8080.",
        Secret,
    ),
    (
        "/storage/claims/add/yaml/",
        None,  # the claims API takes YAML on its create endpoint (below)
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: typed\nspec:\n"
        "  accessModes: ReadWriteOnce\n  resources:\n    requests:\n      storage: 1Gi\n",
        'spec.accessModes must be a list, not "ReadWriteOnce".',
        PersistentVolumeClaim,
    ),
]


@pytest.mark.parametrize(("page", "endpoint", "text", "message", "model"), CASES)
def test_a_wrongly_typed_value_is_named_in_the_portal_and_the_api(
    org, portal, api, shop, page, endpoint, text, message, model
):
    response = portal("member").post(page, {"namespace": shop.pk, "yaml": text})
    assert response.status_code == 200
    shown = html.unescape(response.content.decode())
    assert message in shown and "name: typed" in shown  # the user's YAML is kept
    if endpoint:
        answer = api("member").post(endpoint, {"namespace": shop.pk, "yaml": text}, format="json")
    else:
        answer = api("member").post(
            "/api/v1/persistentvolumeclaims/", {"namespace": shop.pk, "yaml": text}, format="json"
        )
    assert answer.status_code == 400
    assert answer.json() == {"yaml": [message]}
    assert not model.objects.filter(name="typed").exists()


def test_an_edit_with_a_wrong_type_is_refused_and_the_object_kept(org, api, shop):
    configmap = services.create_configmap(org.member, namespace=shop, name="c", data={"a": "1"})
    client = api("member")
    text = client.get(f"/api/v1/configmaps/{configmap.pk}/yaml/").json()["yaml"]
    assert "resourceVersion" in text and "a: '1'" in text
    broken = text.replace("a: '1'", "a: 1")
    answer = client.put(f"/api/v1/configmaps/{configmap.pk}/yaml/", {"yaml": broken}, format="json")
    assert answer.status_code == 400 and answer.json() == {"yaml": ["data.a must be text, not 1."]}
    fixed = text.replace("a: '1'", "a: '2'")
    answer = client.put(f"/api/v1/configmaps/{configmap.pk}/yaml/", {"yaml": fixed}, format="json")
    assert answer.status_code == 200 and "a: '2'" in answer.json()["yaml"]
    configmap.refresh_from_db()
    assert configmap.data == {"a": "2"}


def test_secret_yaml_in_the_api_is_masked_and_edits_keep_masked_values(org, api, shop):
    secret = services.create_secret(org.member, namespace=shop, name="s", data={"pw": "hunter2"})
    client = api("member")
    text = client.get(f"/api/v1/secrets/{secret.pk}/yaml/").json()["yaml"]
    assert "hunter2" not in text and "aHVudGVyMg" not in text and services.MASK in text
    labelled = text.replace("  name: s\n", "  name: s\n  labels:\n    team: web\n")
    answer = client.put(f"/api/v1/secrets/{secret.pk}/yaml/", {"yaml": labelled}, format="json")
    assert answer.status_code == 200
    assert services.reveal_secret(org.member, secret) == {"pw": "hunter2"}
    assert client.get(f"/api/v1/secrets/{secret.pk}/yaml/").status_code == 200
    # Another project's Secret: not there at all.
    assert api("outsider").get(f"/api/v1/secrets/{secret.pk}/yaml/").status_code == 404


def test_yaml_nested_thousands_deep_is_a_clear_error(org, portal, api, shop, caplog):
    """Was a RecursionError: a 500, and a 150 KB traceback in the log per request."""
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + "[" * 5000
    text += "]" * 5000 + "\n"
    page = portal("member").post("/configmaps/add/yaml/", {"namespace": shop.pk, "yaml": text})
    assert page.status_code == 200 and "nest too deeply" in page.content.decode()
    answer = api("member").post(
        "/api/v1/configmaps/yaml/", {"namespace": shop.pk, "yaml": text}, format="json"
    )
    assert answer.status_code == 400 and "nest too deeply" in str(answer.json())
    assert not ConfigMap.objects.filter(name="deep").exists()
    assert not [r for r in caplog.records if r.exc_info or r.levelname == "ERROR"]
