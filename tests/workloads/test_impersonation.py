"""The cluster's RBAC is a second line behind the portal's own checks.

A tenant's actions reach Kubernetes as ``kcs:user:<username>``; with the portal's
authorization switched off (as a bug in it would), the member of web-shop still cannot
act in data-lab's namespace: kubesim refuses, and the user sees the refusal, audited.
"""

import pytest
from django.core.exceptions import ValidationError
from kubernetes import client as k8s

from apps.configs import services as configs
from apps.core import authz
from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster
from apps.workloads import containers
from apps.workloads import services as workloads
from apps.workloads.models import Pod
from tests.kube.conftest import eventually

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  replicas: 1
  selector: {matchLabels: {app: NAME}}
  template:
    metadata: {labels: {app: NAME}}
    spec:
      containers:
      - {name: main, image: "busybox:1.36"}
"""


@pytest.fixture
def no_portal_checks(monkeypatch):
    """The portal's authorization allows everything: only the cluster's RBAC is left."""
    monkeypatch.setattr(authz, "require", lambda *args, **kwargs: None)
    monkeypatch.setattr(authz, "can", lambda *args, **kwargs: True)
    monkeypatch.setattr(authz, "restrict", lambda queryset, *args, **kwargs: queryset)


def _configmaps(namespace) -> list[str]:
    core = k8s.CoreV1Api(namespace.cluster.kube().api_client)
    return [c.metadata.name for c in core.list_namespaced_config_map(namespace.name).items]


def test_a_member_is_refused_by_the_cluster_outside_their_namespaces(
    org, shop, lab, no_portal_checks
):
    with pytest.raises(ValidationError) as refused:
        configs.create_configmap(org.member, namespace=lab, name="sneaky", data={"a": "1"})
    message = " ".join(refused.value.messages)
    assert message == (
        'configmaps is forbidden: User "kcs:user:member" cannot create resource "configmaps" '
        'in API group "" in the namespace "lab"'
    )
    assert "sneaky" not in _configmaps(lab)
    event = AuditEvent.objects.get(action="configmap.create", result="failure")
    assert (event.actor_name, event.namespace, event.target_name) == ("member", "lab", "sneaky")
    assert 'User "kcs:user:member" cannot create' in event.reason
    # in their own namespace the same call works, as themselves
    configs.create_configmap(org.member, namespace=shop, name="fine", data={"a": "1"})
    assert "fine" in _configmaps(shop)


def test_editing_and_deleting_another_projects_objects_is_refused_too(
    org, shop, lab, no_portal_checks
):
    theirs = configs.create_configmap(org.admin, namespace=lab, name="theirs", data={"a": "1"})
    with pytest.raises(ValidationError, match='cannot delete resource "configmaps"'):
        configs.delete_configmap(org.member, theirs)
    with pytest.raises(ValidationError, match='cannot create resource "deployments"'):
        workloads.create_from_yaml(org.member, lab, DEPLOYMENT.replace("NAME", "web"))
    assert "theirs" in _configmaps(lab)
    assert AuditEvent.objects.filter(action="configmap.delete", result="failure").count() == 1


def test_the_api_shows_the_clusters_refusal_as_a_clear_error(org, api, shop, lab, no_portal_checks):
    response = api("member").post(
        "/api/v1/configmaps/", {"namespace": lab.pk, "name": "sneaky", "data": {}}, format="json"
    )
    assert response.status_code == 400
    assert 'User "kcs:user:member" cannot create resource "configmaps"' in str(response.json())


def test_cloud_admins_keep_the_clusters_admin_identity(org, lab):
    # staff are not impersonated: no binding names them, yet they may act everywhere
    configs.create_configmap(org.admin, namespace=lab, name="by-staff", data={})
    assert "by-staff" in _configmaps(lab)


def _running_pod(namespace, name: str) -> Pod:
    def running():
        sync_cluster(namespace.cluster)
        return Pod.objects.filter(namespace=namespace, workload_name=name, status="Running").first()

    return eventually(running)


def test_the_terminal_execs_as_the_user(org, shop, lab, no_portal_checks):
    workloads.create_from_yaml(org.admin, lab, DEPLOYMENT.replace("NAME", "lab-app"))
    workloads.create_from_yaml(org.member, shop, DEPLOYMENT.replace("NAME", "shop-app"))
    theirs, mine = _running_pod(lab, "lab-app"), _running_pod(shop, "shop-app")
    with pytest.raises(ValidationError) as refused:
        containers.terminal(org.member, theirs)
    assert " ".join(refused.value.messages) == (
        f'pods "{theirs.name}" is forbidden: User "kcs:user:member" cannot create resource '
        '"pods/exec" in API group "" in the namespace "lab"'
    )
    failed = AuditEvent.objects.get(action="pod.terminal", result="failure")
    assert failed.target_name == theirs.name and "pods/exec" in failed.reason
    terminal = containers.terminal(org.member, mine)  # their own pod: a shell opens
    try:
        assert terminal.shell == "sh"
    finally:
        terminal.close()
