"""Security review: importing a kubeconfig may reach a server (cloud admins only, by design),
but must never run a command or read a file on the portal's own machines."""

import copy
import json

import pytest
import yaml
from django.core.exceptions import PermissionDenied, ValidationError

from apps.clusters import services
from apps.clusters.models import Cluster
from tests.clusters.helpers import unique_name


@pytest.fixture(scope="module")
def sim_cluster(kubesim):
    name = unique_name("sec")
    answer = kubesim.create_cluster(name, workers=1)
    yield answer
    kubesim.admin("DELETE", f"/clusters/{name}")


def _exec_kubeconfig(sim_cluster, marker) -> dict:
    """The cluster's kubeconfig whose user gets its (real) token from a command."""
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    user = config["users"][0]["user"]
    credential = json.dumps(
        {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "kind": "ExecCredential",
            "status": {"token": user.pop("token")},
        }
    )
    user["exec"] = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "sh",
        "args": ["-c", f"touch {marker}; echo '{credential}'"],
    }
    return config


def _import(actor, config):
    return services.create_cluster(
        actor, name="imported", provider="kubeconfig", kubeconfig=yaml.safe_dump(config)
    )


def test_an_exec_credential_plugin_is_refused_and_never_run(org, sim_cluster, tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(ValidationError) as info:
        _import(org.admin, _exec_kubeconfig(sim_cluster, marker))
    assert "kubeconfig" in info.value.message_dict
    assert not marker.exists()
    assert not Cluster.objects.exists()


def test_an_auth_provider_is_refused(org, sim_cluster):
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    config["users"][0]["user"] = {
        "auth-provider": {"name": "gcp", "config": {"cmd-path": "/bin/sh", "cmd-args": "-c id"}}
    }
    with pytest.raises(ValidationError) as info:
        _import(org.admin, config)
    assert "kubeconfig" in info.value.message_dict


@pytest.mark.parametrize(
    "where, key",
    [
        ("users", "tokenFile"),
        ("users", "client-certificate"),
        ("users", "client-key"),
        ("clusters", "certificate-authority"),
    ],
)
def test_a_kubeconfig_naming_local_files_is_refused(org, sim_cluster, tmp_path, where, key):
    # The client would read the file and, for a token, send it to the server named.
    secret = tmp_path / "secret_key"
    secret.write_text("the portal's own secret")
    config = copy.deepcopy(sim_cluster["kubeconfig"])
    config[where][0]["user" if where == "users" else "cluster"][key] = str(secret)
    with pytest.raises(ValidationError) as info:
        _import(org.admin, config)
    assert "kubeconfig" in info.value.message_dict
    assert not Cluster.objects.exists()


@pytest.mark.parametrize("username", ["deptadmin", "projadmin", "member"])
def test_only_cloud_admins_can_import(org, sim_cluster, tmp_path, username):
    marker = tmp_path / "ran"
    with pytest.raises(PermissionDenied):
        _import(org.users[username], _exec_kubeconfig(sim_cluster, marker))
    assert not marker.exists()


def test_an_import_that_reads_nothing_local_still_works(org, sim_cluster):
    cluster, _operation = _import(org.admin, sim_cluster["kubeconfig"])
    assert cluster.provider == "kubeconfig"
