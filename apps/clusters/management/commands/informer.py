"""``manage.py informer``: keep the inventory of every cluster live (list + watch)."""

import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.clusters import health
from apps.clusters.models import Cluster
from apps.clusters.sync import watched_clusters
from apps.kube import leases
from apps.kube.informer import Informer

log = logging.getLogger("kcsportal.informer")


def check_health(cluster_id: int) -> None:
    """A cluster's watches failed, or answer again: look at it, as beat does."""
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is not None:
        health.check(cluster)


def elector() -> leases.Elector | None:
    """Scaled out (INFORMER_LEADER_ELECTION): compete for each cluster's Lease."""
    if not settings.INFORMER_LEADER_ELECTION:
        return None
    namespace = leases.own_namespace(settings.INFORMER_LEASE_NAMESPACE)
    identity = leases.default_identity()
    timing = leases.Timing.for_duration(settings.INFORMER_LEASE_SECONDS)
    log.info(
        "leader election on: leases in namespace %s, as %s, for %ss",
        namespace,
        identity,
        timing.duration,
    )
    return leases.Elector(
        leases.own_api_client(settings.INFORMER_LEASE_KUBECONFIG),
        namespace,
        identity,
        timing=timing,
    )


class Command(BaseCommand):
    help = (
        "Watch every running cluster and keep the portal's rows of its objects live. "
        "Runs until stopped (SIGTERM or Ctrl-C). With INFORMER_LEADER_ELECTION=1, "
        "watches only the clusters whose Lease it holds, so replicas share the work."
    )

    def handle(self, **options):
        informer = Informer(clusters=watched_clusters, on_trouble=check_health, elector=elector())

        def stop(signum, frame):
            log.info("informer stopping (signal %s)", signum)
            informer.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("informer started")
        informer.run()
        log.info("informer stopped")
