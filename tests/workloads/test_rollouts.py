"""Following rollouts of every kind to their end, as ``kubectl rollout status`` decides,
with a progress deadline on the cluster's clock for StatefulSets and DaemonSets (which
Kubernetes gives none). kubesim's clock is frozen; ``pause`` (between two looks at the
rollout) moves it."""

import json

import pytest
from django.core.exceptions import ValidationError
from kubernetes import client as k8s

from apps.core.models import AuditEvent, Operation
from apps.core.operations import log_lines
from apps.workloads import services, tasks
from apps.workloads.models import Workload

from .test_autoscaling import Sim
from .test_pod_reasons import deployment


@pytest.fixture
def sim(kubesim, cluster):
    return Sim(kubesim, cluster)


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.05)


@pytest.fixture
def looks(sim, monkeypatch):
    """Between two looks at the rollout, 10 simulated seconds pass; the looks are counted."""
    seen = []

    def pause():
        seen.append(1)
        sim.admin("POST", "/clock", {"advance": 10})

    monkeypatch.setattr(tasks, "pause", pause)
    return seen


def statefulset(name="db", *, replicas=2, strategy=None, annotations=None):
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {
            "serviceName": name,
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "updateStrategy": strategy or {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "db", "image": "postgres:16"}]},
            },
        },
    }


def daemonset(name="agent", *, annotations=None):
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "agent", "image": "fluent-bit:3.0"}]},
            },
        },
    }


def _make(org, shop, sim, body) -> Workload:
    workload = services.create_from_yaml(org.member, shop, json.dumps(body))
    sim.advance(60, step=5)
    workload = Workload.objects.get(pk=workload.pk)
    assert workload.status == "running", workload.reason
    return workload


def _images(shop, selector) -> dict[str, str]:
    core = k8s.CoreV1Api(shop.cluster.kube().api_client)
    pods = core.list_namespaced_pod(shop.name, label_selector=selector).items
    return {p.metadata.name: p.spec.containers[0].image for p in pods}


def _finished(operation) -> Operation:
    operation.refresh_from_db()
    return operation


def test_a_statefulset_rollout_is_followed_to_its_end(org, shop, sim, looks, run_tasks):
    db = _make(org, shop, sim, statefulset())
    operation = _finished(
        run_tasks(services.set_image, org.member, db, container="db", image="postgres:17")
    )
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    assert "2 of 2 pods up to date and available" in log_lines(operation)[-1]
    assert _images(shop, "app=db") == {"db-0": "postgres:17", "db-1": "postgres:17"}
    live = k8s.AppsV1Api(shop.cluster.kube().api_client).read_namespaced_stateful_set(
        "db", shop.name
    )
    assert live.status.current_revision == live.status.update_revision


def test_a_partitioned_rollout_ends_when_the_ordinals_from_the_partition_up_are_updated(
    org, shop, sim, looks, run_tasks
):
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    db = _make(org, shop, sim, statefulset(replicas=3, strategy=strategy))
    operation = _finished(
        run_tasks(services.set_image, org.member, db, container="db", image="postgres:17")
    )
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    assert "1 of 1 pods up to date and available" in log_lines(operation)[-1]
    # db-0 and db-1 stay at the current revision, as the partition says
    assert _images(shop, "app=db") == {
        "db-0": "postgres:16",
        "db-1": "postgres:16",
        "db-2": "postgres:17",
    }


def test_a_statefulset_with_a_bad_image_fails_as_stuck_after_its_deadline(
    org, shop, sim, looks, run_tasks, portal
):
    db = _make(org, shop, sim, statefulset(annotations={"kcs.io/progress-deadline-seconds": "120"}))
    operation = _finished(
        run_tasks(services.set_image, org.member, db, container="db", image="postgres:doesnotexist")
    )
    assert operation.status == "failed"
    # stuck once 120 s passed without progress on the cluster's clock (10 s a look), not
    # before; and failed at once, not retried as a temporary failure
    assert len(looks) >= 12
    assert "The rollout is stuck." in operation.error
    assert "No progress for 120 s" in operation.error
    assert "db-1: db: ImagePullBackOff" in operation.error or "ErrImagePull" in operation.error
    assert not any("Temporary failure" in line for line in log_lines(operation))
    assert AuditEvent.objects.get(action="workload.set_image").result == "failure"

    db = Workload.objects.get(pk=db.pk)
    assert db.status == "failed" and "no progress for 120 s" in db.reason
    listed = portal("member").get("/workloads/?kind=StatefulSet").content.decode()
    assert 'class="badge failed">Failed<' in listed
    detail = portal("member").get(f"/workloads/{db.pk}/").content.decode()
    assert "The rollout is stuck: no progress for 120 s" in detail


