"""A tenant's claim gets a new volume from a storage class; it never binds a volume that
exists, whatever its YAML says (the security review's hole 1), by the service, the API
and the portal alike."""

import pytest
from django.core.exceptions import ValidationError
from kubernetes import client as k8s

from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster
from apps.storage import services
from apps.storage.models import PersistentVolumeClaim
from tests.storage.test_services import _wait_bound

CLAIM = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
{annotations}spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
{extra}"""

# Each way a claim could take an existing volume, and what the tenant is told.
SNEAKY = {
    "empty-class": ("  storageClassName: ''\n", "an empty one binds existing volumes"),
    "empty-class-empty-selector": (
        "  storageClassName: ''\n  selector: {}\n",
        "an empty one binds existing volumes",
    ),
    "selector": ("  selector: {matchLabels: {owner: admin}}\n", "select existing volumes"),
    "volume-name": ("  volumeName: static-disk\n", "bind a claim to a named volume"),
    "unknown-class": ("  storageClassName: manual\n", "no storage class manual"),
    "no-provisioner": ("  storageClassName: local\n", "provisions no volumes"),
    "foreign-data-source": (
        "  dataSourceRef: {kind: PersistentVolumeClaim, name: data, namespace: lab}\n",
        "must be in the claim's own namespace",
    ),
    "legacy-annotation": ("", "not in the volume.beta.kubernetes.io/storage-class annotation"),
}


def _claim_yaml(case: str, name: str = "grab") -> str:
    extra = SNEAKY[case][0]
    annotations = ""
    if case == "legacy-annotation":
        annotations = "  annotations: {volume.beta.kubernetes.io/storage-class: ''}\n"
    return CLAIM.format(name=name, annotations=annotations, extra=extra)


def _core(cluster):
    return k8s.CoreV1Api(cluster.kube().api_client)


@pytest.fixture
def static_volume(org, cluster):
    """A cloud admin's volume made by hand, with no class, waiting to be claimed; and a
    class without a provisioner."""
    core = _core(cluster)
    core.create_persistent_volume(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "static-disk", "labels": {"owner": "admin"}},
            "spec": {
                "capacity": {"storage": "5Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "hostPath": {"path": "/srv/admin"},
            },
        }
    )
    k8s.StorageV1Api(cluster.kube().api_client).create_storage_class(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "local"},
            "provisioner": services.NO_PROVISIONER,
        }
    )
    sync_cluster(cluster)
    return "static-disk"


def _volume_still_free(cluster, name="static-disk"):
    volume = _core(cluster).read_persistent_volume(name)
    return volume.spec.claim_ref is None


@pytest.mark.parametrize("case", sorted(SNEAKY))
def test_tenant_claim_yaml_cannot_bind_an_existing_volume(org, cluster, shop, static_volume, case):
    with pytest.raises(ValidationError, match=SNEAKY[case][1]):
        services.create_claim_from_yaml(org.member, shop, _claim_yaml(case))
    assert _core(cluster).list_namespaced_persistent_volume_claim("shop").items == []
    assert _volume_still_free(cluster)
    refusal = AuditEvent.objects.filter(action="persistentvolumeclaim.create").latest("pk")
    assert refusal.result == "failure" and SNEAKY[case][1] in refusal.reason


def test_cloud_admin_may_bind_an_existing_volume(org, cluster, shop, static_volume):
    claim = services.create_claim_from_yaml(org.admin, shop, _claim_yaml("empty-class"))
    claim = _wait_bound(claim)
    assert claim.volume_name == "static-disk"


def test_a_missing_class_in_a_cluster_without_default_is_refused(org, cluster, shop):
    sync_cluster(cluster)
    standard = services.StorageClass.objects.get(cluster=cluster, name="standard")
    services.set_default(org.admin, standard, False)
    text = CLAIM.format(name="nodefault", annotations="", extra="")
    with pytest.raises(ValidationError, match="no default storage class"):
        services.create_claim_from_yaml(org.member, shop, text)
    # The form's "cluster default" too.
    with pytest.raises(ValidationError, match="no default storage class") as error:
        services.create_claim(org.member, namespace=shop, name="nodefault", size="1Gi")
    assert "storage_class" in error.value.message_dict
    # Naming a class still works.
    services.create_claim(
        org.member, namespace=shop, name="named", size="1Gi", storage_class="standard"
    )


def test_a_class_with_hand_made_volumes_waiting_is_refused(org, cluster, shop):
    """A volume made by hand with a provisioning class's name would be bound before one is
    provisioned."""
    _core(cluster).create_persistent_volume(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "hand-made"},
            "spec": {
                "capacity": {"storage": "5Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "standard",
                "hostPath": {"path": "/srv/standard"},
            },
        }
    )
    sync_cluster(cluster)
    with pytest.raises(ValidationError, match="Volumes made by hand"):
        services.create_claim(org.member, namespace=shop, name="takes", size="1Gi")
    assert _volume_still_free(cluster, "hand-made")


def test_editing_a_claim_cannot_retarget_it(org, cluster, shop, static_volume):
    claim = _wait_bound(services.create_claim(org.member, namespace=shop, name="mine", size="1Gi"))
    text = services.claim_yaml(org.member, claim)
    # Keeping what Kubernetes bound it to is fine.
    services.update_claim_yaml(org.member, claim, text)
    retarget = text.replace("storageClassName: standard", "storageClassName: ''")
    with pytest.raises(ValidationError, match="an empty one binds"):
        services.update_claim_yaml(org.member, claim, retarget)


@pytest.mark.parametrize("case", ["empty-class-empty-selector", "foreign-data-source"])
def test_api_refuses_the_claim(org, api, cluster, shop, static_volume, case):
    response = api("member").post(
        "/api/v1/persistentvolumeclaims/",
        {"namespace": shop.pk, "yaml": _claim_yaml(case)},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert SNEAKY[case][1] in str(response.json())
    assert not PersistentVolumeClaim.objects.filter(name="grab").exists()
    assert _volume_still_free(cluster)


def test_portal_refuses_the_claim(org, portal, cluster, shop, static_volume):
    client = portal("member")
    response = client.post(
        "/storage/claims/add/yaml/",
        {"namespace": shop.pk, "yaml": _claim_yaml("empty-class-empty-selector")},
    )
    assert response.status_code == 200
    assert "an empty one binds existing volumes" in response.content.decode()
    # The form cannot name a class without a provisioner either.
    response = client.post(
        "/storage/claims/add/",
        {
            "namespace": shop.pk,
            "name": "grab",
            "size": "1Gi",
            "access_modes": ["ReadWriteOnce"],
            "storage_class": "local",
        },
    )
    assert response.status_code == 200
    assert not PersistentVolumeClaim.objects.filter(name="grab").exists()
    assert _volume_still_free(cluster)
