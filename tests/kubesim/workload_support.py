"""Helpers for the controller tests: drive a cluster's simulation on the simulated clock.

`World.advance(seconds)` moves the cluster's simulated clock on the server's loop, so the
controllers, the scheduler and the kubelet run exactly as in the background, stopping at
every timer on the way, without real waiting.
"""

from __future__ import annotations

from collections.abc import Callable

from kubesim.runtime.controllers import engine


class World:
    def __init__(self, server, cluster) -> None:
        self.server = server
        self.cluster = cluster
        self.simulation = server.call(engine.simulation_of, cluster)
        # Frozen: simulated time moves only when the test advances it, however slowly the
        # machine runs (at a time factor > 0, a loaded machine's real seconds would add to
        # the simulated ones and fire deadlines the test never asked for).
        self.call(self.simulation.clock.set_factor, 0)

    def call(self, fn: Callable, *args):
        return self.server.call(fn, *args)

    def advance(self, seconds: float = 1, step: float = 1) -> None:
        """Advance in steps of `step` simulated seconds (finer sampling for invariants)."""
        left = seconds
        while left > 0:
            chunk = min(step, left)
            self.call(self.simulation.advance, chunk)
            left -= chunk

    def until(self, predicate: Callable[[], bool], limit: float = 600, step: float = 1) -> float:
        """Advance until predicate() holds; the simulated seconds it took."""
        spent = 0.0
        while not predicate():
            if spent >= limit:
                raise AssertionError(f"condition not reached within {limit} simulated seconds")
            self.advance(step)
            spent += step
        return spent


def ready(pod) -> bool:
    """A typed-client V1Pod (or a dict) that is Ready and not being deleted."""
    if isinstance(pod, dict):
        if pod["metadata"].get("deletionTimestamp"):
            return False
        conditions = (pod.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    if pod.metadata.deletion_timestamp:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
