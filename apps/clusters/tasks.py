"""Long cluster operations, run by Celery workers with progress on their Operation."""

import logging
import time

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.operations import operation_task
from apps.kube import bootstrap
from apps.kube import nodes as kube_nodes
from apps.kube.errors import KubeError
from apps.kube.sync import sync_cluster

from . import health, providers
from .models import Cluster, Node
from .sync import NODES

log = logging.getLogger("kcsportal.clusters")

WAIT_TIMEOUT = 300
POLL = 1.0
DRAIN_TIMEOUT = 300  # how long a drain waits for disruption budgets, in seconds

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


def _creation_cancelled(cluster_id, *args):
    # Left in error, as a failed creation: Retry resumes it, Delete removes it.
    Cluster.objects.filter(pk=cluster_id, status=Cluster.Status.PROVISIONING).update(
        status=Cluster.Status.ERROR, status_message=str(_("The creation was cancelled."))
    )


def _back_to_running(*args):
    # A failed or cancelled scale-out or delete leaves the cluster working (or not):
    # its health decides, as Kubernetes answers now.
    cluster_id = args[1] if isinstance(args[0], BaseException) else args[0]
    Cluster.objects.filter(
        pk=cluster_id, status__in=[Cluster.Status.SCALING, Cluster.Status.DELETING]
    ).update(status=Cluster.Status.RUNNING)
    _reread(cluster_id)


def _reread(cluster_id, *args):
    """When an operation on the cluster ends, in any way: re-read it from Kubernetes."""
    cluster = Cluster.objects.filter(pk=cluster_id).exclude(kubeconfig="").first()
    if cluster is None or cluster.status == Cluster.Status.DELETED:
        return
    try:
        sync_cluster(cluster, cluster.kube(retries=1))
    except KubeError as exc:
        log.warning("cluster %s could not be re-read: %s", cluster.name, exc.message)
    health.check(cluster)


def _reread_node(node_id, *args):
    """When a drain ends, in any way: the node as Kubernetes has it (cordoned or not)."""
    node = Node.objects.select_related("cluster").filter(pk=node_id).first()
    if node is None:
        return
    try:
        live = kube_nodes.read(node.cluster.kube(retries=1), node.name)
    except KubeError as exc:
        log.warning("node %s could not be re-read: %s", node.name, exc.message)
        return
    NODES.apply(node.cluster, [live])


@operation_task(
    "cluster.create",
    _("Create cluster"),
    on_failure=_mark_failed,
    on_cancel=_creation_cancelled,
    on_finish=_reread,
)
def provision_cluster(progress, cluster_id: int):
    cluster = Cluster.objects.get(pk=cluster_id)
    provider = providers.get(cluster.provider)
    done = STEPS.index(cluster.provision_step) + 1 if cluster.provision_step else 0
    if done:
        progress.log(_("resuming after step %(step)s"), step=cluster.provision_step)

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
        progress.log(
            _("API server %(server)s answers, Kubernetes %(version)s"),
            server=cluster.api_server,
            version=cluster.version,
        )
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
            nodes = kube_nodes.list_(kube)
            return len(nodes) >= expected and all(map(kube_nodes.is_ready, nodes))

        _wait(nodes_ready, "the nodes to be ready")
        progress.log(_("all nodes are ready"))
        finished("nodes")
    if done <= 3:
        progress.step(_("Preparing the cluster for the portal"), 75)
        name = bootstrap.ensure_default_storage_class(
            kube, provisioner=f"{provider.name}.kcs.io/disk"
        )
        progress.log(_("default StorageClass: %(name)s"), name=name)
        if bootstrap.ensure_application_crd(kube):
            progress.log(_("installed the Application CRD (app.k8s.io/v1beta1)"))
        if settings.LOGS_SHIPPER:
            from apps.logs.services import install as install_log_shipper

            shipper = install_log_shipper(cluster, kube)
            progress.log(
                _("deployed the log shipper (fluent-bit) to %(url)s"), url=shipper.endpoint
            )
        finished("prepare")
    progress.step(_("Reading the cluster's inventory"), 90)
    sync_cluster(cluster, kube)
    finished("sync")
    _set(cluster, status=Cluster.Status.RUNNING, status_message="")
    health.check(cluster)


