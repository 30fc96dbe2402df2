"""One cluster's object storage: the part of kubesim that plays etcd.

The store knows nothing of Kubernetes semantics beyond resourceVersion: it keeps objects
by resource key `(group, plural)`, namespace and name, stamps each write with the next
per-cluster resourceVersion, keeps a bounded history of change events for watches, and
tells subscribers about every change. Defaulting, admission, generation, finalizers and
garbage collection live a layer up, in `kubesim.storage.cluster`.

Stored objects are treated as immutable: a write always stores a new dict and never
mutates one that was handed out, so reads can return shared references without copying
(`get`/`list` results must not be mutated by callers; copy first with `clone`). That is
also what makes the per-object JSON cache safe.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Key = tuple[str, str]  # (group, plural)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


def clone(obj: dict) -> dict:
    """A deep copy of a JSON-shaped object (faster than copy.deepcopy)."""
    return json.loads(json.dumps(obj))


def dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Event:
    rv: int
    type: str
    key: Key
    namespace: str
    obj: dict
    old: dict | None  # the previous state, for watches filtered by selector


class _Sharer:
    """Hash-consing for managedFields: equal `fieldsV1` subtrees become one shared object.

    fieldsV1 trees are large (hundreds of tiny dicts per object) and nearly identical across
    objects of one kind written by one manager, so sharing them cuts a stored Pod's memory by
    about a third. Safe only because stored objects are never mutated.
    """

    LIMIT = 50_000  # distinct subtrees remembered; the table restarts when full

    def __init__(self) -> None:
        self._table: dict[int, object] = {}

    def compact(self, obj: dict) -> dict:
        """A copy with interned keys and shared managedFields trees, for storing."""
        out = {}
        for key, value in obj.items():
            if key == "metadata" and type(value) is dict:
                value = {
                    sys.intern(k): (v if k == "managedFields" else _intern_keys(v))
                    for k, v in value.items()
                }
            else:
                value = _intern_keys(value)
            out[sys.intern(key)] = value
        self.fields(out)
        return out

    def fields(self, obj: dict) -> None:
        entries = obj.get("metadata", {}).get("managedFields")
        if not entries:
            return
        obj["metadata"]["managedFields"] = [
            {**e, "fieldsV1": self._canon(e["fieldsV1"])} if "fieldsV1" in e else e for e in entries
        ]

    def _canon(self, value):
        if type(value) is dict:
            shared = {sys.intern(k): self._canon(v) for k, v in value.items()}
            return self._share(shared, ("d", *[(k, id(v)) for k, v in shared.items()]))
        if type(value) is list:
            items = [self._canon(v) for v in value]
            return self._share(items, ("l", *[id(v) for v in items]))
        return value

    def _share(self, value, key: tuple):
        # the key holds children's ids, so equal trees meet; the equality check guards
        # against hash collisions and reused ids
        h = hash(key)
        hit = self._table.get(h)
        if hit is not None and hit == value:
            return hit
        if len(self._table) >= self.LIMIT:
            self._table.clear()
        self._table[h] = value
        return value


def _intern_keys(value):
    # JSON decoding shares repeated keys only within one document; across thousands of
    # stored objects interning keys and short values saves a few kilobytes per object
    if type(value) is dict:
        return {sys.intern(k): _intern_keys(v) for k, v in value.items()}
    if type(value) is list:
        return [_intern_keys(v) for v in value]
    if type(value) is str and len(value) <= 32:
        return sys.intern(value)  # "TCP", "default", "IfNotPresent", image names ...
    return value


class TooOld(Exception):
    """The asked-for resourceVersion is older than the kept history."""

    def __init__(self, requested: int, oldest: int):
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class Store:
    def __init__(self, history: int = 2_000) -> None:
        self._objects: dict[Key, dict[str, dict[str, dict]]] = {}
        self._encoded: dict[tuple[Key, str, str], tuple[dict, bytes]] = {}
        self._owners: dict[str, set[tuple[Key, str, str]]] = {}
        self._history: deque[Event] = deque()
        self._history_size = history
        self._compacted = 0  # events with rv <= this are no longer in history
        self._rv = 0
        self._subscribers: list[Callable[[Event], None]] = []
        self._sharer = _Sharer()
        # Writes come from the server's loop and possibly from controller threads.
        self.lock = threading.RLock()

    # -- reads -------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, key: Key, namespace: str, name: str) -> dict | None:
        return self._objects.get(key, {}).get(namespace or "", {}).get(name)

    def list(self, key: Key, namespace: str | None = None) -> list[dict]:
        """Objects of one resource, ordered by namespace then name (etcd key order)."""
        with self.lock:
            by_ns = self._objects.get(key, {})
            if namespace is not None:
                names = by_ns.get(namespace, {})
                return [names[n] for n in sorted(names)]
            out = []
            for ns in sorted(by_ns):
                names = by_ns[ns]
                out.extend(names[n] for n in sorted(names))
            return out

    def list_at(self, key: Key, namespace: str | None, rv: int) -> list[dict]:
        """Objects of one resource as they were at resourceVersion `rv` (etcd's read at a
        revision), ordered like `list`. Raises TooOld when `rv` is older than the kept
        history (compacted), as etcd answers for a compacted revision."""
        with self.lock:
            if rv >= self._rv:
                return self.list(key, namespace)
            if rv < self._compacted:
                raise TooOld(rv, self._compacted + 1)
            # the state before the first change after rv, for each object changed since
            before: dict[tuple[str, str], dict | None] = {}
            for event in reversed(self._history):
                if event.rv <= rv:
                    break
                if event.key == key and (namespace is None or event.namespace == namespace):
                    before[(event.namespace, event.obj["metadata"]["name"])] = event.old
            current = self.list(key, namespace)
            if not before:
                return current
            out = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in current}
            for ident, old in before.items():
                if old is None:
                    out.pop(ident, None)
                else:
                    out[ident] = old
            return [out[ident] for ident in sorted(out)]

    def namespaces_with(self, key: Key) -> list[str]:
        return [ns for ns, names in self._objects.get(key, {}).items() if names]

    def resource_keys(self) -> list[Key]:
        return list(self._objects)

    def count(self) -> int:
        return sum(len(n) for by_ns in self._objects.values() for n in by_ns.values())

    def dependents(self, owner_uid: str) -> list[tuple[Key, str, str]]:
        """(key, namespace, name) of objects whose ownerReferences name this uid."""
        return sorted(self._owners.get(owner_uid, ()))

    def encoded(self, key: Key, obj: dict) -> bytes:
        """The object's JSON, encoded once per stored version."""
        meta = obj.get("metadata", {})
        cache_key = (key, meta.get("namespace", ""), meta.get("name", ""))
        cached = self._encoded.get(cache_key)
        if cached is not None and cached[0] is obj:
            return cached[1]
        data = dumps(obj)
        if self.get(key, cache_key[1], cache_key[2]) is obj:
            self._encoded[cache_key] = (obj, data)
        return data

    # -- writes ------------------------------------------------------------------------

    def next_resource_version(self) -> int:
        self._rv += 1
        return self._rv

    def put(self, key: Key, obj: dict) -> Event:
        """Insert or replace an object under a new resourceVersion.

        `obj` is stamped with the resourceVersion; what is stored (and returned as
        `event.obj`) is a compacted copy, which from then on must not be mutated.
        """
        with self.lock:
            namespace, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
            rv = self.next_resource_version()
            obj["metadata"]["resourceVersion"] = str(rv)
            obj = self._sharer.compact(obj)
            names = self._objects.setdefault(key, {}).setdefault(namespace, {})
            old = names.get(name)
            names[name] = obj
            self._encoded.pop((key, namespace, name), None)
            self._index_owners(key, namespace, name, old, obj)
            return self._emit(Event(rv, MODIFIED if old else ADDED, key, namespace, obj, old))

    def remove(self, key: Key, namespace: str, name: str) -> Event | None:
        """Remove an object; the DELETED event carries its last state at a new RV."""
        with self.lock:
            names = self._objects.get(key, {}).get(namespace or "", {})
            old = names.pop(name, None)
            if old is None:
                return None
            self._encoded.pop((key, namespace or "", name), None)
            self._index_owners(key, namespace or "", name, old, None)
            rv = self.next_resource_version()
            final = dict(old)
            final["metadata"] = {**old["metadata"], "resourceVersion": str(rv)}
            return self._emit(Event(rv, DELETED, key, namespace or "", final, old))

    def drop_resource(self, key: Key) -> None:
        """Forget a resource's storage entirely (its CRD is gone), without events."""
        with self.lock:
            for namespace, names in self._objects.pop(key, {}).items():
                for name, obj in names.items():
                    self._encoded.pop((key, namespace, name), None)
                    self._index_owners(key, namespace, name, obj, None)

    def _index_owners(self, key: Key, ns: str, name: str, old: dict | None, new: dict | None):
        ident = (key, ns, name)
        for obj, add in ((old, False), (new, True)):
            if not obj:
                continue
            for ref in obj["metadata"].get("ownerReferences") or ():
                uid = ref.get("uid")
                if not uid:
                    continue
                if add:
                    self._owners.setdefault(uid, set()).add(ident)
                else:
                    owned = self._owners.get(uid)
                    if owned is not None:
                        owned.discard(ident)
                        if not owned:
                            del self._owners[uid]

    # -- events ------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call `callback(event)` after every write, in the writer's thread.

        Returns a function that unsubscribes. Callbacks must be quick and must not write
        to the store (schedule work instead).
        """
        with self.lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self.lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, event: Event) -> Event:
        self._history.append(event)
        if len(self._history) > self._history_size:
            self._compacted = self._history.popleft().rv
        for callback in list(self._subscribers):
            callback(event)
        return event

    def events_since(self, rv: int) -> Iterator[Event]:
        """Events after `rv`; raises TooOld when some of them were compacted away."""
        if rv < self._compacted:
            raise TooOld(rv, self._compacted + 1)
        return (e for e in list(self._history) if e.rv > rv)

    def compact(self) -> None:
        """Drop the whole event history (fault injection: expire watches)."""
        with self.lock:
            self._history.clear()
            self._compacted = self._rv

    # -- persistence -------------------------------------------------------------------

    def snapshot(self) -> dict:
        with self.lock:
            items = []
            for (group, plural), by_ns in self._objects.items():
                for names in by_ns.values():
                    for obj in names.values():
                        items.append({"group": group, "plural": plural, "object": obj})
            return {"resourceVersion": self._rv, "objects": items}

    def restore(self, snapshot: dict) -> None:
        """Load a snapshot into an empty store (no events: watchers cannot exist yet)."""
        with self.lock:
            for item in snapshot["objects"]:
                key = (item["group"], item["plural"])
                obj = self._sharer.compact(item["object"])
                meta = obj["metadata"]
                ns = meta.get("namespace", "")
                self._objects.setdefault(key, {}).setdefault(ns, {})[meta["name"]] = obj
                self._index_owners(key, ns, meta["name"], None, obj)
            self._rv = int(snapshot["resourceVersion"])
            self._compacted = self._rv
