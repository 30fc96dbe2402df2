"""Resync: the safety net beat runs under the informer, and the full sync operations run.

``sync_cluster`` lists every mirrored kind and reconciles the rows with it (only what
differs is written). ``resync`` is what beat runs every minute: while an informer
watches the cluster, one small request and one count per kind check that nothing was
missed, and only a kind whose count differs is listed in full; a cluster nobody
watches, or one not fully reconciled for ``FULL_RESYNC`` (an hour), gets the full sync.
"""

import logging
from datetime import timedelta

from django.utils import timezone

from . import informer, objects
from .client import Kube
from .errors import KubeError
from .mirror import Changes, registry

log = logging.getLogger("kcsportal.sync")

FULL_RESYNC = timedelta(hours=1)
KIND_ATTEMPTS = 4  # lists of one kind, each with the client's own retries


def sync_kind(cluster, kube: Kube, mirror) -> Changes:
    started = timezone.now()
    try:
        items, version = objects.list_all(kube, mirror.api_version, mirror.kind, **mirror.selector)
    except KubeError as exc:
        if not mirror.unserved(exc):
            raise
        items, version = [], ""
    return mirror.reconcile(cluster, items, version, started)


def _count(kube: Kube, mirror) -> int:
    try:
        return objects.count(kube, mirror.api_version, mirror.kind, **mirror.selector)
    except KubeError as exc:
        if not mirror.unserved(exc):
            raise
        return 0


def _sync_kind_retrying(cluster, kube: Kube, mirror) -> Changes:
    """``sync_kind``, listing again a kind whose list failed for a passing reason: on a
    flaky API the kind that failed costs a retry, not the whole sync (whose chances of
    getting through would fall with every kind added)."""
    attempt = 1
    while True:
        try:
            return sync_kind(cluster, kube, mirror)
        except KubeError as exc:
            if not exc.transient or attempt >= KIND_ATTEMPTS:
                raise
            log.warning(
                "cluster %s: listing %s failed (%s); listing it again",
                cluster.name,
                mirror.kind,
                exc.message,
            )
            attempt += 1


def sync_cluster(cluster, kube: Kube | None = None) -> dict[str, Changes]:
    """Reconcile every registered kind of one cluster; records the sync time."""
    kube = kube or cluster.kube()
    results = {mirror.label: _sync_kind_retrying(cluster, kube, mirror) for mirror in registry}
    type(cluster).objects.filter(pk=cluster.pk).update(last_sync=timezone.now())
    log.info(
        "synced cluster %s",
        cluster.name,
        extra={"cluster": cluster.name, **{k: vars(v) for k, v in results.items()}},
    )
    return results


def resync(cluster, kube: Kube | None = None) -> dict[str, Changes]:
    """Beat's check of one cluster; costs next to nothing while the informer keeps up."""
    kube = kube or cluster.kube()
    due = cluster.last_sync is None or timezone.now() - cluster.last_sync > FULL_RESYNC
    if due or not informer.is_watched(cluster):
        return sync_cluster(cluster, kube)
    results = {}
    for mirror in registry:
        listed = _count(kube, mirror)
        if not mirror.agrees(listed, cluster):
            log.warning(
                "cluster %s: %s rows differ from Kubernetes (%s): listing them again",
                cluster.name,
                mirror.kind,
                listed,
            )
            results[mirror.label] = sync_kind(cluster, kube, mirror)
    return results
