"""StatefulSets: ordered pods, claims from templates, partitioned rolling updates."""

from __future__ import annotations

import json

import pytest

from tests.kubesim.workload_support import World, ready


@pytest.fixture
def world(kubesim_server, sim):
    return World(kubesim_server, sim)


def statefulset(replicas=3, image="nginx:1.25", **spec) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "serviceName": "web",
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": image,
                            "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx"}],
                        }
                    ]
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "www"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
            **spec,
        },
    }


STORAGE_CLASS = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {
        "name": "standard",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    },
    "provisioner": "pd.csi.storage.gke.io",
}


def sts_status(sim) -> dict:
    return sim.get("apps/v1", "StatefulSet", "web", "default").get("status") or {}


def settled(sim, generation: int | None = None):
    def check() -> bool:
        obj = sim.get("apps/v1", "StatefulSet", "web", "default")
        s = obj.get("status") or {}
        want = obj["spec"]["replicas"]
        return (
            s.get("observedGeneration") == obj["metadata"]["generation"]
            and s.get("readyReplicas", 0) == want
            and s.get("replicas") == want
        )

    return check


def test_ordered_pods_and_claims(world, kubectl, sim, core):
    kubectl("apply", "-f", "-", stdin=json.dumps(STORAGE_CLASS))
    created: list[tuple[str, set[str]]] = []

    def watch(event) -> None:
        if event.type == "ADDED" and event.obj.get("kind") == "Pod":
            pods = sim.list("v1", "Pod", "default", label_selector="app=web")
            created.append(
                (event.obj["metadata"]["name"], {p["metadata"]["name"] for p in pods if ready(p)})
            )

    unsubscribe = world.call(sim.on_change, watch)
    try:
        kubectl("apply", "-f", "-", stdin=json.dumps(statefulset()))
        world.until(settled(sim))
    finally:
        world.call(unsubscribe)

    # web-1 only after web-0 was ready, web-2 only after web-1
    assert [name for name, _ in created] == ["web-0", "web-1", "web-2"]
    assert created[1][1] >= {"web-0"} and created[2][1] >= {"web-0", "web-1"}

    pod = core.read_namespaced_pod("web-1", "default")
    assert pod.spec.hostname == "web-1" and pod.spec.subdomain == "web"
    assert pod.metadata.labels["statefulset.kubernetes.io/pod-name"] == "web-1"
    assert pod.metadata.labels["apps.kubernetes.io/pod-index"] == "1"
    claim_volume = next(v for v in pod.spec.volumes if v.name == "www")
    assert claim_volume.persistent_volume_claim.claim_name == "www-web-1"

    claims = {
        c.metadata.name: c for c in core.list_namespaced_persistent_volume_claim("default").items
    }
    assert set(claims) == {"www-web-0", "www-web-1", "www-web-2"}
    assert all(c.status.phase == "Bound" for c in claims.values())
    assert claims["www-web-0"].metadata.labels == {"app": "web"}

    status = sts_status(sim)
    revision = status["currentRevision"]
    assert revision == status["updateRevision"] and revision.startswith("web-")
    assert pod.metadata.labels["controller-revision-hash"] == revision
    revisions = sim.list("apps/v1", "ControllerRevision", "default")
    assert [r["metadata"]["name"] for r in revisions] == [revision]
    assert revisions[0]["revision"] == 1

    out = kubectl("get", "statefulset", "web").stdout.splitlines()[1].split()
    assert out[1] == "3/3"

    # scaling down removes the highest ordinals first and keeps the claims
    kubectl("scale", "statefulset/web", "--replicas=1")
    world.until(settled(sim))
    names = {p["metadata"]["name"] for p in sim.list("v1", "Pod", "default")}
    assert names == {"web-0"}
    assert len(core.list_namespaced_persistent_volume_claim("default").items) == 3


def test_partitioned_rolling_update(world, kubectl, sim):
    kubectl("apply", "-f", "-", stdin=json.dumps(STORAGE_CLASS))
    kubectl("apply", "-f", "-", stdin=json.dumps(statefulset()))
    world.until(settled(sim))
    first = sts_status(sim)["currentRevision"]

    kubectl(
        "patch",
        "statefulset",
        "web",
        "-p",
        json.dumps(
            {
                "spec": {
                    "updateStrategy": {"rollingUpdate": {"partition": 2}},
                    "template": {
                        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}]}
                    },
                }
            }
        ),
    )
    world.until(lambda: sts_status(sim).get("updatedReplicas") == 1 and settled(sim)())
    world.advance(10)

    def images() -> dict[str, str]:
        return {
            p["metadata"]["name"]: p["spec"]["containers"][0]["image"]
            for p in sim.list("v1", "Pod", "default", label_selector="app=web")
        }

    assert images() == {"web-0": "nginx:1.25", "web-1": "nginx:1.25", "web-2": "nginx:1.26"}
    status = sts_status(sim)
    assert status["currentRevision"] == first and status["updateRevision"] != first
    out = kubectl("rollout", "status", "statefulset/web", "--timeout=10s").stdout
    assert "partitioned roll out complete: 1 new pods have been updated" in out

    # a pod below the partition comes back at the current revision
    old_uid = sim.get("v1", "Pod", "web-0", "default")["metadata"]["uid"]

    def replaced() -> bool:
        pods = sim.list("v1", "Pod", "default", label_selector="app=web")
        uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods}
        return uids.get("web-0") not in (None, old_uid) and settled(sim)()

    # the pod terminates gracefully on simulated time: kubectl must not wait for it
    kubectl("delete", "pod", "web-0", "--wait=false")
    world.advance(1)
    world.until(replaced)
    assert images()["web-0"] == "nginx:1.25"

    kubectl(
        "patch",
        "statefulset",
        "web",
        "-p",
        '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}',
    )
    world.until(
        lambda: sts_status(sim).get("currentRevision") == sts_status(sim).get("updateRevision")
    )
    assert set(images().values()) == {"nginx:1.26"}
    out = kubectl("rollout", "status", "statefulset/web", "--timeout=10s").stdout
    # the defaulted partition (0) makes kubectl report a partitioned rollout, as on a real cluster
    assert "partitioned roll out complete: 3 new pods have been updated" in out
    history = kubectl("rollout", "history", "statefulset/web").stdout
    assert [line.split()[0] for line in history.strip().splitlines()[2:]] == ["1", "2"]


def test_parallel_creates_all_at_once(world, kubectl, sim):
    kubectl("apply", "-f", "-", stdin=json.dumps(STORAGE_CLASS))
    sts = statefulset(podManagementPolicy="Parallel")
    kubectl("apply", "-f", "-", stdin=json.dumps(sts))
    world.advance(0.001)
    names = {p["metadata"]["name"] for p in sim.list("v1", "Pod", "default")}
    assert names == {"web-0", "web-1", "web-2"}