def test_a_daemonset_with_a_bad_image_fails_as_stuck_after_its_deadline(
    org, shop, sim, looks, run_tasks, api
):
    agent = _make(org, shop, sim, daemonset(annotations={"kcs.io/progress-deadline-seconds": "60"}))
    operation = _finished(
        run_tasks(
            services.set_image,
            org.member,
            agent,
            container="agent",
            image="fluent-bit:doesnotexist",
        )
    )
    assert operation.status == "failed"
    assert len(looks) >= 6
    assert "No progress for 60 s" in operation.error
    assert "ImagePullBackOff" in operation.error or "ErrImagePull" in operation.error
    assert not any("Temporary failure" in line for line in log_lines(operation))
    listed = api("member").get("/api/v1/workloads/?kind=DaemonSet").json()["results"]
    assert [(w["name"], w["status"]) for w in listed] == [("agent", "failed")]


def test_a_daemonset_rollout_is_followed_to_its_end(org, shop, sim, looks, run_tasks):
    agent = _make(org, shop, sim, daemonset())
    operation = _finished(run_tasks(services.redeploy, org.member, agent))
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    ds = k8s.AppsV1Api(shop.cluster.kube().api_client).read_namespaced_daemon_set(
        "agent", shop.name
    )
    assert ds.status.updated_number_scheduled == ds.status.desired_number_scheduled > 0


def test_an_ondelete_rollout_cannot_be_followed_and_is_refused(org, shop, sim, run_tasks):
    db = _make(org, shop, sim, statefulset(strategy={"type": "OnDelete"}))
    with pytest.raises(ValidationError, match="only available for RollingUpdate strategy"):
        services.set_image(org.member, db, container="db", image="postgres:17")
    with pytest.raises(ValidationError, match="has the OnDelete update strategy"):
        services.redeploy(org.member, db)
    assert _images(shop, "app=db") == {"db-0": "postgres:16", "db-1": "postgres:16"}
    refused = AuditEvent.objects.get(action="workload.set_image")
    assert refused.result == "failure" and "OnDelete" in refused.reason
    # scaling it needs no rollout: done in the request, no Operation
    scaled = run_tasks(services.scale, org.member, db, 3)
    assert isinstance(scaled, Workload) and scaled.desired == 3
    assert not Operation.objects.filter(kind__startswith="workload.").exists()


def test_an_ondelete_set_changed_meanwhile_fails_the_operation_at_once(
    org, shop, sim, looks, run_tasks
):
    db = _make(org, shop, sim, statefulset())
    apps = k8s.AppsV1Api(shop.cluster.kube().api_client)
    apps.patch_namespaced_stateful_set(
        "db", shop.name, {"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": None}}}
    )
    operation = _finished(run_tasks(services.redeploy, org.member, db))
    assert operation.status == "failed"
    assert "rollout status is only available for RollingUpdate strategy" in operation.error
    assert not looks


def test_a_deployment_past_its_progress_deadline_fails_once_not_retried(
    org, shop, sim, looks, run_tasks, monkeypatch
):
    body = deployment("web")
    body["spec"]["progressDeadlineSeconds"] = 60
    web = _make(org, shop, sim, body)
    runs = []
    follow = tasks.follow_rollout.run
    monkeypatch.setattr(
        tasks.follow_rollout, "run", lambda *a, **k: runs.append(1) or follow(*a, **k)
    )
    operation = _finished(
        run_tasks(services.set_image, org.member, web, container="web", image="nginx:doesnotexist")
    )
    assert operation.status == "failed"
    assert "The rollout is stuck. ProgressDeadlineExceeded" in operation.error
    assert runs == [1]
    assert not any("Temporary failure" in line for line in log_lines(operation))


