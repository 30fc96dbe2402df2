"""Inventory sync: what is in Kubernetes is mirrored into the database.

Each app registers the kinds it mirrors (``register(Mirror(...))``) from its
``sync.py``; ``sync_cluster`` lists each kind once per cluster and brings the
rows in line with bulk operations: create what is new, update what changed,
delete what is gone. Objects created outside the portal appear too. The query
count depends on the number of kinds and batches, not on the number of objects.
"""

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections, models, transaction
from django.utils import timezone

from .client import Kube

log = logging.getLogger("kcsportal.sync")

BATCH = 500


@dataclass(frozen=True)
class Mirror:
    """How one Kubernetes kind is mirrored into one model.

    ``fetch(kube)`` lists the objects; ``key(obj)`` is the row's natural key
    within the cluster (matching ``key_fields``); ``values(obj)`` the fields
    the portal keeps from Kubernetes (its summary), all of which sync may
    overwrite. Fields the portal owns (e.g. a namespace's project) are not
    among them, so sync never touches them.
    """

    kind: str
    model: type[models.Model]
    fetch: Callable[[Kube], list]
    key_fields: tuple[str, ...]
    key: Callable[[object], tuple]
    values: Callable[[object], dict]
    after: Callable[..., None] | None = None  # (cluster, created, updated, deleted) hook
    order: int = field(default=100)


registry: list[Mirror] = []


def register(mirror: Mirror) -> Mirror:
    registry[:] = sorted([*registry, mirror], key=lambda m: m.order)
    return mirror


@dataclass
class Result:
    created: int = 0
    updated: int = 0
    deleted: int = 0


def _sqlite_batches(alias: str) -> None:
    """Let SQLite take BATCH rows per statement, as PostgreSQL does.

    Django assumes SQLite's old limit of 999 variables per statement and splits a
    bulk_create of 300 nodes into six; the library's real limit (32766 by default
    since 3.32) is read from the connection instead.
    """
    connection = connections[alias]
    if connection.vendor != "sqlite" or getattr(connection.features, "kcs_limit", False):
        return
    connection.ensure_connection()
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    connection.features.max_query_params = max(limit, connection.features.max_query_params)
    connection.features.kcs_limit = True


def sync_kind(cluster, kube: Kube, mirror: Mirror) -> Result:
    objects = mirror.fetch(kube)
    model = mirror.model
    _sqlite_batches(model.objects.db)
    update_fields = None
    existing = {
        tuple(getattr(row, f) for f in mirror.key_fields): row
        for row in model.objects.filter(cluster=cluster)
    }
    to_create, to_update = [], []
    for obj in objects:
        values = mirror.values(obj)
        update_fields = update_fields or list(values)
        row = existing.pop(tuple(mirror.key(obj)), None)
        if row is None:
            to_create.append(model(cluster=cluster, **values))
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            to_update.append(row)
    gone = [row.pk for row in existing.values()]
    with transaction.atomic():
        model.objects.bulk_create(to_create, batch_size=BATCH)
        if to_update:
            model.objects.bulk_update(to_update, update_fields, batch_size=BATCH)
        for start in range(0, len(gone), BATCH):
            model.objects.filter(pk__in=gone[start : start + BATCH]).delete()
    result = Result(len(to_create), len(to_update), len(gone))
    if mirror.after is not None:
        mirror.after(cluster, result)
    return result


def sync_cluster(cluster, kube: Kube | None = None) -> dict[str, Result]:
    """Mirror every registered kind of one cluster; records the sync time."""
    kube = kube or cluster.kube()
    results = {mirror.kind: sync_kind(cluster, kube, mirror) for mirror in registry}
    type(cluster).objects.filter(pk=cluster.pk).update(last_sync=timezone.now())
    log.info(
        "synced cluster %s",
        cluster.name,
        extra={"cluster": cluster.name, **{k: vars(v) for k, v in results.items()}},
    )
    return results
