"""The live inventory: every mirrored kind of every cluster, listed and then watched.

This is what client-go's informers do, for the database: per cluster and kind (the
mirrored ones, and the ``guards`` that repair what drifted instead of writing rows), a
``Watch`` lists (in pages) and then watches from the list's resourceVersion, with
bookmarks; a watch that ends resumes from the last version seen, a 410 Expired
re-lists, a lost connection backs off and resumes. Every event goes to one
``Writer``, which applies them in batches (per cluster and kind, the latest state of
each object) through the mirrors, so an older event never overwrites a newer row.

``Informer`` runs it all: it starts a ``ClusterWatch`` for each cluster worth
watching and stops it when the cluster goes. Clusters are independent: one that does
not answer backs off alone while the others go on. ``manage.py informer`` runs one;
scaled out, each replica watches only the clusters whose Lease it holds (``leases``).
"""

import contextlib
import functools
import hashlib
import logging
import queue
import random
import threading
import time
from dataclasses import dataclass, field

import orjson
from django.core.cache import cache
from django.db import close_old_connections, connections
from django.utils import timezone
from kubernetes.watch.watch import iter_resp_lines

from . import guards, objects
from .client import Kube, new_api_client, parse_kubeconfig
from .errors import KubeError, translate
from .mirror import Changes, Mirror, registry

log = logging.getLogger("kcsportal.informer")

WATCH_SECONDS = 300  # the server ends a watch after this (with jitter); it is resumed
FLUSH_SECONDS = 0.2  # how long events gather before they are written
BATCH = 500  # ... or how many
RESCAN_SECONDS = 5.0  # how often the set of clusters is looked at again
BACKOFF = (0.5, 30.0)  # first and longest pause after a failure
UNSERVED_SECONDS = 60.0  # how often a custom kind the cluster lacks is looked for again


def _watched_key(cluster) -> str:
    return f"kcs:informer:{cluster.pk}:{cluster.name}"


def is_watched(cluster) -> bool:
    """Whether an informer (in any process) keeps this cluster's rows live right now."""
    return bool(cache.get(_watched_key(cluster)))


class Expired(Exception):
    """The watch's resourceVersion is too old (410): list again."""


@dataclass
class Backoff:
    first: float = BACKOFF[0]
    longest: float = BACKOFF[1]
    failures: int = 0

    def next(self) -> float:
        delay = min(self.longest, self.first * 2**self.failures)
        self.failures += 1
        return delay * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not secrets)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class Page:
    """One page of a list, written as it arrives (while the next one is read)."""

    cluster_id: int
    mirror: Mirror
    items: list


@dataclass
class Listed:
    """The end of a list: rows of objects it did not have go (unless written since)."""

    cluster_id: int
    mirror: Mirror
    keys: set
    version: str
    started: object


@dataclass
class Event:
    cluster_id: int
    mirror: Mirror
    type: str  # ADDED, MODIFIED, DELETED
    obj: dict


@dataclass
class Stats:
    """What the writer did: for the log, the tests and the benchmark."""

    events: int = 0
    batches: int = 0
    relists: int = 0
    written: Changes = field(default_factory=Changes)
    last_write: float = 0.0


def closing_connections(run):
    """Close the thread's database connections when ``run`` ends. Left to the garbage
    collector (a connection sits in reference cycles) they stay open long after the
    thread is gone, and a test database cannot be dropped while they are."""

    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        try:
            return run(*args, **kwargs)
        finally:
            connections.close_all()  # this thread's connections only

    return wrapper


