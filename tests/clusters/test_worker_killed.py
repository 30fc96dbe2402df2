"""A Celery worker killed (``kill -9``) mid-drain and mid-create, on both brokers.

Neither broker gives the task back in time (the filesystem transport never, Redis after
its visibility timeout): the reaper finds the operation by its stopped heartbeat and
resumes it from its last completed step, or fails it with the reason. Either way it ends,
its lock is released, and the portal shows the node or cluster as kubectl does.
"""

from datetime import timedelta

import kubernetes.client as k8s
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.clusters import services
from apps.clusters.models import Cluster, Node
from apps.core import operations
from apps.core.models import AuditEvent, Operation
from apps.core.operations import log_lines
from tests.clusters.helpers import running_cluster, unique_name
from tests.clusters.workers import (  # noqa: F401
    broker,
    eagerly,
    finished,
    kubectl,
    reap_later,
    wait_for,
)

pytestmark = pytest.mark.timeout(600)


def _unlocked(cluster) -> bool:
    return not Operation.objects.filter(
        lock=services.cluster_lock(cluster), status__in=Operation.UNFINISHED
    ).exists()


def _held_pods(cluster, node: str):
    """Two pods on ``node``: one free to go, one a disruption budget keeps there."""
    core = k8s.CoreV1Api(cluster.kube().api_client)
    for name in ("free", "held"):
        core.create_namespaced_pod(
            "default",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "labels": {"app": name}},
                "spec": {
                    "nodeName": node,
                    "containers": [{"name": "main", "image": "nginx:1.27"}],
                    "terminationGracePeriodSeconds": 0,
                },
            },
        )
    policy = k8s.PolicyV1Api(cluster.kube().api_client)
    policy.create_namespaced_pod_disruption_budget(
        "default",
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "held"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "held"}}},
        },
    )
    return policy


def _mid_drain(org, run_tasks, broker):  # noqa: F811
    """A drain whose worker was killed after it evicted one pod, blocked on the other."""
    with eagerly():
        cluster = running_cluster(run_tasks, org.admin, workers=2)
    policy = _held_pods(cluster, "worker-1")
    node = Node.objects.get(cluster=cluster, name="worker-1")
    worker = broker.worker()
    operation = services.drain(org.admin, node, force=True)
    wait_for(
        lambda: any(
            "evicted default/free" in line for line in log_lines(finished(operation) or operation)
        ),
        "the drain to evict the first pod",
        worker=worker,
    )
    worker.kill()
    operation.refresh_from_db()
    assert operation.status == "running"  # what the portal showed forever before the reaper
    with pytest.raises(ValidationError, match="still running"):
        services.scale_out(org.admin, cluster, workers=1)
    return cluster, node, operation, policy


def test_drain_resumes_after_its_worker_is_killed(org, run_tasks, broker):  # noqa: F811
    cluster, node, operation, policy = _mid_drain(org, run_tasks, broker)
    policy.delete_namespaced_pod_disruption_budget("held", "default")

    assert reap_later() == {"resumed": [operation.pk], "failed": []}
    worker = broker.worker()
    wait_for(lambda: finished(operation), "the resumed drain to end", worker=worker)
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    log = "\n".join(log_lines(operation))
    assert "The worker running this operation stopped" in log
    assert "Attempt 2" in log
    assert operation.resumes == 1
    assert _unlocked(cluster)
    assert AuditEvent.objects.filter(action="operation.resume", operation=operation).exists()

    # The portal and kubectl agree: cordoned, and nothing of ours left on it.
    node.refresh_from_db()
    live = kubectl(cluster, "get", "node", "worker-1")
    assert node.schedulable is False and live["spec"]["unschedulable"] is True
    pods = kubectl(cluster, "get", "pods", "-A", "--field-selector", "spec.nodeName=worker-1")
    assert {p["metadata"]["name"] for p in pods["items"]} & {"free", "held"} == set()


def test_drain_that_cannot_resume_fails_with_the_reason(org, run_tasks, broker, settings):  # noqa: F811
    cluster, node, operation, _policy = _mid_drain(org, run_tasks, broker)
    settings.OPERATION_MAX_RESUMES = 0

    assert reap_later() == {"resumed": [], "failed": [operation.pk]}
    operation.refresh_from_db()
    assert operation.status == "failed"
    assert operation.error == (
        "The worker running this operation stopped (attempt 1); it is not resumed again."
    )
    assert _unlocked(cluster)
    started = AuditEvent.objects.get(action="node.drain", operation=operation)
    assert (started.result, started.reason) == ("failure", operation.error)

    # The node as Kubernetes has it: cordoned (the drain got that far), and it can be
    # uncordoned at once.
    node.refresh_from_db()
    assert kubectl(cluster, "get", "node", "worker-1")["spec"]["unschedulable"] is True
    assert node.schedulable is False
    services.uncordon(org.admin, node)
    assert kubectl(cluster, "get", "node", "worker-1")["spec"].get("unschedulable") in (None, False)


