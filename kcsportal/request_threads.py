"""A fixed set of request threads per ASGI worker, for Django's synchronous code.

Django runs a request's synchronous code (middleware, views, the ORM) in a
thread. Left to itself, under ASGI it starts a new thread for every request:
a busy worker then runs dozens at once, their threads fight over the
interpreter lock, and each opens and closes its own database connection
(for SQLite that is a fresh schema parse on every request).

``RequestThreads`` gives each worker a fixed set of threads instead: a request
waits in the event loop for a free one (it is not refused), and a thread keeps
its database connection from one request to the next (``CONN_MAX_AGE``), as
gunicorn's threaded WSGI workers do. WebSockets (given as ``websocket``, the
Channels application), followed logs (``…/logs/stream/`` and the API's
``…/logs/?follow=1``, which stay open for as long as they are followed), /healthz
and static files do not take one.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext


class RequestThreads:
    """ASGI middleware: HTTP requests run their synchronous code on one of ``count`` threads.

    With ``count`` 0, Django's own behaviour: a new thread per request, no bound.
    """

    # Liveness answers even while every thread is busy with slow pages.
    exempt = frozenset({"/healthz"})

    # Streams that stay open (a followed log): they must not hold a thread for hours.
    streams = ("/logs/stream/",)

    def __init__(self, app, count: int, *, static_prefix: str = "", websocket=None):
        self.app = app
        self.websocket = websocket
        self.count = count
        # Static files (WhiteNoise, which answers before sessions and the database)
        # do not queue behind pages either: a page's stylesheet is not kept waiting.
        self.static_prefix = static_prefix
        self._idle: asyncio.Queue | None = None

    def _waits(self, scope) -> bool:
        if self.count <= 0 or scope["type"] != "http":
            return False
        path = scope["path"]
        if path in self.exempt or path.endswith(self.streams):
            return False
        if path.endswith("/logs/") and b"follow=" in scope.get("query_string", b""):
            return False  # the API's followed log
        return not (self.static_prefix and path.startswith(self.static_prefix))

    def _threads(self) -> asyncio.Queue:
        # Made on the first request, in the worker process (after gunicorn forks).
        if self._idle is None:
            self._idle = asyncio.Queue()
            for n in range(self.count):
                self._idle.put_nowait(
                    ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"request-{n}")
                )
        return self._idle

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and self.websocket is not None:
            return await self.websocket(scope, receive, send)
        if not self._waits(scope):
            return await self.app(scope, receive, send)
        idle = self._threads()
        executor = await idle.get()  # first come, first served
        try:
            # Every thread-sensitive call of this request (all of Django's
            # synchronous code) runs on this executor's one thread.
            async with ThreadSensitiveContext(executor=executor):
                return await self.app(scope, receive, send)
        finally:
            idle.put_nowait(executor)
