"""Guards: kinds the informer watches to keep them as the portal wants, without rows.

A mirror turns what Kubernetes says into rows; a guard turns it into repairs. The
informer lists and watches a guard's objects like a mirror's (``Watch`` and ``Writer``
only need ``apply`` and ``remove_unlisted``), and the guard says what drifted: objects
the portal wants that were changed or deleted behind its back, objects it does not want
that carry its label. Repairs run on a thread of their own, so a slow cluster never holds
up the writer, and they are gathered: a burst of events is one repair per cluster.

Each app declares its guards (``register(...)``); the informer watches them on every
cluster beside the mirrors.
"""

import logging
import threading
from dataclasses import dataclass, field

from django.db import close_old_connections, connection

from .mirror import Changes

log = logging.getLogger("kcsportal.guards")


@dataclass(eq=False)
class Guard:
    """The informer's side of one guarded kind; subclasses say what drifted and repair it."""

    api_version: str
    kind: str
    label_selector: str = ""  # only the portal's own objects are watched
    optional: bool = False
    _pending: dict = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _wake: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    # --- what subclasses say ---------------------------------------------------------

    def drifted(self, cluster, upserts: list[dict], deletes: list[dict]) -> set[str]:
        """The namespaces whose objects these events show out of line."""
        raise NotImplementedError

    def missing(self, cluster, listed_keys: set) -> set[str]:
        """After a full list: the namespaces where an object the portal wants is absent."""
        raise NotImplementedError

    def repair(self, cluster, namespaces: set[str]) -> None:
        raise NotImplementedError

    # --- what the informer calls (as it calls a Mirror) ------------------------------

    @property
    def label(self) -> str:
        return self.kind

    @property
    def selector(self) -> dict:
        return {"label_selector": self.label_selector} if self.label_selector else {}

    def key(self, obj: dict) -> tuple[str, str]:
        metadata = obj.get("metadata") or {}
        return metadata.get("namespace") or "", metadata.get("name") or ""

    def unserved(self, error) -> bool:
        return self.optional and getattr(error, "not_found", False)

    def apply(self, cluster, upserts=(), deletes=()) -> Changes:
        self._later(cluster, self.drifted(cluster, list(upserts), list(deletes)))
        return Changes()

    def remove_unlisted(self, cluster, listed_keys: set, version: str, started) -> Changes:
        self._later(cluster, self.missing(cluster, listed_keys))
        return Changes()

    # --- the repair thread -----------------------------------------------------------

    def _later(self, cluster, namespaces: set[str]) -> None:
        if not namespaces:
            return
        with self._lock:
            _cluster, gathered = self._pending.setdefault(cluster.pk, (cluster, set()))
            gathered.update(namespaces)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"guard-{self.kind}", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                pending, self._pending = self._pending, {}
            close_old_connections()
            for cluster, namespaces in pending.values():
                try:
                    self.repair(cluster, namespaces)
                except Exception:  # one cluster's trouble must not stop the others' repairs
                    log.exception("could not repair %s of cluster %s", self.kind, cluster.name)
            connection.close()  # the thread waits, maybe long: no connection held meanwhile


registry: list[Guard] = []


def register(guard: Guard) -> Guard:
    registry.append(guard)
    return guard
