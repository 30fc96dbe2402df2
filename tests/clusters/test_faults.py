"""Kubernetes misbehaving: API errors, NotReady nodes, failing and redelivered tasks."""

import logging
import types

import pytest

from apps.clusters import health, services, tasks
from apps.clusters.models import Cluster, Node
from apps.clusters.providers.sandbox import SandboxProvider
from apps.core.models import Operation
from apps.core.operations import log_lines
from apps.kube import bootstrap
from apps.kube import client as kube_client
from apps.kube.errors import KubeError
from tests.clusters.helpers import running_cluster, unique_name


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    """Poll quickly, and let the client's backoff record its delays instead of sleeping."""
    monkeypatch.setattr(tasks, "POLL", 0.05)
    delays = []
    monkeypatch.setattr(kube_client, "time", types.SimpleNamespace(sleep=delays.append))
    return delays


@pytest.fixture
def faults(kubesim):
    """faults(cluster_name, **fields) sets kubesim's faults; all are cleared afterwards."""
    touched = set()

    def put(name, **fields):
        touched.add(name)
        status, body = kubesim.admin("PUT", f"/clusters/{name}/faults", fields)
        assert status == 200, body

    yield put
    for name in touched:
        kubesim.admin("PUT", f"/clusters/{name}/faults", {})


def _node_ready(kubesim, cluster, node, status):
    code, body = kubesim.admin("PUT", f"/clusters/{cluster}/nodes/{node}/ready", {"status": status})
    assert code == 200, body


def test_provisioning_survives_flaky_api(org, run_tasks, kubesim, faults, caplog, _fast):
    # The sandbox provider reuses a kubesim cluster of that name, so its API can be made
    # to fail half the time before provisioning starts.
    name = unique_name("flaky")
    kubesim.create_cluster(name, masters=1, workers=2)
    faults(name, error_rate=0.5, error_code=503, retry_after=1, seed=7)
    caplog.set_level(logging.INFO, logger="kcsportal.kube")
    cluster, operation = run_tasks(services.create_cluster, org.admin, name=name, workers=2)
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert cluster.provision_step == "sync"
    assert Node.objects.filter(cluster=cluster).count() == 3
    # The client retried (honouring Retry-After) rather than giving up.
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert 1 in [round(d) for d in _fast]
    faults(name)
    health.check(cluster)
    cluster.refresh_from_db()
    assert (cluster.status, cluster.nodes_ready, cluster.nodes_total) == ("running", 3, 3)


def test_api_down_degrades_and_recovers(org, run_tasks, faults):
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    faults(cluster.name, error_rate=1.0, error_code=503)
    health.check(cluster)
    cluster.refresh_from_db()
    assert cluster.status == "degraded"
    assert cluster.status_message.startswith("API server: ")
    assert cluster.status_message.endswith("the server is currently unable to handle the request")

    faults(cluster.name)
    health.check(cluster)
    cluster.refresh_from_db()
    assert (cluster.status, cluster.status_message) == ("running", "")

    # The same through the beat task, which syncs too.
    faults(cluster.name, refuse=True)
    tasks.sync_all()
    cluster.refresh_from_db()
    assert cluster.status == "degraded"
    assert "cannot be reached" in cluster.status_message
    assert Node.objects.filter(cluster=cluster).count() == 2  # rows kept while down
    faults(cluster.name)
    tasks.sync_all()
    cluster.refresh_from_db()
    assert (cluster.status, cluster.status_message) == ("running", "")


def test_not_ready_node_degrades_and_recovers(org, run_tasks, kubesim):
    cluster = running_cluster(run_tasks, org.admin, workers=2)
    _node_ready(kubesim, cluster.name, "worker-1", "False")
    health.check(cluster)
    cluster.refresh_from_db()
    assert cluster.status == "degraded"
    assert cluster.status_message == "1 of 3 nodes are not ready."

    tasks.sync_all()
    node = Node.objects.get(cluster=cluster, name="worker-1")
    assert node.ready is False
    assert any(t["key"] == "node.kubernetes.io/not-ready" for t in node.taints)

    _node_ready(kubesim, cluster.name, "worker-1", "True")
    tasks.sync_all()
    cluster.refresh_from_db()
    node.refresh_from_db()
    assert (cluster.status, cluster.status_message) == ("running", "")
    assert node.ready is True
    assert (cluster.nodes_ready, cluster.nodes_total) == (3, 3)


def test_health_leaves_busy_clusters_alone(org, run_tasks, faults):
    cluster = running_cluster(run_tasks, org.admin)
    Cluster.objects.filter(pk=cluster.pk).update(status="scaling")
    faults(cluster.name, error_rate=1.0)
    health.check(cluster)
    cluster.refresh_from_db()
    assert cluster.status == "scaling"


