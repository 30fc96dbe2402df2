"""kubesim scale figures: objects held, RSS, list latency, writes/s.

    python bench/kubesim_bench.py [--objects 50000] [--pods 10000]

Fills one in-process kubesim with `--objects` objects spread over several clusters (one
of them holding `--pods` pods, a tenth of them labelled `tier=db`), then measures, over
HTTP the way the portal calls it: listing all those pods with a label selector, listing
them all, and creating ConfigMaps one request at a time.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubesim.testing import KubesimServer


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pod(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"pod-{i:05d}",
            "namespace": "default",
            "labels": {"app": f"app-{i % 50}", "tier": "db" if i % 10 == 0 else "web"},
        },
        "spec": {
            "nodeName": f"worker-{i % 3 + 1}",
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 80}],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                }
            ],
        },
    }


def configmap(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"cm-{i:05d}", "namespace": "default", "labels": {"n": str(i % 7)}},
        "data": {"key": "value " * 8},
    }


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=50_000)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=5)
    parser.add_argument("--http-writes", type=int, default=500)
    args = parser.parse_args()

    rss_start = rss_mb()
    server = KubesimServer(controllers=[])
    try:
        clusters = [server.create_cluster(f"bench-{i}", workers=3) for i in range(args.clusters)]
        sims = [server.cluster(c["name"]) for c in clusters]

        def fill() -> int:
            made = 0
            for i in range(args.pods):
                sims[0].create(pod(i))
                made += 1
            rest = args.objects - made
            for i in range(rest):
                sims[1 + i % (len(sims) - 1)].create(configmap(i))
                made += 1
            return made

        started = time.perf_counter()
        made = server.call(fill)
        fill_seconds = time.perf_counter() - started
        held = sum(s.store.count() for s in sims)

        first = clusters[0]
        token = first["kubeconfig"]["users"][0]["user"]["token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        base = f"{server.url}/clusters/{first['name']}/api/v1/namespaces/default"

        def list_selected() -> None:
            r = session.get(f"{base}/pods", params={"labelSelector": "tier=db"}, timeout=60)
            r.raise_for_status()

        def list_all() -> None:
            session.get(f"{base}/pods", timeout=60).raise_for_status()

        selected = timed(list_selected, 5)
        everything = timed(list_all, 3)

        def write(i: int) -> None:
            session.post(f"{base}/configmaps", json=configmap(100_000 + i), timeout=30)

        started = time.perf_counter()
        for i in range(args.http_writes):
            write(i)
        http_writes = args.http_writes / (time.perf_counter() - started)

        print("kubesim bench")
        print(f"  objects held          {held:>10,} (incl. bootstrap objects)")
        print(f"  RSS                   {rss_mb():>10.0f} MB  (+{rss_mb() - rss_start:.0f} MB)")
        print(f"  python writes/s       {made / fill_seconds:>10,.0f}")
        print(f"  HTTP writes/s         {http_writes:>10,.0f}")
        print(
            f"  list {args.pods:,} pods, selector tier=db "
            f"(median)  {statistics.median(selected) * 1000:.0f} ms"
        )
        print(
            f"  list {args.pods:,} pods, no selector (median)  "
            f"{statistics.median(everything) * 1000:.0f} ms"
        )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
