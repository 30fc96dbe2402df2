"""Workloads through the services, against kubesim through the official client."""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from kubernetes import client as k8s

from apps.core.models import AuditEvent, Operation
from apps.core.operations import log_lines
from apps.kube.sync import sync_cluster
from apps.workloads import services, tasks
from apps.workloads.models import Pod, Workload
from tests.kube.conftest import eventually

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""

CRONJOB = """
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: task, image: busybox}]
"""


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.1)


def _apps(cluster):
    return k8s.AppsV1Api(cluster.kube().api_client)


def _refresh(workload) -> Workload:
    sync_cluster(workload.cluster)
    return Workload.objects.get(pk=workload.pk)


def test_a_deployment_from_yaml_runs_its_pods_and_scales(org, any_shop, run_tasks):
    shop = any_shop
    web = services.create_from_yaml(org.member, shop, DEPLOYMENT)
    assert (web.kind, web.name, web.images, web.desired) == ("Deployment", "web", ["nginx:1.27"], 2)
    live = _apps(shop.cluster).read_namespaced_deployment("web", shop.name)
    assert live.spec.replicas == 2

    def running():
        return _refresh(web).status == "running" and _refresh(web)

    web = eventually(running)
    pods = Pod.objects.filter(workload_kind="Deployment", workload_name="web", namespace=shop)
    assert pods.count() == 2 and all(p.status == "Running" for p in pods)

    # scaling starts the Operation that follows the new pods coming up
    operation = run_tasks(services.scale, org.member, web, 3)
    assert isinstance(operation, Operation) and operation.kind == "workload.scale"
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    assert "3 of 3 pods up to date and available" in log_lines(operation)[-1]
    web = Workload.objects.get(pk=web.pk)
    assert (
        web.desired == 3
        and _apps(shop.cluster).read_namespaced_deployment_scale("web", shop.name).spec.replicas
        == 3
    )
    with pytest.raises(ValidationError):
        services.scale(org.member, web, -1)
    event = AuditEvent.objects.get(action="workload.scale", result="success")
    assert event.detail["replicas"] == 3 and event.namespace == shop.name
    assert event.operation == operation


def test_stop_remembers_the_replicas_and_start_brings_them_back(org, any_shop):
    shop = any_shop
    web = services.create_from_yaml(org.member, shop, DEPLOYMENT)
    services.scale(org.member, web, 3)
    web = services.stop(org.member, Workload.objects.get(pk=web.pk))
    live = _apps(shop.cluster).read_namespaced_deployment("web", shop.name)
    assert live.spec.replicas == 0 and live.metadata.annotations["kcs.io/replicas"] == "3"
    assert _refresh(web).status == "stopped"
    web = services.start(org.member, Workload.objects.get(pk=web.pk))
    live = _apps(shop.cluster).read_namespaced_deployment("web", shop.name)
    assert live.spec.replicas == 3 and "kcs.io/replicas" not in (live.metadata.annotations or {})


def test_set_image_follows_the_rollout_and_rollback_restores_the_old_image(
    org, any_shop, run_tasks
):
    shop = any_shop
    web = services.create_from_yaml(org.member, shop, DEPLOYMENT)
    web = eventually(lambda: _refresh(web).status == "running" and _refresh(web))
    operation = run_tasks(
        services.set_image, org.member, web, container="web", image="nginx:1.28", cause="ci #41"
    )
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    assert (
        _apps(shop.cluster)
        .read_namespaced_deployment("web", shop.name)
        .spec.template.spec.containers[0]
        .image
        == "nginx:1.28"
    )
    web = _refresh(web)
    listed = services.revisions(org.member, web)
    assert [r["revision"] for r in listed] == [2, 1]
    assert listed[0]["images"] == ["nginx:1.28"] and listed[0]["cause"] == "ci #41"
    assert listed[1]["images"] == ["nginx:1.27"]

    operation = run_tasks(services.rollback, org.member, web, 1)
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    live = _apps(shop.cluster).read_namespaced_deployment("web", shop.name)
    assert live.spec.template.spec.containers[0].image == "nginx:1.27"
    event = AuditEvent.objects.get(action="workload.rollback")
    assert event.detail["revision"] == 1 and event.operation == operation
    with pytest.raises(ValidationError, match="no revision 9"):
        services.rollback(org.member, _refresh(web), 9)