def _mid_create(org, broker, kubesim):  # noqa: F811
    """A creation whose worker was killed while it waited for a NotReady node."""
    name = unique_name("killed")
    kubesim.create_cluster(name, masters=1, workers=1)  # the sandbox provider reuses it
    code, body = kubesim.admin("PUT", f"/clusters/{name}/nodes/worker-1/ready", {"status": "False"})
    assert code == 200, body
    worker = broker.worker()
    cluster, operation = services.create_cluster(org.admin, name=name, workers=1)
    wait_for(
        lambda: Cluster.objects.get(pk=cluster.pk).provision_step == "api",
        "the creation to wait for the nodes",
        worker=worker,
    )
    worker.kill()
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert (operation.status, cluster.status) == ("running", "provisioning")
    return cluster, operation


def test_create_resumes_after_its_worker_is_killed(org, broker, kubesim):  # noqa: F811
    cluster, operation = _mid_create(org, broker, kubesim)
    code, body = kubesim.admin(
        "PUT", f"/clusters/{cluster.name}/nodes/worker-1/ready", {"status": "True"}
    )
    assert code == 200, body

    assert reap_later() == {"resumed": [operation.pk], "failed": []}
    worker = broker.worker()
    wait_for(lambda: finished(operation), "the resumed creation to end", worker=worker)
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    assert cluster.status == "running", cluster.status_message
    log = "\n".join(log_lines(operation))
    assert "resuming after step api" in log
    assert log.count("Provisioning the cluster") == 1  # not provisioned twice
    assert _unlocked(cluster)

    nodes = kubectl(cluster, "get", "nodes")["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == sorted(
        Node.objects.filter(cluster=cluster).values_list("name", flat=True)
    )
    assert (cluster.nodes_total, cluster.nodes_ready) == (2, 2)


def test_create_that_cannot_resume_fails_and_can_be_retried_or_deleted(
    org,
    broker,  # noqa: F811
    kubesim,
    settings,
):
    cluster, operation = _mid_create(org, broker, kubesim)
    settings.OPERATION_MAX_RESUMES = 0
    assert reap_later() == {"resumed": [], "failed": [operation.pk]}
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "failed"
    assert "stopped" in operation.error
    assert (cluster.status, cluster.status_message) == ("error", operation.error)
    assert _unlocked(cluster)

    # Retry resumes from the last completed step once the node is back.
    code, body = kubesim.admin(
        "PUT", f"/clusters/{cluster.name}/nodes/worker-1/ready", {"status": "True"}
    )
    assert code == 200, body
    worker = broker.worker()
    retry = services.retry_cluster(org.admin, cluster)
    wait_for(lambda: finished(retry), "the retry to end", worker=worker)
    assert retry.status == "succeeded", (retry.error, log_lines(retry))
    assert any("resuming after step api" in line for line in log_lines(retry))
    cluster.refresh_from_db()
    assert cluster.status == "running"

    delete = services.delete_cluster(org.admin, cluster)
    wait_for(lambda: finished(delete), "the delete to end", worker=worker)
    assert delete.status == "succeeded", (delete.error, log_lines(delete))
    cluster.refresh_from_db()
    assert cluster.status == "deleted"
    assert kubesim.admin("GET", f"/clusters/{cluster.name}")[0] == 404


def test_drain_cancelled_after_its_worker_is_killed_can_be_retried(org, run_tasks, broker, portal):  # noqa: F811
    cluster, node, operation, policy = _mid_drain(org, run_tasks, broker)

    response = portal("admin").post(f"/operations/{operation.pk}/cancel/")
    assert response.status_code == 302
    operation.refresh_from_db()
    assert operation.status == "cancelled" and operation.finished is not None
    assert _unlocked(cluster)
    event = AuditEvent.objects.get(action="operation.cancel")
    assert (event.result, event.operation) == ("success", operation)
    assert reap_later() == {"resumed": [], "failed": []}  # cancelled: not an orphan

    # The node as Kubernetes has it, re-read when the cancel ended the drain: cordoned
    # (the drain got that far), the pod the budget held still there.
    node.refresh_from_db()
    live = kubectl(cluster, "get", "node", "worker-1")
    assert node.schedulable is False and live["spec"]["unschedulable"] is True
    page = portal("admin").get(node.get_absolute_url()).content.decode()
    assert f'action="/nodes/{node.pk}/uncordon/"' in page  # the portal shows it cordoned
    pods = kubectl(cluster, "get", "pods", "-A", "--field-selector", "spec.nodeName=worker-1")
    assert "held" in {p["metadata"]["name"] for p in pods["items"]}

    # The cluster's lock is free: the drain is asked again, and ends.
    policy.delete_namespaced_pod_disruption_budget("held", "default")
    worker = broker.worker()
    retry = services.drain(org.admin, node, force=True)
    wait_for(lambda: finished(retry), "the drain asked again to end", worker=worker)
    assert retry.status == "succeeded", (retry.error, log_lines(retry))
    assert _unlocked(cluster)
    pods = kubectl(cluster, "get", "pods", "-A", "--field-selector", "spec.nodeName=worker-1")
    assert {p["metadata"]["name"] for p in pods["items"]} & {"free", "held"} == set()
    node.refresh_from_db()
    assert node.schedulable is False
    operation.refresh_from_db()
    assert operation.status == "cancelled"  # the killed attempt's message did not revive it


