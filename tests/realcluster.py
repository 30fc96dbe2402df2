"""Tests that must mean the same on a real cluster run twice: on kubesim, and on the cluster
whose kubeconfig `KCS_TEST_KUBECONFIG` names (its context: `KCS_TEST_CONTEXT`, else the
current one).

A fixture parametrized with TARGETS gives each test a `kubesim` variant, always run, and
a `realcluster` variant carrying the `realcluster` marker, skipped with the reason
"KCS_TEST_KUBECONFIG not set: no real cluster to run on" when there is none:

    KCS_TEST_KUBECONFIG=~/.kube/config make test PYTEST_ARGS="-m realcluster"

On the real cluster the portal imports the kubeconfig (provider `kubeconfig`), and each
test works in a namespace of its own with a unique name, deleted afterwards; nothing
else of the cluster is changed. The kubeconfig's identity needs to create and delete
namespaces and the workloads in them.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from apps.clusters import services as cluster_services
from apps.clusters.models import Cluster
from tests.clusters.helpers import running_cluster, unique_name

KUBECONFIG_ENV = "KCS_TEST_KUBECONFIG"
CONTEXT_ENV = "KCS_TEST_CONTEXT"
NOT_SET = f"{KUBECONFIG_ENV} not set: no real cluster to run on"
TARGETS = ["kubesim", pytest.param("realcluster", marks=pytest.mark.realcluster)]


def unique_namespace(prefix: str = "kcs-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def target_cluster(target: str, run_tasks, actor) -> Cluster:
    """A running portal Cluster on kubesim, or the imported real cluster."""
    if target == "kubesim":
        return running_cluster(run_tasks, actor, workers=2)
    path = os.environ.get(KUBECONFIG_ENV)
    if not path:
        pytest.skip(NOT_SET)
    cluster, operation = run_tasks(
        cluster_services.create_cluster,
        actor,
        name=unique_name("real"),
        provider="kubeconfig",
        kubeconfig=Path(path).expanduser().read_text(),
        context=os.environ.get(CONTEXT_ENV, ""),
    )
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert cluster.status == "running", cluster.status_message
    return cluster


def forget(target: str, cluster: Cluster) -> None:
    """After the test: kubesim's twin is deleted; a real cluster is left as it was."""
    if target == "kubesim":
        cluster_services.providers.get("sandbox").delete(cluster, lambda *line, **params: None)


def delete_namespace(cluster: Cluster, name: str) -> None:
    with contextlib.suppress(ApiException):
        k8s.CoreV1Api(cluster.kube().api_client).delete_namespace(name)
