"""Fixtures for networking: a cluster with a namespace per project, and the nginx Deployment."""

import pytest

from apps.kube.sync import sync_cluster
from apps.workloads import services as workload_services
from apps.workloads.models import Workload
from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.configs.conftest import lab, shop  # noqa: F401
from tests.kube.conftest import eventually
from tests.namespaces.conftest import cluster  # noqa: F401
from tests.portal.conftest import _fast_password_hashing, api, org, portal  # noqa: F401

NGINX = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, labels: {app: nginx}}
spec:
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{name: http, containerPort: 80}]
"""


def advance(kubesim, cluster, seconds: float) -> None:  # noqa: F811
    """Move the cluster's simulated clock on (health-check thresholds, readiness)."""
    status, body = kubesim.admin("POST", f"/clusters/{cluster.name}/clock", {"advance": seconds})
    assert status == 200, body


@pytest.fixture
def nginx(org, shop):  # noqa: F811
    """The nginx Deployment in shop, with its two pods running and mirrored."""
    workload = workload_services.create_from_yaml(org.member, shop, NGINX)

    def running():
        sync_cluster(shop.cluster)
        row = Workload.objects.get(pk=workload.pk)
        return row.ready == 2 and row

    return eventually(running)
