"""Why pods are not running, as the portal shows it: a bad image, a failing readiness
probe, OOMKilled, CrashLoopBackOff with its growing back-off, and a rollout stuck on
them. kubesim's failure switches (kubesim/README.md) make the pods fail; its clock is
frozen and moved by the tests."""

import re

import pytest
from kubernetes import client as k8s

from apps.kube.sync import sync_cluster
from apps.workloads import services, tasks
from apps.workloads.models import Pod, Workload

from .test_autoscaling import Sim


def deployment(name, *, image="nginx:1.27", annotations=None, container=None):
    pod_meta = {"labels": {"app": name}, "annotations": annotations or {}}
    spec = {"name": "web", "image": image, **(container or {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": pod_meta, "spec": {"containers": [spec]}},
        },
    }


@pytest.fixture
def sim(kubesim, cluster):
    return Sim(kubesim, cluster)


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.05)


def _make(org, shop, body) -> Workload:
    import json

    return services.create_from_yaml(org.member, shop, json.dumps(body))


def _page(client, workload) -> str:
    return client.get(f"/workloads/{workload.pk}/").content.decode()


def _pod(workload) -> Pod:
    return Pod.objects.get(workload_kind="Deployment", workload_name=workload.name)


def test_a_bad_image_shows_its_reason(org, portal, shop, sim):
    web = _make(org, shop, deployment("web", image="registry.example.com/web:doesnotexist"))
    sim.advance(10, step=2)
    client = portal("member")
    page = _page(client, web)
    assert "ImagePullBackOff" in page
    assert Workload.objects.get(pk=web.pk).status == "degraded"
    pod = _pod(web)
    detail = client.get(f"/pods/{pod.pk}/").content.decode()
    assert "waiting: ImagePullBackOff" in detail
    assert "Failed to pull image &quot;registry.example.com/web:doesnotexist&quot;" in detail
    listed = client.get("/pods/?status=ImagePullBackOff").content.decode()
    assert f"/pods/{pod.pk}/" in listed


def test_a_rollout_onto_a_bad_image_says_why_at_once(org, portal, shop, sim):
    """The rollout waits for its deadline (ten minutes) before Kubernetes calls it stuck;
    meanwhile the workload says what its new pod is doing, not only "is progressing"."""
    body = deployment("web")
    body["spec"]["replicas"] = 2
    web = _make(org, shop, body)
    sim.advance(20)
    assert Workload.objects.get(pk=web.pk).status == "running"
    k8s.AppsV1Api(shop.cluster.kube().api_client).patch_namespaced_deployment(
        "web",
        shop.name,
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "web", "image": "nginx:doesnotexist"}]}
                }
            }
        },
    )
    sim.advance(30, step=5)
    web = Workload.objects.get(pk=web.pk)
    stuck = Pod.objects.get(workload_name="web", status="ImagePullBackOff")
    assert (web.status, web.reason) == (
        "updating",
        f"Rolling out; 1 pod cannot start: ImagePullBackOff ({stuck.name})",
    )
    assert f"ImagePullBackOff ({stuck.name})" in _page(portal("member"), web)


def test_a_failing_readiness_probe_keeps_the_pod_unready_and_the_workload_degraded(
    org, portal, shop, sim
):
    probe = {"readinessProbe": {"httpGet": {"path": "/ready", "port": 80}, "periodSeconds": 5}}
    web = _make(
        org, shop, deployment("web", annotations={"kubesim.io/fail": "readiness"}, container=probe)
    )
    sim.advance(120)
    web = Workload.objects.get(pk=web.pk)
    pod = _pod(web)
    assert (web.status, web.reason) == (
        "degraded",
        f"1 of 1 pods not ready: Running, not ready ({pod.name})",
    )
    assert (pod.status, pod.ready_display, pod.restarts) == ("Running", "0/1", 0)
    client = portal("member")
    page = _page(client, web)
    assert "0/1" in page and "Degraded" in page
    detail = client.get(f"/pods/{pod.pk}/").content.decode()
    assert "Readiness probe failed: HTTP probe failed with statuscode: 500" in detail
    assert "ContainersNotReady" in detail


def test_a_readiness_probe_switched_to_fail_and_back_drives_availability(org, portal, shop, sim):
    """The container's /readyz answers 503 (kubesim's admin API, no rollout): the pods run
    but none is ready, the workload is degraded with 0 available; once it answers 200
    again, successThreshold x periodSeconds later they are ready, then available after
    minReadySeconds."""
    probe = {
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": "http"},
            "periodSeconds": 10,
            "successThreshold": 2,
            "failureThreshold": 3,
        },
    }
    body = deployment("web", container=probe)
    body["spec"]["replicas"], body["spec"]["minReadySeconds"] = 2, 30
    answers = {"namespace": shop.name, "kind": "Deployment", "name": "web"}
    sim.admin("PUT", "/probes", {**answers, "answers": {"/readyz": 503}})
    web = _make(org, shop, body)
    sim.advance(60, step=5)
    web = Workload.objects.get(pk=web.pk)
    assert (web.status, web.available, web.ready) == ("degraded", 0, 0), web.reason
    client = portal("member")
    page = _page(client, web)
    assert "Degraded" in page and "0/1" in page
    pod = Pod.objects.filter(workload_kind="Deployment", workload_name="web").first()
    detail = client.get(f"/pods/{pod.pk}/").content.decode()
    assert "Readiness probe failed: HTTP probe failed with statuscode: 503" in detail

    sim.admin("PUT", "/probes", {**answers, "answers": {}})
    sim.advance(10, step=5)  # one success: not ready yet (successThreshold 2)
    assert Workload.objects.get(pk=web.pk).ready == 0
    sim.advance(10, step=5)  # the second: ready, not yet available (minReadySeconds 30)
    web = Workload.objects.get(pk=web.pk)
    assert (web.ready, web.available) == (2, 0)
    sim.advance(30, step=5)
    web = Workload.objects.get(pk=web.pk)
    assert (web.status, web.ready, web.available) == ("running", 2, 2), web.reason
    assert "Degraded" not in _page(client, web)


