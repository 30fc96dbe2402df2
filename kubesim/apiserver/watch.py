"""Watch streams: `?watch=1` answers a chunked stream of JSON events, one per line.

Semantics follow the apiserver's watch cache: without a resourceVersion (or with "0") the
stream starts with a synthetic ADDED for every current object; with a resourceVersion it
replays the kept history after that version, or sends a single ERROR event carrying a 410
Expired Status when that part of the history is gone. Selectors filter by state, so an
object that stops matching is reported as DELETED and one that starts matching as ADDED.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from aiohttp import web

from kubesim.apiserver.responses import to_table, wants_table
from kubesim.storage import errors
from kubesim.storage.cluster import Cluster
from kubesim.storage.resources import ResourceType
from kubesim.storage.selectors import FieldRequirement, parse_field_selector, parse_label_selector
from kubesim.storage.store import ADDED, DELETED, MODIFIED, Event, TooOld, dumps

DEFAULT_TIMEOUT = 1800.0  # the apiserver's --min-request-timeout
BOOKMARK_INTERVAL = 30.0
POLL = 0.5  # how often an idle stream checks whether its client went away

_EXPIRED = object()  # queue sentinel: fault injection expired this watch


async def serve(
    request: web.Request,
    cluster: Cluster,
    rt: ResourceType,
    namespace: str | None,
    name: str | None,
) -> web.StreamResponse:
    q = request.query
    labels = parse_label_selector(q.get("labelSelector"))
    fields = parse_field_selector(q.get("fieldSelector"), rt.allows_field)
    if name:
        fields.requirements.append(FieldRequirement("metadata.name", name, False))
    try:
        timeout = float(q.get("timeoutSeconds") or DEFAULT_TIMEOUT)
    except ValueError as exc:
        raise errors.bad_request("invalid timeoutSeconds") from exc
    raw_rv = q.get("resourceVersion") or ""
    if raw_rv and not raw_rv.isdigit():
        raise errors.bad_request(f'resourceVersion: Invalid value: "{raw_rv}": must be an integer')
    bookmarks = q.get("allowWatchBookmarks", "").lower() in ("1", "true")
    initial_end = q.get("sendInitialEvents", "").lower() == "true"
    table = wants_table(request)

    def matches(obj: dict | None) -> bool:
        if obj is None:
            return False
        if (
            namespace is not None
            and rt.namespaced
            and obj["metadata"].get("namespace") != namespace
        ):
            return False
        if labels and not labels.matches(obj["metadata"].get("labels")):
            return False
        return not fields or fields.matches(obj)

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def on_event(event: Event) -> None:
        if event.key == rt.key:
            loop.call_soon_threadsafe(queue.put_nowait, event)

    def expire() -> None:
        loop.call_soon_threadsafe(queue.put_nowait, _EXPIRED)

    store = cluster.store
    backlog: list[tuple[str, dict]] = []
    too_old: TooOld | None = None
    with store.lock:
        unsubscribe = store.subscribe(on_event)
        current = store.resource_version
        if raw_rv in ("", "0") or initial_end:
            objs = store.list(rt.key, namespace if rt.namespaced else None)
            backlog = [(ADDED, o) for o in objs if matches(o)]
        else:
            rv = int(raw_rv)
            try:
                if cluster.faults.expire_watches and rv < current:
                    raise TooOld(rv, current)
                backlog = [
                    e
                    for e in (
                        _translate(ev, matches) for ev in store.events_since(rv) if ev.key == rt.key
                    )
                    if e
                ]
            except TooOld as exc:
                too_old = exc
    cluster.watch_expirers.add(expire)

    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()

    def encode(kind: str, obj: dict) -> bytes:
        if table:
            body: object = to_table(request, rt, [cluster.present(rt, obj)], cluster.clock.now())
        else:
            body = cluster.present(rt, obj)
        return b'{"type":"' + kind.encode() + b'","object":' + dumps(body) + b"}\n"

    def bookmark(rv: int, initial_events_end: bool = False) -> bytes:
        meta: dict = {"resourceVersion": str(rv)}
        if initial_events_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}
        return b'{"type":"BOOKMARK","object":' + dumps(obj) + b"}\n"

    def gone(message: str) -> bytes:
        status = errors.expired(message).status
        return b'{"type":"ERROR","object":' + dumps(status) + b"}\n"

    try:
        await response.prepare(request)
        if too_old is not None:
            await response.write(gone(str(too_old)))
            return response
        for kind, obj in backlog:
            await response.write(encode(kind, obj))
        last_rv = current
        if initial_end and bookmarks:
            await response.write(bookmark(current, True))
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + BOOKMARK_INTERVAL
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                item = await asyncio.wait_for(queue.get(), min(left, POLL))
            except TimeoutError:
                if request.transport is None or request.transport.is_closing():
                    break
                if bookmarks and time.monotonic() >= next_bookmark:
                    await response.write(bookmark(last_rv))
                    next_bookmark = time.monotonic() + BOOKMARK_INTERVAL
                continue
            if item is _EXPIRED:
                await response.write(gone(f"too old resource version: {last_rv} ({last_rv + 1})"))
                break
            if item.rv <= current:
                continue  # already part of the backlog
            last_rv = item.rv
            translated = _translate(item, matches)
            if translated:
                await response.write(encode(*translated))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        unsubscribe()
        cluster.watch_expirers.discard(expire)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await response.write_eof()
    return response


def _translate(event: Event, matches) -> tuple[str, dict] | None:
    """The event as a watcher filtered by `matches` sees it, or None."""
    new_match = event.type != DELETED and matches(event.obj)
    old_match = event.type != ADDED and matches(event.old)
    if event.type == DELETED:
        return (DELETED, event.obj) if old_match else None
    if new_match and old_match:
        return (MODIFIED, event.obj)
    if new_match:
        return (ADDED, event.obj)
    if old_match:
        return (DELETED, event.obj)
    return None
