"""Impersonate-Group: repeatable, each line one group, each allowed by `impersonate` on
`groups` (as kube-apiserver's impersonation filter checks them)."""

from __future__ import annotations

import json

import kubernetes
import pytest
import urllib3

from tests.kubesim.test_rbac import RBAC, forbidden, user


@pytest.fixture
def rbac_api(api):
    return kubernetes.client.RbacAuthorizationV1Api(api)


REVIEW = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


def _whoami(
    client: kubernetes.client.ApiClient, headers: urllib3.HTTPHeaderDict
) -> tuple[int, dict]:
    """POST a SelfSubjectReview with these header lines (urllib3 sends each as its own)."""
    config = client.configuration
    headers["Authorization"] = config.auth_settings()["BearerToken"]["value"]
    headers["Content-Type"] = "application/json"
    pool = urllib3.PoolManager(ca_certs=config.ssl_ca_cert)
    answer = pool.request(
        "POST",
        f"{config.host}/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body=json.dumps(REVIEW).encode(),
        headers=headers,
    )
    return answer.status, json.loads(answer.data)


def _impersonating(*groups: str) -> urllib3.HTTPHeaderDict:
    headers = urllib3.HTTPHeaderDict({"Impersonate-User": "alice"})
    for group in groups:
        headers.add("Impersonate-Group", group)
    return headers


def test_each_impersonate_group_line_is_one_group(api):
    code, review = _whoami(api, _impersonating("kcs:tenants", "kcs:project:web-shop"))
    assert code == 201
    assert review["status"]["userInfo"] == {
        "username": "alice",
        "groups": ["kcs:tenants", "kcs:project:web-shop", "system:authenticated"],
    }
    # one line with a comma is one group, as the apiserver reads it
    code, review = _whoami(api, _impersonating("a,b"))
    assert review["status"]["userInfo"]["groups"] == ["a,b", "system:authenticated"]


def test_groups_need_impersonate_on_groups(kubesim_server, kubesim_cluster, rbac_api):
    carol = user(kubesim_server, kubesim_cluster, "carol")
    rbac_api.create_cluster_role(
        {
            "metadata": {"name": "user-impersonator"},
            "rules": [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}],
        }
    )
    rbac_api.create_cluster_role_binding(
        {
            "metadata": {"name": "carol-impersonates-users"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "user-impersonator"},
            "subjects": [{"apiGroup": RBAC, "kind": "User", "name": "carol"}],
        }
    )
    assert _whoami(carol, _impersonating())[0] == 201
    code, refused = _whoami(carol, _impersonating("kcs:tenants"))
    assert code == 403
    assert refused["message"] == (
        'groups "kcs:tenants" is forbidden: User "carol" cannot impersonate resource "groups" '
        'in API group "" at the cluster scope'
    )
    rbac_api.create_cluster_role(
        {
            "metadata": {"name": "tenant-impersonator"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["groups"],
                    "resourceNames": ["kcs:tenants"],
                    "verbs": ["impersonate"],
                }
            ],
        }
    )
    rbac_api.create_cluster_role_binding(
        {
            "metadata": {"name": "carol-impersonates-tenants"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "tenant-impersonator"},
            "subjects": [{"apiGroup": RBAC, "kind": "User", "name": "carol"}],
        }
    )
    code, allowed = _whoami(carol, _impersonating("kcs:tenants"))
    assert allowed["status"]["userInfo"]["groups"] == ["kcs:tenants", "system:authenticated"]
    # each group is checked: one she may not assert is refused
    assert _whoami(carol, _impersonating("kcs:tenants", "ops"))[0] == 403


def test_a_binding_to_an_impersonated_group_applies(api, rbac_api, core):
    core.create_namespace({"metadata": {"name": "shop"}})
    rbac_api.create_namespaced_role_binding(
        "shop",
        {
            "metadata": {"name": "tenants-view"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": "kcs:tenants"}],
        },
    )
    api.set_default_header("Impersonate-User", "alice")
    alice = kubernetes.client.CoreV1Api(api)
    forbidden(alice.list_namespaced_pod, "shop")  # alice alone
    api.set_default_header("Impersonate-Group", "kcs:tenants")
    assert alice.list_namespaced_pod("shop").items == []


def test_kubectl_as_group(kubectl):
    whoami = kubectl(
        "auth", "whoami", "-o", "json", "--as", "alice", "--as-group", "devs", "--as-group", "ops"
    )
    assert json.loads(whoami.stdout)["status"]["userInfo"]["groups"] == [
        "devs",
        "ops",
        "system:authenticated",
    ]
