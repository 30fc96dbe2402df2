"""kube-root-ca.crt: the root CA publisher keeps the cluster's CA in every namespace."""

from __future__ import annotations

import base64

import pytest

from kubesim.runtime.controllers.rootca import DESCRIPTION_TEXT
from tests.kubesim.workload_support import World


@pytest.fixture
def world(kubesim_server, sim):
    return World(kubesim_server, sim)


def test_every_namespace_gets_the_ca_and_keeps_it(world, core, kubesim_cluster):
    ca = base64.b64decode(
        kubesim_cluster["kubeconfig"]["clusters"][0]["cluster"]["certificate-authority-data"]
    ).decode()
    world.advance(1)
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        cm = core.read_namespaced_config_map("kube-root-ca.crt", ns)
        assert cm.data == {"ca.crt": ca}  # the CA kubeconfigs verify the API server with
        assert cm.metadata.annotations == {"kubernetes.io/description": DESCRIPTION_TEXT}
        assert cm.metadata.managed_fields[0].manager == "kube-controller-manager"

    core.create_namespace({"metadata": {"name": "shop"}})
    world.advance(1)
    first = core.read_namespaced_config_map("kube-root-ca.crt", "shop")
    assert first.data == {"ca.crt": ca}

    core.delete_namespaced_config_map("kube-root-ca.crt", "shop")
    world.advance(1)
    again = core.read_namespaced_config_map("kube-root-ca.crt", "shop")
    assert again.metadata.uid != first.metadata.uid and again.data == {"ca.crt": ca}

    core.patch_namespaced_config_map("kube-root-ca.crt", "shop", {"data": {"ca.crt": "mine"}})
    world.advance(1)
    assert core.read_namespaced_config_map("kube-root-ca.crt", "shop").data == {"ca.crt": ca}
