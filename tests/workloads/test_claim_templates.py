"""The claims a workload makes are held to what a tenant's claim may be (hole 1): a
StatefulSet's volumeClaimTemplates or a pod's ephemeral volume cannot bind an existing
volume either."""

import pytest
from django.core.exceptions import ValidationError
from kubernetes import client as k8s

from apps.workloads import services

STATEFULSET = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "postgres:17"}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: %s
      resources: {requests: {storage: 1Gi}}
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: scratch}
spec:
  selector: {matchLabels: {app: scratch}}
  template:
    metadata: {labels: {app: scratch}}
    spec:
      containers: [{name: c, image: "nginx:1.27"}]
      volumes:
      - name: tmp
        ephemeral:
          volumeClaimTemplate:
            spec:
              accessModes: [ReadWriteOnce]
              selector: {matchLabels: {owner: admin}}
              resources: {requests: {storage: 1Gi}}
"""


def _none_created(cluster, namespace):
    kube = cluster.kube().api_client
    assert k8s.AppsV1Api(kube).list_namespaced_stateful_set(namespace).items == []
    assert k8s.AppsV1Api(kube).list_namespaced_deployment(namespace).items == []
    assert k8s.CoreV1Api(kube).list_namespaced_persistent_volume_claim(namespace).items == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (STATEFULSET % "''", "an empty one binds existing volumes"),
        (STATEFULSET % "manual", "no storage class manual"),
        (DEPLOYMENT, "select existing volumes"),
    ],
)
def test_a_tenant_workload_cannot_claim_an_existing_volume(org, cluster, shop, text, message):
    with pytest.raises(ValidationError, match=message):
        services.create_from_yaml(org.member, shop, text)
    _none_created(cluster, shop.name)


def test_a_tenant_statefulset_of_a_provisioning_class_is_created(org, cluster, shop):
    workload = services.create_from_yaml(org.member, shop, STATEFULSET % "standard")
    assert workload.kind == "StatefulSet"
