"""The engine and the event recorder, in-process (no HTTP): timers, quiescence, aggregation."""

from __future__ import annotations

from datetime import timedelta

from kubesim.apiserver.rules import RULES
from kubesim.runtime.controllers.base import Controller
from kubesim.runtime.controllers.engine import Simulation
from kubesim.storage.clock import Clock
from kubesim.storage.cluster import Cluster


class Ticker(Controller):
    name = "ticker"
    component = "ticker-controller"
    watches = ("ConfigMap",)

    def __init__(self) -> None:
        self.runs: list[tuple[bool, bool, int, float]] = []
        self.start = None

    def reconcile(self, ctx) -> None:
        self.start = self.start or ctx.clock.now()
        offset = (ctx.clock.now() - self.start).total_seconds()
        self.runs.append((ctx.resync, ctx.timer, len(ctx.changed("ConfigMap")), offset))
        if len(self.runs) < 4:
            ctx.requeue_after(10)
        ns = ctx.cluster.get("v1", "Namespace", "default")
        ctx.events.record(ns, "Normal", "Tick", "tick")


def _cluster() -> Cluster:
    cluster = Cluster(name="t", spec={"workers": 1}, rules=RULES)
    cluster.bootstrap()
    return cluster


def test_advance_stops_at_every_timer_and_events_aggregate():
    cluster = _cluster()
    ticker = Ticker()
    sim = Simulation(cluster, controllers=[ticker], clock=Clock(factor=0))
    cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    sim.advance(35)
    assert [(r, t, n) for r, t, n, _ in ticker.runs] == [
        (True, False, 1),
        (False, True, 0),
        (False, True, 0),
        (False, True, 0),
    ]
    assert [round(o) for *_, o in ticker.runs] == [0, 10, 20, 30]
    events = cluster.list("v1", "Event", "default")
    assert len(events) == 1
    event = events[0]
    assert (event["count"], event["reason"], event["source"]["component"]) == (
        4,
        "Tick",
        "ticker-controller",
    )
    assert event["firstTimestamp"] < event["lastTimestamp"]


def test_changes_wake_only_the_watchers():
    cluster = _cluster()
    ticker = Ticker()
    sim = Simulation(cluster, controllers=[ticker], clock=Clock(factor=0))
    sim.step()
    runs = len(ticker.runs)
    cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
    sim.step()
    assert len(ticker.runs) == runs
    cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}})
    sim.step()
    assert len(ticker.runs) == runs + 1


def test_a_burst_of_pods_is_worked_off_in_slices():
    cluster = Cluster(name="t", spec={"workers": 5}, rules=RULES)
    cluster.bootstrap()
    sim = Simulation(cluster, clock=Clock(factor=0))
    for i in range(450):
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"p{i}"},
                "spec": {"containers": [{"name": "a", "image": "nginx"}]},
            }
        )
    sim.advance(10)
    phases = {p["status"].get("phase") for p in cluster.list("v1", "Pod", "default")}
    assert phases == {"Running"}


def test_clock_moves_with_its_factor_and_never_back():
    real = [0.0]
    clock = Clock(factor=10, monotonic=lambda: real[0])
    start = clock.now()
    real[0] = 2.0
    assert clock.now() - start == timedelta(seconds=20)
    clock.set_factor(0)
    frozen = clock.now()
    real[0] = 5.0
    assert clock.now() == frozen
    clock.advance(5)
    assert clock.now() - frozen == timedelta(seconds=5)
    clock.advance_to(start)  # never backwards
    assert clock.now() - frozen == timedelta(seconds=5)
