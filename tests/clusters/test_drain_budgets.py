"""A drain honours PodDisruptionBudgets through the Eviction API: a refused eviction is
retried with a back-off, the operation says which pod and which budget hold it, and after a
bounded wait it fails with that reason (force does not override a budget); once the budget
allows it, the drain goes on."""

import threading

import pytest
from kubernetes import client as k8s

from apps.clusters import services, tasks
from apps.clusters.models import Node
from apps.core.models import AuditEvent, Operation
from apps.core.operations import log_lines
from apps.kube import nodes as kube_nodes
from tests.clusters.helpers import running_cluster
from tests.kube.conftest import eventually


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.05)
    monkeypatch.setattr(tasks, "DRAIN_TIMEOUT", 1.5)


def _held_pod(cluster, node: str):
    core = k8s.CoreV1Api(cluster.kube().api_client)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "db-0", "labels": {"app": "db"}},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "db", "image": "postgres:16"}],
            "terminationGracePeriodSeconds": 0,
        },
    }
    core.create_namespaced_pod("default", pod)

    def ready():
        """the pod to be ready"""
        conditions = core.read_namespaced_pod("db-0", "default").status.conditions or []
        return any(c.type == "Ready" and c.status == "True" for c in conditions)

    eventually(ready)
    policy = k8s.PolicyV1Api(cluster.kube().api_client)
    policy.create_namespaced_pod_disruption_budget(
        "default",
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "db"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}},
        },
    )

    def counted():
        """the budget's status to count the pod"""
        status = policy.read_namespaced_pod_disruption_budget("db", "default").status
        return status is not None and status.current_healthy == 1

    eventually(counted)
    return core, policy


def test_a_budget_that_never_allows_it_fails_the_drain_naming_pod_and_budget(
    org, run_tasks, portal
):
    cluster = running_cluster(run_tasks, org.admin, workers=2)
    core, policy = _held_pod(cluster, "worker-1")
    budget = policy.read_namespaced_pod_disruption_budget("db", "default").status
    assert (budget.current_healthy, budget.desired_healthy, budget.disruptions_allowed) == (1, 1, 0)
    node = Node.objects.get(cluster=cluster, name="worker-1")
    # The confirmation says so before anything happens.
    confirm = portal("admin").get(f"/nodes/{node.pk}/drain/").content.decode()
    held = confirm.split('data-testid="drain-held">', 1)[1].split("</span>", 1)[0]
    assert "the disruption budget default/db allows no eviction now" in held

    operation = run_tasks(services.drain, org.admin, node, force=True)
    operation.refresh_from_db()
    assert operation.status == "failed"
    assert "disruption budgets still block the eviction of default/db-0" in operation.error
    assert "budget default/db" in operation.error
    assert "needs 1 healthy pods and has 1 currently" in operation.error
    log = "\n".join(log_lines(operation))
    assert "waiting for default/db-0: the disruption budget default/db does not allow" in log
    assert log.count("waiting for default/db-0") == 1  # said once, not at every retry
    # Nothing was lost: the pod still runs; the node stays cordoned (as kubectl leaves it)
    # and the portal says so; no lock is left.
    assert core.read_namespaced_pod("db-0", "default").metadata.deletion_timestamp is None
    assert core.read_node("worker-1").spec.unschedulable is True
    node.refresh_from_db()
    assert node.schedulable is False
    assert not Operation.objects.filter(status__in=Operation.UNFINISHED).exists()
    failure = AuditEvent.objects.get(action="node.drain", result="failure", operation=operation)
    assert "default/db-0 (budget default/db" in failure.reason


def test_the_drain_goes_on_once_the_budget_allows_it(org, run_tasks, monkeypatch):
    monkeypatch.setattr(tasks, "DRAIN_TIMEOUT", 60)
    cluster = running_cluster(run_tasks, org.admin, workers=2)
    core, policy = _held_pod(cluster, "worker-1")
    node = Node.objects.get(cluster=cluster, name="worker-1")
    refusals = []
    real_evict = kube_nodes.evict

    def evict(kube, pod):
        held = real_evict(kube, pod)
        if held is not None:
            refusals.append(held)
            if len(refusals) == 2:  # the second refusal: someone relaxes the budget
                threading.Thread(
                    target=policy.patch_namespaced_pod_disruption_budget,
                    args=("db", "default", {"spec": {"minAvailable": 0}}),
                ).start()
        return held

    monkeypatch.setattr(kube_nodes, "evict", evict)
    operation = run_tasks(services.drain, org.admin, node, force=True)
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    assert refusals and refusals[0].budget == "db"
    log = "\n".join(log_lines(operation))
    assert "waiting for default/db-0: the disruption budget default/db" in log
    assert "evicted default/db-0" in log
    pods = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=worker-1").items
    assert "db-0" not in {p.metadata.name for p in pods}
