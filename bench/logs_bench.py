"""Log centre figures on PostgreSQL: ingest rate, and search latency over many lines.

    python bench/logs_bench.py [--lines 5000000] [--database postgres://...]

Size: ``--lines`` or LOGS_BENCH_LINES (default 5,000,000). Database: ``--database`` or
LOGS_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kcsportal_logbench,
created if missing and emptied first). Lines are spread over three days, 40 namespaces
and 400 pods, and ingested through the store the ingest endpoint uses (COPY, batches of
1,000). The search is what the log page runs: a keyword, one namespace, the last 24 h,
newest first, one page; its p95 over 40 runs (goal: ≤ 1 s). ``--writers`` requests
store at once (default 4, as several nodes' shippers post), ``--batch`` lines each;
``--reuse`` searches the lines a previous run of the same size stored.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kcsportal_logbench"
WORDS = (
    "GET /api/v1/items status=200 duration={ms}ms remote=10.244.{a}.{b}",
    "POST /api/v1/orders status=201 duration={ms}ms order_id={n}",
    "INFO cache hit ratio {a}% for tenant_{b}",
    "WARN slow request: /api/v1/search took {ms}ms",
    "ERROR upstream connect error or disconnect/reset before headers",
    "INFO 用户 {n} 登录成功",
    "DEBUG worker_{a} heartbeat seq={n}",
)
RARE = (
    "ERROR payment 付款失败 order_id={n} reason=insufficient_funds",
    "FATAL disk quota exceeded on /var/lib/data-{a}",
)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--lines", type=int, default=int(os.environ.get("LOGS_BENCH_LINES", 5_000_000))
    )
    parser.add_argument("--database", default=os.environ.get("LOGS_BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--batch", type=int, default=1000, help="lines per ingest request")
    parser.add_argument("--writers", type=int, default=4, help="concurrent ingest requests")
    parser.add_argument(
        "--reuse", action="store_true", help="search the lines a previous run stored"
    )
    args, _unknown = parser.parse_known_args()
    if not args.database.startswith("postgres"):
        print("logs bench: needs PostgreSQL (--database postgres://...)")
        return 1
    try:
        ensure_database(args.database)
    except Exception as exc:  # no server: say so, as the other benches' figures still count
        print(f"logs bench: PostgreSQL at {args.database} is not reachable ({exc})")
        return 1
    os.environ.update(
        DJANGO_SETTINGS_MODULE="kcsportal.settings", DATABASE_URL=args.database, LOG_LEVEL="WARNING"
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.logs.query import LogQuery, Match, parse_keywords
    from apps.logs.store import Record, get_store, to_us

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), MAX(ts) FROM logs_line")
        count, newest = cursor.fetchone()
        reuse = args.reuse and count == args.lines
        if not reuse:
            cursor.execute("TRUNCATE logs_line")
    store = get_store()
    now = datetime.now(UTC).replace(microsecond=0)
    span = timedelta(days=3).total_seconds()
    namespaces = [f"team-{i:02d}" for i in range(40)]
    pods = [
        (ns, f"svc{j}-7d4f9-{i:05d}")
        for i, (ns, j) in enumerate((ns, j) for ns in namespaces for j in range(10))
    ]

    def batch(size, offset, rng):
        out = []
        for k in range(size):
            ns, pod = pods[rng.randrange(len(pods))]
            at = now - timedelta(seconds=span * (1 - (offset + k) / args.lines))
            template = rng.choice(RARE) if rng.random() < 0.001 else rng.choice(WORDS)
            message = template.format(
                ms=rng.randint(1, 900),
                a=rng.randint(0, 255),
                b=rng.randint(0, 255),
                n=rng.randint(1, 10**7),
            )
            out.append(
                Record(
                    ts=to_us(at),
                    namespace=ns,
                    pod=pod,
                    container="app",
                    workload=pod.rsplit("-", 2)[0],
                    message=message,
                )
            )
        return out

    if reuse:
        now = datetime.fromtimestamp(newest / 1e6, tz=UTC)
        print(f"searching the {count:,} lines stored by the last run")
    else:
        print(
            f"ingesting {args.lines:,} lines (batches of {args.batch:,}, through the store)…",
            flush=True,
        )
    if not reuse:
        import threading

        from django.db import connections

        lock, progress = threading.Lock(), {"next": 0, "stored": 0}

        def writer(seed):
            local = random.Random(seed)  # noqa: S311 (sample data)
            while True:
                with lock:
                    offset = progress["next"]
                    size = min(args.batch, args.lines - offset)
                    progress["next"] += max(size, 0)
                if size <= 0:
                    break
                store.ingest(1, batch(size, offset, local))
                with lock:
                    before = progress["stored"]
                    progress["stored"] += size
                    if before // 500_000 != progress["stored"] // 500_000:
                        rate = progress["stored"] / (time.perf_counter() - started)
                        print(f"  {progress['stored']:,} lines, {rate:,.0f} lines/s", flush=True)
            connections.close_all()

        started = time.perf_counter()
        threads = [threading.Thread(target=writer, args=(i,)) for i in range(args.writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        spent = time.perf_counter() - started
        print(
            f"ingest rate (PostgreSQL): {args.lines / spent:,.0f} lines/s ({args.lines:,} "
            f"lines, {args.writers} concurrent requests of {args.batch:,} lines, as the "
            "nodes' shippers post)"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE logs_line")

    def p95(q, label):
        keywords, terms = parse_keywords(q)
        times = []
        for run in range(40):
            query = LogQuery(
                start=now - timedelta(hours=24),
                end=now,
                keywords=keywords,
                terms=terms,
                namespace=Match(namespaces[run % len(namespaces)]),
            )
            started = time.perf_counter()
            store.search(query, limit=100)
            times.append(time.perf_counter() - started)
        value = statistics.quantiles(times, n=20)[-1]
        print(f"search p95, {label}: {value * 1000:.0f} ms (goal ≤ 1000 ms)")
        return value

    worst = max(
        p95("付款失败", "rare Chinese keyword + namespace + 24 h"),
        p95("disk quota", "rare two words + namespace + 24 h"),
        p95('"status=201"', "common phrase + namespace + 24 h"),
        p95("ERROR NOT upstream", "ERROR NOT a word + namespace + 24 h"),
    )
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
