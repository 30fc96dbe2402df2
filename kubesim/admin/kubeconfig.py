"""Kubeconfigs for virtual clusters, as the JSON object kubectl and the client accept."""

from __future__ import annotations

import base64


def build(
    cluster: str,
    server: str,
    token: str | None,
    ca_data: str | None = None,
    namespace: str = "default",
    user: str = "admin",
    certificate: tuple[str, str] | None = None,
) -> dict:
    """A kubeconfig with one cluster, one user and one current context.

    The user authenticates with the bearer `token` or, when given, the client
    `certificate` (PEM certificate, PEM key). `ca_data` is the base64 PEM CA that signed
    an https server's certificate; `user` names the kubeconfig's user entry
    (`<cluster>-<user>`).
    """
    user = f"{cluster}-{user}"
    cluster_entry: dict = {"server": server}
    if ca_data:
        cluster_entry["certificate-authority-data"] = ca_data
    if certificate is not None:
        cert_pem, key_pem = certificate
        credential = {
            "client-certificate-data": base64.b64encode(cert_pem.encode()).decode(),
            "client-key-data": base64.b64encode(key_pem.encode()).decode(),
        }
    else:
        credential = {"token": token}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": cluster_entry}],
        "users": [{"name": user, "user": credential}],
        "contexts": [
            {
                "name": cluster,
                "context": {"cluster": cluster, "user": user, "namespace": namespace},
            }
        ],
        "current-context": cluster,
        "preferences": {},
    }
