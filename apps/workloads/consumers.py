"""The web terminal's WebSocket: the browser's xterm.js to a shell in a container.

``ws/pods/<id>/terminal/?container=NAME``. The user is checked when the socket opens
(a pod they may not see is refused like a missing one); the session is the service's
``containers.terminal`` (audited, with its duration when it ends).

Frames from the browser are JSON text: ``{"t": "i", "d": "ls\\r"}`` (input),
``{"t": "r", "c": 120, "r": 40}`` (resize), ``{"t": "p"}`` (keepalive, answered with
``{"t": "p"}``). The container's output comes back as binary frames; the end as
``{"t": "exit", "message": ...}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from apps.core import context
from apps.kube.errors import KubeError

from . import containers
from .models import Pod

log = logging.getLogger("kcsportal.terminal")

KUBE_PING = 30.0  # seconds between pings on the link to Kubernetes (idle links stay up)
MAX_INPUT = 64 * 1024


class TerminalConsumer(AsyncWebsocketConsumer):
    terminal: containers.Terminal | None = None

    def _open(self, user, pk: int, container: str) -> containers.Terminal:
        pod = Pod.objects.select_related("cluster", "namespace__project").filter(pk=pk).first()
        if pod is None or not user.is_authenticated:
            raise Http404
        client = self.scope.get("client") or ("", 0)
        with context.bound(rid=context.new_request_id(), ip=client[0] or ""):
            return containers.terminal(user, pod, container)

    async def connect(self):
        user = self.scope.get("user")
        pk = int(self.scope["url_route"]["kwargs"]["pk"])
        query = parse_qs(self.scope.get("query_string", b"").decode())
        container = (query.get("container") or [""])[0]
        try:
            self.terminal = await database_sync_to_async(self._open)(user, pk, container)
        except (Http404, PermissionDenied):
            await self.close()  # refused before the handshake: the browser sees a 403
            return
        except (ValidationError, KubeError) as exc:
            message = exc.message if isinstance(exc, KubeError) else " ".join(exc.messages)
            await self.accept()
            await self.send(text_data=json.dumps({"t": "exit", "message": message}))
            await self.close(code=4400)
            return
        await self.accept()
        self.loop = asyncio.get_running_loop()
        greeting = getattr(self.terminal, "greeting", b"")
        if greeting:
            await self.send(bytes_data=greeting)
        self.stopping = threading.Event()
        self.reader = threading.Thread(target=self._pump, daemon=True, name=f"terminal-{pk}")
        self.reader.start()

    def _pump(self) -> None:
        """The container's output to the browser, from a thread of its own."""
        terminal, pinged = self.terminal, time.monotonic()
        message = ""
        try:
            while not self.stopping.is_set():
                data, alive = terminal.read(timeout=1.0)
                if data:
                    self._post(self.send(bytes_data=data))
                if not alive:
                    message = terminal.session.exit_message()
                    break
                if time.monotonic() - pinged > KUBE_PING:
                    terminal.session.ws.sock.ping()
                    pinged = time.monotonic()
        except Exception as exc:  # the link to Kubernetes dropped
            log.info("terminal session ended: %s", exc)
            message = str(exc)
        if not self.stopping.is_set():
            self._post(self._ended(message))

    def _post(self, coroutine) -> None:
        try:
            asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        except RuntimeError:  # the worker's loop is gone (shutting down)
            coroutine.close()

    async def _ended(self, message: str) -> None:
        await self.send(text_data=json.dumps({"t": "exit", "message": message}))
        await self.close(code=1000)

    async def receive(self, text_data=None, bytes_data=None):
        if self.terminal is None:
            return
        try:
            frame = json.loads(text_data or "{}")
        except ValueError:
            return
        kind = frame.get("t")
        if kind == "i" and isinstance(frame.get("d"), str):
            await sync_to_async(self.terminal.write, thread_sensitive=False)(frame["d"][:MAX_INPUT])
        elif kind == "r":
            try:
                cols, rows = int(frame.get("c")), int(frame.get("r"))
            except (TypeError, ValueError):
                return
            await sync_to_async(self.terminal.resize, thread_sensitive=False)(cols, rows)
        elif kind == "p":
            await self.send(text_data=json.dumps({"t": "p"}))

    async def disconnect(self, code):
        if self.terminal is None:
            return
        self.stopping.set()
        await database_sync_to_async(self.terminal.close)()