class Writer(threading.Thread):
    """Applies what the watches report, in batches, from one thread (one connection)."""

    def __init__(self, clusters: dict, *, flush: float = FLUSH_SECONDS, batch: int = BATCH):
        super().__init__(name="informer-writer", daemon=True)
        self.queue: queue.Queue = queue.Queue()
        self.clusters = clusters  # cluster id -> Cluster row, kept by the Informer
        self.flush_seconds = flush
        self.batch = batch
        self.stats = Stats()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.submitted = 0  # items put in the queue ...
        self.done = 0  # ... and written (or given up on)
        self.received: dict[tuple, int] = {}  # events per bucket, before coalescing

    def submit(self, item) -> None:
        with self._lock:
            self.submitted += 1
        self.queue.put(item)

    def drained(self, timeout: float) -> bool:
        """Whether everything submitted until now has been written (waiting up to ``timeout``)."""
        target, deadline = self.submitted, time.monotonic() + timeout
        while self.done < target:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    @closing_connections
    def run(self) -> None:
        pending: dict[tuple, dict] = {}
        count = 0
        while not self.stopping.is_set():
            deadline = time.monotonic() + self.flush_seconds
            while count < self.batch:
                try:
                    item = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if isinstance(item, Page | Listed):
                    # In order with the events of the same kind: those before it first.
                    count -= self._flush(pending, (item.cluster_id, item.mirror))
                    self._list_part(item)
                    self._done(1)
                    continue
                bucket_key = (item.cluster_id, item.mirror)
                pending.setdefault(bucket_key, {})[item.mirror.key(item.obj)] = item
                self.received[bucket_key] = self.received.get(bucket_key, 0) + 1
                count += 1
            count -= self._flush(pending)
        self._flush(pending)

    def _done(self, n: int) -> None:
        with self._lock:
            self.done += n

    def _flush(self, pending: dict, only: tuple | None = None) -> int:
        flushed = 0
        for key in [only] if only is not None else list(pending):
            events = pending.pop(key, None)
            if not events:
                continue
            received = self.received.pop(key, len(events))
            flushed += received
            cluster_id, mirror = key
            cluster = self.clusters.get(cluster_id)
            if cluster is not None:  # (else no longer watched)
                self._apply(cluster, mirror, events)
                self.stats.events += received
                self.stats.batches += 1
            self._done(received)
        return flushed

    def _apply(self, cluster, mirror: Mirror, events: dict) -> None:
        upserts = [e.obj for e in events.values() if e.type != "DELETED"]
        deletes = [e.obj for e in events.values() if e.type == "DELETED"]
        close_old_connections()
        try:
            self.stats.written += mirror.apply(cluster, upserts, deletes)
        except Exception:
            log.exception("could not write %s of cluster %s", mirror.kind, cluster.name)
            for event in events.values():  # one bad object must not keep the others out
                try:
                    if event.type == "DELETED":
                        mirror.apply(cluster, deletes=[event.obj])
                    else:
                        mirror.apply(cluster, [event.obj])
                except Exception:
                    log.exception("skipped %s %s", mirror.kind, mirror.key(event.obj))

    def _list_part(self, item: Page | Listed) -> None:
        cluster = self.clusters.get(item.cluster_id)
        if cluster is None:
            return
        close_old_connections()
        mirror = item.mirror
        try:
            if isinstance(item, Page):
                self.stats.written += mirror.apply(cluster, item.items)
            else:
                self.stats.written += mirror.remove_unlisted(
                    cluster, item.keys, item.version, item.started
                )
                self.stats.relists += 1
        except Exception:
            log.exception("could not write a list of %s of cluster %s", mirror.kind, cluster.name)

    def stop(self) -> None:
        self.stopping.set()


