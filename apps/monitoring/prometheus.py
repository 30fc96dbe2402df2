"""A Prometheus scrape configuration for one cluster's kubelets, through its API server.

Each node's `/metrics/cadvisor` and `/metrics/resource` are read at
`{server}/api/v1/nodes/{node}/proxy/metrics/...` with the cluster's kubeconfig
credentials (bearer token, CA), and labelled `node` as kube-prometheus labels them, so
the PromQL in ``apps.monitoring.query`` works unchanged on it. The tests run Debian's
Prometheus with this; an operator can start from it (``README`` → Monitoring).
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlsplit

from apps.kube.client import parse_kubeconfig

ENDPOINTS = {"kubelet": "metrics/cadvisor", "kubelet-resource": "metrics/resource"}


def credentials(cluster) -> tuple[str, str, str]:
    """(server URL, bearer token, CA PEM or "") of the cluster's kubeconfig context."""
    data = parse_kubeconfig(cluster.kubeconfig)
    name = cluster.kubeconfig_context or data.get("current-context")
    context = next(c["context"] for c in data["contexts"] if c["name"] == name)
    entry = next(c["cluster"] for c in data["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in data.get("users") or [] if u["name"] == context["user"])
    ca = entry.get("certificate-authority-data")
    return entry["server"], user.get("token", ""), base64.b64decode(ca).decode() if ca else ""


def scrape_config(cluster, nodes: list[str], workdir: Path, interval: str = "15s") -> dict:
    """The `scrape_configs` entries (one job per endpoint) for the cluster's nodes; the CA
    is written into ``workdir``."""
    server, token, ca = credentials(cluster)
    url = urlsplit(server)
    tls: dict = {}
    if ca:
        ca_file = Path(workdir) / f"{cluster.name}-ca.crt"
        ca_file.write_text(ca)
        tls = {"ca_file": str(ca_file)}
    jobs = []
    for job, path in ENDPOINTS.items():
        jobs.append(
            {
                "job_name": job,
                "scheme": url.scheme,
                "scrape_interval": interval,
                "scrape_timeout": interval,
                "authorization": {"type": "Bearer", "credentials": token},
                "tls_config": tls,
                "static_configs": [
                    {
                        "targets": [url.netloc],
                        "labels": {
                            "node": node,
                            "__metrics_path__": f"{url.path.rstrip('/')}/api/v1/nodes/"
                            f"{node}/proxy/{path}",
                        },
                    }
                    for node in nodes
                ],
            }
        )
    return {"scrape_configs": jobs}