def test_transient_failure_in_a_task_is_retried(org, run_tasks, monkeypatch, settings):
    settings.OPERATION_RETRY_SECONDS = 3
    real = SandboxProvider.scale_out
    calls = []

    def flaky(self, cluster, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            from apps.clusters.providers import ProviderError

            raise ProviderError("kubesim answered 503", transient=True)
        return real(self, cluster, **kwargs)

    cluster = running_cluster(run_tasks, org.admin, workers=1)
    monkeypatch.setattr(SandboxProvider, "scale_out", flaky)
    operation = run_tasks(services.scale_out, org.admin, cluster, workers=2)
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert len(calls) == 2
    assert any(
        "Temporary failure (kubesim answered 503); trying again in 3 s." in line
        for line in log_lines(operation)
    )
    assert (cluster.status, cluster.nodes_total) == ("running", 4)


def test_transient_kube_error_resumes_provisioning(org, run_tasks, monkeypatch):
    real = tasks.sync_cluster
    calls = []

    def flaky(cluster, kube=None):
        calls.append(cluster.pk)
        if len(calls) == 1:
            raise KubeError("503 Service Unavailable", status=503)
        return real(cluster, kube)

    monkeypatch.setattr(tasks, "sync_cluster", flaky)
    cluster, operation = run_tasks(
        services.create_cluster, org.admin, name=unique_name(), workers=1
    )
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert cluster.status == "running"
    log = "\n".join(log_lines(operation))
    assert "Temporary failure" in log
    assert "resuming after step prepare" in log
    assert log.count("Provisioning the cluster") == 1  # not provisioned twice


def test_failed_step_leaves_error_and_retry_resumes(org, run_tasks, monkeypatch):
    real = bootstrap.ensure_application_crd

    def forbidden(kube):
        raise KubeError("customresourcedefinitions is forbidden", status=403, reason="Forbidden")

    monkeypatch.setattr(bootstrap, "ensure_application_crd", forbidden)
    cluster, first = run_tasks(services.create_cluster, org.admin, name=unique_name(), workers=2)
    first.refresh_from_db()
    cluster.refresh_from_db()
    assert first.status == "failed"
    assert cluster.status == "error"
    assert cluster.status_message == "customresourcedefinitions is forbidden"
    assert cluster.provision_step == "nodes"
    assert cluster.kubeconfig  # what was provisioned is kept
    api_server = cluster.api_server

    monkeypatch.setattr(bootstrap, "ensure_application_crd", real)
    second = run_tasks(services.retry_cluster, org.admin, cluster)
    second.refresh_from_db()
    cluster.refresh_from_db()
    first.refresh_from_db()
    assert second.status == "succeeded", (second.error, second.log)
    assert first.status == "failed"  # the history is kept
    assert cluster.status == "running"
    assert cluster.api_server == api_server
    assert any("resuming after step nodes" in line for line in log_lines(second))
    assert not any("Provisioning the cluster" in line for line in log_lines(second))
    assert any("Application CRD" in line for line in log_lines(second))
    assert cluster.nodes_total == cluster.nodes_ready == 3
    assert Operation.objects.filter(kind="cluster.create", target_id=str(cluster.pk)).count() == 2


class WorkerKilled(BaseException):
    """What a worker dying mid-task looks like from inside: nothing after it runs."""


def test_redelivered_scale_out_adds_only_whats_missing(org, run_tasks, monkeypatch):
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    real_wait = tasks._wait

    def die(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(tasks, "_wait", die)
    with pytest.raises(WorkerKilled):
        run_tasks(services.scale_out, org.admin, cluster, workers=2)
    operation = Operation.objects.get(kind="cluster.scale_out")
    assert operation.status == "running"  # acks_late: the message goes back to the queue
    cluster.refresh_from_db()
    assert cluster.status == "scaling"

    # The broker delivers the message again to another worker.
    monkeypatch.setattr(tasks, "_wait", real_wait)
    target = 3
    tasks.scale_out_cluster.apply(
        args=(operation.pk, cluster.pk, target, "", "amd64"), task_id=operation.task_id
    )
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert "the nodes were already added" in "\n".join(log_lines(operation))
    assert (cluster.status, cluster.nodes_total) == ("running", 4)
    assert sorted(Node.objects.filter(cluster=cluster).values_list("name", flat=True)) == [
        "master-1",
        "worker-1",
        "worker-2",
        "worker-3",
    ]


def test_cancelled_creation_can_be_retried_or_deleted(org, run_tasks):
    """Issue 10: cancel left the cluster provisioning, and Retry refused it."""
    from apps.core import services as core_services

    # Its task is not run: it stays pending, as behind a dead worker.
    cluster, operation = services.create_cluster(org.admin, name=unique_name(), workers=1)
    cancelled = core_services.cancel_operation(org.admin, operation)
    cluster.refresh_from_db()
    assert cancelled.status == "cancelled"
    assert (cluster.status, cluster.status_message) == ("error", "The creation was cancelled.")

    retry = run_tasks(services.retry_cluster, org.admin, cluster)
    retry.refresh_from_db()
    cluster.refresh_from_db()
    assert retry.status == "succeeded", (retry.error, retry.log)
    assert cluster.status == "running"

    second, pending = services.create_cluster(org.admin, name=unique_name(), workers=1)
    core_services.cancel_operation(org.admin, pending)
    delete = run_tasks(services.delete_cluster, org.admin, Cluster.objects.get(pk=second.pk))
    delete.refresh_from_db()
    assert delete.status == "succeeded", (delete.error, delete.log)
    assert Cluster.objects.get(pk=second.pk).status == "deleted"


def test_a_message_of_an_older_attempt_does_nothing(org, run_tasks):
    from apps.core import operations

    cluster = running_cluster(run_tasks, org.admin, workers=1)
    operation = services.scale_out(org.admin, cluster, workers=1)
    Operation.objects.filter(pk=operation.pk).update(task_id="a-newer-attempt")
    tasks.scale_out_cluster.apply(
        args=(operation.pk, cluster.pk, 2, "", "amd64"), task_id=operation.task_id
    )
    operation.refresh_from_db()
    assert (operation.status, operation.log) == ("pending", [])
    assert operations.reap()["resumed"] == []  # not orphaned yet: just queued
