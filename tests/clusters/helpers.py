"""Shared helpers for the cluster tests (kubesim is one server for the whole session)."""

import itertools
import uuid

from apps.clusters import services
from apps.clusters.models import Cluster

_SESSION = uuid.uuid4().hex[:6]
_count = itertools.count(1)


def unique_name(prefix: str = "c") -> str:
    """A cluster name no other test of this session uses (kubesim outlives each test)."""
    return f"{prefix}-{_SESSION}-{next(_count)}"


def running_cluster(run_tasks, actor, name: str = "", **options) -> Cluster:
    """A sandbox cluster created through the service and running, its nodes synced."""
    cluster, operation = run_tasks(
        services.create_cluster, actor, name=name or unique_name(), **options
    )
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert cluster.status == "running", cluster.status_message
    return cluster
