"""The kubesim process put together: the API server, the admin API and the runtime.

This is the one place that knows all the packages: it gives the hub the runtime's
controllers, hands the API server the runtime's endpoints (pod log/exec/attach/eviction,
metrics.k8s.io, the kubelet's metrics), and serves everything on one aiohttp application
over HTTP and HTTPS. `python -m kubesim` and `kubesim.testing` start it from here.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from kubesim.admin import app as admin
from kubesim.apiserver import app as apiserver
from kubesim.apiserver.backend import RUNTIME, RuntimeBackend
from kubesim.apiserver.hub import HUB, ControllerFactory, Hub
from kubesim.runtime import metrics, serving
from kubesim.runtime.controllers import CONTROLLERS


def default_controllers() -> list[ControllerFactory]:
    """`kubesim.runtime.controllers.CONTROLLERS`: the simulation of each cluster."""
    return list(CONTROLLERS)


def runtime_backend() -> RuntimeBackend:
    """What the API server hands to the runtime: pod subresources, metrics, node proxy."""
    return RuntimeBackend(
        pod_subresources=serving.POD_SUBRESOURCES,
        pod_subresource=serving.pod_subresource,
        metrics=serving.metrics,
        node_proxy=metrics.node_proxy,
    )


def make_hub(
    state_path: str | Path | None = None, controllers: list[ControllerFactory] | None = None
) -> Hub:
    """A hub whose clusters run `controllers` (None: the whole simulation; []: none)."""
    return Hub(state_path, default_controllers() if controllers is None else controllers)


def create_app(hub: Hub | None = None) -> web.Application:
    hub = hub or make_hub()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[HUB] = hub
    app[RUNTIME] = runtime_backend()
    admin.add_routes(app)
    apiserver.add_routes(app)
    app.on_startup.append(hub.startup)
    app.on_shutdown.append(hub.shutdown)
    return app


async def start_sites(
    hub: Hub, host: str, port: int, tls_port: int | None, shutdown_timeout: float = 5
) -> tuple[web.AppRunner, int, int | None]:
    """Serve the app over HTTP on `port` and HTTPS on `tls_port` (0 picks free ports).

    Returns the runner and the bound ports; `tls_port=None` serves no HTTPS.
    """
    runner = web.AppRunner(create_app(hub), access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # the real port when 0 was asked
    bound_tls = None
    if tls_port is not None:
        tls_site = web.TCPSite(runner, host, tls_port, ssl_context=hub.server_context())
        await tls_site.start()
        bound_tls = tls_site._server.sockets[0].getsockname()[1]
        hub.tls_port = bound_tls
    return runner, bound, bound_tls
