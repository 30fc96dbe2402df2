"""Importing a cluster with a kubeconfig: each problem gets its own message, on its field."""

import base64
import copy
import datetime
import json
import socket

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError

from apps.clusters import services
from apps.clusters.models import Cluster, Node
from apps.core.models import Operation
from kubesim.apiserver import tls
from tests.clusters.helpers import unique_name


@pytest.fixture(scope="module")
def sim_cluster(kubesim):
    """A kubesim cluster to import (admin API answer, with its kubeconfig)."""
    name = unique_name("imp")
    answer = kubesim.create_cluster(name, workers=2)
    yield answer
    kubesim.admin("DELETE", f"/clusters/{name}")


def _import(actor, kubeconfig, context=""):
    text = kubeconfig if isinstance(kubeconfig, str) else yaml.safe_dump(kubeconfig)
    return services.create_cluster(
        actor, name="imported", provider="kubeconfig", kubeconfig=text, context=context
    )


def _refused(actor, kubeconfig, context="") -> dict:
    """The import's errors by field; asserts that nothing was created."""
    with pytest.raises(ValidationError) as info:
        _import(actor, kubeconfig, context)
    assert not Cluster.objects.exists()
    assert not Operation.objects.exists()
    return {field: " ".join(messages) for field, messages in info.value.message_dict.items()}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _expired_certificate() -> tuple[str, str]:
    """A client certificate and key (base64 PEM) whose notAfter is a day ago."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old-admin")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        base64.b64encode(cert.public_bytes(pem)).decode(),
        base64.b64encode(key_pem).decode(),
    )


def _jwt(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_malformed_yaml_says_where(org):
    text = "apiVersion: v1\nclusters:\n- name: a\n  cluster: {server: [\n"
    errors = _refused(org.admin, text)
    assert "cannot be read" in errors["kubeconfig"]
    assert "line 5" in errors["kubeconfig"] and "column" in errors["kubeconfig"]


def test_not_a_kubeconfig_at_all(org):
    errors = _refused(org.admin, "just some text")
    assert "not a kubeconfig" in errors["kubeconfig"]


def test_no_contexts(org, sim_cluster):
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    del config["contexts"], config["current-context"]
    errors = _refused(org.admin, config)
    assert "has no contexts" in errors["kubeconfig"]


def test_no_clusters(org, sim_cluster):
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    config["clusters"] = []
    errors = _refused(org.admin, config)
    assert "has no clusters" in errors["kubeconfig"]


def _two_contexts(config: dict) -> dict:
    """The kubeconfig with a second context ("staging", elsewhere) and none current."""
    config = copy.deepcopy(config)
    config["clusters"].append(
        {"name": "staging", "cluster": {"server": f"https://127.0.0.1:{_closed_port()}"}}
    )
    config["users"].append({"name": "staging-admin", "user": {"token": "x"}})
    config["contexts"].append(
        {"name": "staging", "context": {"cluster": "staging", "user": "staging-admin"}}
    )
    config.pop("current-context")
    return config


def test_several_contexts_and_none_chosen_lists_them(org, sim_cluster):
    config = _two_contexts(sim_cluster["kubeconfig"])
    errors = _refused(org.admin, config)
    assert list(errors) == ["context"]
    assert sim_cluster["name"] in errors["context"] and "staging" in errors["context"]
    # A context that is not in the file is refused the same way.
    errors = _refused(org.admin, config, context="nope")
    assert "staging" in errors["context"]


def test_unreachable(org, sim_cluster):
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    server = f"https://127.0.0.1:{_closed_port()}"
    config["clusters"][0]["cluster"]["server"] = server
    errors = _refused(org.admin, config)
    assert errors["kubeconfig"].startswith(server)
    assert "cannot be reached" in errors["kubeconfig"]


def test_tls_verification_failure(org, sim_cluster):
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    assert config["clusters"][0]["cluster"]["server"].startswith("https://")
    # Without the CA, the system's trust store does not know kubesim's certificate ...
    del config["clusters"][0]["cluster"]["certificate-authority-data"]
    errors = _refused(org.admin, config)
    assert "TLS certificate could not be verified" in errors["kubeconfig"]
    # ... and another CA does not either.
    config["clusters"][0]["cluster"]["certificate-authority-data"] = tls.generate().ca_data
    errors = _refused(org.admin, config)
    assert "TLS certificate could not be verified" in errors["kubeconfig"]


def test_unauthorized(org, sim_cluster):
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    config["users"][0]["user"]["token"] = "not-the-token"
    errors = _refused(org.admin, config)
    assert "refused these credentials (401)" in errors["kubeconfig"]


def test_expired_client_certificate(org, sim_cluster):
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    cert, key = _expired_certificate()
    config["users"][0]["user"] = {"client-certificate-data": cert, "client-key-data": key}
    errors = _refused(org.admin, config)
    yesterday = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    assert "credentials expired on" in errors["kubeconfig"]
    assert yesterday.strftime("%Y-%m-%d") in errors["kubeconfig"]


def test_expired_bearer_token(org, sim_cluster):
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    config["users"][0]["user"]["token"] = _jwt({"sub": "admin", "exp": 946684800})
    errors = _refused(org.admin, config)
    assert "credentials expired on 2000-01-01 00:00 UTC" in errors["kubeconfig"]


def test_import_with_a_chosen_context(org, run_tasks, sim_cluster, kubesim):
    config = _two_contexts(sim_cluster["kubeconfig"])
    cluster, operation = run_tasks(_import, org.admin, config, sim_cluster["name"])
    operation.refresh_from_db()
    cluster.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert cluster.status == "running"
    assert cluster.provider == "kubeconfig"
    assert cluster.kubeconfig_context == sim_cluster["name"]
    assert cluster.api_server == sim_cluster["server"]
    assert sorted(Node.objects.filter(cluster=cluster).values_list("name", flat=True)) == sorted(
        sim_cluster["nodes"]
    )
    assert cluster.nodes_total == cluster.nodes_ready == 3
    assert cluster.version == sim_cluster["version"]
    # The import is only forgotten on delete: the cluster itself keeps running.
    operation = run_tasks(services.delete_cluster, org.admin, cluster)
    cluster.refresh_from_db()
    assert cluster.status == "deleted"
    status, _answer = kubesim.admin("GET", f"/clusters/{sim_cluster['name']}")
    assert status == 200


def test_the_same_cluster_cannot_be_imported_twice(org, run_tasks, sim_cluster):
    """Issue 9 (6): same API server and CA: refused, naming the cluster already there."""
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    first, _operation = run_tasks(_import, org.admin, config)
    first.refresh_from_db()
    assert first.status == "running"

    again = copy.deepcopy(config)
    # Another kubeconfig for it: other names, a trailing slash, a second context.
    again["clusters"][0]["name"] = again["contexts"][0]["context"]["cluster"] = "prod"
    again["clusters"][0]["cluster"]["server"] += "/"
    again = _two_contexts(again)
    with pytest.raises(ValidationError) as info:
        services.create_cluster(
            org.admin,
            name="imported-again",
            provider="kubeconfig",
            kubeconfig=yaml.safe_dump(again),
            context=sim_cluster["name"],
        )
    assert info.value.message_dict == {
        "context": [
            f"This cluster ({sim_cluster['server']}/) is already in the portal as imported."
        ]
    }
    assert list(Cluster.objects.values_list("name", flat=True)) == ["imported"]

    # Once the first is deleted (forgotten), it can be imported again.
    run_tasks(services.delete_cluster, org.admin, first)
    _second, operation = run_tasks(_import, org.admin, config)
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
