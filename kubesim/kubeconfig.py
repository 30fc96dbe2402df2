"""Kubeconfigs for virtual clusters, as the JSON object kubectl and the client accept."""

from __future__ import annotations


def build(
    cluster: str, server: str, token: str, ca_data: str | None = None, namespace: str = "default"
) -> dict:
    """A kubeconfig with one cluster, one bearer-token user and one current context.

    `ca_data` is the base64 PEM CA that signed an https server's certificate.
    """
    user = f"{cluster}-admin"
    cluster_entry: dict = {"server": server}
    if ca_data:
        cluster_entry["certificate-authority-data"] = ca_data
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": cluster_entry}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [
            {
                "name": cluster,
                "context": {"cluster": cluster, "user": user, "namespace": namespace},
            }
        ],
        "current-context": cluster,
        "preferences": {},
    }
