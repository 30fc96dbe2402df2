"""Storage through the API: the permission matrix, filters, writes through services."""

import pytest
import yaml
from kubernetes import client as k8s

from apps.kube.sync import sync_cluster
from apps.storage.models import PersistentVolumeClaim, StorageClass
from tests.storage.test_portal import CLAIM_YAML, MATRIX, world  # noqa: F401


def _ids(response) -> set:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("username", list(MATRIX))
def test_storage_permission_matrix_in_the_api(org, api, world, username):  # noqa: F811
    client, expected = api(username), MATRIX[username]
    sc, pv = world["standard"], world["shop_volume"]
    shop_claim, lab_claim = world["shop_claim"], world["lab_claim"]

    assert (sc.pk in _ids(client.get("/api/v1/storageclasses/"))) is (expected["infra"] == 200)
    assert (pv.pk in _ids(client.get("/api/v1/persistentvolumes/"))) is (expected["infra"] == 200)
    claims = _ids(client.get("/api/v1/persistentvolumeclaims/"))
    assert (shop_claim.pk in claims) is (expected["shop"] == 200)
    assert (lab_claim.pk in claims) is (expected["lab"] == 200)

    assert client.get(f"/api/v1/storageclasses/{sc.pk}/").status_code == expected["infra"]
    assert client.get(f"/api/v1/persistentvolumes/{pv.pk}/").status_code == expected["infra"]
    for name, claim in (("shop", shop_claim), ("lab", lab_claim)):
        url = f"/api/v1/persistentvolumeclaims/{claim.pk}/"
        assert client.get(url).status_code == expected[name], url
        assert client.get(url + "yaml/").status_code == expected[name], url
    for url in (
        f"/api/v1/storageclasses/{sc.pk}/yaml/",
        f"/api/v1/persistentvolumes/{pv.pk}/yaml/",
    ):
        assert client.get(url).status_code == expected["infra_admin"], url
    if username == "admin":
        body = client.get(f"/api/v1/storageclasses/{sc.pk}/yaml/").json()["yaml"]
        assert yaml.safe_load(body)["kind"] == "StorageClass"
        return

    # Cloud-admin writes are refused and change nothing.
    assert (
        client.post(f"/api/v1/storageclasses/{sc.pk}/set-default/", {"default": False}).status_code
        == expected["infra_admin"]
    )
    assert client.delete(f"/api/v1/storageclasses/{sc.pk}/").status_code == expected["infra_admin"]
    assert (
        client.delete(f"/api/v1/persistentvolumes/{pv.pk}/").status_code == expected["infra_admin"]
    )
    created = client.post(
        "/api/v1/storageclasses/",
        {"cluster": sc.cluster_id, "name": "mine", "provisioner": "x.io/y"},
        format="json",
    )
    assert created.status_code in (400, 403)
    assert StorageClass.objects.filter(pk=sc.pk, is_default=True).exists()
    assert not StorageClass.objects.filter(name="mine").exists()
    if expected["lab"] == 404:
        url = f"/api/v1/persistentvolumeclaims/{lab_claim.pk}/"
        assert client.patch(url, {"size": "2Gi"}, format="json").status_code == 404
        assert client.delete(url).status_code == 404
        assert PersistentVolumeClaim.objects.filter(pk=lab_claim.pk).exists()


