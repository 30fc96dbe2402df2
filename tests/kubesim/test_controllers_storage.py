"""PersistentVolumeClaims: dynamic provisioning, binding, reclaiming and expansion."""

from __future__ import annotations

import json

import pytest

from tests.kubesim.workload_support import World


@pytest.fixture
def world(kubesim_server, sim):
    return World(kubesim_server, sim)


def storage_class(name="standard", default=True, **extra) -> dict:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": annotations},
        "provisioner": "ebs.csi.aws.com",
        **extra,
    }


def claim(name="data", size="1Gi", **spec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            **spec,
        },
    }


def pod_using(claim_name="data", name="app") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.25",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}],
        },
    }


def apply(kubectl, obj) -> None:
    kubectl("apply", "-f", "-", stdin=json.dumps(obj))


def test_claim_binds_through_the_default_class(world, kubectl, core, sim):
    apply(kubectl, storage_class())
    apply(kubectl, claim())
    world.advance(2)

    pvc = core.read_namespaced_persistent_volume_claim("data", "default")
    assert pvc.spec.storage_class_name == "standard"
    assert pvc.status.phase == "Bound"
    assert pvc.spec.volume_name == f"pvc-{pvc.metadata.uid}"
    assert pvc.status.capacity["storage"] == "1Gi"
    assert pvc.metadata.annotations["pv.kubernetes.io/bind-completed"] == "yes"
    assert pvc.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == "ebs.csi.aws.com"

    pv = core.read_persistent_volume(pvc.spec.volume_name)
    assert pv.status.phase == "Bound"
    assert pv.spec.claim_ref.name == "data" and pv.spec.claim_ref.uid == pvc.metadata.uid
    assert pv.spec.persistent_volume_reclaim_policy == "Delete"
    assert pv.spec.capacity["storage"] == "1Gi"
    assert pv.metadata.annotations["pv.kubernetes.io/provisioned-by"] == "ebs.csi.aws.com"

    reasons = [e["reason"] for e in sim.list("v1", "Event", "default")]
    assert {"ExternalProvisioning", "ProvisioningSucceeded"} <= set(reasons)

    out = kubectl("get", "pvc", "data").stdout.splitlines()[1].split()
    assert out[1] == "Bound" and out[2] == pvc.spec.volume_name and out[3] == "1Gi"

    # Delete reclaim policy: the volume goes with its claim
    core.delete_namespaced_persistent_volume_claim("data", "default")
    world.advance(1)
    assert not [
        v for v in core.list_persistent_volume().items if v.metadata.name == pv.metadata.name
    ]


def test_wait_for_first_consumer_and_retain(world, kubectl, core):
    apply(
        kubectl,
        storage_class("local", volumeBindingMode="WaitForFirstConsumer", reclaimPolicy="Retain"),
    )
    apply(kubectl, claim())
    world.advance(5)
    pvc = core.read_namespaced_persistent_volume_claim("data", "default")
    assert pvc.status.phase == "Pending" and not pvc.spec.volume_name
    events = core.list_namespaced_event("default", field_selector="involvedObject.name=data").items
    assert any(e.reason == "WaitForFirstConsumer" for e in events)

    apply(kubectl, pod_using())
    world.until(lambda: core.read_namespaced_pod("app", "default").status.phase == "Running")
    pvc = core.read_namespaced_persistent_volume_claim("data", "default")
    node = core.read_namespaced_pod("app", "default").spec.node_name
    assert pvc.status.phase == "Bound"
    assert pvc.metadata.annotations["volume.kubernetes.io/selected-node"] == node

    core.delete_namespaced_pod("app", "default")
    core.delete_namespaced_persistent_volume_claim("data", "default")
    world.advance(2)
    pv = core.read_persistent_volume(pvc.spec.volume_name)
    assert pv.status.phase == "Released"
    assert pv.spec.claim_ref.name == "data"


def test_static_volume_binds_and_expansion_follows_request(world, kubectl, core):
    apply(
        kubectl,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "manual"},
            "spec": {
                "capacity": {"storage": "5Gi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "hostPath": {"path": "/mnt/data"},
            },
        },
    )
    world.advance(1)
    assert core.read_persistent_volume("manual").status.phase == "Available"
    apply(kubectl, claim("static", storageClassName=""))
    world.advance(1)
    pvc = core.read_namespaced_persistent_volume_claim("static", "default")
    assert pvc.status.phase == "Bound" and pvc.spec.volume_name == "manual"
    assert pvc.status.capacity["storage"] == "5Gi"

    apply(kubectl, storage_class("fast", default=False, allowVolumeExpansion=True))
    apply(kubectl, claim("grow", storageClassName="fast"))
    world.advance(1)
    kubectl("patch", "pvc", "grow", "-p", '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}')
    world.advance(1)
    pvc = core.read_namespaced_persistent_volume_claim("grow", "default")
    assert core.read_persistent_volume(pvc.spec.volume_name).spec.capacity["storage"] == "3Gi"
    assert pvc.status.capacity["storage"] == "1Gi"
    assert [c.type for c in pvc.status.conditions] == ["FileSystemResizePending"]

    apply(kubectl, pod_using("grow"))
    world.until(lambda: core.read_namespaced_pod("app", "default").status.phase == "Running")
    world.advance(1)
    pvc = core.read_namespaced_persistent_volume_claim("grow", "default")
    assert pvc.status.capacity["storage"] == "3Gi"
    assert not pvc.status.conditions
