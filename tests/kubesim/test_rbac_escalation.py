"""No escalation through RBAC objects, as kube-apiserver's RBAC registry refuses it.

A Role or ClusterRole may only grant what its writer holds (or they may `escalate`); a
RoleBinding or ClusterRoleBinding may only bind a role whose permissions the writer holds
(or they may `bind` that role). The refusal is worded as kube-apiserver words it.
"""

from __future__ import annotations

import kubernetes
import pytest

from tests.kubesim.test_rbac import RBAC, bind, forbidden, kubectl_as, user  # noqa: F401

NODES_ROLE = {
    "metadata": {"name": "nodes-reader"},
    "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}],
}


@pytest.fixture
def rbac_api(api):
    return kubernetes.client.RbacAuthorizationV1Api(api)


@pytest.fixture
def shop(core):
    core.create_namespace({"metadata": {"name": "shop"}})
    return "shop"


@pytest.fixture
def alice(kubesim_server, kubesim_cluster, rbac_api, shop):
    """alice, admin of namespace shop (she may write Roles and RoleBindings there)."""
    bind(rbac_api, "shop", "admin", "alice")
    return kubernetes.client.RbacAuthorizationV1Api(user(kubesim_server, kubesim_cluster, "alice"))


def _cluster_role(rbac_api, name: str, rules: list[dict]) -> None:
    rbac_api.create_cluster_role({"metadata": {"name": name}, "rules": rules})


def _binding(name: str, role: str, username: str = "alice", kind: str = "ClusterRole") -> dict:
    return {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role},
        "subjects": [{"apiGroup": RBAC, "kind": "User", "name": username}],
    }


def test_a_role_may_only_grant_what_its_writer_holds(alice, shop):
    # what admin holds in shop, alice may hand out in a Role of her own
    alice.create_namespaced_role(
        shop,
        {
            "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get"]}],
        },
    )
    status = forbidden(alice.create_namespaced_role, shop, NODES_ROLE)
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        'roles.rbac.authorization.k8s.io "nodes-reader" is forbidden: user "alice" '
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
        'currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}'
    )
    assert status["details"] == {"name": "nodes-reader", "group": RBAC, "kind": "roles"}
    # widening her own Role afterwards is refused the same way
    role = alice.read_namespaced_role("pod-reader", shop)
    role.rules[0].verbs = ["get", "escalate"]
    status = forbidden(alice.replace_namespaced_role, "pod-reader", shop, role)
    assert status["message"].endswith(
        '{APIGroups:[""], Resources:["pods"], Verbs:["escalate"]}\n'
        '{APIGroups:[""], Resources:["pods/log"], Verbs:["escalate"]}'
    )
    patched = {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}
    status = forbidden(alice.patch_namespaced_role, "pod-reader", shop, patched)
    assert "is attempting to grant RBAC permissions not currently held" in status["message"]
    assert alice.read_namespaced_role("pod-reader", shop).rules[0].verbs == ["get"]


def test_the_escalate_verb_lifts_the_check(rbac_api, alice, shop):
    _cluster_role(
        rbac_api,
        "role-escalator",
        [{"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["escalate"]}],
    )
    bind(rbac_api, shop, "role-escalator", "alice")
    created = alice.create_namespaced_role(shop, NODES_ROLE)
    assert created.rules[0].resources == ["nodes"]


def test_a_binding_may_only_bind_what_its_writer_holds(rbac_api, alice, shop):
    alice.create_namespaced_role_binding(shop, _binding("bob-edit", "edit", "bob"))
    status = forbidden(
        alice.create_namespaced_role_binding, shop, _binding("root", "cluster-admin")
    )
    assert status["message"] == (
        'rolebindings.rbac.authorization.k8s.io "root" is forbidden: user "alice" '
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
        'currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n'
        '{NonResourceURLs:["*"], Verbs:["*"]}'
    )
    # a cluster-wide binding needs the rights cluster-wide: shop's admin has none
    _cluster_role(
        rbac_api,
        "crb-writer",
        [{"apiGroups": [RBAC], "resources": ["clusterrolebindings"], "verbs": ["create"]}],
    )
    rbac_api.create_cluster_role_binding(_binding("alice-writes-crbs", "crb-writer"))
    status = forbidden(alice.create_cluster_role_binding, _binding("everywhere", "view"))
    assert status["message"].startswith(
        'clusterrolebindings.rbac.authorization.k8s.io "everywhere" is forbidden: user "alice" '
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
        "currently held:\n"
    )
    # a binding to a role that does not exist is its NotFound
    with pytest.raises(kubernetes.client.ApiException) as missing:
        alice.create_namespaced_role_binding(shop, _binding("ghost", "no-such-role"))
    assert missing.value.status == 404
    assert (
        rbac_api.list_namespaced_role_binding(shop, field_selector="metadata.name=root").items == []
    )


def test_the_bind_verb_on_the_role_lifts_the_check(rbac_api, alice, shop):
    _cluster_role(
        rbac_api,
        "admin-binder",
        [
            {
                "apiGroups": [RBAC],
                "resources": ["clusterroles"],
                "resourceNames": ["cluster-admin"],
                "verbs": ["bind"],
            }
        ],
    )
    bind(rbac_api, shop, "admin-binder", "alice")
    made = alice.create_namespaced_role_binding(shop, _binding("root", "cluster-admin", "bob"))
    assert made.role_ref.name == "cluster-admin"
    # bind names the role: another one is still checked
    _cluster_role(rbac_api, "node-viewer", NODES_ROLE["rules"])
    forbidden(alice.create_namespaced_role_binding, shop, _binding("nodes", "node-viewer", "bob"))


def test_an_aggregated_cluster_role_needs_full_authority(kubesim_server, kubesim_cluster, rbac_api):
    _cluster_role(
        rbac_api,
        "role-writer",
        [{"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["create"]}],
    )
    rbac_api.create_cluster_role_binding(_binding("dana-writes-roles", "role-writer", "dana"))
    dana = kubernetes.client.RbacAuthorizationV1Api(
        user(kubesim_server, kubesim_cluster, "dana", ["ops"])
    )
    aggregated = {
        "metadata": {"name": "gatherer"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"team": "ops"}}]},
    }
    status = forbidden(dana.create_cluster_role, aggregated)
    assert status["message"] == (
        'clusterroles.rbac.authorization.k8s.io "gatherer" is forbidden: '
        "must have cluster-admin privileges to use the aggregationRule"
    )
    status = forbidden(dana.create_cluster_role, NODES_ROLE)
    assert '(groups=["ops" "system:authenticated"])' in status["message"]


def test_kubectl_shows_the_refusal(kubectl, kubectl_as, rbac_api, shop):  # noqa: F811
    bind(rbac_api, shop, "admin", "alice")
    alice = kubectl_as("alice")
    made = alice("create", "role", "pod-reader", "--verb=get", "--resource=pods", "-n", shop)
    assert made.returncode == 0, made.stderr
    refused = alice("create", "role", "node-reader", "--verb=get", "--resource=nodes", "-n", shop)
    assert refused.returncode == 1
    assert refused.stderr == (
        'Error from server (Forbidden): roles.rbac.authorization.k8s.io "node-reader" is '
        'forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC '
        'permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}\n'
    )
    refused = alice(
        "create", "rolebinding", "root", "--clusterrole=cluster-admin", "--user=alice", "-n", shop
    )
    assert refused.returncode == 1
    assert 'rolebindings.rbac.authorization.k8s.io "root" is forbidden' in refused.stderr
