"""Run kubesim inside a test process.

    with KubesimServer() as server:
        cluster = server.create_cluster("dev", workers=2)
        client = kubernetes.config.new_client_from_config_dict(cluster["kubeconfig"])

The server runs its own event loop in a daemon thread on a free localhost port. The
pytest fixtures at the bottom are importable by any test suite:

    from kubesim.testing import kubesim_server, kubesim_cluster  # noqa: F401
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from kubesim.apiserver.hub import ControllerFactory
from kubesim.server import make_hub, start_sites


class KubesimServer:
    def __init__(
        self,
        state_path: str | Path | None = None,
        controllers: list[ControllerFactory] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls_port: int = 0,
    ) -> None:
        self.hub = make_hub(state_path, controllers)
        self.host = host
        self._port = port
        self._tls_port = tls_port
        self._loop = asyncio.new_event_loop()
        self._runner = None  # aiohttp AppRunner once started
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="kubesim")
        self._thread.start()
        self.port = self.call(self._start)

    async def _start(self) -> int:
        self._runner, port, _ = await start_sites(
            self.hub, self.host, self._port, self._tls_port, shutdown_timeout=1
        )
        return port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run fn (a function or a coroutine function) on the server's loop; its result."""

        async def run() -> Any:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        future: Future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return future.result(timeout=60)

    async def _cleanup(self) -> None:
        await self._runner.cleanup()
        # The hub's shutdown cancels the clusters' simulations without waiting for them:
        # let every task left finish its cancellation, or closing the loop destroys them
        # still pending ("Task was destroyed but it is pending!").
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        if self._runner is not None:
            self.call(self._cleanup)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> KubesimServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- admin API shortcuts ---------------------------------------------------------------

    def admin(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """Call the admin API; (status code, JSON body) without raising on 4xx/5xx."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (http to localhost)
            f"{self.url}/kubesim/v1{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def create_cluster(self, name: str, **spec: Any) -> dict:
        """Create a cluster; its admin API answer (name, kubeconfig, ...)."""
        status, body = self.admin("POST", "/clusters", {"name": name, **spec})
        if status != 201:
            raise RuntimeError(f"creating cluster {name} failed: {status} {body}")
        return body

    def cluster(self, name: str):
        """The in-process Cluster object (use `call` to act on it from the test thread)."""
        return self.hub.clusters[name]


_names = itertools.count(1)


def unique_cluster_name(prefix: str = "c") -> str:
    return f"{prefix}-{next(_names)}"


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is a dev dependency only
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="session")
    def kubesim_server():
        """A kubesim server for the whole test session."""
        server = KubesimServer()
        yield server
        server.stop()

    @pytest.fixture
    def kubesim_cluster(kubesim_server):
        """A fresh cluster (the admin API's answer, with "kubeconfig"), deleted afterwards."""
        cluster = kubesim_server.create_cluster(unique_cluster_name(), workers=2)
        yield cluster
        kubesim_server.admin("DELETE", f"/clusters/{cluster['name']}")
