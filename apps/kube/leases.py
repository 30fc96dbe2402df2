"""Leader election through Kubernetes Leases (coordination.k8s.io/v1), per cluster.

When the portal runs scaled out (``deploy/``), several informer replicas share one
database. Each managed cluster must be watched by exactly one of them, so for each
cluster there is a Lease ``kcs-informer-<cluster id>`` in the namespace the portal
runs in, in the Kubernetes the portal itself runs on (not the managed cluster). A
replica watches a cluster only while it holds that cluster's Lease.

The rules are client-go's ``leaderelection`` package, so they behave as every
controller's do:

- A candidate reads the Lease. Nobody holds it (absent, or released with an empty
  holder), or its holder has not renewed it for ``leaseDurationSeconds`` *as measured
  by this replica's own clock since it last saw the record change* (clocks of different
  machines are never compared): it takes it over, with the resourceVersion it read,
  so of two candidates racing exactly one wins (the other gets a 409).
- The holder renews every ``retry`` seconds. If it has not managed to for
  ``renew_deadline`` seconds it stops watching at once; ``renew_deadline`` is shorter
  than the Lease's duration, so it has stopped before any other replica may take over.
- On a clean stop (SIGTERM) the watches end first, then the Leases are released, so
  another replica takes over at once instead of after the Lease expires.

The replicas also share the clusters out. Each keeps a presence Lease of its own
(``kcs-informer-member-<hash of its identity>``, renewed with the rest); a replica
counts the live ones (by the same "seen to change within the duration" rule) and
holds at most its fair share, ``ceil(clusters / replicas)``: it competes for no more,
and releases the excess (its highest cluster ids) when a replica joins, so the
newcomer takes them at once. When a replica dies, its presence Lease stops changing,
the others' share grows, and they take over its clusters as its Leases expire.
"""

import datetime
import hashlib
import logging
import math
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

import kubernetes
from kubernetes.client.rest import ApiException

log = logging.getLogger("kcsportal.informer")

PREFIX = "kcs-informer"
MEMBER_PREFIX = f"{PREFIX}-member"
MEMBER_SELECTOR = "app.kubernetes.io/component=informer-member"
SERVICEACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


@dataclass(frozen=True)
class Timing:
    """client-go's three durations (its defaults: 15, 10 and 2 seconds)."""

    duration: float = 15.0  # a Lease not renewed for this long may be taken over
    renew_deadline: float = 10.0  # the holder gives up after failing to renew this long
    retry: float = 2.0  # how often candidates try and holders renew

    @property
    def seconds(self) -> int:
        """leaseDurationSeconds (whole seconds)."""
        return max(1, math.ceil(self.duration))

    @classmethod
    def for_duration(cls, seconds: float) -> "Timing":
        return cls(duration=seconds, renew_deadline=seconds * 2 / 3, retry=seconds / 7.5)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Lease:
    """One Lease, from one candidate's point of view."""

    def __init__(
        self,
        api,
        namespace: str,
        name: str,
        identity: str,
        timing: Timing,
        clock,
        component: str = "informer",
    ):
        self.api = api  # kubernetes.client.CoordinationV1Api
        self.component = component
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
        self.clock = clock
        self.observed: tuple | None = None  # the record as last read ...
        self.observed_at = 0.0  # ... and when it was first seen so (our clock)
        self.renewed_at: float | None = None  # when we last held it for sure (our clock)

    def _observe(self, spec) -> None:
        record = (
            spec.holder_identity,
            spec.renew_time,
            spec.lease_duration_seconds,
            spec.lease_transitions,
        )
        if record != self.observed:
            self.observed, self.observed_at = record, self.clock()

    def timeout(self) -> float:
        """The bound on one request: well within the renew deadline."""
        return max(1.0, self.timing.renew_deadline / 2)

    def observe(self) -> None:
        """Read the record without competing, so that the time it last changed is
        known when this candidate may compete for it."""
        try:
            lease = self.api.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=self.timeout()
            )
        except Exception as exc:  # absent, or the API is down: nothing seen
            log.debug("lease %s: %s", self.name, exc)
            return
        self._observe(lease.spec or kubernetes.client.V1LeaseSpec())

    def try_acquire_or_renew(self) -> bool:
        """One round: whether this candidate holds the Lease now."""
        started = self.clock()
        now = _utcnow()
        try:
            lease = self.api.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=self.timeout()
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            return self._create(now, started)
        spec = lease.spec or kubernetes.client.V1LeaseSpec()
        self._observe(spec)
        holder = spec.holder_identity or ""
        duration = spec.lease_duration_seconds or self.timing.duration
        if holder and holder != self.identity and self.observed_at + duration > self.clock():
            self.renewed_at = None
            return False  # someone else's, and alive as far as we can tell
        if holder != self.identity:
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
            spec.holder_identity = self.identity
        spec.lease_duration_seconds = self.timing.seconds
        spec.renew_time = now
        lease.spec = spec
        try:
            answer = self.api.replace_namespaced_lease(
                self.name, self.namespace, lease, _request_timeout=self.timeout()
            )
        except ApiException as exc:
            if exc.status == 409:  # another candidate (or the holder) wrote it first
                self.renewed_at = None
                return False
            raise
        self._observe(answer.spec)
        self.renewed_at = started
        return True

    def _create(self, now, started: float) -> bool:
        body = kubernetes.client.V1Lease(
            metadata=kubernetes.client.V1ObjectMeta(
                name=self.name,
                labels={
                    "app.kubernetes.io/name": "kcs-portal",
                    "app.kubernetes.io/component": self.component,
                },
            ),
            spec=kubernetes.client.V1LeaseSpec(
                holder_identity=self.identity,
                lease_duration_seconds=self.timing.seconds,
                acquire_time=now,
                renew_time=now,
                lease_transitions=0,
            ),
        )
        try:
            answer = self.api.create_namespaced_lease(
                self.namespace, body, _request_timeout=self.timeout()
            )
        except ApiException as exc:
            if exc.status == 409:  # created by another candidate meanwhile
                return False
            raise
        self._observe(answer.spec)
        self.renewed_at = started
        return True

    def held(self) -> bool:
        """Whether we renewed it recently enough to act as its holder."""
        renewed = self.renewed_at
        return renewed is not None and self.clock() - renewed < self.timing.renew_deadline

    def release(self) -> None:
        """Give it up (only if still ours), so another candidate need not wait for it."""
        self.renewed_at = None
        try:
            lease = self.api.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=self.timeout()
            )
            if lease.spec is None or lease.spec.holder_identity != self.identity:
                return
            now = _utcnow()
            lease.spec.holder_identity = None
            lease.spec.lease_duration_seconds = 1
            lease.spec.acquire_time = now
            lease.spec.renew_time = now
            self.api.replace_namespaced_lease(
                self.name, self.namespace, lease, _request_timeout=self.timeout()
            )
        except Exception as exc:  # it expires on its own
            log.warning("could not release lease %s: %s", self.name, exc)


