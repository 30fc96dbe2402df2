"""The kubesim process: a hub of virtual clusters behind one aiohttp application.

Routes:
- `/kubesim/v1/...`      the admin API (see kubesim/README.md), handled in `admin.py`;
- `/clusters/{name}/...` one cluster's Kubernetes API, handled in `handlers.py`;
- `/healthz`             liveness of the process itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import importlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from kubesim import errors, handlers, state, tls
from kubesim.cluster import Cluster
from kubesim.tls import TlsMaterial

log = logging.getLogger("kubesim")
HUB: web.AppKey[Hub] = web.AppKey("hub")

SAVE_DELAY = 0.5  # seconds of quiet before the state file is rewritten

# A controller factory is called once per cluster, on the server's event loop, and
# returns the coroutine to run for that cluster's lifetime (or None).
ControllerFactory = Callable[[Cluster], Awaitable[None] | None]


def default_controllers() -> list[ControllerFactory]:
    """`kubesim.controllers.CONTROLLERS` once part 2 provides it, else none."""
    try:
        module = importlib.import_module("kubesim.controllers")
    except ModuleNotFoundError as exc:
        if exc.name != "kubesim.controllers":
            raise
        return []
    return list(getattr(module, "CONTROLLERS", []))


class Hub:
    """All virtual clusters of one process, their controllers and their persistence."""

    def __init__(
        self,
        state_path: str | Path | None = None,
        controllers: list[ControllerFactory] | None = None,
    ) -> None:
        self.clusters: dict[str, Cluster] = {}
        self.state_path = Path(state_path) if state_path else None
        self.controller_factories = (
            default_controllers() if controllers is None else list(controllers)
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        self._save_handle: asyncio.TimerHandle | None = None
        self._saving: asyncio.Future | None = None
        self.tls_port: int | None = None  # set once the TLS listener is up
        saved_tls = None
        if self.state_path is not None:
            saved = state.read(self.state_path)  # raises StateError if corrupt
            saved_tls = saved["tls"]
            for cluster in saved["clusters"]:
                self._restore(cluster)
        self.tls = TlsMaterial.from_dict(saved_tls) if saved_tls else tls.generate()

    # -- clusters ---------------------------------------------------------------------------

    def create_cluster(self, name: str, version: str | None = None, **spec) -> Cluster:
        cluster = Cluster(name=name, **({"version": version} if version else {}), spec=spec)
        cluster.bootstrap()
        self._attach(cluster)
        self.save_soon()
        return cluster

    def delete_cluster(self, name: str) -> None:
        cluster = self.clusters.pop(name)
        for task in cluster.controller_tasks:
            task.cancel()
        for expire in list(cluster.watch_expirers):
            expire()
        self.save_soon()

    def _attach(self, cluster: Cluster) -> None:
        self.clusters[cluster.name] = cluster
        cluster.on_change(lambda _event: self._changed())
        if self.loop is not None:
            self._start_controllers(cluster)

    def _restore(self, saved: dict) -> None:
        cluster = Cluster(
            name=saved["name"],
            version=saved.get("version") or "1.32.0",
            token=saved["token"],
            spec=saved.get("spec") or {},
            created=saved.get("created") or "",
        )
        try:
            cluster.store.restore(saved["store"])
            cluster.restore_crds()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise state.StateError(
                f"state file {self.state_path} is corrupt: cluster {saved['name']!r}: {exc!r}"
            ) from exc
        self._attach(cluster)

    def _start_controllers(self, cluster: Cluster) -> None:
        assert self.loop is not None
        for factory in self.controller_factories:
            coro = factory(cluster)
            if coro is not None:
                cluster.controller_tasks.append(self.loop.create_task(coro))

    # -- persistence ------------------------------------------------------------------------

    def _changed(self) -> None:
        if self.state_path is None or self.loop is None:
            return
        self.loop.call_soon_threadsafe(self.save_soon)

    def save_soon(self) -> None:
        """Debounce: a burst of writes becomes one file write SAVE_DELAY later."""
        if self.state_path is None or self.loop is None or self._save_handle is not None:
            return
        self._save_handle = self.loop.call_later(SAVE_DELAY, self._save_in_background)

    def _save_in_background(self) -> None:
        self._save_handle = None
        if self._saving is not None and not self._saving.done():
            self.save_soon()  # one write at a time; try again after this one
            return
        snapshot = self.snapshot()
        assert self.loop is not None and self.state_path is not None
        self._saving = self.loop.run_in_executor(
            None, state.write, self.state_path, snapshot, self.tls.to_dict()
        )
        self._saving.add_done_callback(_log_failure)

    def snapshot(self) -> list[dict]:
        return [
            {
                "name": c.name,
                "version": c.version,
                "token": c.token,
                "spec": c.spec,
                "created": c.created,
                "store": c.store.snapshot(),
            }
            for c in self.clusters.values()
        ]

    def save_now(self) -> None:
        if self.state_path is not None:
            state.write(self.state_path, self.snapshot(), self.tls.to_dict())

    # -- lifecycle --------------------------------------------------------------------------

    async def startup(self, _app: web.Application | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        for cluster in self.clusters.values():
            self._start_controllers(cluster)

    async def shutdown(self, _app: web.Application | None = None) -> None:
        for cluster in self.clusters.values():
            for expire in list(cluster.watch_expirers):
                expire()
            for task in cluster.controller_tasks:
                task.cancel()
        if self._save_handle is not None:
            self._save_handle.cancel()
            self._save_handle = None
        if self._saving is not None:
            with contextlib.suppress(Exception):
                await self._saving
        self.save_now()


def _log_failure(future: asyncio.Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("writing the state file failed: %s", future.exception())


# -- cluster API entry -------------------------------------------------------------------


async def cluster_api(request: web.Request) -> web.StreamResponse:
    hub: Hub = request.app[HUB]
    cluster = hub.clusters.get(request.match_info["cluster"])
    return await _serve_cluster(request, cluster, request.match_info.get("tail", ""))


async def root_api(request: web.Request) -> web.StreamResponse:
    """`/api/...` without the /clusters/{name} prefix: the bearer token names the cluster.

    `kubectl get --raw /api/...` drops the server URL's path, so this keeps it working.
    """
    hub: Hub = request.app[HUB]
    token = _bearer(request)
    cluster = next(
        (c for c in hub.clusters.values() if token and _same(token, c.token)),
        None,
    )
    if cluster is None:
        return handlers.status_response(errors.unauthorized())
    return await _serve_cluster(request, cluster, request.path.lstrip("/"))


async def _serve_cluster(
    request: web.Request, cluster: Cluster | None, tail: str
) -> web.StreamResponse:
    try:
        if cluster is None:
            raise errors.resource_not_found()
        faults = cluster.faults
        if faults.refuse:
            # as close to a refused connection as an open socket can get
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        if not _authorized(request, cluster):
            raise errors.unauthorized()
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.error_rate and cluster.rng.random() < faults.error_rate:
            raise _injected_error(faults.error_code, faults.retry_after)
        return await handlers.handle(request, cluster, tail)
    except errors.ApiError as exc:
        return handlers.status_response(exc)
    except (web.HTTPException, asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:
        # a kubesim bug: answer like an apiserver would, keep the traceback in the log
        log.exception("%s %s failed", request.method, request.path_qs)
        return handlers.status_response(errors.internal_error(f"Internal error occurred: {exc}"))


def _bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(errors="replace"), expected.encode())


def _authorized(request: web.Request, cluster: Cluster) -> bool:
    return _same(_bearer(request), cluster.token)


def _injected_error(code: int, retry_after: int) -> errors.ApiError:
    if code == 429:
        return errors.too_many_requests(retry_after)
    if code == 503:
        return errors.service_unavailable(retry_after)
    return errors.internal_error()


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app(hub: Hub | None = None) -> web.Application:
    from kubesim import admin

    hub = hub or Hub()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[HUB] = hub
    app.router.add_get("/healthz", healthz)
    admin.add_routes(app)
    app.router.add_route("*", "/clusters/{cluster}/{tail:.*}", cluster_api)
    app.router.add_route("*", "/clusters/{cluster}", cluster_api)
    for root in ("api", "apis", "version", "openapi"):
        app.router.add_route("*", f"/{root}", root_api)
        app.router.add_route("*", f"/{root}/{{tail:.*}}", root_api)
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
        tls_site = web.TCPSite(runner, host, tls_port, ssl_context=hub.tls.server_context())
        await tls_site.start()
        bound_tls = tls_site._server.sockets[0].getsockname()[1]
        hub.tls_port = bound_tls
    return runner, bound, bound_tls
