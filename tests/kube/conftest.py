"""Fixtures for the kube layer: kubesim in-process, a running cluster, an informer on it."""

import time

import pytest

from apps.clusters.models import Cluster
from apps.kube.informer import Informer
from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.clusters.helpers import running_cluster
from tests.portal.conftest import _fast_password_hashing, api, org, portal  # noqa: F401
from tests.realcluster import TARGETS, delete_namespace, forget, target_cluster, unique_namespace

WAIT = 30  # seconds: generous, for a loaded machine; waits end as soon as the condition holds


def eventually(check, timeout: float = WAIT, interval: float = 0.05):
    """Poll ``check`` until it returns something true; its last value, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check.__doc__ or check}")
        time.sleep(interval)


@pytest.fixture
def cluster(transactional_db, org, run_tasks):  # noqa: F811
    return running_cluster(run_tasks, org.admin, workers=2)


@pytest.fixture
def informer(cluster):
    """An informer watching the test's clusters (those that are running), stopped afterwards."""
    running = Informer(
        clusters=lambda: list(Cluster.objects.filter(status=Cluster.Status.RUNNING)), rescan=0.2
    ).start()
    assert running.synced(WAIT), "the informer did not list every kind in time"
    yield running
    running.stop()


@pytest.fixture(params=TARGETS)
def any_cluster(request, transactional_db, org, run_tasks):  # noqa: F811
    """A running cluster: kubesim, or the real one in KCS_TEST_KUBECONFIG (tests/realcluster)."""
    cluster = target_cluster(request.param, run_tasks, org.admin)
    yield cluster
    forget(request.param, cluster)


@pytest.fixture
def any_informer(any_cluster):
    """An informer watching the test's cluster (kubesim or real), stopped afterwards."""
    running = Informer(clusters=lambda: [any_cluster], rescan=0.2).start()
    assert running.synced(WAIT), "the informer did not list every kind in time"
    yield running
    running.stop()


@pytest.fixture
def scratch(any_cluster):
    """A namespace of the test's own on its cluster (a unique name), deleted afterwards."""
    from kubernetes import client as k8s

    name = unique_namespace()
    k8s.CoreV1Api(any_cluster.kube().api_client).create_namespace({"metadata": {"name": name}})
    yield name
    delete_namespace(any_cluster, name)
