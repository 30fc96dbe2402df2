"""Inventory sync: what is in Kubernetes shows in the portal, with a bounded query count."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from kubernetes import client as k8s

from apps.clusters import tasks
from apps.clusters.models import Node
from apps.kube.sync import sync_cluster
from apps.namespaces.models import Namespace
from tests.clusters.helpers import running_cluster


@pytest.fixture(autouse=True)
def _fast_poll(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.05)


def _gone(core, name, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = [ns.metadata.name for ns in core.list_namespace().items]
        if name not in names:
            return
        time.sleep(0.05)
    raise AssertionError(f"namespace {name} is still there")


def test_namespaces_created_outside_the_portal_appear_and_go(org, run_tasks):
    cluster = running_cluster(run_tasks, org.admin)
    core = k8s.CoreV1Api(cluster.kube().api_client)
    assert set(cluster.namespaces.values_list("name", flat=True)) == {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
    }
    core.create_namespace({"metadata": {"name": "team-x", "labels": {"team": "x"}}})
    results = sync_cluster(cluster)
    assert (results["Namespace"].created, results["Namespace"].deleted) == (1, 0)
    row = Namespace.objects.get(cluster=cluster, name="team-x")
    assert row.project is None
    assert row.labels["team"] == "x" and row.phase == "Active"

    core.delete_namespace("team-x")
    _gone(core, "team-x")
    results = sync_cluster(cluster)
    assert results["Namespace"].deleted == 1
    assert not Namespace.objects.filter(cluster=cluster, name="team-x").exists()
    cluster.refresh_from_db()
    assert cluster.last_sync is not None


def test_a_namespaces_project_survives_syncs(org, run_tasks):
    cluster = running_cluster(run_tasks, org.admin)
    core = k8s.CoreV1Api(cluster.kube().api_client)
    core.create_namespace({"metadata": {"name": "shop"}})
    sync_cluster(cluster)
    Namespace.objects.filter(cluster=cluster, name="shop").update(project=org.web)

    core.patch_namespace("shop", {"metadata": {"labels": {"tier": "gold"}}})
    results = sync_cluster(cluster)
    assert results["Namespace"].updated == 1
    row = Namespace.objects.get(cluster=cluster, name="shop")
    assert row.project == org.web and row.labels["tier"] == "gold"
    sync_cluster(cluster)
    assert Namespace.objects.get(pk=row.pk).project == org.web


def test_nodes_follow_kubernetes(org, run_tasks, kubesim):
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    core = k8s.CoreV1Api(cluster.kube().api_client)
    core.patch_node("worker-1", {"spec": {"unschedulable": True}})
    kubesim.admin("POST", f"/clusters/{cluster.name}/nodes", {"count": 1, "zone": "z9"})
    results = sync_cluster(cluster)
    assert (results["Node"].created, results["Node"].updated) == (1, 1)
    assert Node.objects.get(cluster=cluster, name="worker-2").zone == "z9"
    assert Node.objects.get(cluster=cluster, name="worker-1").schedulable is False
    kubesim.admin("DELETE", f"/clusters/{cluster.name}/nodes/worker-2")
    results = sync_cluster(cluster)
    assert results["Node"].deleted == 1
    cluster.refresh_from_db()
    assert cluster.nodes_total == 2
    # Nothing changed: nothing written.
    results = sync_cluster(cluster)
    assert all((r.created, r.updated, r.deleted) == (0, 0, 0) for r in results.values())


def _queries(cluster) -> int:
    with CaptureQueriesContext(connection) as ctx:
        sync_cluster(cluster)
    return len(ctx.captured_queries)


def test_sync_query_count_does_not_grow_with_nodes(org, run_tasks, kubesim):
    cluster = running_cluster(run_tasks, org.admin, workers=4)
    Node.objects.filter(cluster=cluster).delete()
    first_small = _queries(cluster)  # creates 5 node rows
    resync_small = _queries(cluster)  # nothing changed

    status, body = kubesim.admin("POST", f"/clusters/{cluster.name}/nodes", {"count": 295})
    assert status == 201, body
    Node.objects.filter(cluster=cluster).delete()
    first_large = _queries(cluster)  # creates 300 node rows
    assert Node.objects.filter(cluster=cluster).count() == 300
    _queries(cluster)  # the new nodes may have turned Ready since: those are updated
    resync_large = _queries(cluster)

    assert (first_large, resync_large) == (first_small, resync_small)
    cluster.refresh_from_db()
    assert (cluster.nodes_total, cluster.nodes_ready) == (300, 300)


def test_zones_and_architectures_follow_the_nodes(org, run_tasks, kubesim):
    """Issue 9, defect 3: arm64 workers added, or an imported cluster's zone labels, show."""
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    assert cluster.architectures == ["amd64"] and cluster.zones == []
    kubesim.admin(
        "POST", f"/clusters/{cluster.name}/nodes", {"count": 2, "zone": "eu-1a", "arch": "arm64"}
    )
    k8s.CoreV1Api(cluster.kube().api_client).patch_node(
        "worker-1", {"metadata": {"labels": {"topology.kubernetes.io/zone": "eu-1b"}}}
    )
    sync_cluster(cluster)
    cluster.refresh_from_db()
    assert cluster.architectures == ["amd64", "arm64"]
    assert cluster.zones == ["eu-1a", "eu-1b"]
    assert cluster.resources["cpu"]["capacity"]  # totals kept with the counts
