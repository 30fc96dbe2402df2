"""Runs a cluster's controllers: one `Simulation` per virtual cluster.

The simulation subscribes to the cluster's store, remembers which controllers watch the
kinds that changed (a dirty set, with the changes themselves so controllers can work
incrementally), and runs the dirty ones until nothing changes any more, in a bounded
number of rounds. Controllers ask to be run again later with `ctx.requeue_after`; those
timers are kept on the simulated clock.

Two ways to drive it:
- `run()`: the background task on the server's event loop. It wakes on every change and
  when the next timer is due, at the clock's time factor (simulated seconds per real
  second).
- `advance(seconds)`: moves the simulated clock forward timer by timer and reconciles
  synchronously after each step; deterministic, for tests and the admin API.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import threading
import time
from datetime import datetime, timedelta

from kubesim.runtime.controllers import (
    apiservices,
    autoscaling,
    daemonsets,
    disruption,
    endpointslices,
    ingress,
    jobs,
    kubelet,
    loadbalancers,
    logshipper,
    nodes,
    replication,
    rootca,
    scheduling,
    serviceaccounts,
    services,
    statefulsets,
    storage,
    usage,
    workloads,
)
from kubesim.runtime.controllers.base import Context, Controller, kind_of
from kubesim.runtime.controllers.events import EventRecorder
from kubesim.storage import errors
from kubesim.storage.clock import Clock
from kubesim.storage.store import Event

log = logging.getLogger("kubesim.engine")

# Controller modules in the order their controllers run within a round: what creates pods
# before what schedules them before what runs them. Each module lists CONTROLLERS.
MODULES = (
    nodes,
    rootca,
    serviceaccounts,
    workloads,
    replication,
    statefulsets,
    daemonsets,
    jobs,
    autoscaling,
    storage,
    scheduling,
    kubelet,
    services,
    endpointslices,
    loadbalancers,
    ingress,
    disruption,
    apiservices,
    logshipper,
)
MAX_ROUNDS = 500  # rounds per quiesce: a controller that never settles cannot hang the loop
MAX_STEPS = 100_000  # timer steps per advance()
IDLE_WAKE = 1.0  # real seconds the background task sleeps at most (time factor changes)
BUDGET = 0.1  # real seconds the background task reconciles before letting requests in
DEBOUNCE = 0.005  # real seconds to let a burst of writes gather before reconciling


def controller_classes() -> list[type[Controller]]:
    classes: list[type[Controller]] = []
    for module in MODULES:
        for cls in module.CONTROLLERS:
            # a controller listed by two modules (or two with one name) runs once
            if all(cls is not c and cls.name != c.name for c in classes):
                classes.append(cls)
    return classes


class Simulation:
    def __init__(
        self,
        cluster,
        controllers: list[Controller] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.cluster = cluster
        # the cluster's own clock, which also stamps its objects (or one given to both)
        if clock is not None:
            cluster.clock = clock
        self.clock = cluster.clock
        self.controllers = (
            controllers if controllers is not None else [c() for c in controller_classes()]
        )
        self.recorder = EventRecorder(cluster, self.clock)
        self._recorders = {
            c.name: self.recorder.for_component(c.component or c.name) for c in self.controllers
        }
        self._by_kind: dict[str, list[Controller]] = {}
        for c in self.controllers:
            for kind in c.watches:
                self._by_kind.setdefault(kind, []).append(c)
        self._lock = threading.RLock()
        self._pending: dict[str, list[Event]] = {c.name: [] for c in self.controllers}
        self._dirty: set[str] = {c.name for c in self.controllers}  # everyone resyncs first
        self._fresh: set[str] = {c.name for c in self.controllers}
        self._timers: list[tuple[datetime, int, str]] = []
        self._timer_due: dict[str, datetime] = {}
        self._timed: set[str] = set()
        self._seq = itertools.count()
        self._running: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._wake_pending = False
        self.load_factors: dict[tuple[str, str, str], float] = {}  # (ns, kind, name)
        self.load_version = 0
        self.stats = {"reconciles": 0, "seconds": 0.0}
        self._unsubscribe = cluster.on_change(self._on_change)
        self._closed = False
        cluster.simulation = self

    # -- change tracking ---------------------------------------------------------------------

    def _on_change(self, event: Event) -> None:
        watchers = self._by_kind.get(kind_of(self.cluster, event))
        if not watchers:
            return
        with self._lock:
            for c in watchers:
                if c.name == self._running and not getattr(c, "wake_on_own_writes", True):
                    continue
                self._pending[c.name].append(event)
                self._dirty.add(c.name)
        self._poke()

    def _poke(self) -> None:
        if self._loop is None or self._wake is None or self._wake_pending:
            return
        self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # the loop closed
            self._loop.call_soon_threadsafe(self._wake.set)

    def mark_dirty(self, name: str | None = None) -> None:
        """Wake one controller (or all) as if its kinds changed."""
        with self._lock:
            self._dirty.update([name] if name else [c.name for c in self.controllers])
        self._poke()

    # -- timers ------------------------------------------------------------------------------

    def _requeue(self, name: str, seconds: float) -> None:
        due = self.clock.now() + timedelta(seconds=seconds)
        with self._lock:
            current = self._timer_due.get(name)
            if current is not None and current <= due:
                return
            self._timer_due[name] = due
            heapq.heappush(self._timers, (due, next(self._seq), name))
        self._poke()

    def next_due(self) -> datetime | None:
        with self._lock:
            while self._timers:
                due, _, name = self._timers[0]
                if self._timer_due.get(name) == due:
                    return due
                heapq.heappop(self._timers)  # superseded by an earlier request
            return None

    def _fire_due(self) -> None:
        now = self.clock.now()
        with self._lock:
            while self._timers and self._timers[0][0] <= now:
                due, _, name = heapq.heappop(self._timers)
                if self._timer_due.get(name) == due:
                    del self._timer_due[name]
                    self._dirty.add(name)
                    self._timed.add(name)

    # -- reconciling -------------------------------------------------------------------------

    def run_until_quiet(self, budget: float | None = None) -> int:
        """Run dirty controllers until none is dirty; returns the number of rounds.

        budget: real seconds after which to stop early (the background task yields to
        the server's requests and comes back).
        """
        rounds = 0
        deadline = None if budget is None else time.perf_counter() + budget
        while rounds < MAX_ROUNDS:
            with self._lock:
                if not self._dirty:
                    break
            if deadline is not None and time.perf_counter() > deadline:
                return rounds
            rounds += 1
            for controller in self.controllers:
                if controller.name in self._dirty:
                    self._run(controller)
        else:
            log.warning("cluster %s: controllers did not settle", self.cluster.name)
        self.recorder.expire()
        return rounds

    def _run(self, controller: Controller) -> None:
        name = controller.name
        with self._lock:
            self._dirty.discard(name)
            changes, self._pending[name] = self._pending[name], []
            resync = name in self._fresh
            self._fresh.discard(name)
            timer = name in self._timed
            self._timed.discard(name)
        ctx = Context(
            cluster=self.cluster,
            clock=self.clock,
            events=self._recorders[name],
            changes=changes,
            resync=resync,
            timer=timer,
            simulation=self,
            _requeue=lambda seconds: self._requeue(name, seconds),
        )
        started = time.perf_counter()
        self._running = name
        try:
            controller.reconcile(ctx)
        except errors.ApiError as exc:
            if exc.code not in (404, 409):
                log.warning("controller %s: %s", name, exc)
            self._requeue(name, 1)
        except Exception:
            log.exception("controller %s failed", name)
            self._requeue(name, 5)
        finally:
            self._running = None
            self.stats["reconciles"] += 1
            self.stats["seconds"] += time.perf_counter() - started

    def step(self, budget: float | None = None) -> None:
        """Fire due timers and reconcile until quiet (one tick at the current time)."""
        self._fire_due()
        self.run_until_quiet(budget)

    def advance(self, seconds: float) -> datetime:
        """Move the simulated clock `seconds` forward, stopping at every timer on the way."""
        if seconds < 0:
            raise ValueError("cannot advance by a negative time")
        target = self.clock.now() + timedelta(seconds=seconds)
        self.step()
        for _ in range(MAX_STEPS):
            due = self.next_due()
            if due is None or due > target:
                break
            self.clock.advance_to(due)
            self.step()
        self.clock.advance_to(target)
        self.step()
        return self.clock.now()

    # -- load and usage ----------------------------------------------------------------------

    def set_load(self, namespace: str, kind: str, name: str, factor: float) -> None:
        self.load_factors[(namespace, kind, name)] = float(factor)
        self.load_version += 1  # the kubelet looks again at memory-limited containers
        self.mark_dirty()

    def load_for(self, pod: dict) -> float:
        if not self.load_factors:
            return 1.0
        ns = pod["metadata"].get("namespace", "")
        for kind, name in usage.owner_chain(self.cluster, pod):
            factor = self.load_factors.get((ns, kind, name))
            if factor is not None:
                return factor
        return 1.0

    def pod_usage(self, pod: dict) -> dict[str, int]:
        return usage.pod_usage(pod, self.load_for(pod), self.clock.now())

    def container_usage(self, pod: dict) -> list[dict]:
        return usage.container_usage(pod, self.load_for(pod), self.clock.now())

    # -- background task ---------------------------------------------------------------------

    async def run(self) -> None:
        if self._closed:
            self._unsubscribe = self.cluster.on_change(self._on_change)
            self._closed = False
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        try:
            while True:
                self._wake_pending = False
                self._wake.clear()
                self.step(BUDGET)
                if self._dirty:
                    await asyncio.sleep(0)  # let requests in, then carry on
                    continue
                due = self.next_due()
                delay = IDLE_WAKE
                if due is not None:
                    delay = min(IDLE_WAKE, self.clock.real_seconds_until(due))
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), delay)
                    if self._wake.is_set():
                        await asyncio.sleep(DEBOUNCE)
                else:
                    await asyncio.sleep(0)
        finally:
            self.close()

    def close(self) -> None:
        """Stop following the store, and stop what controllers run beside the loop.

        A deleted cluster's log shippers are threads: left running they would post its
        pods' lines on to a portal that no longer knows the cluster.
        """
        if not self._closed:
            self._unsubscribe()
            self._closed = True
            for controller in self.controllers:
                stop = getattr(controller, "stop", None)
                if stop is not None:
                    stop()
        self._loop = None


def start(cluster) -> asyncio.Future | None:
    """The controller factory the hub calls for each cluster (see kubesim.apiserver.hub)."""
    existing = getattr(cluster, "simulation", None)
    sim = existing if isinstance(existing, Simulation) else Simulation(cluster)
    return sim.run()


def simulation_of(cluster) -> Simulation:
    """The cluster's simulation (created, not yet running, if the hub has not started it)."""
    sim = getattr(cluster, "simulation", None)
    if not isinstance(sim, Simulation):
        sim = Simulation(cluster)
    return sim
