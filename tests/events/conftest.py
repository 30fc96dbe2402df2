"""Fixtures for events and the cluster status page: the networking ones (a kubesim
cluster with shop and lab), and rows made directly for filters and query budgets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.clusters.models import Cluster
from apps.events.models import Event
from apps.namespaces.models import Namespace
from tests.networking.conftest import (  # noqa: F401
    _fast_password_hashing,
    _sandbox,
    api,
    cluster,
    kubesim,
    lab,
    nginx,
    org,
    portal,
    run_tasks,
    shop,
)


def make_event(
    cluster,  # noqa: F811
    namespace,
    name,
    *,
    age=timedelta(0),
    **fields,
):
    when = timezone.now() - age
    values = {
        "type": "Normal",
        "reason": "Started",
        "message": f"Started container of {name}",
        "involved_kind": "Pod",
        "involved_name": name,
        "involved_namespace": namespace.name,
        "count": 1,
        "first_seen": when,
        "last_seen": when,
        **fields,
    }
    return Event.objects.create(
        cluster=cluster,
        namespace=namespace,
        namespace_name=namespace.name,
        name=f"{name}.{Event.objects.count():08x}",
        synced=when,
        **values,
    )


@pytest.fixture
def rows(org):  # noqa: F811
    """A cluster (rows only, no Kubernetes) with web-shop's ``web`` and data-lab's ``data``."""
    made = Cluster.objects.create(
        name="events-rows", provider="sandbox", status="running", project=org.admin_project
    )
    web = Namespace.objects.create(cluster=made, name="web", project=org.web)
    data = Namespace.objects.create(cluster=made, name="data", project=org.data)
    return made, web, data
