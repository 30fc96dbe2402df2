"""A cluster's life against kubesim: create, run, scale out, node operations, delete."""

from kubernetes import client as k8s

from apps.clusters import services
from apps.clusters.models import Cluster, Node
from apps.core.models import Operation
from apps.core.operations import log_lines


def test_create_scale_out_and_delete(org, run_tasks, kubesim):
    cluster, operation = run_tasks(
        services.create_cluster,
        org.admin,
        name="prod",
        control_plane_nodes=3,
        workers=2,
        zones=["zone-a", "zone-b"],
    )
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert cluster.status == "running"
    assert cluster.nodes_total == 5 and cluster.nodes_ready == 5
    assert Node.objects.filter(cluster=cluster, role="master").count() == 3
    assert set(Node.objects.filter(cluster=cluster).values_list("zone", flat=True)) == {
        "zone-a",
        "zone-b",
    }
    kube = cluster.kube()
    classes = kube.call(kube.storage.list_storage_class).items
    assert [c.metadata.name for c in classes] == ["standard"]
    assert any("Application CRD" in line for line in log_lines(operation))

    op = run_tasks(services.scale_out, org.admin, cluster, workers=2, zone="zone-b")
    op.refresh_from_db()
    cluster.refresh_from_db()
    assert op.status == "succeeded", (op.error, op.log)
    assert cluster.nodes_total == 7 and cluster.status == "running"
    assert Node.objects.filter(cluster=cluster, zone="zone-b", role="worker").count() == 3

    node = Node.objects.filter(cluster=cluster, role="worker").first()
    services.cordon(org.admin, node)
    assert k8s.CoreV1Api(kube.api_client).read_node(node.name).spec.unschedulable is True
    services.set_labels(org.admin, node, {"disk": "ssd"})
    services.set_taints(
        org.admin, node, [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]
    )
    live = k8s.CoreV1Api(kube.api_client).read_node(node.name)
    assert live.metadata.labels["disk"] == "ssd"
    assert [(t.key, t.value, t.effect) for t in live.spec.taints] == [
        ("dedicated", "db", "NoSchedule")
    ]
    node.refresh_from_db()
    assert node.labels["disk"] == "ssd" and not node.schedulable

    op = run_tasks(services.delete_cluster, org.admin, cluster)
    op.refresh_from_db()
    cluster.refresh_from_db()
    assert op.status == "succeeded"
    assert cluster.status == "deleted"
    assert not Node.objects.filter(cluster=cluster).exists()
    assert Operation.objects.filter(kind="cluster.create").count() == 1


def test_demo_cluster_command_gives_the_demo_a_visible_cluster(org, kubesim, transactional_db):
    from celery.contrib.testing.worker import start_worker
    from django.core.management import call_command

    from apps.namespaces.models import Namespace
    from kcsportal.celery import app

    app.conf.task_always_eager = False
    with start_worker(app, perform_ping_check=False, loglevel="WARNING"):
        call_command("demo_cluster", "--exit", "--timeout", "60")
    cluster = Cluster.objects.get(name="demo")
    assert cluster.status == "running"
    assert cluster.nodes_total == 4
    assert set(Node.objects.filter(cluster=cluster).values_list("zone", flat=True)) == {
        "zone-a",
        "zone-b",
    }
    assert set(
        Namespace.objects.filter(cluster=cluster, project__isnull=False).values_list(
            "name", flat=True
        )
    ) == {"web-shop", "data-lab"}
    # web-shop runs nginx, for members to expose (the networking demo).
    from apps.workloads.models import Workload

    assert Workload.objects.filter(
        cluster=cluster, namespace_name="web-shop", name="nginx"
    ).exists()
    assert Cluster.objects.restrict(org.projadmin).filter(pk=cluster.pk).exists()
    assert not Cluster.objects.restrict(org.member).exists()


def test_scale_out_without_a_zone_adds_the_workers_across_the_zones(org, run_tasks, kubesim):
    """Issue 9 (1): "no zone" added nothing and still said Succeeded, on a zoned cluster."""
    from tests.clusters.helpers import running_cluster, unique_name

    cluster = running_cluster(
        run_tasks, org.admin, name=unique_name("nozone"), workers=2, zones=["zone-a", "zone-b"]
    )
    core = k8s.CoreV1Api(cluster.kube().api_client)

    def workers():
        return sorted(
            (n.metadata.name, n.metadata.labels.get("topology.kubernetes.io/zone"))
            for n in core.list_node().items
            if "node-role.kubernetes.io/control-plane" not in n.metadata.labels
        )

    assert workers() == [("worker-1", "zone-a"), ("worker-2", "zone-b")]
    op = run_tasks(services.scale_out, org.admin, cluster, workers=2)
    op.refresh_from_db()
    assert op.status == "succeeded", (op.error, op.log)
    assert any("added worker-3, worker-4" in line for line in log_lines(op)), log_lines(op)
    # The nodes are really there, spread over the cluster's zones as at creation.
    added = [w for w in workers() if w[0] in ("worker-3", "worker-4")]
    assert len(workers()) == 4
    assert {zone for _name, zone in added} == {"zone-a", "zone-b"}
    cluster.refresh_from_db()
    assert cluster.nodes_total == 5 and cluster.status == "running"
    assert Node.objects.filter(cluster=cluster, role="worker").count() == 4

    run_tasks(services.delete_cluster, org.admin, cluster)
