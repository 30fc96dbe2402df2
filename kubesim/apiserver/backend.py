"""The runtime the API server hands some requests to, as kube-apiserver hands them on.

kube-apiserver proxies pods/log, exec and attach, and `nodes/{n}/proxy/...`, to the
node's kubelet, and serves metrics.k8s.io through metrics-server; here the simulated
runtime answers them in the same process (eviction too: it counts disruptions in the
budgets the runtime keeps). The API server knows only this shape; `kubesim.server`
puts the runtime's functions in it, so apiserver/ never imports runtime/.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from kubesim.storage.cluster import Cluster


@dataclass(frozen=True)
class RuntimeBackend:
    pod_subresources: tuple[str, ...]  # the pod subresources pod_subresource serves
    # (request, cluster, pod, subresource): pods/log, exec, attach, eviction
    pod_subresource: Callable[[web.Request, Cluster, dict, str], Awaitable[web.StreamResponse]]
    # (request, cluster, version, path after the version): metrics.k8s.io
    metrics: Callable[[web.Request, Cluster, str, list[str]], Awaitable[web.StreamResponse]]
    # (request, cluster, node, path after proxy/): the kubelet's own endpoints
    node_proxy: Callable[[web.Request, Cluster, str, list[str]], Awaitable[web.StreamResponse]]


RUNTIME: web.AppKey[RuntimeBackend] = web.AppKey("runtime")
