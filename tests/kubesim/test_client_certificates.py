"""Client certificates (x509), as kube-apiserver's x509 authenticator takes them.

A certificate the cluster's CA signed is the user its CN names, in the groups its O values
name (plus system:authenticated); one from another CA authenticates nobody: a 401. Driven
with the official client and kubectl, from kubeconfigs carrying client-certificate-data.
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess

import kubernetes
import pytest
import yaml
from kubernetes.client import ApiException

from kubesim.apiserver import tls
from tests.kubesim.test_rbac import RBAC, forbidden

REVIEW = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def with_certificate(cluster: dict, cert_pem: str, key_pem: str, token: bool = False) -> dict:
    """The cluster's kubeconfig, its user a client certificate (and the admin token)."""
    config = copy.deepcopy(cluster["kubeconfig"])
    user = config["users"][0]["user"]
    config["users"][0]["user"] = {
        "client-certificate-data": _b64(cert_pem),
        "client-key-data": _b64(key_pem),
        **({"token": user["token"]} if token else {}),
    }
    return config


def _whoami(config: dict) -> dict:
    client = kubernetes.config.new_client_from_config_dict(config)
    try:
        review = kubernetes.client.AuthenticationV1Api(client).create_self_subject_review(REVIEW)
        return {
            "username": review.status.user_info.username,
            "groups": review.status.user_info.groups,
        }
    finally:
        client.close()


@pytest.fixture
def sim_cluster(kubesim_server, kubesim_cluster):
    return kubesim_server.hub.clusters[kubesim_cluster["name"]]


def test_a_certificate_the_cluster_signed_is_its_cn_in_its_o_groups(
    sim_cluster, kubesim_cluster, api, core
):
    cert, key = tls.client_certificate(sim_cluster, "alice", ["devs", "ops"])
    config = with_certificate(kubesim_cluster, cert, key)
    assert _whoami(config) == {
        "username": "alice",
        "groups": ["devs", "ops", "system:authenticated"],
    }
    client = kubernetes.config.new_client_from_config_dict(config)
    alice = kubernetes.client.CoreV1Api(client)
    status = forbidden(alice.list_namespaced_pod, "default")  # RBAC decides, as for a token
    assert status["message"].startswith('pods is forbidden: User "alice" cannot list')
    kubernetes.client.RbacAuthorizationV1Api(api).create_namespaced_role_binding(
        "default",
        {
            "metadata": {"name": "devs-view"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": "devs"}],
        },
    )
    assert alice.list_namespaced_pod("default").items == []
    client.close()


def test_a_certificate_from_another_ca_is_a_401(kubesim_cluster):
    other_ca, other_key = tls.new_ca("someone-else")
    cert, key = tls.sign_client_certificate(other_ca, other_key, "alice", ["system:masters"])
    with pytest.raises(ApiException) as refused:
        _whoami(with_certificate(kubesim_cluster, cert, key))
    assert refused.value.status == 401
    assert json.loads(refused.value.body)["message"] == "Unauthorized"
    # with a token beside it, the token decides (the authenticators are a union)
    assert _whoami(with_certificate(kubesim_cluster, cert, key, token=True))["username"] == (
        "kubesim-admin"
    )


def test_kubectl_authenticates_with_a_client_certificate(sim_cluster, kubesim_cluster, tmp_path):
    cert, key = tls.client_certificate(sim_cluster, "bob", ["system:masters"])
    config = tmp_path / "bob.kubeconfig"
    config.write_text(yaml.safe_dump(with_certificate(kubesim_cluster, cert, key)))

    def kubectl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["kubectl", "--kubeconfig", str(config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )

    whoami = kubectl("auth", "whoami", "-o", "json")
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["status"]["userInfo"] == {
        "username": "bob",
        "groups": ["system:masters", "system:authenticated"],
    }
    assert kubectl("auth", "can-i", "*", "*").stdout == "yes\n"


def test_a_valid_certificate_goes_before_a_token(sim_cluster, kubesim_cluster):
    cert, key = tls.client_certificate(sim_cluster, "alice")
    assert _whoami(with_certificate(kubesim_cluster, cert, key, token=True))["username"] == "alice"


def test_a_certificate_one_cluster_signed_is_a_401_on_another(sim_cluster, kubesim_server):
    from tests.kubesim.conftest import unique_cluster_name

    other = kubesim_server.create_cluster(unique_cluster_name(), workers=1)
    try:
        cert, key = tls.client_certificate(sim_cluster, "alice", ["system:masters"])
        with pytest.raises(ApiException) as refused:
            _whoami(with_certificate(other, cert, key))
        assert refused.value.status == 401
    finally:
        kubesim_server.admin("DELETE", f"/clusters/{other['name']}")


def test_the_admin_api_hands_out_certificate_kubeconfigs(kubesim_server, kubesim_cluster):
    name = kubesim_cluster["name"]
    status, answer = kubesim_server.admin(
        "POST",
        f"/clusters/{name}/users",
        {"name": "carol", "groups": ["devs"], "credential": "certificate"},
    )
    assert status == 201, answer
    assert "token" not in answer and answer["certificate"].startswith("-----BEGIN CERTIFICATE")
    user = answer["kubeconfig"]["users"][0]["user"]
    assert set(user) == {"client-certificate-data", "client-key-data"}
    assert _whoami(answer["kubeconfig"]) == {
        "username": "carol",
        "groups": ["devs", "system:authenticated"],
    }
    status, answer = kubesim_server.admin(
        "POST", f"/clusters/{name}/users", {"name": "dave", "credential": "password"}
    )
    assert status == 422
    assert 'Unsupported value: use "token" or "certificate"' in answer["message"]


def test_client_certificates_outlive_a_restart(tmp_path):
    from kubesim.apiserver.hub import Hub

    state = tmp_path / "state.json"
    hub = Hub(state)
    cluster = hub.create_cluster("dev")
    cert, _key = tls.client_certificate(cluster, "alice")
    hub.save_now()
    again = Hub(state).clusters["dev"]
    der = tls.x509.load_pem_x509_certificate(cert.encode()).public_bytes(
        tls.serialization.Encoding.DER
    )
    assert tls.verified_client(der, tls.client_ca_pem(again)) == ("alice", ())
