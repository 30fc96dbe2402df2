"""RBAC, authentication and impersonation, as kube-apiserver does them.

Driven through the official client and the real kubectl: what a user of a real cluster
would meet (403 wording, `kubectl auth can-i`, `--as`).
"""

from __future__ import annotations

import json
import subprocess

import kubernetes
import pytest
import yaml
from kubernetes.client import ApiException

from kubesim.apiserver import authn, serviceaccounts

RBAC = "rbac.authorization.k8s.io"


def user(kubesim_server, cluster: dict, name: str, groups=()) -> kubernetes.client.ApiClient:
    status, body = kubesim_server.admin(
        "POST", f"/clusters/{cluster['name']}/users", {"name": name, "groups": list(groups)}
    )
    assert status == 201, body
    return kubernetes.config.new_client_from_config_dict(body["kubeconfig"])


def bind(rbac_api, namespace: str, role: str, username: str, name: str | None = None):
    rbac_api.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": name or f"{username}-{role}"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": RBAC, "kind": "User", "name": username}],
        },
    )


@pytest.fixture
def rbac_api(api):
    return kubernetes.client.RbacAuthorizationV1Api(api)


@pytest.fixture
def shop(core):
    core.create_namespace({"metadata": {"name": "shop"}})
    return "shop"


def forbidden(call, *args, **kwargs) -> dict:
    with pytest.raises(ApiException) as info:
        call(*args, **kwargs)
    assert info.value.status == 403
    return json.loads(info.value.body)


def test_a_new_cluster_has_the_default_roles_with_their_aggregation(rbac_api):
    roles = {r.metadata.name: r for r in rbac_api.list_cluster_role().items}
    assert {"cluster-admin", "admin", "edit", "view"} <= roles.keys()
    assert roles["edit"].metadata.labels[f"{RBAC}/aggregate-to-admin"] == "true"
    assert roles["view"].metadata.labels[f"{RBAC}/aggregate-to-edit"] == "true"
    assert roles["admin"].aggregation_rule.cluster_role_selectors[0].match_labels == {
        f"{RBAC}/aggregate-to-admin": "true"
    }
    # the aggregated rules are shown, as the aggregation controller writes them
    edit = {(tuple(r.api_groups), res) for r in roles["edit"].rules for res in r.resources}
    assert (("apps",), "deployments") in edit and (("",), "pods/exec") in edit
    assert not any("rolebindings" in r.resources for r in roles["edit"].rules)
    assert any("rolebindings" in r.resources for r in roles["admin"].rules)
    masters = rbac_api.read_cluster_role_binding("cluster-admin")
    assert masters.role_ref.name == "cluster-admin"
    assert [(s.kind, s.name) for s in masters.subjects] == [("Group", "system:masters")]


def test_a_user_without_bindings_is_refused_with_the_apiservers_words(
    kubesim_server, kubesim_cluster, shop
):
    alice = kubernetes.client.CoreV1Api(user(kubesim_server, kubesim_cluster, "alice"))
    status = forbidden(alice.list_namespaced_pod, "shop")
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        'pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
        'in the namespace "shop"'
    )
    assert status["details"] == {"kind": "pods"}
    status = forbidden(alice.read_namespaced_config_map, "x", "shop")
    assert status["message"] == (
        'configmaps "x" is forbidden: User "alice" cannot get resource "configmaps" '
        'in API group "" in the namespace "shop"'
    )
    assert status["details"] == {"name": "x", "kind": "configmaps"}
    status = forbidden(alice.list_node)
    assert status["message"].endswith(
        'cannot list resource "nodes" in API group "" at the cluster scope'
    )
    apps = kubernetes.client.AppsV1Api(alice.api_client)
    status = forbidden(apps.list_namespaced_deployment, "shop")
    assert status["message"].startswith('deployments.apps is forbidden: User "alice"')
    assert status["details"] == {"group": "apps", "kind": "deployments"}
    # discovery stays open to every authenticated user (system:discovery)
    assert kubernetes.client.VersionApi(alice.api_client).get_code().git_version == "v1.32.0"


