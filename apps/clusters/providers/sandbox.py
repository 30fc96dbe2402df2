"""Clusters in kubesim, the sandbox Kubernetes (the demo and test default)."""

import json

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .base import Capabilities, ClusterSpec, Provider, ProviderError, Provisioned

TIMEOUT = (5, 60)


class SandboxProvider(Provider):
    name = "sandbox"
    label = _("Sandbox (kubesim)")
    capabilities = Capabilities(create=True, scale_out=True, remove_node=True, delete=True)
    versions = ("1.32.0", "1.31.4", "1.30.8")

    def _url(self, path: str) -> str:
        return f"{settings.KUBESIM_URL.rstrip('/')}/kubesim/v1/{path}"

    def _request(self, method: str, path: str, **kwargs):
        try:
            response = requests.request(method, self._url(path), timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise ProviderError(
                f"kubesim at {settings.KUBESIM_URL} cannot be reached: {exc.__class__.__name__}",
                transient=True,
            ) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderError(f"kubesim answered {response.status_code}", transient=True)
        return response

    def create(self, spec: ClusterSpec, log) -> Provisioned:
        found = self._request("GET", f"clusters/{spec.name}")
        if found.status_code == 200:
            log(_("sandbox cluster %(name)s already exists; reusing it"), name=spec.name)
            data = found.json()
        else:
            body = {
                "name": spec.name,
                "masters": spec.control_plane_nodes,
                "workers": spec.workers,
                "zones": spec.zones,
                "arch": spec.arch,
            }
            if spec.version:
                body["version"] = spec.version
            response = self._request("POST", "clusters", json=body)
            if response.status_code != 201:
                raise ProviderError(_message(response))
            data = response.json()
            log(_("sandbox cluster %(name)s created"), name=spec.name)
        kubeconfig = data["kubeconfig"]
        return Provisioned(
            kubeconfig=json.dumps(kubeconfig),
            api_server=kubeconfig["clusters"][0]["cluster"]["server"],
        )

    def scale_out(self, cluster, *, count: int, zone: str, arch: str) -> list[str]:
        body = {"count": count, "role": "worker", "arch": arch or "amd64"}
        if zone:
            body["zone"] = zone
        elif cluster.zones:
            # No zone: spread over the cluster's zones as at creation, the least used first.
            body["zones"] = self._zones_by_use(cluster)
        response = self._request("POST", f"clusters/{cluster.name}/nodes", json=body)
        if response.status_code != 201:
            raise ProviderError(_message(response))
        return response.json()["nodes"]

    @staticmethod
    def _zones_by_use(cluster) -> list[str]:
        from apps.kube import nodes

        zones = list(cluster.zones)
        used = [
            ((node.get("metadata") or {}).get("labels") or {}).get(nodes.ZONE_LABEL)
            for node in nodes.workers(nodes.list_(cluster.kube()))
        ]
        return sorted(zones, key=lambda zone: (used.count(zone), zones.index(zone)))

    def remove_node(self, cluster, node_name: str) -> None:
        response = self._request("DELETE", f"clusters/{cluster.name}/nodes/{node_name}")
        if response.status_code not in (200, 404):
            raise ProviderError(_message(response))

    def delete(self, cluster, log) -> None:
        response = self._request("DELETE", f"clusters/{cluster.name}")
        if response.status_code not in (200, 404):
            raise ProviderError(_message(response))
        log(_("sandbox cluster %(name)s deleted"), name=cluster.name)


def _message(response) -> str:
    try:
        return response.json().get("message") or response.text
    except ValueError:
        return f"kubesim answered {response.status_code}: {response.text[:200]}"
