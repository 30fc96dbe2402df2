"""Reconcile time of a large simulated cluster, and its steady-state CPU when idle.

    python bench/kubesim_runtime_bench.py [--nodes 500] [--pods 20000] [--idle 10]

Builds a cluster of --nodes workers in-process, creates --pods bare pods (small
requests, so they fit), advances the simulated clock until every pod is Running, and
prints how long that took; then lets the background engine run at time factor 1 for
--idle real seconds and prints the CPU it used (heartbeats, timers), as a share of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubesim.apiserver.rules import RULES
from kubesim.runtime.controllers.engine import Simulation
from kubesim.storage.cluster import Cluster


def pod(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"p-{i:05d}", "namespace": "default", "labels": {"app": f"a{i % 50}"}},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                }
            ]
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--pods", type=int, default=20_000)
    parser.add_argument("--idle", type=float, default=10.0)
    args = parser.parse_args()

    started = time.perf_counter()
    cluster = Cluster(name="bench", spec={"masters": 1, "workers": args.nodes}, rules=RULES)
    cluster.bootstrap()
    sim = Simulation(cluster)
    sim.clock.set_factor(0)
    sim.step()
    print(f"cluster with {args.nodes} workers: {time.perf_counter() - started:.1f}s")

    started = time.perf_counter()
    for i in range(args.pods):
        cluster.create(pod(i))
    created = time.perf_counter() - started
    print(f"created {args.pods} pods: {created:.1f}s ({args.pods / created:.0f}/s)")

    started, cpu = time.perf_counter(), time.process_time()
    sim.advance(30)
    running = sum(
        1
        for p in cluster.store.list(("", "pods"))
        if (p.get("status") or {}).get("phase") == "Running"
    )
    elapsed = time.perf_counter() - started
    print(
        f"reconciled to {running}/{args.pods} Running in {elapsed:.1f}s "
        f"(CPU {time.process_time() - cpu:.1f}s, {sim.stats['reconciles']} reconciles)"
    )
    print(f"objects held: {cluster.store.count()}")

    async def idle() -> float:
        sim.clock.set_factor(1)
        task = asyncio.get_running_loop().create_task(sim.run())
        await asyncio.sleep(1)  # settle
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(args.idle)
        share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        task.cancel()
        return share

    share = asyncio.run(idle())
    print(f"idle steady state at time factor 1: {share * 100:.1f}% of one core")


if __name__ == "__main__":
    main()