class Elector(threading.Thread):
    """Holds the Leases of its fair share of the clusters, one Lease per cluster.

    ``want(ids)`` says which clusters to compete for (the informer's scan does);
    ``holds(id)`` whether this process may watch that one now; ``on_change`` is
    called (from this thread) whenever that answer changes for some cluster.
    """

    def __init__(
        self,
        api_client,
        namespace: str,
        identity: str,
        *,
        timing: Timing | None = None,
        release_on_stop: bool = True,
        on_change=None,
        clock=time.monotonic,
    ):
        super().__init__(name="informer-leases", daemon=True)
        self.api = kubernetes.client.CoordinationV1Api(api_client)
        self.namespace = namespace
        self.identity = identity
        self.timing = timing or Timing()
        self.release_on_stop = release_on_stop
        self.on_change = on_change
        self.clock = clock
        self.leases: dict[int, Lease] = {}
        self._wanted: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.stopping = threading.Event()
        self._held: set[int] = set()
        member = hashlib.sha256(identity.encode()).hexdigest()[:16]
        self.presence = Lease(
            self.api,
            namespace,
            f"{MEMBER_PREFIX}-{member}",
            identity,
            self.timing,
            clock,
            component="informer-member",
        )
        self._members: dict[str, tuple] = {}  # presence Lease -> (record, first seen)
        self._live = 1

    def lease_name(self, cluster_id: int) -> str:
        return f"{PREFIX}-{cluster_id}"

    def _lease(self, cluster_id: int) -> Lease:
        name = self.lease_name(cluster_id)
        return Lease(self.api, self.namespace, name, self.identity, self.timing, self.clock)

    def want(self, cluster_ids) -> None:
        ids = set(cluster_ids)
        with self._lock:
            changed, self._wanted = ids != self._wanted, ids
        if changed:
            self._wake.set()

    def holds(self, cluster_id: int) -> bool:
        lease = self.leases.get(cluster_id)
        return lease is not None and cluster_id in self._wanted and lease.held()

    def held(self) -> set[int]:
        return {pk for pk in list(self.leases) if self.holds(pk)}

    def run_once(self) -> None:
        """One round: renew what is held, release what is no longer wanted or is more
        than this replica's fair share, and compete for more while under it."""
        with self._lock:
            wanted = set(self._wanted)
        for pk in [pk for pk in self.leases if pk not in wanted]:
            lease = self.leases.pop(pk)
            if lease.held():
                lease.release()
        share = math.ceil(len(wanted) / self._live_replicas()) if wanted else 0
        mine = [pk for pk in sorted(wanted) if self._lease_of(pk).renewed_at is not None]
        held = [pk for pk in mine if self._compete(pk)]
        for pk in held[share:]:  # a replica joined: hand the highest ids over
            log.info("handing cluster %s over to another replica (fair share %s)", pk, share)
            self.leases[pk].release()
        count = min(len(held), share)
        for pk in sorted(wanted):
            if pk in mine:
                continue
            if count < share:
                count += self._compete(pk)
            else:  # still watched, so it can be taken as soon as its holder is gone
                self._lease_of(pk).observe()
        self._notify()

    def _lease_of(self, pk: int) -> Lease:
        lease = self.leases.get(pk)
        if lease is None:
            lease = self.leases[pk] = self._lease(pk)
        return lease

    def _compete(self, pk: int) -> bool:
        """Try for (or renew) one cluster's Lease; whether it is ours now."""
        lease = self._lease_of(pk)
        was = lease.renewed_at is not None
        try:
            lease.try_acquire_or_renew()
        except Exception as exc:  # the holder keeps it until renew_deadline passes
            log.warning("lease %s: %s", lease.name, exc)
        if lease.renewed_at is not None and not was:
            log.info("leading cluster %s (lease %s)", pk, lease.name)
        return lease.held()

    def _live_replicas(self) -> int:
        """Renew this replica's presence Lease and count the replicas alive (itself
        included), by the rule of ``Lease``: a presence seen to change within its
        duration by our own clock. The last count stands while the API fails."""
        try:
            self.presence.try_acquire_or_renew()
            answer = self.api.list_namespaced_lease(
                self.namespace,
                label_selector=MEMBER_SELECTOR,
                _request_timeout=self.presence.timeout(),
            )
        except Exception as exc:
            log.warning("counting informer replicas: %s", exc)
            return self._live
        now, live, seen = self.clock(), 1, {}
        for item in answer.items:
            spec, name = item.spec, item.metadata.name
            if spec is None or not spec.holder_identity or name == self.presence.name:
                continue
            record = (spec.holder_identity, spec.renew_time)
            earlier = self._members.get(name)
            seen[name] = (record, earlier[1] if earlier and earlier[0] == record else now)
            duration = spec.lease_duration_seconds or self.timing.duration
            if seen[name][1] + duration > now:
                live += 1
            elif seen[name][1] + 4 * duration < now:  # long dead (killed): tidy it away
                self._delete(name)
        self._members, self._live = seen, live
        return live

    def _delete(self, name: str) -> None:
        try:
            self.api.delete_namespaced_lease(
                name, self.namespace, _request_timeout=self.presence.timeout()
            )
        except Exception as exc:  # someone else tidied it, or the API is down: next time
            log.debug("could not delete lease %s: %s", name, exc)

    def _notify(self) -> None:
        held = self.held()
        if held != self._held:
            for pk in self._held - held:
                log.info("no longer leading cluster %s", pk)
            self._held = held
            if self.on_change is not None:
                self.on_change()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("leader election failed")
            self._wake.wait(self.timing.retry)
            self._wake.clear()

    def stop(self) -> None:
        """Stop competing; release what is held (the caller stopped watching first)."""
        self.stopping.set()
        self._wake.set()
        if self.is_alive():
            self.join(self.timing.renew_deadline + 5)
        if self.release_on_stop:
            for lease in list(self.leases.values()):
                if lease.held():
                    lease.release()
            self._delete(self.presence.name)  # the others' share grows at once
        self.leases.clear()


def default_identity() -> str:
    """The pod's name (unique among the replicas) plus a suffix unique to this process."""
    base = os.environ.get("POD_NAME") or socket.gethostname()
    return f"{base}_{uuid.uuid4().hex[:8]}"


def own_namespace(configured: str = "") -> str:
    """The namespace the portal runs in: configured, or the pod's service account's."""
    if configured:
        return configured
    try:
        with open(SERVICEACCOUNT_NAMESPACE) as file:
            return file.read().strip() or "default"
    except OSError:
        return "default"


def own_api_client(kubeconfig: str = ""):
    """A client for the Kubernetes the portal runs in: in-cluster, or a kubeconfig file."""
    configuration = kubernetes.client.Configuration()
    if kubeconfig:
        kubernetes.config.load_kube_config(
            config_file=kubeconfig, client_configuration=configuration
        )
    else:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    return kubernetes.client.ApiClient(configuration)
