"""Long cluster operations, run by Celery workers with progress on their Operation."""

import logging
import time

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.operations import operation_task
from apps.kube import bootstrap
from apps.kube import nodes as kube_nodes
from apps.kube.errors import KubeError
from apps.kube.sync import sync_cluster

from . import health, providers
from .models import Cluster, Node

log = logging.getLogger("kcsportal.clusters")

WAIT_TIMEOUT = 300
POLL = 1.0

# Provisioning steps in order, with the progress reached when each starts. A
# failed creation resumes from the step after the last one done.
STEPS = ("provision", "api", "nodes", "prepare", "sync")


def _set(cluster: Cluster, **fields) -> None:
    for name, value in fields.items():
        setattr(cluster, name, value)
    Cluster.objects.filter(pk=cluster.pk).update(**fields)


def _wait(check, what: str, timeout: float = WAIT_TIMEOUT):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except KubeError as exc:
            last_error = exc
        time.sleep(POLL)
    raise KubeError(
        f"Timed out waiting for {what}" + (f": {last_error.message}" if last_error else ".")
    )


def _mark_failed(exc, cluster_id, *args):
    message = getattr(exc, "message", None) or str(exc)
    Cluster.objects.filter(pk=cluster_id).update(
        status=Cluster.Status.ERROR, status_message=message
    )


def _back_to_running(exc, cluster_id, *args):
    # A failed scale-out or drain leaves the cluster working; health decides its status.
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is not None:
        health.check(cluster)


@operation_task("cluster.create", _("Create cluster"), on_failure=_mark_failed)
def provision_cluster(progress, cluster_id: int):
    cluster = Cluster.objects.get(pk=cluster_id)
    provider = providers.get(cluster.provider)
    done = STEPS.index(cluster.provision_step) + 1 if cluster.provision_step else 0
    if done:
        progress.log(f"resuming after step {cluster.provision_step}")

    def finished(step):
        _set(cluster, provision_step=step)

    if done <= 0:
        progress.step(_("Provisioning the cluster"), 5)
        spec = providers.ClusterSpec.from_dict(
            {
                **cluster.spec,
                "kubeconfig": cluster.kubeconfig,
                "context": cluster.kubeconfig_context,
            }
        )
        result = provider.create(spec, progress.log)
        _set(
            cluster,
            kubeconfig=result.kubeconfig,
            kubeconfig_context=result.context,
            api_server=result.api_server,
        )
        # update() skips the field's encryption; save it through the model.
        cluster.save(update_fields=["kubeconfig"])
        finished("provision")
    kube = cluster.kube()
    if done <= 1:
        progress.step(_("Waiting for the API server"), 30)
        _wait(lambda: bool(kube.version()), "the API server")
        _set(cluster, version=kube.version().lstrip("v"))
        progress.log(f"API server {cluster.api_server} answers, Kubernetes {cluster.version}")
        finished("api")
    if done <= 2:
        progress.step(_("Waiting for the nodes to be ready"), 50)
        # An imported cluster has whatever nodes it has; a new one the ones asked for.
        expected = (
            1
            if cluster.provider == "kubeconfig"
            else cluster.spec.get("control_plane_nodes", 1) + cluster.spec.get("workers", 0)
        )

        def nodes_ready():
            nodes = kube.list_nodes()
            return len(nodes) >= expected and all(map(kube_nodes.is_ready, nodes))

        _wait(nodes_ready, "the nodes to be ready")
        progress.log("all nodes are ready")
        finished("nodes")
    if done <= 3:
        progress.step(_("Preparing the cluster for the portal"), 75)
        name = bootstrap.ensure_default_storage_class(
            kube, provisioner=f"{provider.name}.kcs.io/disk"
        )
        progress.log(f"default StorageClass: {name}")
        if bootstrap.ensure_application_crd(kube):
            progress.log("installed the Application CRD (app.k8s.io/v1beta1)")
        finished("prepare")
    progress.step(_("Reading the cluster's inventory"), 90)
    sync_cluster(cluster, kube)
    finished("sync")
    _set(cluster, status=Cluster.Status.RUNNING, status_message="")
    health.check(cluster)


@operation_task("cluster.scale_out", _("Scale out cluster"), on_failure=_back_to_running)
def scale_out_cluster(progress, cluster_id: int, target: int, zone: str, arch: str):
    cluster = Cluster.objects.get(pk=cluster_id)
    kube = cluster.kube()
    progress.step(_("Adding worker nodes"), 10)
    current = [
        n
        for n in kube.list_nodes()
        if not kube_nodes.is_control_plane(n)
        and (not zone or (n.metadata.labels or {}).get(kube_nodes.ZONE_LABEL) == zone)
    ]
    missing = target - len(current)
    if missing > 0:
        names = providers.get(cluster.provider).scale_out(
            cluster, count=missing, zone=zone, arch=arch
        )
        progress.log(f"added {', '.join(names)}")
    else:
        progress.log("the nodes were already added")
    progress.step(_("Waiting for the new nodes to be ready"), 50)

    _wait(lambda: all(map(kube_nodes.is_ready, kube.list_nodes())), "the new nodes to be ready")
    progress.step(_("Reading the cluster's inventory"), 85)
    sync_cluster(cluster, kube)
    _set(cluster, status=Cluster.Status.RUNNING)
    health.check(cluster)


@operation_task("cluster.delete", _("Delete cluster"), on_failure=_back_to_running)
def delete_cluster(progress, cluster_id: int):
    cluster = Cluster.objects.get(pk=cluster_id)
    progress.step(_("Tearing the cluster down"), 20)
    providers.get(cluster.provider).delete(cluster, progress.log)
    progress.step(_("Forgetting its inventory"), 80)
    Node.objects.filter(cluster=cluster).delete()
    cluster.namespaces.filter(project__isnull=True).delete()
    _set(cluster, status=Cluster.Status.DELETED, status_message="", nodes_total=0, nodes_ready=0)
    cluster.kubeconfig = ""
    cluster.save(update_fields=["kubeconfig"])


@operation_task("node.drain", _("Drain node"), on_failure=lambda exc, node_id: None)
def drain_node(progress, node_id: int):
    node = Node.objects.select_related("cluster").get(pk=node_id)
    kube = node.cluster.kube()
    progress.step(_("Cordoning the node and evicting its pods"), 5)

    def report(done, total, message):
        progress.log(message)
        if total:
            progress._save(progress=5 + int(85 * done / total))

    count = kube_nodes.drain(kube, node.name, report)
    progress.step(_("Reading the cluster's inventory"), 95)
    sync_cluster(node.cluster, kube)
    progress.log(f"{count} pods evicted")


@shared_task(name="clusters.sync_all", acks_late=True, ignore_result=True)
def sync_all():
    """Beat: sync and health-check every cluster that is not busy or gone."""
    idle = Cluster.objects.filter(status__in=[Cluster.Status.RUNNING, Cluster.Status.DEGRADED])
    for cluster in idle:
        health.check(cluster, sync=True)
    return timezone.now().isoformat()
