"""The admin API under /kubesim/v1/: create and delete clusters, nodes, and faults.

It has no authentication: kubesim is a sandbox meant to listen on localhost. Errors are
Kubernetes-style Status objects, like the rest of the server.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from kubesim.admin import kubeconfig, probes, runtime
from kubesim.admin.common import PREFIX, cluster_of, guard
from kubesim.admin.common import body as read_body
from kubesim.apiserver import authn, tls
from kubesim.apiserver.hub import HUB, Hub
from kubesim.apiserver.responses import json_response
from kubesim.storage import errors
from kubesim.storage.cluster import Cluster, Faults

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CLUSTER_FIELDS = {"name", "version", "masters", "workers", "zones", "arch"}


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{PREFIX}/clusters", guard(list_clusters))
    r.add_post(f"{PREFIX}/clusters", guard(create_cluster))
    r.add_get(f"{PREFIX}/clusters/{{name}}", guard(get_cluster))
    r.add_delete(f"{PREFIX}/clusters/{{name}}", guard(delete_cluster))
    r.add_post(f"{PREFIX}/clusters/{{name}}/nodes", guard(add_nodes))
    r.add_delete(f"{PREFIX}/clusters/{{name}}/nodes/{{node}}", guard(delete_node))
    r.add_post(f"{PREFIX}/clusters/{{name}}/users", guard(add_user))
    r.add_get(f"{PREFIX}/clusters/{{name}}/faults", guard(get_faults))
    r.add_put(f"{PREFIX}/clusters/{{name}}/faults", guard(put_faults))
    runtime.add_routes(app)  # clock, node readiness, load factors
    probes.add_routes(app)  # how containers answer their probes


def server_url(request: web.Request, cluster: str) -> str:
    """The cluster's API URL; https (what kubectl needs to send a token) when available."""
    hub: Hub = request.app[HUB]
    if hub.tls_port:
        host = request.url.host or "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"https://{host}:{hub.tls_port}/clusters/{cluster}"
    return f"{request.scheme}://{request.host}/clusters/{cluster}"


def _summary(request: web.Request, cluster: Cluster, with_kubeconfig: bool = False) -> dict:
    out: dict[str, Any] = {
        "name": cluster.name,
        "version": cluster.version,
        "server": server_url(request, cluster.name),
        "created": cluster.created,
        "nodes": [n["metadata"]["name"] for n in cluster.store.list(("", "nodes"))],
        "objects": cluster.store.count(),
        "faults": cluster.faults.to_dict(),
        **{k: v for k, v in cluster.spec.items() if k in _CLUSTER_FIELDS},
    }
    if with_kubeconfig:
        hub: Hub = request.app[HUB]
        url = server_url(request, cluster.name)
        ca = hub.tls.ca_data if url.startswith("https:") else None
        out["kubeconfig"] = kubeconfig.build(cluster.name, url, cluster.token, ca)
    return out


def _invalid(kind: str, name: str, field: str, message: str) -> errors.ApiError:
    return errors.invalid(
        kind, "kubesim", name, [{"reason": "FieldValueInvalid", "message": message, "field": field}]
    )


