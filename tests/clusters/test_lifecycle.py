"""A cluster's life against kubesim: create, run, scale out, node operations, delete."""

from kubernetes import client as k8s

from apps.clusters import services
from apps.clusters.models import Cluster, Node
from apps.core.models import Operation


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
    assert any("Application CRD" in line for line in operation.log)

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
    assert Cluster.objects.restrict(org.projadmin).filter(pk=cluster.pk).exists()
    assert not Cluster.objects.restrict(org.member).exists()