def test_an_operation_no_worker_takes_up_is_queued_again_then_runs(org, run_tasks, broker):  # noqa: F811
    """Queued, with no worker to take it up (no heartbeat ever): within its bound the reaper
    leaves it; after OPERATION_PENDING_TIMEOUT it queues it again, and a worker that comes
    runs that attempt (the first message, delivered too, does nothing)."""
    with eagerly():
        cluster = running_cluster(run_tasks, org.admin, workers=1)
    operation = services.scale_out(org.admin, cluster, workers=1)
    first_task = operation.task_id
    operation.refresh_from_db()
    assert (operation.status, operation.started, operation.heartbeat) == ("pending", None, None)
    assert reap_later() == {"resumed": [], "failed": []}  # within its bound: just queued

    pending = operations.setting("OPERATION_PENDING_TIMEOUT")
    assert operations.reap(now=timezone.now() + timedelta(seconds=pending + 1)) == {
        "resumed": [operation.pk],
        "failed": [],
    }
    operation.refresh_from_db()
    assert (operation.status, operation.resumes) == ("pending", 1)
    assert operation.task_id != first_task
    assert any("No worker took this operation up by" in line for line in log_lines(operation))
    assert AuditEvent.objects.filter(action="operation.resume", operation=operation).exists()
    with pytest.raises(ValidationError, match="still running"):  # the lock is still held
        services.scale_out(org.admin, cluster, workers=1)

    worker = broker.worker()
    wait_for(lambda: finished(operation), "the queued-again scale-out to end", worker=worker)
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    # One attempt ran: the first message found the operation taken over.
    assert sum("Adding worker nodes" in line for line in log_lines(operation)) == 1
    assert _unlocked(cluster)
    nodes = kubectl(cluster, "get", "nodes")["items"]
    assert len(nodes) == 3
    cluster.refresh_from_db()
    assert (cluster.status, cluster.nodes_total) == ("running", 3)


def test_an_operation_no_worker_ever_takes_up_is_failed_and_unlocks(org, run_tasks, settings):
    """Queued again OPERATION_MAX_RESUMES times and still not taken up: failed, with the
    reason, and its lock released (here no broker delivers it at all)."""
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    settings.OPERATION_MAX_RESUMES = 1
    operation = services.scale_out(org.admin, cluster, workers=1)  # never sent
    bound = timedelta(seconds=operations.setting("OPERATION_PENDING_TIMEOUT"))
    second = timedelta(seconds=1)
    assert operations.reap(now=timezone.now() + bound - second) == {"resumed": [], "failed": []}
    later = timezone.now() + bound + second
    assert operations.reap(now=later) == {"resumed": [operation.pk], "failed": []}
    # Queued again: its bound starts anew from then.
    operation.refresh_from_db()
    requeued = operation.heartbeat
    assert (operation.status, operation.resumes) == ("pending", 1)
    assert operations.reap(now=requeued + bound - second) == {"resumed": [], "failed": []}
    assert operations.reap(now=requeued + bound + second) == {
        "resumed": [],
        "failed": [operation.pk],
    }

    operation.refresh_from_db()
    assert operation.status == "failed" and operation.finished is not None
    assert operation.error == (
        "No worker took this operation up (attempt 2); it is not queued again."
    )
    assert log_lines(operation)[-1].endswith(f"Failed: {operation.error}")
    started = AuditEvent.objects.get(action="cluster.scale_out", operation=operation)
    assert (started.result, started.reason) == ("failure", operation.error)
    assert _unlocked(cluster)
    cluster.refresh_from_db()
    assert cluster.status == "running"  # its scale-out failed; the cluster works on
    again = run_tasks(services.scale_out, org.admin, cluster, workers=1)
    again.refresh_from_db()
    assert again.status == "succeeded", (again.error, log_lines(again))