class Watch(threading.Thread):
    """One kind of one cluster: list, then watch from there, for as long as it runs."""

    def __init__(self, cluster_watch: "ClusterWatch", mirror: Mirror):
        super().__init__(name=f"watch-{cluster_watch.name}-{mirror.kind}", daemon=True)
        self.owner = cluster_watch
        self.mirror = mirror
        self.version: str | None = None
        self.response = None
        self.synced = threading.Event()  # the first list has been handed to the writer

    @property
    def kube(self) -> Kube:
        return self.owner.kube

    @closing_connections
    def run(self) -> None:
        backoff = Backoff()
        while not self.owner.stopping.is_set():
            try:
                if self.version is None:
                    self._list()
                self._watch()
                backoff.reset()
                self.owner.recovered()
            except Expired:
                log.info("%s of %s expired: listing again", self.mirror.kind, self.owner.name)
                self.version = None
            except Exception as exc:  # every failure backs off; the others go on
                if self.owner.stopping.is_set():
                    break
                error = _as_kube_error(exc)
                if self.mirror.unserved(error):
                    self._unserved()
                    continue
                self.owner.trouble(self.mirror, error)
                self.owner.stopping.wait(backoff.next())

    def _unserved(self) -> None:
        """The cluster does not serve this kind (yet): it has none; look again later."""
        self.owner.put(Listed(self.owner.cluster_id, self.mirror, set(), "", timezone.now()))
        self.version = None
        self.synced.set()
        self.owner.stopping.wait(UNSERVED_SECONDS)

    def _list(self) -> None:
        """List in pages; each is written while the next is read (a pipeline, not a wait)."""
        started, keys, listed_at = timezone.now(), set(), ""
        cluster_id, mirror = self.owner.cluster_id, self.mirror
        for items, version in objects.pages(
            self.kube, mirror.api_version, mirror.kind, **mirror.selector
        ):
            keys.update(map(mirror.key, items))
            self.owner.put(Page(cluster_id, mirror, items))
            listed_at = version
        self.owner.put(Listed(cluster_id, mirror, keys, listed_at, started))
        self.version = listed_at
        self.synced.set()

    def _watch(self) -> None:
        timeout = int(WATCH_SECONDS * random.uniform(1.0, 1.5))  # noqa: S311 (spread restarts)
        self.response = objects.watch(
            self.kube,
            self.mirror.api_version,
            self.mirror.kind,
            resource_version=self.version,
            timeout=timeout,
            **self.mirror.selector,
        )
        try:
            for line in iter_resp_lines(self.response):
                if not line:
                    continue
                event = orjson.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise Expired
                    raise KubeError(obj.get("message", "watch error"), status=obj.get("code", 0))
                self.version = (obj.get("metadata") or {}).get("resourceVersion") or self.version
                if kind != "BOOKMARK":
                    self.owner.put(Event(self.owner.cluster_id, self.mirror, kind, obj))
                if self.owner.stopping.is_set():
                    return
        finally:
            response, self.response = self.response, None
            response.release_conn()

    def interrupt(self) -> None:
        response = self.response
        if response is not None:
            with contextlib.suppress(Exception):  # already closed
                response.shutdown()  # unblocks the read in run()


def _as_kube_error(exc: Exception) -> KubeError:
    try:
        return translate(exc)
    except Exception:
        return KubeError(f"{type(exc).__name__}: {exc}")


class ClusterWatch:
    """The watches of one cluster, with a client of its own (one connection per watch)."""

    def __init__(self, cluster, writer: Writer, *, mirrors=None, on_trouble=None):
        self.cluster_id = cluster.pk
        self.name = cluster.name
        self.fingerprint = fingerprint(cluster)
        self.writer = writer
        self.on_trouble = on_trouble
        self.stopping = threading.Event()
        # the mirrored kinds, and the guarded ones (kept as the portal wants, no rows)
        mirrors = list(mirrors if mirrors is not None else [*registry, *guards.registry])
        self.kube = Kube(
            new_api_client(
                parse_kubeconfig(cluster.kubeconfig),
                cluster.kubeconfig_context or None,
                connections=len(mirrors) + 2,
            ),
            retries=1,
        )
        self.watches = [Watch(self, mirror) for mirror in mirrors]
        self._troubled = 0.0

    def start(self) -> None:
        for watch in self.watches:
            watch.start()

    def put(self, item) -> None:
        self.writer.submit(item)

    def trouble(self, mirror: Mirror, error: KubeError) -> None:
        now = time.monotonic()
        if now - self._troubled < 30:
            return  # once per spell of trouble, not once per kind and retry
        self._troubled = now
        log.warning("cluster %s: %s watch failed: %s", self.name, mirror.kind, error.message)
        if self.on_trouble is not None:
            self.on_trouble(self.cluster_id)

    def recovered(self) -> None:
        if self._troubled:
            self._troubled = 0.0
            log.info("cluster %s: watching again", self.name)
            if self.on_trouble is not None:
                self.on_trouble(self.cluster_id)

    @property
    def healthy(self) -> bool:
        """Every kind listed once and no trouble since: the rows are live."""
        return not self._troubled and all(w.synced.is_set() for w in self.watches)

    def synced(self, timeout: float | None = None) -> bool:
        """Whether every kind has been listed once (waiting up to ``timeout``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for watch in self.watches:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not watch.synced.wait(left):
                return False
        return True

    def stop(self) -> None:
        self.stopping.set()
        for watch in self.watches:
            watch.interrupt()

    def join(self, timeout: float = 10) -> None:
        for watch in self.watches:
            watch.join(timeout)


def fingerprint(cluster) -> str:
    """What a cluster's watches depend on: a new kubeconfig means new watches."""
    text = f"{cluster.kubeconfig_context}\0{cluster.kubeconfig}"
    return hashlib.sha256(text.encode()).hexdigest()