def test_scaling_starts_an_operation_and_a_second_click_joins_it(
    org, shop, sim, looks, api, portal
):
    web = _make(org, shop, sim, deployment("web"))
    answer = api("member").post(f"/api/v1/workloads/{web.pk}/scale/", {"replicas": 2})
    assert answer.status_code == 202 and answer.json()["kind"] == "workload.scale"
    operation = Operation.objects.get(pk=answer.json()["id"])
    # the + button while it runs: one request, the same page, the change taken on by the
    # Operation already following the workload (not refused as "still running")
    page = portal("member").post(
        f"/workloads/{web.pk}/scale/", {"replicas": "3"}, HTTP_HX_REQUEST="true", follow=True
    )
    assert page.status_code == 200
    assert 'data-testid="workload-rollout"' in page.content.decode()
    assert f"/operations/{operation.pk}/" in page.content.decode()
    assert Operation.objects.filter(kind__startswith="workload.").count() == 1
    apps = k8s.AppsV1Api(shop.cluster.kube().api_client)
    live = apps.read_namespaced_deployment("web", shop.name)
    operation.refresh_from_db()
    assert live.spec.replicas == 3 and operation.task_args[2] == live.metadata.generation
    events = AuditEvent.objects.filter(action="workload.scale").order_by("pk")
    assert [e.detail["replicas"] for e in events] == [2, 3]
    assert all(e.operation_id == operation.pk for e in events)

    tasks.follow_rollout.apply(args=(operation.pk, *operation.task_args), task_id=operation.task_id)
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    assert "3 of 3 pods up to date and available" in log_lines(operation)[-1]
    assert any("Also following: scale by member" in line for line in log_lines(operation))


def test_a_wizard_edit_of_a_statefulset_is_followed(org, shop, sim, looks, run_tasks):
    from apps.workloads import wizard

    db = _make(org, shop, sim, statefulset())
    data, version = wizard.initial(org.member, db)
    data["containers"][0]["image"] = "postgres:17"
    operation = _finished(run_tasks(wizard.update, org.member, db, data, resource_version=version))
    assert operation.kind == "workload.update"
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    assert _images(shop, "app=db") == {"db-0": "postgres:17", "db-1": "postgres:17"}


def test_a_stuck_set_made_with_kubectl_is_called_failed_by_the_next_look(org, shop, sim, portal):
    # Changed outside the portal, and stuck in a way that changes nothing more: its new pod
    # can never be scheduled, so no watch event comes once the deadline passes.
    apps = k8s.AppsV1Api(shop.cluster.kube().api_client)
    body = statefulset("cache", replicas=1, annotations={"kcs.io/progress-deadline-seconds": "60"})
    apps.create_namespaced_stateful_set("shop", body)
    sim.advance(60, step=5)
    nowhere = {"spec": {"template": {"spec": {"nodeSelector": {"disk": "nowhere"}}}}}
    apps.patch_namespaced_stateful_set("cache", "shop", nowhere)
    sim.advance(10, step=5)
    cache = Workload.objects.get(cluster=shop.cluster, namespace_name="shop", name="cache")
    assert cache.status == "updating" and cache.progress_deadline is not None
    sim.admin("POST", "/clock", {"advance": 120})  # nothing looks at it meanwhile
    assert Workload.objects.get(pk=cache.pk).status == "updating"

    assert tasks.mark_all_stuck() == 1  # beat's look, on the cluster's clock
    cache = Workload.objects.get(pk=cache.pk)
    assert cache.status == "failed" and "no progress for 60 s" in cache.reason
    listed = portal("member").get("/workloads/?kind=StatefulSet").content.decode()
    assert 'class="badge failed">Failed<' in listed
    assert tasks.mark_all_stuck() == 0  # once


def _summary(spec: dict, status: dict) -> str:
    from apps.workloads.status import workload_summary

    body = statefulset(replicas=2)
    body["metadata"]["generation"] = 2
    body["spec"].update(spec)
    return workload_summary({**body, "status": {"observedGeneration": 2, **status}})["status"]


def test_a_statefulset_is_updating_until_its_update_revision_is_current():
    counts = {"replicas": 2, "readyReplicas": 1, "updatedReplicas": 2}
    # Its last new pod is counted updated before it is ready: still rolling out.
    rolling = {**counts, "currentRevision": "db-1", "updateRevision": "db-2"}
    assert _summary({}, rolling) == "updating"
    done = {**counts, "readyReplicas": 2, "currentRevision": "db-2", "updateRevision": "db-2"}
    assert _summary({}, done) == "running"


def test_a_partitioned_statefulset_rests_half_updated():
    partitioned = {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}
    counts = {
        "replicas": 2,
        "readyReplicas": 2,
        "currentRevision": "db-1",
        "updateRevision": "db-2",
    }
    assert _summary(partitioned, {**counts, "updatedReplicas": 1}) == "running"  # the canary
    assert _summary(partitioned, {**counts, "updatedReplicas": 0}) == "updating"
