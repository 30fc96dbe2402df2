"""Helpers for the controller tests: drive a cluster's simulation on the simulated clock.

`World.advance(seconds)` moves the cluster's simulated clock on the server's loop, so the
controllers (and the scheduler and kubelet) run exactly as in the background, without
real waiting. Until the simulated kubelet exists, scheduled or unscheduled pods are made
Running and Ready here, the way a kubelet would report them.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

from kubesim.clock import format_time
from kubesim.controllers import engine


def _has_kubelet() -> bool:
    try:
        importlib.import_module("kubesim.controllers.kubelet")
    except ModuleNotFoundError:
        return False
    return True


class World:
    def __init__(self, server, cluster) -> None:
        self.server = server
        self.cluster = cluster
        self.simulation = server.call(engine.simulation_of, cluster)
        self.fake_kubelet = not _has_kubelet()

    def call(self, fn: Callable, *args):
        return self.server.call(fn, *args)

    def advance(self, seconds: float = 1, step: float = 1) -> None:
        """Advance in steps of `step` simulated seconds (finer sampling for invariants)."""
        left = seconds
        while left > 0:
            chunk = min(step, left)
            self.call(self._advance, chunk)
            left -= chunk

    def _advance(self, seconds: float) -> None:
        self.simulation.advance(seconds)
        if self.fake_kubelet and self._run_pods():
            self.simulation.step()

    def _run_pods(self) -> bool:
        """Stand-in kubelet: pods become Running and Ready one second after creation."""
        changed = False
        stamp = format_time(self.simulation.clock.now())
        for pod in self.cluster.list("v1", "Pod"):
            status = pod.get("status") or {}
            if pod["metadata"].get("deletionTimestamp") or status.get("phase") != "Pending":
                continue
            running = {
                **status,
                "phase": "Running",
                "startTime": stamp,
                "podIP": _pod_ip(pod),
                "podIPs": [{"ip": _pod_ip(pod)}],
                "conditions": [
                    {"type": t, "status": "True", "lastTransitionTime": stamp}
                    for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
                ],
                "containerStatuses": [
                    {
                        "name": c["name"],
                        "image": c.get("image", ""),
                        "imageID": f"docker.io/library/{c.get('image', '')}",
                        "containerID": f"containerd://{pod['metadata']['uid']}",
                        "ready": True,
                        "restartCount": 0,
                        "started": True,
                        "state": {"running": {"startedAt": stamp}},
                    }
                    for c in pod["spec"].get("containers", [])
                ],
            }
            self.cluster.update_status({**pod, "status": running})
            changed = True
        return changed

    def until(self, predicate: Callable[[], bool], limit: float = 600, step: float = 1) -> float:
        """Advance until predicate() holds; the simulated seconds it took."""
        spent = 0.0
        while not predicate():
            if spent >= limit:
                raise AssertionError(f"condition not reached within {limit} simulated seconds")
            self.advance(step)
            spent += step
        return spent

    def wait_real(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached")
            time.sleep(0.05)


def _pod_ip(pod: dict) -> str:
    digest = int(pod["metadata"]["uid"].replace("-", "")[:8], 16)
    return f"10.244.{digest % 250}.{(digest >> 8) % 250 + 2}"


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