@operation_task(
    "cluster.scale_out",
    _("Scale out cluster"),
    on_failure=_back_to_running,
    on_cancel=_back_to_running,
    on_finish=_reread,
)
def scale_out_cluster(progress, cluster_id: int, target: int, zone: str, arch: str):
    cluster = Cluster.objects.get(pk=cluster_id)
    kube = cluster.kube()
    progress.step(_("Adding worker nodes"), 10)
    # ``target`` counts the workers in ``zone``, or all the workers when it is "" (the
    # provider then spreads the new ones as it does at creation); see services.scale_out.
    missing = target - len(kube_nodes.workers(kube_nodes.list_(kube), zone))
    if missing > 0:
        names = providers.get(cluster.provider).scale_out(
            cluster, count=missing, zone=zone, arch=arch
        )
        progress.log(_("added %(nodes)s"), nodes=", ".join(names))
    else:
        progress.log(_("the nodes were already added"))
    progress.completed("add")
    progress.step(_("Waiting for the new nodes to be ready"), 50)

    def scaled_out():
        nodes = kube_nodes.list_(kube)
        return len(kube_nodes.workers(nodes, zone)) >= target and all(
            map(kube_nodes.is_ready, nodes)
        )

    # Succeeded means the workers are there: a provider that added none fails here.
    _wait(scaled_out, "the new nodes to be ready")
    progress.step(_("Reading the cluster's inventory"), 85)
    sync_cluster(cluster, kube)
    _set(cluster, status=Cluster.Status.RUNNING)
    health.check(cluster)


@operation_task(
    "cluster.delete",
    _("Delete cluster"),
    on_failure=_back_to_running,
    on_cancel=_back_to_running,
    on_finish=_reread,
)
def delete_cluster(progress, cluster_id: int):
    cluster = Cluster.objects.get(pk=cluster_id)
    if progress.is_completed("teardown"):
        progress.log(_("the cluster was already torn down"))
    else:
        progress.step(_("Tearing the cluster down"), 20)
        providers.get(cluster.provider).delete(cluster, progress.log)
        progress.completed("teardown")
    progress.step(_("Forgetting its inventory"), 80)
    Node.objects.filter(cluster=cluster).delete()
    cluster.namespaces.filter(project__isnull=True).delete()
    _set(cluster, status=Cluster.Status.DELETED, status_message="", nodes_total=0, nodes_ready=0)
    cluster.kubeconfig = ""
    cluster.save(update_fields=["kubeconfig"])


@operation_task("node.drain", _("Drain node"), on_finish=_reread_node)
def drain_node(progress, node_id: int, force: bool = False, delete_emptydir_data: bool = False):
    from .services import drain_refusals

    node = Node.objects.select_related("cluster").get(pk=node_id)
    kube = node.cluster.kube()
    if not progress.is_completed("evict"):
        # Cordoning and evicting are idempotent: a resumed drain evicts what is left.
        progress.step(_("Cordoning the node and evicting its pods"), 5)

        def report(done, total, message, **params):
            progress.check_cancelled()
            progress.log(message, **params)
            if total:
                progress._save(progress=5 + int(85 * done / total))

        try:
            count = kube_nodes.drain(
                kube,
                node.name,
                report,
                force=force,
                delete_emptydir_data=delete_emptydir_data,
                timeout=DRAIN_TIMEOUT,
                on_wait=progress.check_cancelled,
            )
        except kube_nodes.DrainRefused as exc:
            # The pods changed since the drain was asked for: say which, as the form would.
            plan = kube_nodes.DrainPlan(unmanaged=exc.unmanaged, local_data=exc.local_data)
            reasons = drain_refusals(plan, force=force, delete_emptydir_data=delete_emptydir_data)
            raise KubeError(" ".join(reasons.values()), status=exc.status) from exc
        progress.log(_("%(count)s pods evicted"), count=count)
        progress.completed("evict")
    progress.step(_("Reading the cluster's inventory"), 95)
    sync_cluster(node.cluster, kube)


@shared_task(name="clusters.sync_all", acks_late=True, ignore_result=True)
def sync_all():
    """Beat: sync and health-check every cluster that is not busy or gone."""
    idle = Cluster.objects.filter(status__in=[Cluster.Status.RUNNING, Cluster.Status.DEGRADED])
    for cluster in idle:
        health.check(cluster, sync=True)
    return timezone.now().isoformat()