def test_oomkilled_is_visible(org, portal, shop, sim):
    limits = {"resources": {"limits": {"memory": "64Mi"}, "requests": {"memory": "64Mi"}}}
    web = _make(org, shop, deployment("web", container=limits))
    sim.advance(20)
    assert _pod(web).status == "Running" and _pod(web).restarts == 0
    sim.load(web, 6)  # memory use grows past the 64Mi limit
    sim.advance(8, step=1)
    pod = _pod(web)
    assert pod.restarts >= 1 and pod.last_termination == "OOMKilled"
    client = portal("member")
    assert "last: OOMKilled" in _page(client, web)
    detail = client.get(f"/pods/{pod.pk}/").content.decode()
    assert "last run ended: OOMKilled, exit code 137" in detail
    sim.advance(60)
    assert "CrashLoopBackOff" in _page(client, web)


def test_crashloopbackoff_backs_off_longer_each_time(org, portal, shop, sim):
    web = _make(org, shop, deployment("web", annotations={"kubesim.io/fail": "crash"}))
    core = k8s.CoreV1Api(shop.cluster.kube().api_client)
    backoffs = []
    for _ in range(40):
        sim.advance(5, step=5)
        pod = core.list_namespaced_pod("shop", label_selector="app=web").items[0]
        waiting = pod.status.container_statuses[0].state.waiting
        found = re.match(r"back-off (\d+)s", (waiting.message or "") if waiting else "")
        if found and (not backoffs or backoffs[-1] != int(found.group(1))):
            backoffs.append(int(found.group(1)))
    assert backoffs[:4] == [10, 20, 40, 80]
    row = _pod(web)
    assert row.status == "CrashLoopBackOff" and row.restarts >= 4
    assert row.last_termination == "Error"
    page = _page(portal("member"), web)
    assert "CrashLoopBackOff" in page and "last: Error" in page


def test_a_degraded_workload_quotes_its_pods_reasons(org, portal, shop, sim):
    body = deployment("web", annotations={"kubesim.io/fail": "crash"})
    body["spec"]["replicas"] = 3
    web = _make(org, shop, body)
    sim.advance(60, step=5)
    web = Workload.objects.get(pk=web.pk)
    pods = sorted(Pod.objects.filter(workload_name="web").values_list("name", flat=True))
    assert len(pods) == 3
    assert web.status == "degraded"
    assert web.reason == f"3 of 3 pods not ready: CrashLoopBackOff ({', '.join(pods)})"
    assert web.reason in _page(portal("member"), web)


def test_a_stuck_rollout_names_the_pods_reason(org, shop, sim, run_tasks, monkeypatch):
    limits = {"resources": {"limits": {"memory": "64Mi"}, "requests": {"memory": "64Mi"}}}
    body = deployment("web", container=limits)
    # (pods that run for 5 s before they are killed are not available: 20 s are needed)
    body["spec"].update(progressDeadlineSeconds=90, minReadySeconds=20)
    body["spec"]["template"]["metadata"]["annotations"] = {"kubesim.io/fail": "oom"}
    web = _make(org, shop, body)
    sim.advance(30)
    looks = []

    def pause():  # between two looks at the rollout, 10 simulated seconds pass
        looks.append(1)
        sim.admin("POST", "/clock", {"advance": 10})

    monkeypatch.setattr(tasks, "pause", pause)
    operation = run_tasks(services.redeploy, org.member, Workload.objects.get(pk=web.pk))
    operation.refresh_from_db()
    assert operation.status == "failed"
    # Stuck when Kubernetes says so (90 s without progress on its clock), not before.
    assert len(looks) >= 9
    assert "The rollout is stuck. ProgressDeadlineExceeded" in operation.error
    assert "OOMKilled" in operation.error
    apps = k8s.AppsV1Api(shop.cluster.kube().api_client)
    progressing = next(
        c
        for c in apps.read_namespaced_deployment("web", "shop").status.conditions
        if c.type == "Progressing"
    )
    assert (progressing.status, progressing.reason) == ("False", "ProgressDeadlineExceeded")
    sync_cluster(shop.cluster)
    web = Workload.objects.get(pk=web.pk)
    assert web.status == "failed" and "timed out progressing" in web.reason


STATEFULSET = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "postgres:16"}]
"""


def test_a_statefulsets_history_is_its_controllerrevisions(org, shop, sim, run_tasks):
    db = services.create_from_yaml(org.member, shop, STATEFULSET)
    sim.advance(20)
    db = Workload.objects.get(pk=db.pk)
    sim.kubesim.admin("POST", f"/clusters/{shop.cluster.name}/clock", {"timeFactor": 20})
    run_tasks(services.set_image, org.member, db, container="db", image="postgres:17")
    db = Workload.objects.get(pk=db.pk)
    found = services.revisions(org.member, db)
    assert [(r["revision"], r["images"]) for r in found] == [
        (2, ["postgres:17"]),
        (1, ["postgres:16"]),
    ]
    operation = run_tasks(services.rollback, org.member, db, 1)
    operation.refresh_from_db()
    assert operation.status == "succeeded", operation.error
    apps = k8s.AppsV1Api(shop.cluster.kube().api_client)
    live = apps.read_namespaced_stateful_set("db", "shop")
    assert live.spec.template.spec.containers[0].image == "postgres:16"
    assert services.revisions(org.member, db)[0]["images"] == ["postgres:16"]