def test_a_bad_image_is_a_stuck_rollout_with_the_pods_reason(
    org, shop, kubesim, run_tasks, monkeypatch
):
    web = services.create_from_yaml(
        org.member,
        shop,
        DEPLOYMENT.replace("replicas: 2", "replicas: 2\n  progressDeadlineSeconds: 60"),
    )
    web = eventually(lambda: _refresh(web).status == "running" and _refresh(web))
    # Between two looks at the rollout, 20 s pass on the cluster's clock: its deadline
    # (60 s) passes after a few, and Kubernetes says the rollout is stuck.
    clock = f"/clusters/{shop.cluster.name}/clock"
    monkeypatch.setattr(tasks, "pause", lambda: kubesim.admin("POST", clock, {"advance": 20}))
    operation = run_tasks(
        services.set_image, org.member, web, container="web", image="nginx:doesnotexist"
    )
    operation.refresh_from_db()
    assert operation.status == "failed"
    assert "The rollout is stuck. ProgressDeadlineExceeded" in operation.error
    assert "has timed out progressing" in operation.error
    assert "ImagePullBackOff" in operation.error or "ErrImagePull" in operation.error
    assert AuditEvent.objects.get(action="workload.set_image").result == "failure"
    with pytest.raises(ValidationError, match="no container nope"):
        services.set_image(org.member, web, container="nope", image="x:1")


def test_redeploy_replaces_every_pod(org, shop, run_tasks):
    web = services.create_from_yaml(org.member, shop, DEPLOYMENT)
    web = eventually(lambda: _refresh(web).status == "running" and _refresh(web))
    before = set(Pod.objects.filter(workload_name="web").values_list("uid", flat=True))
    operation = run_tasks(services.redeploy, org.member, web)
    operation.refresh_from_db()
    assert operation.status == "succeeded", operation.error
    sync_cluster(shop.cluster)
    after = set(
        Pod.objects.filter(workload_name="web", status="Running").values_list("uid", flat=True)
    )
    assert len(after) == 2 and not before & after
    assert Operation.objects.get(kind="workload.redeploy").progress == 100


def test_a_cronjob_runs_now_and_is_suspended_and_resumed(org, shop):
    nightly = services.create_from_yaml(org.member, shop, CRONJOB)
    assert nightly.schedule == "0 3 * * *" and nightly.status == "running"
    job = services.run_now(org.member, nightly)
    assert job.kind == "Job" and (job.owner_kind, job.owner_name) == ("CronJob", "nightly")
    nightly = services.stop(org.member, nightly)
    assert nightly.status == "suspended"
    nightly = services.start(org.member, nightly)
    assert nightly.status == "running"
    with pytest.raises(ValidationError):
        services.scale(org.member, nightly, 2)


def test_other_projects_workloads_are_not_there(org, shop, lab):
    web = services.create_from_yaml(org.admin, lab, DEPLOYMENT)
    for act in (
        lambda: services.scale(org.member, web, 1),
        lambda: services.stop(org.member, web),
        lambda: services.redeploy(org.member, web),
        lambda: services.delete(org.member, web),
        lambda: services.create_from_yaml(org.member, lab, DEPLOYMENT),
    ):
        with pytest.raises(Http404):
            act()
    assert AuditEvent.objects.filter(actor_name="member", result="failure").count() == 5


def test_yaml_holds_exactly_one_workload_of_a_known_kind(org, shop):
    with pytest.raises(ValidationError, match="exactly one workload"):
        services.create_from_yaml(org.member, shop, DEPLOYMENT + "\n---\n" + CRONJOB)
    with pytest.raises(ValidationError, match="kind must be one of"):
        services.create_from_yaml(org.member, shop, "apiVersion: v1\nkind: Service\n")
    with pytest.raises(ValidationError, match=r"spec\.replicas must be a whole number"):
        services.create_from_yaml(
            org.member, shop, DEPLOYMENT.replace("replicas: 2", "replicas: two")
        )