def test_claims_created_in_own_namespace_only(org, api, cluster, shop, lab):
    client = api("member")
    created = client.post(
        "/api/v1/persistentvolumeclaims/",
        {"namespace": shop.pk, "name": "api-data", "size": "1Gi"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["namespace"] == shop.pk and created.json()["requested"] == "1Gi"
    # Another project's namespace by id: answered like a missing one.
    other = client.post(
        "/api/v1/persistentvolumeclaims/",
        {"namespace": lab.pk, "name": "sneaky", "size": "1Gi"},
        format="json",
    )
    assert other.status_code == 400 and "namespace" in other.json()
    # By YAML naming it.
    by_yaml = client.post(
        "/api/v1/persistentvolumeclaims/",
        {"namespace": shop.pk, "yaml": CLAIM_YAML.format(name="sneaky", namespace="lab")},
        format="json",
    )
    assert by_yaml.status_code == 400 and "must stay in namespace shop" in str(by_yaml.json())
    core = k8s.CoreV1Api(cluster.kube().api_client)
    assert core.list_namespaced_persistent_volume_claim("lab").items == []
    # Over quota: Kubernetes' words.
    huge = client.post(
        "/api/v1/persistentvolumeclaims/",
        {"namespace": shop.pk, "name": "huge", "size": "50Gi"},
        format="json",
    )
    assert huge.status_code == 400 and "exceeded quota" in str(huge.json())
    # Expand, then refuse shrinking.
    url = f"/api/v1/persistentvolumeclaims/{created.json()['id']}/"
    assert client.patch(url, {"size": "2Gi"}, format="json").json()["requested"] == "2Gi"
    shrink = client.patch(url, {"size": "1Gi"}, format="json")
    assert shrink.status_code == 400 and "cannot shrink" in str(shrink.json())
    # Stale YAML is a 400 with the conflict explained.
    text = client.get(url + "yaml/").json()["yaml"]
    core.patch_namespaced_persistent_volume_claim(
        "api-data", "shop", {"metadata": {"labels": {"x": "y"}}}
    )
    stale = client.put(url + "yaml/", {"yaml": text}, format="json")
    assert stale.status_code == 400 and "changed by someone else" in str(stale.json())
    assert client.delete(url).status_code == 204
    assert not PersistentVolumeClaim.objects.filter(name="api-data").exists()


def test_filters_and_default_class(org, api, cluster, shop, lab):
    sync_cluster(cluster)
    client = api("admin")
    created = client.post(
        "/api/v1/storageclasses/",
        {
            "cluster": cluster.pk,
            "name": "fast",
            "provisioner": "sandbox.kcs.io/disk",
            "parameters": {"type": "ssd"},
            "allow_expansion": True,
            "is_default": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["is_default"] is True
    classes = client.get(f"/api/v1/storageclasses/?cluster={cluster.pk}").json()["results"]
    assert {c["name"]: c["is_default"] for c in classes} == {"fast": True, "standard": False}
    standard = next(c for c in classes if c["name"] == "standard")
    answer = client.post(
        f"/api/v1/storageclasses/{standard['id']}/set-default/", {"default": True}, format="json"
    )
    assert answer.json()["is_default"] is True
    assert list(
        StorageClass.objects.filter(cluster=cluster, is_default=True).values_list("name", flat=True)
    ) == ["standard"]

    api("admin").post(
        "/api/v1/persistentvolumeclaims/",
        {"namespace": lab.pk, "name": "lab-claim", "size": "1Gi"},
        format="json",
    )
    api("admin").post(
        "/api/v1/persistentvolumeclaims/",
        {"namespace": shop.pk, "name": "shop-claim", "size": "1Gi"},
        format="json",
    )

    def names(query):
        response = client.get(f"/api/v1/persistentvolumeclaims/?{query}")
        return {row["name"] for row in response.json()["results"]}

    assert names(f"namespace={shop.pk}") == {"shop-claim"}
    assert names(f"project={org.data.pk}") == {"lab-claim"}
    assert names(f"cluster={cluster.pk}") == {"shop-claim", "lab-claim"}
    by_project = client.get(f"/api/v1/storageclasses/?project={org.web.pk}").json()["results"]
    assert {c["name"] for c in by_project} == {"fast", "standard"}


def test_schema_documents_storage(org, portal):
    schema = yaml.safe_load(portal("member").get("/api/schema/").content)
    for path in (
        "/api/v1/storageclasses/",
        "/api/v1/storageclasses/{id}/set-default/",
        "/api/v1/storageclasses/{id}/yaml/",
        "/api/v1/persistentvolumes/",
        "/api/v1/persistentvolumeclaims/",
        "/api/v1/persistentvolumeclaims/{id}/yaml/",
    ):
        assert path in schema["paths"], path
    parameters = {
        p["name"] for p in schema["paths"]["/api/v1/persistentvolumeclaims/"]["get"]["parameters"]
    }
    assert {"cluster", "project", "namespace"} <= parameters
    assert "patch" in schema["paths"]["/api/v1/persistentvolumeclaims/{id}/"]
