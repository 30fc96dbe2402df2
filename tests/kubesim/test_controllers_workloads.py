"""Deployments and ReplicaSets, driven through the official client and kubectl."""

from __future__ import annotations

import json
import subprocess

import kubernetes
import pytest
import yaml

from tests.kubesim.workload_support import World, ready


@pytest.fixture
def world(kubesim_server, sim):
    return World(kubesim_server, sim)


def deployment(name="web", replicas=3, image="nginx:1.25", strategy=None, **spec) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": strategy
            or {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            **spec,
        },
    }


def rolled_out(apps, name="web"):
    """Rolled out, and the pods it replaced gone (they terminate on simulated time)."""
    core = kubernetes.client.CoreV1Api(apps.api_client)

    def check() -> bool:
        d = apps.read_namespaced_deployment(name, "default")
        s = d.status
        want = d.spec.replicas
        return (
            s is not None
            and (
                (s.observed_generation or 0) >= d.metadata.generation
                and (s.updated_replicas or 0) == want
                and (s.replicas or 0) == want
                and (s.available_replicas or 0) == want
            )
            and not any(
                p.metadata.deletion_timestamp
                for p in core.list_namespaced_pod("default", label_selector=f"app={name}").items
            )
        )

    return check


def set_image(apps, image: str, name="web") -> None:
    apps.patch_namespaced_deployment(
        name,
        "default",
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}},
    )


def test_deployment_creates_replica_set_and_pods(world, apps, core, kubectl):
    apps.create_namespaced_deployment("default", deployment())
    world.until(rolled_out(apps))

    rs_list = apps.list_namespaced_replica_set("default", label_selector="app=web").items
    assert len(rs_list) == 1
    rs = rs_list[0]
    pod_hash = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"web-{pod_hash}"
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert rs.metadata.owner_references[0].kind == "Deployment"
    assert rs.metadata.owner_references[0].controller is True
    assert rs.spec.selector.match_labels == {"app": "web", "pod-template-hash": pod_hash}

    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert len(pods) == 3 and all(ready(p) for p in pods)
    for pod in pods:
        assert pod.metadata.name.startswith(f"web-{pod_hash}-")
        assert pod.metadata.owner_references[0].name == rs.metadata.name

    d = apps.read_namespaced_deployment("web", "default")
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert d.status.ready_replicas == 3 and d.status.observed_generation == 1
    conditions = {c.type: c for c in d.status.conditions}
    assert conditions["Available"].reason == "MinimumReplicasAvailable"
    assert conditions["Progressing"].reason == "NewReplicaSetAvailable"
    assert (
        conditions["Progressing"].message
        == f'ReplicaSet "{rs.metadata.name}" has successfully progressed.'
    )

    events = core.list_namespaced_event("default").items
    reasons = {(e.involved_object.kind, e.reason) for e in events}
    assert ("Deployment", "ScalingReplicaSet") in reasons
    assert ("ReplicaSet", "SuccessfulCreate") in reasons
    scaling = [e.message for e in events if e.reason == "ScalingReplicaSet"]
    assert f"Scaled up replica set {rs.metadata.name} from 0 to 3" in scaling

    out = kubectl("get", "deployment", "web").stdout
    assert "3/3" in out.splitlines()[1]


def test_rolling_update_keeps_desired_ready_replicas(world, apps, core, kubectl, sim):
    apps.create_namespaced_deployment("default", deployment(replicas=3))
    world.until(rolled_out(apps))

    # Count the ready pods after every single write the cluster sees during the rollout.
    samples: list[int] = []

    def count(_event) -> None:
        pods = sim.list("v1", "Pod", "default", label_selector="app=web")
        samples.append(sum(1 for p in pods if ready(p)))

    unsubscribe = world.call(sim.on_change, count)
    try:
        set_image(apps, "nginx:1.26")
        world.until(rolled_out(apps), step=1)
    finally:
        world.call(unsubscribe)

    assert samples, "the rollout wrote nothing"
    assert min(samples) >= 3
    # never more than desired + maxSurge pods at a time
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert len(pods) == 3
    assert {p.spec.containers[0].image for p in pods} == {"nginx:1.26"}

    result = kubectl("rollout", "status", "deployment/web", "--timeout=20s")
    assert 'deployment "web" successfully rolled out' in result.stdout

    rs_list = apps.list_namespaced_replica_set("default", label_selector="app=web").items
    by_revision = {r.metadata.annotations["deployment.kubernetes.io/revision"]: r for r in rs_list}
    assert set(by_revision) == {"1", "2"}
    assert by_revision["1"].spec.replicas == 0
    assert by_revision["2"].spec.replicas == 3


