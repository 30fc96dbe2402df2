"""Storage services against kubesim: classes, default uniqueness, claims, quota, expansion."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from kubernetes import client as k8s

from apps.kube.sync import sync_cluster
from apps.storage import services
from apps.storage.models import PersistentVolume, PersistentVolumeClaim, StorageClass


def _storage(cluster):
    return k8s.StorageV1Api(cluster.kube().api_client)


def _defaults(cluster) -> set[str]:
    return {
        sc.metadata.name
        for sc in _storage(cluster).list_storage_class().items
        if (sc.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class")
        == "true"
    }


def _wait_bound(claim, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sync_cluster(claim.cluster)
        claim.refresh_from_db()
        if claim.phase == "Bound":
            return claim
        time.sleep(0.2)
    return claim


def test_new_cluster_has_a_mirrored_default_class(org, cluster):
    sync_cluster(cluster)
    standard = StorageClass.objects.get(cluster=cluster, name="standard")
    assert standard.is_default and standard.allow_expansion
    assert standard.manifest["kind"] == "StorageClass"


def test_default_storage_class_is_unique(org, cluster):
    sync_cluster(cluster)
    fast = services.create_storage_class(
        org.admin,
        cluster=cluster,
        name="fast",
        provisioner="sandbox.kcs.io/disk",
        parameters={"type": "ssd"},
        reclaim_policy="Retain",
        volume_binding_mode="WaitForFirstConsumer",
        allow_expansion=False,
        is_default=True,
    )
    assert fast.is_default and fast.parameters == {"type": "ssd"}
    assert _defaults(cluster) == {"fast"}
    assert list(StorageClass.objects.filter(cluster=cluster, is_default=True)) == [fast]
    standard = StorageClass.objects.get(cluster=cluster, name="standard")
    services.set_default(org.admin, standard, True)
    assert _defaults(cluster) == {"standard"}
    assert set(
        StorageClass.objects.filter(cluster=cluster, is_default=True).values_list("name", flat=True)
    ) == {"standard"}
    services.set_default(org.admin, standard, False)
    assert _defaults(cluster) == set()
    with pytest.raises(Http404):  # no namespace of theirs here: the class is not theirs to see
        services.set_default(org.projadmin, standard, True)
    with pytest.raises(ValidationError) as error:
        services.create_storage_class(
            org.admin, cluster=cluster, name="fast", provisioner="x/y", reclaim_policy="Recycle"
        )
    assert "already has a storage class" in str(error.value.message_dict["name"])
    assert "reclaim_policy" in error.value.message_dict


def test_claim_binds_through_dynamic_provisioning(org, cluster, shop):
    claim = services.create_claim(
        org.member, namespace=shop, name="data", size="1Gi", access_modes=["ReadWriteOnce"]
    )
    assert claim.namespace == shop and claim.requested == "1Gi"
    claim = _wait_bound(claim)
    assert claim.phase == "Bound", claim.manifest.get("status")
    assert claim.storage_class == "standard" and claim.capacity == "1Gi"
    volume = PersistentVolume.objects.get(cluster=cluster, name=claim.volume_name)
    assert volume.claim == "shop/data" and volume.phase == "Bound"


def test_claim_over_quota_shows_kubernetes_message(org, cluster, shop):
    with pytest.raises(ValidationError) as error:
        services.create_claim(org.member, namespace=shop, name="huge", size="20Gi")
    assert "exceeded quota" in str(error.value)
    assert not PersistentVolumeClaim.objects.filter(name="huge").exists()


def test_expansion_allowed_refused_and_no_shrinking(org, cluster, shop):
    sync_cluster(cluster)
    services.create_storage_class(
        org.admin, cluster=cluster, name="fixed", provisioner="sandbox.kcs.io/disk"
    )
    grows = services.create_claim(org.member, namespace=shop, name="grows", size="1Gi")
    fixed = services.create_claim(
        org.member, namespace=shop, name="fixed", size="1Gi", storage_class="fixed"
    )
    _wait_bound(grows)
    _wait_bound(fixed)
    with pytest.raises(ValidationError) as error:
        services.expand_claim(org.member, grows, "500Mi")
    assert "cannot shrink" in str(error.value)
    services.expand_claim(org.member, grows, "2Gi")
    assert grows.requested == "2Gi"
    with pytest.raises(ValidationError) as error:
        services.expand_claim(org.member, fixed, "2Gi")
    assert "does not allow volumes to be expanded" in str(error.value)


def test_who_may_work_with_claims(org, cluster, shop, lab):
    with pytest.raises(Http404):
        services.create_claim(org.outsider, namespace=shop, name="x", size="1Gi")
    with pytest.raises(Http404):
        services.create_claim(org.member, namespace=lab, name="x", size="1Gi")
    claim = services.create_claim(org.projadmin, namespace=shop, name="mine", size="1Gi")
    with pytest.raises(Http404):
        services.delete_claim(org.outsider, claim)
    with pytest.raises(ValidationError) as error:
        services.create_claim_from_yaml(
            org.member,
            shop,
            "apiVersion: v1\nkind: PersistentVolumeClaim\n"
            "metadata: {name: sneaky, namespace: lab}\n"
            "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n",
        )
    assert "must stay in namespace shop" in str(error.value)
    services.delete_claim(org.member, claim)
    assert not PersistentVolumeClaim.objects.filter(pk=claim.pk).exists()


def test_tenants_cannot_bind_a_claim_to_a_volume_they_name(org, cluster):
    from django.core.exceptions import ValidationError

    from apps.namespaces import services as ns_services
    from apps.storage import services as storage_services

    ns = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="pick", quota={}
    )
    text = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: grab}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  volumeName: someone-elses-volume
"""
    with pytest.raises(ValidationError, match="Only cloud administrators can bind"):
        storage_services.create_claim_from_yaml(org.projadmin, ns, text)
    assert (
        not cluster.kube()
        .call(cluster.kube().core.list_namespaced_persistent_volume_claim, "pick")
        .items
    )
