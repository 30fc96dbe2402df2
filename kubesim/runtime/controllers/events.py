"""The event recorder: core/v1 Events as client-go's recorder and correlator write them.

An event that repeats (same object, type, reason, message, source) within the
aggregation window is not written again: the existing Event's `count` goes up and
`lastTimestamp` moves, which is what `kubectl get events` and `describe` show as
"(x4 over 2m)". Events expire after `TTL` simulated seconds, like the apiserver's
one-hour event TTL, so a long-running large cluster does not accumulate them forever.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import logging
import uuid

from kubesim.storage import errors
from kubesim.storage.clock import Clock, parse_time

log = logging.getLogger("kubesim.events")

EVENT_KEY = ("", "events")
TTL = 3600  # seconds an Event lives after its last update (kube-apiserver --event-ttl)
AGGREGATE_WINDOW = 600  # seconds in which a repeat updates the existing Event


class EventRecorder:
    """Writes Events for one cluster; `for_component` gives a controller's own recorder."""

    def __init__(self, cluster, clock: Clock) -> None:
        self.cluster = cluster
        self.clock = clock
        # (involved uid, type, reason, message, component) -> (namespace, event name)
        self._seen: dict[tuple, tuple[str, str]] = {}
        # (expiry time, namespace, name) in the order written, for TTL expiry
        self._expiry: collections.deque[tuple[float, str, str]] = collections.deque()
        self._serial = 0

    def for_component(self, component: str) -> ComponentRecorder:
        return ComponentRecorder(self, component)

    def record(
        self,
        obj: dict,
        type: str,
        reason: str,
        message: str,
        *,
        component: str = "kubesim",
        field_path: str | None = None,
        host: str | None = None,
    ) -> None:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        stamp = self.clock.timestamp()
        key = (meta.get("uid"), field_path, type, reason, message, component, host)
        existing = self._seen.get(key)
        if existing is not None and self._bump(existing, stamp):
            return
        self._serial += 1
        digest = hashlib.sha256(f"{meta.get('uid')}/{self._serial}".encode()).hexdigest()
        name = f"{meta.get('name', '')}.{digest[:16]}"
        involved = {
            "kind": obj.get("kind", ""),
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if not involved["namespace"]:
            del involved["namespace"]
        if field_path:
            involved["fieldPath"] = field_path
        source = {"component": component}
        if host:
            source["host"] = host
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": type,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        ns_obj = self.cluster.store.get(("", "namespaces"), "", namespace)
        if ns_obj is None or ns_obj["metadata"].get("deletionTimestamp"):
            return  # the apiserver refuses events in a missing or terminating namespace
        # Straight into storage: events are the most frequent write of a busy cluster and
        # need none of the write pipeline (nothing validates, defaults or owns them).
        event["metadata"]["uid"] = str(uuid.uuid4())
        event["metadata"]["creationTimestamp"] = stamp
        self.cluster.store.put(EVENT_KEY, event)
        self._seen[key] = (namespace, name)
        self._expiry.append((self.clock.now().timestamp() + TTL, namespace, name))
        self.expire()

    def _bump(self, where: tuple[str, str], stamp: str) -> bool:
        """Count a repeat on the existing Event; False if it is gone or too old."""
        namespace, name = where
        current = self.cluster.store.get(EVENT_KEY, namespace, name)
        if current is None:
            return False
        last = parse_time(current.get("lastTimestamp"))
        if last is not None and self.clock.seconds_since(last) > AGGREGATE_WINDOW:
            return False
        updated = {**current, "count": int(current.get("count") or 1) + 1, "lastTimestamp": stamp}
        updated["metadata"] = dict(current["metadata"])
        self.cluster.store.put(EVENT_KEY, updated)
        self._expiry.append((self.clock.now().timestamp() + TTL, namespace, name))
        return True

    def expire(self) -> None:
        """Delete Events whose TTL passed (a bump re-queues an Event; stale entries are
        checked against its lastTimestamp)."""
        now = self.clock.now().timestamp()
        while self._expiry and self._expiry[0][0] <= now:
            _, namespace, name = self._expiry.popleft()
            current = self.cluster.store.get(EVENT_KEY, namespace, name)
            if current is None:
                continue
            last = parse_time(current.get("lastTimestamp"))
            if last is not None and now - last.timestamp() < TTL:
                continue  # bumped since; a later entry covers it
            with contextlib.suppress(errors.ApiError):
                self.cluster.delete("v1", "Event", name, namespace)
        if len(self._seen) > 50_000:
            self._seen.clear()  # forget aggregation keys rather than grow without bound


class ComponentRecorder:
    """A recorder bound to one component (the `From` column of kubectl describe)."""

    def __init__(self, recorder: EventRecorder, component: str) -> None:
        self._recorder = recorder
        self.component = component

    def record(
        self,
        obj: dict,
        type: str,
        reason: str,
        message: str,
        *,
        field_path: str | None = None,
        host: str | None = None,
    ) -> None:
        self._recorder.record(
            obj,
            type,
            reason,
            message,
            component=self.component,
            field_path=field_path,
            host=host,
        )