def test_rollout_status_waits_for_the_rollout(world, apps, kubectl, kubesim_cluster, tmp_path):
    apps.create_namespaced_deployment("default", deployment(replicas=2))
    world.until(rolled_out(apps))
    set_image(apps, "nginx:1.26")

    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(kubesim_cluster["kubeconfig"]))
    watcher = subprocess.Popen(
        ["kubectl", "--kubeconfig", str(config), "rollout", "status", "deployment/web"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    try:
        world.until(rolled_out(apps))
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    assert out.rstrip().endswith('deployment "web" successfully rolled out')


def test_rollout_history_and_undo(world, apps, kubectl):
    apps.create_namespaced_deployment("default", deployment(replicas=2))
    world.until(rolled_out(apps))
    kubectl("annotate", "deployment/web", "kubernetes.io/change-cause=upgrade to 1.26")
    set_image(apps, "nginx:1.26")
    world.until(rolled_out(apps))
    set_image(apps, "nginx:1.27")
    world.until(rolled_out(apps))

    history = kubectl("rollout", "history", "deployment/web").stdout
    lines = [line.split() for line in history.strip().splitlines()[2:]]
    assert [line[0] for line in lines] == ["1", "2", "3"]
    assert "upgrade to 1.26" in history

    detail = kubectl("rollout", "history", "deployment/web", "--revision=2").stdout
    assert "nginx:1.26" in detail

    result = kubectl("rollout", "undo", "deployment/web")
    assert "rolled back" in result.stdout
    world.until(rolled_out(apps))
    d = apps.read_namespaced_deployment("web", "default")
    assert d.spec.template.spec.containers[0].image == "nginx:1.26"
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "4"

    history = kubectl("rollout", "history", "deployment/web").stdout
    revisions = [line.split()[0] for line in history.strip().splitlines()[2:]]
    assert revisions == ["1", "3", "4"]

    kubectl("rollout", "undo", "deployment/web", "--to-revision=1")
    world.until(rolled_out(apps))
    d = apps.read_namespaced_deployment("web", "default")
    assert d.spec.template.spec.containers[0].image == "nginx:1.25"


def test_recreate_stops_old_pods_first(world, apps, core, sim):
    apps.create_namespaced_deployment(
        "default", deployment(replicas=2, strategy={"type": "Recreate"})
    )
    world.until(rolled_out(apps))
    mixed: list[set] = []

    def watch(_event) -> None:
        pods = sim.list("v1", "Pod", "default", label_selector="app=web")
        mixed.append({p["spec"]["containers"][0]["image"] for p in pods})

    unsubscribe = world.call(sim.on_change, watch)
    try:
        set_image(apps, "nginx:1.26")
        # The new pods start once the old ones are gone (their deletion wakes the
        # Deployment), not when the 600 s progress deadline comes round.
        world.until(rolled_out(apps), limit=60)
    finally:
        world.call(unsubscribe)
    assert not [images for images in mixed if len(images) > 1]
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert {p.spec.containers[0].image for p in pods} == {"nginx:1.26"}


def test_restart_pause_scale_and_history_limit(world, apps, core, kubectl):
    apps.create_namespaced_deployment("default", deployment(replicas=2, revisionHistoryLimit=1))
    world.until(rolled_out(apps))
    before = {p.metadata.name for p in core.list_namespaced_pod("default").items}

    kubectl("rollout", "restart", "deployment/web")
    world.until(rolled_out(apps))
    d = apps.read_namespaced_deployment("web", "default")
    assert "kubectl.kubernetes.io/restartedAt" in d.spec.template.metadata.annotations
    after = {p.metadata.name for p in core.list_namespaced_pod("default").items}
    assert not before & after

    # paused: a template change does not roll out, scaling still applies
    kubectl("rollout", "pause", "deployment/web")
    set_image(apps, "nginx:1.26")
    kubectl("scale", "deployment/web", "--replicas=4")
    world.advance(30)
    d = apps.read_namespaced_deployment("web", "default")
    progressing = {c.type: c for c in d.status.conditions}["Progressing"]
    assert progressing.reason == "DeploymentPaused" and progressing.status == "Unknown"
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert len(pods) == 4
    assert {p.spec.containers[0].image for p in pods} == {"nginx:1.25"}

    kubectl("rollout", "resume", "deployment/web")
    world.until(rolled_out(apps))
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert {p.spec.containers[0].image for p in pods} == {"nginx:1.26"}

    # revisionHistoryLimit=1: one old ReplicaSet is kept
    rs_list = apps.list_namespaced_replica_set("default", label_selector="app=web").items
    assert len(rs_list) == 2
    revisions = sorted(
        int(r.metadata.annotations["deployment.kubernetes.io/revision"]) for r in rs_list
    )
    assert revisions == [2, 3]


def test_replica_set_replaces_deleted_pods(world, apps, core):
    apps.create_namespaced_deployment("default", deployment(replicas=2))
    world.until(rolled_out(apps))
    victim = core.list_namespaced_pod("default", label_selector="app=web").items[0]
    core.delete_namespaced_pod(victim.metadata.name, "default")
    world.until(rolled_out(apps))
    world.until(
        lambda: len(core.list_namespaced_pod("default", label_selector="app=web").items) == 2
    )
    names = {p.metadata.name for p in core.list_namespaced_pod("default").items}
    assert victim.metadata.name not in names

    rs = apps.list_namespaced_replica_set("default").items[0]
    events = [
        e for e in core.list_namespaced_event("default").items if e.reason == "SuccessfulCreate"
    ]
    assert any(e.involved_object.name == rs.metadata.name for e in events)


def test_kubectl_get_shows_rollout(world, kubectl, apps):
    kubectl("apply", "-f", "-", stdin=json.dumps(deployment(replicas=2)))
    world.until(rolled_out(apps))
    out = kubectl("get", "rs", "-l", "app=web").stdout.splitlines()
    assert out[0].split()[:4] == ["NAME", "DESIRED", "CURRENT", "READY"]
    assert out[1].split()[1:4] == ["2", "2", "2"]


def test_quota_refusal_is_reported_and_retried(world, apps, core, kubectl):
    kubectl(
        "apply",
        "-f",
        "-",
        stdin=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": "pods"},
                "spec": {"hard": {"pods": "1"}},
            }
        ),
    )
    apps.create_namespaced_deployment("default", deployment(replicas=2))
    world.advance(20)
    rs = apps.list_namespaced_replica_set("default").items[0]
    assert rs.status.replicas == 1
    failure = {c.type: c for c in rs.status.conditions}["ReplicaFailure"]
    assert failure.reason == "FailedCreate"
    assert (
        "is forbidden: exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1"
        in (failure.message)
    )
    events = [e for e in core.list_namespaced_event("default").items if e.reason == "FailedCreate"]
    assert events and events[0].type == "Warning"
    assert events[0].message.startswith(f'Error creating: pods "{rs.metadata.name}-')
    assert len(events) < 10  # retried with back-off, not in a hot loop
    d = apps.read_namespaced_deployment("web", "default")
    assert {c.type: c for c in d.status.conditions}["ReplicaFailure"].reason == "FailedCreate"

    # room again: the second pod comes, the failure condition goes
    kubectl("delete", "resourcequota", "pods")
    world.until(rolled_out(apps), limit=600, step=5)
    rs = apps.list_namespaced_replica_set("default").items[0]
    assert not [c for c in rs.status.conditions or [] if c.type == "ReplicaFailure"]
