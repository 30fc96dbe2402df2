"""Retention per cluster: on PostgreSQL whole day partitions are dropped."""

from datetime import timedelta

from django.db import connection

from apps.clusters.models import Cluster
from apps.logs import services
from apps.logs.models import LogShipper
from apps.logs.query import LogQuery
from apps.logs.store import get_store

from .conftest import NOW


def _cluster(org, name, days):
    cluster = Cluster.objects.create(name=name, provider="sandbox", project=org.admin_project)
    LogShipper.objects.create(cluster=cluster, retention_days=days)
    return cluster


def _messages(cluster):
    query = LogQuery(start=NOW - timedelta(days=60), end=NOW, clusters=[cluster.pk])
    return sorted(line.message for line in get_store().search(query, limit=1000))


def test_old_lines_go_after_each_clusters_retention(org, write_lines):
    short, long = _cluster(org, "short", 7), _cluster(org, "long", 30)
    for cluster in (short, long):
        write_lines(
            cluster.pk,
            [
                (60 * 24 * 10, "shop", "web-a-b", "ten days old"),
                (60 * 24 * 40, "shop", "web-a-b", "forty days old"),
                (60, "shop", "web-a-b", "an hour old"),
            ],
        )
    store = get_store()
    if connection.vendor == "postgresql":
        assert len(store.day_partitions(short.pk)) == 3
    dropped = services.drop_expired(now=NOW)
    assert dropped == {short.pk: 2, long.pk: 1}
    assert _messages(short) == ["an hour old"]
    assert _messages(long) == ["an hour old", "ten days old"]
    if connection.vendor == "postgresql":
        days = [day.date().isoformat() for _name, day in store.day_partitions(short.pk)]
        assert days == [NOW.date().isoformat()]  # the old days' partitions were dropped


def test_retention_is_set_by_cloud_admins_only(org, write_lines):
    import pytest
    from django.core.exceptions import PermissionDenied, ValidationError

    cluster = _cluster(org, "c", 7)
    services.set_retention(org.admin, cluster, 14)
    assert LogShipper.objects.get(cluster=cluster).retention_days == 14
    with pytest.raises(PermissionDenied):
        services.set_retention(org.projadmin, cluster, 1)
    with pytest.raises(ValidationError):
        services.set_retention(org.admin, cluster, 0)
    from apps.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="logs.retention", result="failure").count() == 2
