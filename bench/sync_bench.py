"""Inventory sync of a big cluster: time and SQL queries, first sync and no-change resync.

    python bench/sync_bench.py [--nodes 500]

Runs against a throwaway SQLite database in a temporary folder and an in-process
kubesim; the cluster is imported with its kubeconfig, so the sync goes through the
real kubernetes client as in production.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=500)
    args, _unknown = parser.parse_known_args()

    workdir = tempfile.mkdtemp(prefix="kcs-bench-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="kcsportal.settings",
        KCS_VAR_DIR=workdir,
        DATABASE_URL=f"sqlite:///{workdir}/bench.sqlite3",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.clusters.models import Cluster
    from apps.kube.sync import sync_cluster
    from apps.tenancy.services import ensure_admin_project
    from kubesim.testing import KubesimServer

    call_command("migrate", verbosity=0)

    with KubesimServer() as server:
        masters = 3
        workers = max(0, args.nodes - masters)
        answer = server.create_cluster("big", masters=masters, workers=0, zones=["a", "b", "c"])
        # In steps, within the admin API's limit per request.
        while workers:
            count = min(workers, 1000)
            server.admin("POST", "/clusters/big/nodes", {"count": count, "zones": ["a", "b", "c"]})
            workers -= count
        cluster = Cluster.objects.create(
            name="big",
            provider="kubeconfig",
            status=Cluster.Status.RUNNING,
            project=ensure_admin_project(),
            kubeconfig=json.dumps(answer["kubeconfig"]),
        )
        kube = cluster.kube()
        kube.version()  # connect once, so the figures are the sync's own

        for label in ("first sync", "no-change resync"):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                results = sync_cluster(cluster, kube)
                elapsed = time.perf_counter() - started
            changes = ", ".join(
                f"{kind} +{r.created} ~{r.updated} -{r.deleted}" for kind, r in results.items()
            )
            print(
                f"{label:<17} {args.nodes} nodes {elapsed * 1000:8.1f} ms "
                f"{len(ctx.captured_queries):3d} queries  ({changes})"
            )
        cluster.refresh_from_db()
        assert cluster.nodes_total == args.nodes, cluster.nodes_total


if __name__ == "__main__":
    main()
