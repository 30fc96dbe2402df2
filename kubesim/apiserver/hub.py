"""The hub: every virtual cluster of one kubesim process, with its persistence and TLS.

It creates, restores and deletes clusters, starts the controller factories it is given
for each one (the runtime, wired in by `kubesim.server`), and rewrites the state file
after a burst of writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from kubesim.apiserver import rbac, tls
from kubesim.apiserver.rules import RULES
from kubesim.apiserver.tls import TlsMaterial
from kubesim.storage import state
from kubesim.storage.clock import parse_time
from kubesim.storage.cluster import Cluster

log = logging.getLogger("kubesim")
HUB: web.AppKey[Hub] = web.AppKey("hub")  # the hub of the aiohttp app serving it

SAVE_DELAY = 0.5  # seconds of quiet before the state file is rewritten

# A controller factory is called once per cluster, on the server's event loop, and
# returns the coroutine to run for that cluster's lifetime (or None).
ControllerFactory = Callable[[Cluster], Awaitable[None] | None]


class Hub:
    """All virtual clusters of one process, their controllers and their persistence."""

    def __init__(
        self,
        state_path: str | Path | None = None,
        controllers: list[ControllerFactory] | None = None,
    ) -> None:
        # controllers: what runs in each cluster (kubesim.server passes the simulation)
        self.clusters: dict[str, Cluster] = {}
        self.state_path = Path(state_path) if state_path else None
        self.controller_factories = list(controllers or ())
        self.loop: asyncio.AbstractEventLoop | None = None
        self._save_handle: asyncio.TimerHandle | None = None
        self._saving: asyncio.Future | None = None
        self.tls_port: int | None = None  # set once the TLS listener is up
        self.ssl_context = None  # the TLS listener's, once made (server_context)
        saved = {"clusters": [], "tls": None}
        if self.state_path is not None:
            saved = state.read(self.state_path)  # raises StateError if corrupt
        self.tls = TlsMaterial.from_dict(saved["tls"]) if saved["tls"] else tls.generate()
        for cluster in saved["clusters"]:
            self._restore(cluster)

    def server_context(self):
        """The TLS listener's context, trusting every cluster's client CA."""
        self.ssl_context = self.tls.server_context(
            [tls.client_ca_pem(c) for c in self.clusters.values()]
        )
        return self.ssl_context

    # -- clusters ---------------------------------------------------------------------------

    def create_cluster(self, name: str, version: str | None = None, **spec) -> Cluster:
        cluster = Cluster(
            name=name, **({"version": version} if version else {}), spec=spec, rules=RULES
        )
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
        cluster.ca_pem = self.tls.ca_pem  # what its kube-root-ca.crt ConfigMaps publish
        client_ca = tls.ensure_client_ca(cluster)
        if self.ssl_context is not None:  # a cluster made while serving: trust its clients
            self.ssl_context.load_verify_locations(cadata=client_ca)
        cluster.on_change(lambda _event: self._changed())
        if self.loop is not None:
            self._start_controllers(cluster)

    def _restore(self, saved: dict) -> None:
        cluster = Cluster(
            rules=RULES,
            name=saved["name"],
            version=saved.get("version") or "1.32.0",
            token=saved["token"],
            spec=saved.get("spec") or {},
            created=saved.get("created") or "",
        )
        try:
            # simulated time never goes back, not even across a restart
            cluster.clock.advance_to(parse_time(saved.get("clock")) or cluster.clock.now())
            cluster.store.restore(saved["store"])
            cluster.restore_crds()
            rbac.bootstrap(cluster)  # roles a state file from before RBAC lacks
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
                "clock": c.now(),
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