def test_edit_in_one_namespace_is_nothing_in_another(
    kubesim_server, kubesim_cluster, core, rbac_api, shop
):
    core.create_namespace({"metadata": {"name": "lab"}})
    bind(rbac_api, "shop", "edit", "alice")
    alice_client = user(kubesim_server, kubesim_cluster, "alice")
    alice = kubernetes.client.CoreV1Api(alice_client)
    alice.create_namespaced_config_map("shop", {"metadata": {"name": "a"}, "data": {"k": "v"}})
    assert [c.metadata.name for c in alice.list_namespaced_config_map("shop").items] == ["a"]
    alice.delete_namespaced_config_map("a", "shop")
    forbidden(alice.create_namespaced_config_map, "lab", {"metadata": {"name": "a"}})
    forbidden(alice.list_config_map_for_all_namespaces)
    # edit may not grant itself more: RoleBindings are for admin
    alice_rbac = kubernetes.client.RbacAuthorizationV1Api(alice_client)
    status = forbidden(alice_rbac.list_namespaced_role_binding, "shop")
    assert "rolebindings.rbac.authorization.k8s.io is forbidden" in status["message"]
    bind(rbac_api, "shop", "admin", "alice")
    assert alice_rbac.list_namespaced_role_binding("shop").items


def test_groups_roles_and_resource_names(kubesim_server, kubesim_cluster, core, rbac_api, shop):
    rbac_api.create_namespaced_role(
        "shop",
        {
            "metadata": {"name": "one-map"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps"],
                    "resourceNames": ["settings"],
                    "verbs": ["get"],
                }
            ],
        },
    )
    rbac_api.create_namespaced_role_binding(
        "shop",
        {
            "metadata": {"name": "team"},
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "one-map"},
            "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": "team"}],
        },
    )
    core.create_namespaced_config_map("shop", {"metadata": {"name": "settings"}})
    core.create_namespaced_config_map("shop", {"metadata": {"name": "other"}})
    bob = kubernetes.client.CoreV1Api(user(kubesim_server, kubesim_cluster, "bob", ["team"]))
    assert bob.read_namespaced_config_map("settings", "shop").metadata.name == "settings"
    forbidden(bob.read_namespaced_config_map, "other", "shop")
    forbidden(bob.list_namespaced_config_map, "shop")  # resourceNames never allow a list


def test_impersonation_needs_the_impersonate_verb(
    kubesim_server, kubesim_cluster, api, rbac_api, shop
):
    bind(rbac_api, "shop", "view", "alice")
    # the admin (system:masters) may impersonate anyone, and then has only their rights
    api.set_default_header("Impersonate-User", "alice")
    as_alice = kubernetes.client.CoreV1Api(api)
    assert as_alice.list_namespaced_pod("shop").items == []
    status = forbidden(as_alice.create_namespaced_config_map, "shop", {"metadata": {"name": "x"}})
    assert 'User "alice" cannot create resource "configmaps"' in status["message"]
    del api.default_headers["Impersonate-User"]
    # a user without `impersonate` may not
    carol_client = user(kubesim_server, kubesim_cluster, "carol")
    carol_client.set_default_header("Impersonate-User", "alice")
    status = forbidden(kubernetes.client.CoreV1Api(carol_client).list_namespaced_pod, "shop")
    assert status["message"] == (
        'users "alice" is forbidden: User "carol" cannot impersonate resource "users" '
        'in API group "" at the cluster scope'
    )
    # granted on users, carol may
    rbac_api.create_cluster_role(
        {
            "metadata": {"name": "impersonator"},
            "rules": [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}],
        }
    )
    rbac_api.create_cluster_role_binding(
        {
            "metadata": {"name": "carol-impersonates"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "impersonator"},
            "subjects": [{"apiGroup": RBAC, "kind": "User", "name": "carol"}],
        }
    )
    assert kubernetes.client.CoreV1Api(carol_client).list_namespaced_pod("shop").items == []