def _count(body: dict, field: str, name: str, default: int, kind: str = "Cluster") -> int:
    value = body.get(field, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 1000:
        raise _invalid(kind, name, field, f"Invalid value: {value!r}: must be an integer 0-1000")
    return value


async def list_clusters(request: web.Request) -> web.Response:
    hub: Hub = request.app[HUB]
    items = [_summary(request, c) for c in hub.clusters.values()]
    return json_response({"items": items})


async def create_cluster(request: web.Request) -> web.Response:
    hub: Hub = request.app[HUB]
    body = await read_body(request)
    unknown = set(body) - _CLUSTER_FIELDS
    if unknown:
        raise errors.bad_request(f"unknown fields: {', '.join(sorted(unknown))}")
    name = body.get("name")
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 63:
        raise _invalid(
            "Cluster",
            str(name or ""),
            "name",
            f"Invalid value: {name!r}: a lowercase RFC 1123 label must consist of lower case "
            "alphanumeric characters or '-', and must start and end with an alphanumeric "
            "character",
        )
    if name in hub.clusters:
        raise errors.already_exists("clusters", "kubesim", name)
    version = body.get("version")
    if version is not None and not re.match(r"^v?1\.\d+(\.\d+)?$", str(version)):
        raise _invalid("Cluster", name, "version", f"Invalid value: {version!r}: expected 1.N[.P]")
    zones = body.get("zones") or []
    if isinstance(zones, str):
        zones = [zones]
    if not isinstance(zones, list) or not all(isinstance(z, str) for z in zones):
        raise _invalid("Cluster", name, "zones", "Invalid value: must be a list of zone names")
    masters = _count(body, "masters", name, 1)
    workers = _count(body, "workers", name, 0)
    arch = body.get("arch") or "amd64"
    spec = {"masters": masters, "workers": workers, "zones": zones, "arch": arch}
    cluster = hub.create_cluster(name, str(version) if version else None, **spec)
    return json_response(_summary(request, cluster, with_kubeconfig=True), 201)


async def get_cluster(request: web.Request) -> web.Response:
    return json_response(_summary(request, cluster_of(request), with_kubeconfig=True))


async def delete_cluster(request: web.Request) -> web.Response:
    cluster = cluster_of(request)
    request.app[HUB].delete_cluster(cluster.name)
    return json_response({"name": cluster.name, "status": "deleted"})


async def add_nodes(request: web.Request) -> web.Response:
    cluster = cluster_of(request)
    body = await read_body(request)
    count = _count(body, "count", cluster.name, 1, "Node")
    role = body.get("role") or "worker"
    if role not in ("worker", "master", "control-plane"):
        raise _invalid("Node", cluster.name, "role", f'Unsupported value: "{role}"')
    nodes = cluster.add_nodes(count, role, body.get("zone") or body.get("zones"), body.get("arch"))
    return json_response({"nodes": [n["metadata"]["name"] for n in nodes], "items": nodes}, 201)


async def delete_node(request: web.Request) -> web.Response:
    cluster = cluster_of(request)
    node = request.match_info["node"]
    cluster.delete("v1", "Node", node)
    return json_response({"name": node, "status": "deleted"})


async def add_user(request: web.Request) -> web.Response:
    """A credential (and kubeconfig) for a user the cluster's RBAC decides about: a bearer
    token (a real server's static token file), or with `"credential": "certificate"` a
    client certificate the cluster's client CA signed (CN the name, O the groups)."""
    cluster = cluster_of(request)
    body = await read_body(request)
    unknown = set(body) - {"name", "groups", "credential"}
    if unknown:
        raise errors.bad_request(f"unknown fields: {', '.join(sorted(unknown))}")
    name = body.get("name")
    groups = body.get("groups") or []
    credential = body.get("credential") or "token"
    if not isinstance(name, str) or not name.strip():
        raise _invalid("User", str(name or ""), "name", "Required value: a user name")
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise _invalid("User", name, "groups", "Invalid value: must be a list of group names")
    if credential not in ("token", "certificate"):
        raise _invalid(
            "User", name, "credential", 'Unsupported value: use "token" or "certificate"'
        )
    url = server_url(request, cluster.name)
    ca = request.app[HUB].tls.ca_data if url.startswith("https:") else None
    user = authn.with_authenticated(authn.UserInfo(name, tuple(groups)))
    if credential == "certificate":
        if not url.startswith("https:"):
            raise errors.bad_request("client certificates need kubesim's TLS listener")
        cert, key = tls.client_certificate(cluster, name, groups)
        request.app[HUB].save_soon()  # a first certificate made the cluster's client CA
        config = kubeconfig.build(cluster.name, url, None, ca, user=name, certificate=(cert, key))
        return json_response({**user.to_dict(), "certificate": cert, "kubeconfig": config}, 201)
    token = authn.add_user(cluster, name, groups)
    request.app[HUB].save_soon()
    config = kubeconfig.build(cluster.name, url, token, ca, user=name)
    return json_response({**user.to_dict(), "token": token, "kubeconfig": config}, 201)


async def get_faults(request: web.Request) -> web.Response:
    return json_response(cluster_of(request).faults.to_dict())


async def put_faults(request: web.Request) -> web.Response:
    cluster = cluster_of(request)
    body = await read_body(request)
    known = set(Faults().to_dict())
    unknown = set(body) - known
    if unknown:
        raise errors.bad_request(f"unknown fault fields: {', '.join(sorted(unknown))}")
    faults = Faults(**{**Faults().to_dict(), **body})
    if not 0 <= float(faults.error_rate) <= 1:
        raise _invalid("Faults", cluster.name, "error_rate", "Invalid value: must be 0..1")
    if faults.error_code not in (429, 500, 503):
        raise _invalid(
            "Faults", cluster.name, "error_code", "Unsupported value: use 429, 500 or 503"
        )
    cluster.faults = faults
    if faults.seed is not None:
        cluster.rng.seed(faults.seed)
    if faults.expire_watches:
        # end every open watch with 410 and forget history, so resumes must relist
        cluster.store.compact()
        for expire in list(cluster.watch_expirers):
            expire()
    return json_response(faults.to_dict())
