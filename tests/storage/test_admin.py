"""Storage in the admin site: read-only mirrored rows, actions through services."""

from kubernetes import client as k8s

from apps.storage.models import PersistentVolumeClaim, StorageClass
from tests.storage.test_portal import world  # noqa: F401


def test_admin_lists_and_acts_through_services(org, portal, world):  # noqa: F811
    client = portal("admin")
    for model in ("storageclass", "persistentvolume", "persistentvolumeclaim"):
        assert client.get(f"/admin/storage/{model}/").status_code == 200, model
    sc = world["standard"]
    page = client.get(f"/admin/storage/storageclass/{sc.pk}/change/").content.decode()
    assert "standard" in page and 'name="provisioner"' not in page  # read-only
    fast = StorageClass.objects.create(
        cluster=sc.cluster, name="ghost", provisioner="x.io/y", is_default=False
    )
    # The action goes to Kubernetes: "ghost" exists only in the database, so it is refused.
    response = client.post(
        "/admin/storage/storageclass/",
        {"action": "make_default", "_selected_action": [fast.pk]},
        follow=True,
    )
    assert "ghost" in response.content.decode()
    assert StorageClass.objects.get(pk=sc.pk).is_default
    storage = k8s.StorageV1Api(sc.cluster.kube().api_client)
    annotations = storage.read_storage_class("standard").metadata.annotations or {}
    assert annotations.get("storageclass.kubernetes.io/is-default-class") == "true"
    claim = world["lab_claim"]
    client.post(
        "/admin/storage/persistentvolumeclaim/",
        {"action": "delete_claims", "_selected_action": [claim.pk]},
        follow=True,
    )
    assert not PersistentVolumeClaim.objects.filter(pk=claim.pk).exists()
    assert portal("projadmin").get("/admin/storage/storageclass/").status_code == 302