class Informer:
    """Watches every cluster worth watching, in this process, until stopped."""

    def __init__(
        self, *, clusters=None, on_trouble=None, mirrors=None, rescan=RESCAN_SECONDS, elector=None
    ):
        self.select = clusters  # () -> the Cluster rows to watch
        self.on_trouble = on_trouble  # (cluster id) -> look at the cluster's health
        self.mirrors = mirrors
        self.rescan = rescan
        # Scaled out: a leases.Elector, and only the clusters whose Lease this process
        # holds are watched (None: every cluster, the single informer of `make demo`).
        self.elector = elector
        if elector is not None:
            elector.on_change = self.wake
            self.rescan = min(rescan, elector.timing.retry)
        self.rows: dict[int, object] = {}
        self.writer = Writer(self.rows)
        self.watching: dict[int, ClusterWatch] = {}
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self.thread: threading.Thread | None = None

    def wake(self) -> None:
        """Scan now (a Lease was won or lost), not at the next rescan."""
        self._wake.set()

    def scan(self) -> None:
        """Start watching new clusters (and changed kubeconfigs); stop for clusters gone."""
        close_old_connections()
        wanted = {cluster.pk: cluster for cluster in self.select()}
        if self.elector is not None:
            self.elector.want(wanted)
            wanted = {pk: cluster for pk, cluster in wanted.items() if self.elector.holds(pk)}
        for pk, current in list(self.watching.items()):
            cluster = wanted.get(pk)
            if cluster is None or fingerprint(cluster) != current.fingerprint:
                current.stop()
                del self.watching[pk]
                self.rows.pop(pk, None)
                log.info("stopped watching cluster %s", current.name)
        for pk, cluster in wanted.items():
            self.rows[pk] = cluster
            current = self.watching.get(pk)
            if current is not None and current.healthy:
                # Beat's resync trusts the rows while this says so (see sync.resync).
                cache.set(_watched_key(cluster), True, max(3 * self.rescan, 15))
            if pk not in self.watching:
                try:
                    watch = ClusterWatch(
                        cluster, self.writer, mirrors=self.mirrors, on_trouble=self.on_trouble
                    )
                except KubeError as exc:
                    log.warning("cannot watch cluster %s: %s", cluster.name, exc.message)
                    continue
                self.watching[pk] = watch
                watch.start()
                log.info("watching cluster %s", cluster.name)

    @closing_connections
    def run(self) -> None:
        """Scan and watch until ``stop()``; the calling thread does the scans."""
        self.writer.start()
        if self.elector is not None:
            self.elector.start()
        while not self.stopping.is_set():
            self._wake.clear()  # (a wake during the scan makes the next one at once)
            try:
                self.scan()
            except Exception:
                log.exception("could not look at the clusters")
            self._wake.wait(self.rescan)
        for watch in self.watching.values():
            watch.stop()
        for watch in self.watching.values():
            watch.join()
        self.writer.stop()
        self.writer.join(10)
        if self.elector is not None:
            # Last: nothing more is watched or written, so another replica may take over.
            self.elector.stop()

    def start(self) -> "Informer":
        """Run in a background thread (tests, the demo's single process)."""
        self.thread = threading.Thread(target=self.run, name="informer", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()
        if self.thread is not None:
            self.thread.join(30)

    def synced(self, timeout: float = 60) -> bool:
        """Whether every watched cluster has been listed once and all of it written."""
        deadline = time.monotonic() + timeout
        while not self.watching and time.monotonic() < deadline:
            time.sleep(0.05)
        for watch in list(self.watching.values()):
            if not watch.synced(max(0.0, deadline - time.monotonic())):
                return False
        return self.writer.drained(max(0.0, deadline - time.monotonic()))
