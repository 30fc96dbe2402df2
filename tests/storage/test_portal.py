"""Storage through the portal and the API: the permission matrix, and what users see."""

import html
import re

import pytest
from kubernetes import client as k8s

from apps.kube.sync import sync_cluster
from apps.storage import services
from apps.storage.models import PersistentVolume, PersistentVolumeClaim, StorageClass
from tests.storage.test_services import _wait_bound

CLAIM_YAML = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
  namespace: {namespace}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
"""


def _text(response) -> str:
    return response.content.decode()


@pytest.fixture
def world(org, cluster, shop, lab):
    """A claim in web-shop's namespace and one in data-lab's, bound; everything mirrored."""
    shop_claim = services.create_claim(org.admin, namespace=shop, name="shop-data", size="1Gi")
    lab_claim = services.create_claim(org.admin, namespace=lab, name="lab-data", size="1Gi")
    _wait_bound(shop_claim)
    _wait_bound(lab_claim)
    sync_cluster(cluster)
    return {
        "standard": StorageClass.objects.get(cluster=cluster, name="standard"),
        "shop_claim": shop_claim,
        "lab_claim": lab_claim,
        "shop_volume": PersistentVolume.objects.get(cluster=cluster, name=shop_claim.volume_name),
    }


# infra: classes and volumes seen; admin: their YAML/default/delete; shop/lab: the claims.
MATRIX = {
    "admin": {"infra": 200, "infra_admin": 200, "shop": 200, "lab": 200},
    "deptadmin": {"infra": 200, "infra_admin": 403, "shop": 200, "lab": 200},
    "projadmin": {"infra": 200, "infra_admin": 403, "shop": 200, "lab": 404},
    "member": {"infra": 404, "infra_admin": 404, "shop": 200, "lab": 404},
    "outsider": {"infra": 404, "infra_admin": 404, "shop": 404, "lab": 404},
}


@pytest.mark.parametrize("username", list(MATRIX))
def test_storage_permission_matrix_in_the_portal(org, portal, world, username):
    client, expected = portal(username), MATRIX[username]
    sc, pv = world["standard"], world["shop_volume"]
    shop_claim, lab_claim = world["shop_claim"], world["lab_claim"]

    classes = _text(client.get("/storage/classes/"))
    assert (f'href="/storage/classes/{sc.pk}/"' in classes) is (expected["infra"] == 200)
    volumes = _text(client.get("/storage/volumes/"))
    assert (pv.name in volumes) is (expected["infra"] == 200)
    claims = _text(client.get("/storage/claims/"))
    assert ("shop-data" in claims) is (expected["shop"] == 200)
    assert ("lab-data" in claims) is (expected["lab"] == 200)

    assert client.get(f"/storage/classes/{sc.pk}/").status_code == expected["infra"]
    assert client.get(f"/storage/volumes/{pv.pk}/").status_code == expected["infra"]
    for url in (
        f"/storage/classes/{sc.pk}/yaml/",
        f"/storage/classes/{sc.pk}/delete/",
        f"/storage/volumes/{pv.pk}/yaml/",
        f"/storage/volumes/{pv.pk}/delete/",
    ):
        assert client.get(url).status_code == expected["infra_admin"], url
    for name, claim in (("shop", shop_claim), ("lab", lab_claim)):
        for suffix in ("", "yaml/", "expand/", "delete/"):
            url = f"/storage/claims/{claim.pk}/{suffix}"
            assert client.get(url).status_code == expected[name], url

    if username == "admin":
        page = _text(client.get(f"/storage/classes/{sc.pk}/"))
        assert "Stop being the default" in page and f"/storage/classes/{sc.pk}/delete/" in page
        assert "Add" in classes
        return
    if expected["infra"] == 200:  # read-only: no admin buttons
        page = _text(client.get(f"/storage/classes/{sc.pk}/"))
        assert "provisioner" in page.lower() and "/delete/" not in page and "default/" not in page
        assert "/yaml/" not in _text(client.get(f"/storage/volumes/{pv.pk}/"))

    # Cloud-admin actions are refused and change nothing.
    for url, data in (
        (f"/storage/classes/{sc.pk}/undefault/", {}),
        (f"/storage/classes/{sc.pk}/delete/", {"confirm_name": sc.name}),
        (f"/storage/volumes/{pv.pk}/delete/", {"confirm_name": pv.name}),
    ):
        assert client.post(url, data).status_code == expected["infra_admin"], url
    assert client.post("/storage/classes/add/", {}).status_code == 403
    assert StorageClass.objects.filter(pk=sc.pk, is_default=True).exists()
    assert PersistentVolume.objects.filter(pk=pv.pk).exists()
    # Another project's claim: 404, untouched.
    if expected["lab"] == 404:
        url = f"/storage/claims/{lab_claim.pk}/"
        assert client.post(url + "expand/", {"size": "2Gi"}).status_code == 404
        assert client.post(url + "delete/", {"confirm_name": "lab-data"}).status_code == 404
        assert PersistentVolumeClaim.objects.filter(pk=lab_claim.pk, requested="1Gi").exists()


def test_menu_shows_storage_by_role(org, portal, world):
    admin_page = _text(portal("projadmin").get("/"))
    assert 'href="/storage/classes/"' in admin_page and 'href="/storage/volumes/"' in admin_page
    member_page = _text(portal("member").get("/"))
    assert 'href="/storage/claims/"' in member_page
    assert 'href="/storage/classes/"' not in member_page
    assert 'href="/storage/volumes/"' not in member_page


def test_member_creates_a_claim_that_binds_and_shows_its_volume(org, portal, cluster, shop, lab):
    client = portal("member")
    form = _text(client.get(f"/storage/claims/add/?namespace={shop.pk}"))
    assert 'value="standard"' in form
    response = client.post(
        f"/storage/claims/add/?namespace={shop.pk}",
        {"namespace": shop.pk, "name": "cache", "size": "2Gi", "access_modes": ["ReadWriteOnce"]},
    )
    assert response.status_code == 302, _text(response)
    claim = PersistentVolumeClaim.objects.get(name="cache")
    assert response["Location"] == f"/storage/claims/{claim.pk}/"
    claim = _wait_bound(claim)
    page = _text(client.get(f"/storage/claims/{claim.pk}/"))
    assert "Bound" in page and claim.volume_name in page and "2Gi" in page
    # The member sees the volume's name but may not open volumes.
    assert "/storage/volumes/" not in page
    assert "Expand" in page  # "standard" allows expansion

    # Another project's namespace, by id: not a choice.
    response = client.post(
        "/storage/claims/add/",
        {"namespace": lab.pk, "name": "sneaky", "size": "1Gi", "access_modes": ["ReadWriteOnce"]},
    )
    assert response.status_code == 200 and "Select a valid choice" in _text(response)
    assert client.get(f"/storage/claims/add/?namespace={lab.pk}").status_code == 404
    # ... and by YAML.
    response = client.post(
        "/storage/claims/add/yaml/",
        {"namespace": shop.pk, "yaml": CLAIM_YAML.format(name="sneaky", namespace="lab")},
    )
    assert response.status_code == 200
    assert "must stay in namespace shop" in _text(response)
    assert not PersistentVolumeClaim.objects.filter(name="sneaky").exists()
    core = k8s.CoreV1Api(cluster.kube().api_client)
    assert core.list_namespaced_persistent_volume_claim("lab").items == []
    # A claim in its own namespace from YAML works.
    response = client.post(
        "/storage/claims/add/yaml/",
        {"namespace": shop.pk, "yaml": CLAIM_YAML.format(name="from-yaml", namespace="shop")},
    )
    assert response.status_code == 302, _text(response)
    assert core.read_namespaced_persistent_volume_claim("from-yaml", "shop")


def test_claim_over_quota_shows_the_kubernetes_message(org, portal, shop):
    response = portal("member").post(
        "/storage/claims/add/",
        {"namespace": shop.pk, "name": "huge", "size": "50Gi", "access_modes": ["ReadWriteOnce"]},
    )
    assert response.status_code == 200
    page = _text(response)
    assert "exceeded quota" in page and "requests.storage" in page
    assert not PersistentVolumeClaim.objects.filter(name="huge").exists()


def test_expansion_in_the_portal(org, portal, cluster, shop):
    sync_cluster(cluster)
    services.create_storage_class(
        org.admin, cluster=cluster, name="fixed", provisioner="sandbox.kcs.io/disk"
    )
    client = portal("member")
    grows = services.create_claim(org.member, namespace=shop, name="grows", size="1Gi")
    fixed = services.create_claim(
        org.member, namespace=shop, name="fixed", size="1Gi", storage_class="fixed"
    )
    _wait_bound(grows)
    _wait_bound(fixed)
    assert "Expand" not in _text(client.get(f"/storage/claims/{fixed.pk}/"))
    refused = client.post(f"/storage/claims/{fixed.pk}/expand/", {"size": "2Gi"})
    assert "does not allow volumes to be expanded" in _text(refused)
    shrink = client.post(f"/storage/claims/{grows.pk}/expand/", {"size": "100Mi"})
    assert "cannot shrink" in _text(shrink)
    grown = client.post(f"/storage/claims/{grows.pk}/expand/", {"size": "3Gi"})
    assert grown.status_code == 302
    core = k8s.CoreV1Api(cluster.kube().api_client)
    live = core.read_namespaced_persistent_volume_claim("grows", "shop")
    assert live.spec.resources.requests["storage"] == "3Gi"


def test_stale_yaml_edit_is_refused_and_the_yaml_kept(org, portal, cluster, shop):
    claim = services.create_claim(org.member, namespace=shop, name="edited", size="1Gi")
    client = portal("member")
    page = _text(client.get(f"/storage/claims/{claim.pk}/yaml/"))
    text = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)
    text = html.unescape(text)
    assert "resourceVersion" in text
    core = k8s.CoreV1Api(cluster.kube().api_client)
    core.patch_namespaced_persistent_volume_claim(
        "edited", "shop", {"metadata": {"labels": {"changed": "elsewhere"}}}
    )
    mine = text.replace("  name: edited\n", "  name: edited\n  labels:\n    mine: yes-please\n")
    response = client.post(f"/storage/claims/{claim.pk}/yaml/", {"yaml": mine})
    assert response.status_code == 200
    page = _text(response)
    assert "changed by someone else" in page
    assert "yes-please" in page  # the user's edit is still there
    live = core.read_namespaced_persistent_volume_claim("edited", "shop")
    assert "mine" not in (live.metadata.labels or {})
    # Reloaded, the edit applies.
    fresh = html.unescape(
        re.search(
            r"<textarea[^>]*>(.*?)</textarea>",
            _text(client.get(f"/storage/claims/{claim.pk}/yaml/")),
            re.S,
        ).group(1)
    )
    fresh = fresh.replace("    changed: elsewhere\n", "    changed: elsewhere\n    mine: ok\n")
    assert client.post(f"/storage/claims/{claim.pk}/yaml/", {"yaml": fresh}).status_code == 302
    assert (
        core.read_namespaced_persistent_volume_claim("edited", "shop").metadata.labels["mine"]
        == "ok"
    )


def test_default_class_is_unique_through_the_portal(org, portal, cluster):
    sync_cluster(cluster)
    client = portal("admin")
    response = client.post(
        "/storage/classes/add/",
        {
            "cluster": cluster.pk,
            "name": "fast",
            "provisioner": "sandbox.kcs.io/disk",
            "parameters": "type=ssd\nreplicas = 3\n",
            "reclaim_policy": "Retain",
            "volume_binding_mode": "WaitForFirstConsumer",
            "allow_expansion": "on",
        },
    )
    assert response.status_code == 302, _text(response)
    fast = StorageClass.objects.get(cluster=cluster, name="fast")
    assert fast.parameters == {"type": "ssd", "replicas": "3"} and not fast.is_default
    assert client.post(f"/storage/classes/{fast.pk}/default/").status_code == 302
    defaults = StorageClass.objects.filter(cluster=cluster, is_default=True)
    assert list(defaults.values_list("name", flat=True)) == ["fast"]
    storage = k8s.StorageV1Api(cluster.kube().api_client)
    live = {
        sc.metadata.name: (sc.metadata.annotations or {}).get(
            "storageclass.kubernetes.io/is-default-class"
        )
        for sc in storage.list_storage_class().items
    }
    assert live["fast"] == "true" and live["standard"] != "true"
    yaml_page = _text(client.get(f"/storage/classes/{fast.pk}/yaml/"))
    assert "sandbox.kcs.io/disk" in yaml_page and "Apply" not in yaml_page
    response = client.post(f"/storage/classes/{fast.pk}/delete/", {"confirm_name": "fast"})
    assert response.status_code == 302
    assert not StorageClass.objects.filter(name="fast").exists()


def test_portal_pages_satisfy_the_content_security_policy(org, portal, world):
    client = portal("admin")
    sc, pv, claim = world["standard"], world["shop_volume"], world["shop_claim"]
    for url in (
        "/storage/classes/",
        "/storage/classes/add/",
        f"/storage/classes/{sc.pk}/",
        f"/storage/classes/{sc.pk}/yaml/",
        f"/storage/classes/{sc.pk}/delete/",
        f"/storage/classes/{sc.pk}/undefault/",
        "/storage/volumes/",
        f"/storage/volumes/{pv.pk}/",
        f"/storage/volumes/{pv.pk}/yaml/",
        f"/storage/volumes/{pv.pk}/delete/",
        "/storage/claims/",
        "/storage/claims/add/",
        "/storage/claims/add/yaml/",
        f"/storage/claims/{claim.pk}/",
        f"/storage/claims/{claim.pk}/yaml/",
        f"/storage/claims/{claim.pk}/expand/",
        f"/storage/claims/{claim.pk}/delete/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        page = _text(response)
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [], url
        assert not re.search(r"\son[a-z]+\s*=", page), url
        assert not re.search(r"\sstyle\s*=", page), url
        assert "<style" not in page and "javascript:" not in page, url
