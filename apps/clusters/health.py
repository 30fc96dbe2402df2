"""Cluster health: API reachable, nodes ready. Degraded and recovered automatically."""

import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.kube import nodes as kube_nodes
from apps.kube.errors import KubeError
from apps.kube.nodes import is_ready
from apps.kube.sync import resync
from apps.namespaces import access

from .models import Cluster
from .sync import record_usage

log = logging.getLogger("kcsportal.clusters")

# Only these statuses are health's to change; the others belong to operations.
OBSERVED = (Cluster.Status.RUNNING, Cluster.Status.DEGRADED)


def check(cluster: Cluster, *, sync: bool = False) -> Cluster:
    """Look at the cluster (and sync it), then set running or degraded with the reason."""
    fields = {"last_health_check": timezone.now()}
    try:
        kube = cluster.kube(retries=1)
        fields["version"] = kube.version().lstrip("v")
        if sync:
            resync(cluster, kube)
            record_usage(cluster, kube)
            access.sync_cluster(cluster, kube)  # a deleted RoleBinding comes back
        else:
            nodes = kube_nodes.list_(kube)
            fields["nodes_total"] = len(nodes)
            fields["nodes_ready"] = sum(map(is_ready, nodes))
    except KubeError as exc:
        status, message = Cluster.Status.DEGRADED, _("API server: %(e)s") % {"e": exc.message}
    else:
        total = fields.get("nodes_total", cluster.nodes_total)
        ready = fields.get("nodes_ready", cluster.nodes_ready)
        if ready < total:
            status = Cluster.Status.DEGRADED
            message = _("%(n)s of %(total)s nodes are not ready.") % {
                "n": total - ready,
                "total": total,
            }
        else:
            status, message = Cluster.Status.RUNNING, ""
    current = Cluster.objects.filter(pk=cluster.pk).values_list("status", flat=True).first()
    if current in OBSERVED:
        fields.update(status=status, status_message=message)
        if current != status:
            log.warning("cluster %s is now %s: %s", cluster.name, status, message)
    Cluster.objects.filter(pk=cluster.pk).update(**fields)
    for name, value in fields.items():
        setattr(cluster, name, value)
    return cluster
