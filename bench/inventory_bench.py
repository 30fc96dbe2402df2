"""The live inventory at scale: list-and-mirror, resync and watch throughput on a big cluster.

    python bench/inventory_bench.py [--nodes 500] [--pods 20000] [--database URL]

A kubesim cluster with 500 nodes, 20,000 running pods owned by ReplicaSets, 1,000
ConfigMaps, 500 Secrets and 100 claims in 50 namespaces. kubesim runs in a process of
its own, as an API server does (API server only: nothing changes unless the bench
changes it), and the cluster is imported by its kubeconfig, so every call goes through
the real kubernetes client. Printed:

- the raw list calls of the mirrored kinds (what the informer sends), and the informer's
  initial list-and-mirror into an empty database, as a ratio (goal: at most 1.5x); the
  one-pass full sync (list everything, then write) for comparison;
- beat's resync when nothing changed, while an informer watches (goal: at most 10% of
  the initial sync), and the full reconcile it falls back to (list, compare, no writes);
- events per second the informer applies (a burst of pod status changes), and the SQL
  queries per batch of 500 changed pods.

The database is a throwaway SQLite file unless ``--database`` (or BENCH_DATABASE_URL)
names another, e.g. an empty PostgreSQL database.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAMESPACES = 50


def timed(fn, repeat=3):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pod(i: int, nodes: int) -> dict:
    replica_set = f"web-{i // 10:04d}-5d8f7c9b4"
    stamp = "2026-12-01T10:00:00Z"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{replica_set}-{i:05d}",
            "namespace": f"team-{i % NAMESPACES:02d}",
            "labels": {"app": f"web-{i // 10:04d}", "pod-template-hash": "5d8f7c9b4"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": replica_set,
                    "uid": f"00000000-0000-4000-8000-{i // 10:012d}",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "nodeName": f"worker-{i % nodes + 1}",
            "containers": [
                {
                    "name": "web",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 80}],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                }
            ],
        },
        "status": {
            "phase": "Running",
            "hostIP": f"10.0.{i % nodes // 250}.{i % nodes % 250}",
            "podIP": f"10.244.{i // 250}.{i % 250}",
            "startTime": stamp,
            "qosClass": "Burstable",
            "conditions": [
                {"type": kind, "status": "True", "lastTransitionTime": stamp}
                for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "containerStatuses": [
                {
                    "name": "web",
                    "image": "nginx:1.27",
                    "imageID": "docker.io/library/nginx@sha256:" + "0" * 64,
                    "containerID": f"containerd://{i:064d}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": stamp}},
                }
            ],
        },
    }


def fill(sim, args) -> None:
    """Create the objects in-process (as fast as kubesim stores them)."""
    for n in range(NAMESPACES):
        sim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{n:02d}"}})
    for i in range(args.pods):
        body = pod(i, args.nodes - 3)
        status = body.pop("status")
        created = sim.create(body)
        created["status"] = status
        sim.update_status(created)
    for i in range(args.configmaps):
        sim.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"cm-{i:04d}", "namespace": f"team-{i % NAMESPACES:02d}"},
                "data": {"app.properties": "key=value\n" * 20},
            }
        )
    for i in range(args.secrets):
        sim.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"s-{i:04d}", "namespace": f"team-{i % NAMESPACES:02d}"},
                "data": {"password": "c2VjcmV0"},
            }
        )
    for i in range(args.claims):
        sim.create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": f"data-{i:03d}", "namespace": f"team-{i % NAMESPACES:02d}"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "10Gi"}},
                },
            }
        )


def serve(args) -> None:
    """The API server's side: fill kubesim, say where it is, then change pods when told."""
    from kubesim.testing import KubesimServer

    with KubesimServer(controllers=[]) as server:
        started = time.perf_counter()
        answer = server.create_cluster("big", masters=3, workers=0, zones=["a", "b", "c"])
        left = args.nodes - 3
        while left:
            count = min(left, 1000)
            server.admin("POST", "/clusters/big/nodes", {"count": count, "zones": ["a", "b", "c"]})
            left -= count
        sim = server.cluster("big")
        server.call(lambda: fill(sim, args))
        print(json.dumps({"seconds": time.perf_counter() - started, "answer": answer}), flush=True)
        for line in sys.stdin:
            _command, count = line.split()
            pods = server.call(lambda: sim.list("v1", "Pod"))[: int(count)]
            started = time.perf_counter()

            def restart(pods=pods):
                for pod in pods:
                    current = sim.get(
                        "v1", "Pod", pod["metadata"]["name"], pod["metadata"]["namespace"]
                    )
                    current["status"]["containerStatuses"][0]["restartCount"] += 1
                    sim.update_status(current)

            server.call(restart)
            print(time.perf_counter() - started, flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--pods", type=int, default=20_000)
    parser.add_argument("--configmaps", type=int, default=1_000)
    parser.add_argument("--secrets", type=int, default=500)
    parser.add_argument("--claims", type=int, default=100)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args()
    if args.serve:
        return serve(args)

    workdir = tempfile.mkdtemp(prefix="kcs-bench-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="kcsportal.settings",
        KCS_VAR_DIR=workdir,
        DATABASE_URL=args.database or f"sqlite:///{workdir}/bench.sqlite3",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.clusters.models import Cluster
    from apps.kube import informer as informer_module
    from apps.kube import objects
    from apps.kube.informer import Event, Informer, Writer
    from apps.kube.mirror import registry
    from apps.kube.sync import resync, sync_cluster
    from apps.tenancy.services import ensure_admin_project
    from apps.workloads.sync import PODS

    call_command("migrate", verbosity=0)
    vendor = connection.vendor

    kubesim = subprocess.Popen(  # this very file, serving kubesim
        [sys.executable, __file__, "--serve", *sys.argv[1:]],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = json.loads(kubesim.stdout.readline())
    print(f"kubesim filled in {ready['seconds']:.1f} s ({vendor} portal database)")
    answer = ready["answer"]

    def in_kubesim(command: str) -> float:
        kubesim.stdin.write(command + "\n")
        kubesim.stdin.flush()
        return float(kubesim.stdout.readline())

    try:
        cluster = Cluster.objects.create(
            name="big",
            provider="kubeconfig",
            status=Cluster.Status.RUNNING,
            project=ensure_admin_project(),
            kubeconfig=json.dumps(answer["kubeconfig"]),
        )
        kube = cluster.kube()
        kube.version()  # connect once, so the figures are the calls' own

        def raw_lists():
            for mirror in registry:
                objects.list_all(kube, mirror.api_version, mirror.kind, **mirror.selector)

        def empty():
            for mirror in registry:
                if mirror.model is not Cluster:
                    mirror.rows(cluster).delete()

        raw = timed(raw_lists)

        def initial():
            empty()
            sync_cluster(cluster, kube)

        full = timed(initial)
        counts = {mirror.kind: mirror.count(cluster) for mirror in registry}
        reconcile = timed(lambda: sync_cluster(cluster, kube))

        # The informer's start: every kind listed (page by page, written as they come).
        empty()
        started = time.perf_counter()
        running = Informer(clusters=lambda: [cluster], rescan=0.5).start()
        while not running.watching:
            time.sleep(0.01)
        for watch in next(iter(running.watching.values())).watches:
            watch.synced.wait(600)
        listed = time.perf_counter() - started
        assert running.synced(600), "the informer did not list the cluster in time"
        first = time.perf_counter() - started
        print(f"  (listed after {listed:.2f} s, written after {first:.2f} s)")
        assert {mirror.kind: mirror.count(cluster) for mirror in registry} == counts
        deadline = time.monotonic() + 30
        while not informer_module.is_watched(cluster) and time.monotonic() < deadline:
            time.sleep(0.1)
        cluster.refresh_from_db()
        check = timed(lambda: resync(cluster, kube))
        assert resync(cluster, kube) == {}, "the rows differ from the cluster"

        # A burst of changes: restarts counted up on that many pods, as kubelets post them.
        burst = range(min(args.events, counts["Pod"]))
        before = running.writer.stats.events

        started = time.perf_counter()
        produced = in_kubesim(f"burst {len(burst)}")
        deadline = time.monotonic() + 600
        while running.writer.stats.events - before < len(burst) and time.monotonic() < deadline:
            time.sleep(0.01)
        caught_up = time.perf_counter() - started
        applied = running.writer.stats.events - before
        running.stop()

        # What the writer alone sustains: a queue of that many events, written in batches.
        writer = Writer({cluster.pk: cluster})
        pods = objects.list_all(kube, "v1", "Pod")[0][: len(burst)]
        for current in pods:
            current["metadata"]["resourceVersion"] = str(10**12)
            writer.submit(Event(cluster.pk, PODS, "MODIFIED", current))
        started = time.perf_counter()
        writer.start()
        writer.drained(600)
        writer_rate = len(burst) / (time.perf_counter() - started)
        writer.stop()

        for current in pods[:500]:
            current["metadata"]["resourceVersion"] = str(10**12 + 1)
        with CaptureQueriesContext(connection) as ctx:
            PODS.apply(cluster, pods[:500])
        queries_per_batch = len(ctx.captured_queries)
    finally:
        kubesim.stdin.close()
        kubesim.wait(60)

    rows = ", ".join(f"{n:,} {kind}" for kind, n in counts.items() if n)
    print(f"inventory bench: {rows}")
    print(f"  raw list calls of the mirrored kinds   {raw * 1000:9.0f} ms")
    print(
        f"  informer's initial list and mirror     {first * 1000:9.0f} ms   "
        f"{first / raw:.2f}x the raw lists (goal <= 1.5x)"
    )
    print(
        f"  full sync into an empty DB (one pass)  {full * 1000:9.0f} ms   "
        f"{full / raw:.2f}x the raw lists (lists, then writes)"
    )
    print(
        f"  beat resync, informer watching         {check * 1000:9.0f} ms   "
        f"{check / first:.1%} of the initial sync (goal <= 10%)"
    )
    print(
        f"  full reconcile, nothing changed        {reconcile * 1000:9.0f} ms   "
        f"{reconcile / first:.1%} of the initial sync (hourly, and when nobody watches)"
    )
    print(
        f"  informer: a burst of {len(burst):,} pod changes ({len(burst) / produced:,.0f}/s from "
        f"kubesim): {applied:,} applied, {caught_up - produced:.2f} s behind at the end"
    )
    print(f"  informer's writer alone: {writer_rate:,.0f} events/s")
    print(f"  SQL queries per batch of 500 changed pods: {queries_per_batch}")


if __name__ == "__main__":
    main()
