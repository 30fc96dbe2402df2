"""The portal impersonates its users with their groups, so bindings to groups work.

``kcs:tenants`` for every tenant, ``kcs:project:<project>`` (and ``:admin``) for their
projects, ``kcs:department:<department>:admin`` for the departments they administer; the
cluster adds ``system:authenticated``. Each group travels as its own Impersonate-Group
line (a comma-joined value would reach the cluster as one group).
"""

import pytest
from django.core.exceptions import ValidationError
from kubernetes import client as k8s

from apps.configs import services as configs
from apps.kube import identity
from apps.kube import rbac as kube_rbac
from apps.workloads import containers
from apps.workloads import services as workloads
from tests.workloads.test_impersonation import (  # noqa: F401
    DEPLOYMENT,
    _configmaps,
    _running_pod,
    no_portal_checks,
)


def whoami(namespace, user) -> tuple[str, list[str]]:
    """The user and groups the cluster sees when the portal acts as ``user``."""
    with identity.acting_as(user):
        kube = namespace.cluster.kube()
        review = kube.call(
            k8s.AuthenticationV1Api(kube.api_client).create_self_subject_review,
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )
    info = review.status.user_info
    return info.username, info.groups


def test_the_cluster_sees_each_users_groups(org, shop):
    assert whoami(shop, org.member) == (
        "kcs:user:member",
        ["kcs:project:web-shop", "kcs:tenants", "system:authenticated"],
    )
    assert whoami(shop, org.projadmin) == (
        "kcs:user:projadmin",
        [
            "kcs:project:web-shop",
            "kcs:project:web-shop:admin",
            "kcs:tenants",
            "system:authenticated",
        ],
    )
    assert whoami(shop, org.deptadmin)[1] == [
        "kcs:department:engineering:admin",
        "kcs:tenants",
        "system:authenticated",
    ]
    # cloud admins keep the kubeconfig's own identity
    assert whoami(shop, org.admin) == ("kubesim-admin", ["system:masters", "system:authenticated"])


def _bind_group(namespace, name: str, role: str, group: str) -> None:
    body = kube_rbac.manifest(namespace.name, role, [])
    body["metadata"] = {"name": name, "namespace": namespace.name}  # an operator's own
    body["subjects"] = [{"apiGroup": kube_rbac.GROUP, "kind": "Group", "name": group}]
    k8s.RbacAuthorizationV1Api(namespace.cluster.kube().api_client).create_namespaced_role_binding(
        namespace.name, body
    )


def test_a_binding_to_a_project_group_lets_its_members_in(org, shop, lab, no_portal_checks):  # noqa: F811
    with pytest.raises(ValidationError, match='User "kcs:user:member" cannot create'):
        configs.create_configmap(org.member, namespace=lab, name="shared", data={})
    # an operator lets web-shop work in data-lab's namespace, by its group
    _bind_group(lab, "web-shop-helps", "edit", identity.project_group("web-shop"))
    configs.create_configmap(org.member, namespace=lab, name="shared", data={"a": "1"})
    assert "shared" in _configmaps(lab)
    # the outsider (data-lab's member, not web-shop's) gains nothing in shop from it
    with pytest.raises(ValidationError, match='User "kcs:user:outsider" cannot create'):
        configs.create_configmap(org.outsider, namespace=shop, name="nope", data={})


def test_a_binding_to_every_tenant(org, shop, lab, no_portal_checks):  # noqa: F811
    with pytest.raises(ValidationError, match='User "kcs:user:outsider" cannot create'):
        configs.create_configmap(org.outsider, namespace=lab, name="by-outsider", data={})
    _bind_group(lab, "everyone-edits", "edit", identity.TENANTS)
    configs.create_configmap(org.outsider, namespace=lab, name="by-outsider", data={})
    configs.create_configmap(org.member, namespace=lab, name="by-member", data={})
    assert {"by-outsider", "by-member"} <= set(_configmaps(lab))


def test_the_terminal_carries_the_groups_too(org, lab, no_portal_checks):  # noqa: F811
    workloads.create_from_yaml(org.admin, lab, DEPLOYMENT.replace("NAME", "lab-app"))
    pod = _running_pod(lab, "lab-app")
    with pytest.raises(ValidationError, match='cannot create resource "pods/exec"'):
        containers.terminal(org.member, pod)
    _bind_group(lab, "web-shop-helps", "edit", identity.project_group("web-shop"))
    terminal = containers.terminal(org.member, pod)  # the WebSocket handshake names the group
    try:
        assert terminal.shell == "sh"
    finally:
        terminal.close()