def test_a_service_account_token_is_the_account(kubesim_server, kubesim_cluster, core, sim, shop):
    core.create_namespaced_service_account("shop", {"metadata": {"name": "ci"}})
    issued = serviceaccounts.token_request(sim, "shop", "ci", {"spec": {"expirationSeconds": 600}})
    token = issued["status"]["token"]
    assert authn.authenticate_token(sim, token).username == "system:serviceaccount:shop:ci"
    config = json.loads(json.dumps(kubesim_cluster["kubeconfig"]))
    config["users"][0]["user"] = {"token": token}
    ci = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config_dict(config))
    status = forbidden(ci.list_namespaced_pod, "shop")
    assert 'User "system:serviceaccount:shop:ci" cannot list' in status["message"]
    kubernetes.client.RbacAuthorizationV1Api(core.api_client).create_namespaced_role_binding(
        "shop",
        {
            "metadata": {"name": "ci"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "shop"}],
        },
    )
    assert ci.list_namespaced_pod("shop").items == []
    # a token outlives neither its account nor a tampered signature
    assert authn.authenticate_token(sim, token[:-2] + "xx") is None
    core.delete_namespaced_service_account("ci", "shop")
    with pytest.raises(ApiException) as info:
        ci.list_namespaced_pod("shop")
    assert info.value.status == 401


def test_subject_access_review_answers_for_another_user(api, rbac_api, shop):
    bind(rbac_api, "shop", "edit", "alice")
    authz = kubernetes.client.AuthorizationV1Api(api)

    def review(user, **attributes):
        return authz.create_subject_access_review(
            {"spec": {"user": user, "resourceAttributes": attributes}}
        ).status

    allowed = review("alice", namespace="shop", verb="create", resource="pods", subresource="exec")
    assert allowed.allowed is True
    assert 'RoleBinding "alice-edit/shop"' in allowed.reason
    assert review("alice", namespace="lab", verb="get", resource="pods").allowed is False
    assert (
        review("alice", namespace="shop", verb="create", resource="roles", group=RBAC).allowed
        is False
    )


@pytest.fixture
def kubectl_as(kubesim_server, kubesim_cluster, tmp_path):
    """kubectl with a kubeconfig of its own user."""

    def make(name: str):
        status, body = kubesim_server.admin(
            "POST", f"/clusters/{kubesim_cluster['name']}/users", {"name": name}
        )
        assert status == 201
        config = tmp_path / f"{name}.kubeconfig"
        config.write_text(yaml.safe_dump(body["kubeconfig"]))

        def run(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                ["kubectl", "--kubeconfig", str(config), *args],
                capture_output=True,
                text=True,
                timeout=60,
                env={"HOME": str(tmp_path / name), "PATH": "/usr/bin:/bin"},
            )

        return run

    return make


def test_kubectl_auth_can_i_answers_truly(kubectl, kubectl_as, rbac_api, shop):
    bind(rbac_api, "shop", "edit", "alice")
    alice = kubectl_as("alice")
    assert alice("auth", "can-i", "create", "deployments", "-n", "shop").stdout == "yes\n"
    assert alice("auth", "can-i", "create", "pods/exec", "-n", "shop").stdout == "yes\n"
    refused = alice("auth", "can-i", "create", "deployments", "-n", "default")
    assert (refused.returncode, refused.stdout) == (1, "no\n")
    assert alice("auth", "can-i", "create", "rolebindings", "-n", "shop").stdout == "no\n"
    assert "alice" in alice("auth", "whoami").stdout
    # the admin asks on someone's behalf, as `kubectl auth can-i --as` does
    assert kubectl("auth", "can-i", "list", "pods", "-n", "shop", "--as", "alice").stdout == (
        "yes\n"
    )
    assert (
        kubectl(
            "auth", "can-i", "list", "pods", "-n", "default", "--as", "alice", check=False
        ).stdout
        == "no\n"
    )
    listed = alice("get", "pods", "-n", "default")
    assert listed.returncode == 1
    assert (
        'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the '
        'namespace "default"' in listed.stderr
    )
    assert alice("get", "pods", "-n", "shop").returncode == 0


def test_the_admin_keeps_every_right(kubectl):
    assert kubectl("auth", "can-i", "*", "*").stdout == "yes\n"
    assert "kubesim-admin" in kubectl("auth", "whoami").stdout
