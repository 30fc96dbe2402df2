"""Load test: the production web server under concurrent users.

    python bench/load_bench.py [--clients 50] [--duration 60] [--warmup 5]
                               [--workers N] [--command '...'] [--database-url URL]

Everything runs on 127.0.0.1 in a temporary folder: kubesim, a database with the
demo (seed_demo, a sandbox cluster of 20 nodes, four namespaces with a few hundred
ConfigMaps, Secrets and claims and --workloads Deployments of three pods, each
with a Service, made through the portal's services) and the
Procfile's `web` command — gunicorn as configured — with production settings
(DEBUG=0, collected static files). Half the clients are cloud admins, half
members of web-shop; each has its own session (or API token) and sends list,
detail and API requests (and now and then a static asset), pausing --think seconds
on average between two (a person reading the page; 0 sends them back to back),
for --duration seconds after --warmup. The pages are those of the demo's
tenants: workloads and their pods, Services, events, ConfigMaps, Secrets,
claims, projects. It prints throughput,
p50/p95/p99 overall and per endpoint (of the answered requests), the CPU the
server used per request next to what the rest of the machine used meanwhile
(other processes slow the server down), and the errors: any answer but 200,
or none within --timeout. Exits 1 if there was an error. Then, for --saturation
seconds, the same clients without pauses: the server's capacity in requests/s
(their latency is then clients ÷ throughput, whatever the code).

--command runs another server in place of the Procfile's (e.g. to compare with
`python manage.py runserver $HOST:$PORT --noreload`); $HOST and $PORT are set.
WEB_CONCURRENCY and the other WEB_* variables reach the server as in production.
--per-endpoint first measures every endpoint alone, one request at a time (the
server's CPU per request does not depend on the load, so it finds slow pages).
"""

import argparse
import asyncio
import contextlib
import io
import ipaddress
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_P95_MS = 300
HOST = "127.0.0.1"


# --- processes -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, _sep, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise SystemExit(f"Procfile has no {name!r} process")


class Process:
    """A child process in its own process group, logging to a file; stopped by its id."""

    def __init__(self, argv, env, log: Path):
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines=30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout=30):
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        self._out.close()


def cpu_seconds(process_group: int) -> float:
    """CPU time used so far by the live processes of a process group (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == process_group:  # pgrp; utime and stime follow later
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def start_kubesim(env, workdir: Path) -> tuple[Process, str]:
    port = free_port()
    argv = [sys.executable, "-m", "kubesim", "--host", HOST, "--port", str(port)]
    argv += ["--tls-port", str(free_port()), "--log-level", "WARNING"]
    kubesim = Process(argv, env, workdir / "kubesim.log")
    url = f"http://{HOST}:{port}"
    wait_for(f"{url}/kubesim/v1/clusters", kubesim, timeout=60)
    return kubesim, url


def wait_for(url: str, process: Process, timeout: float) -> None:
    """Poll url until it answers 200; fail if the process dies or time runs out."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise SystemExit(f"{process.log.name} exited:\n{process.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310  (loopback)
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s:\n{process.tail()}")


# --- demo data -----------------------------------------------------------------------


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, labels: {{app: {name}}}}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{{containerPort: 80}}]
        resources: {{requests: {{cpu: 50m, memory: 64Mi}}}}
"""


def seed(objects: int, clients: int, workloads: int) -> dict:
    """The demo plus objects across four namespaces; the URLs each role will ask for."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connections

    from apps.clusters import services as cluster_services
    from apps.clusters.models import Cluster, Node
    from apps.configs import services as config_services
    from apps.configs.models import ConfigMap, Secret
    from apps.core import services as core_services
    from apps.kube.sync import sync_cluster
    from apps.namespaces import services as ns_services
    from apps.namespaces.models import Namespace
    from apps.networking import services as network_services
    from apps.networking.models import Service
    from apps.storage import services as storage_services
    from apps.storage.models import PersistentVolumeClaim
    from apps.tenancy.models import Project
    from apps.workloads import services as workload_services
    from apps.workloads.models import Pod, Workload

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--no-input", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    users = {u.username: u for u in get_user_model().objects.all()}
    admin, member = users["admin"], users["member"]

    cluster, _operation = cluster_services.create_cluster(
        admin, name="demo", display_name="Demo", control_plane_nodes=1, workers=20,
        zones=["zone-a", "zone-b"], description="Sandbox cluster of the load bench.",
    )  # fmt: skip
    cluster.refresh_from_db()
    if cluster.status != Cluster.Status.RUNNING:
        raise SystemExit(f"the bench cluster is {cluster.status}: {cluster.status_reason}")

    web, data = Project.objects.get(name="web-shop"), Project.objects.get(name="data-lab")
    namespaces = []
    for project, name in ((web, "shop"), (web, "shop-staging"), (data, "lab"), (data, "etl")):
        ns = ns_services.create_namespace(
            admin, cluster=cluster, project=project, name=name, quota={}
        )
        if project == web:
            ns_services.set_members(admin, ns, [member])
        namespaces.append(ns)
    for i in range(objects):
        ns = namespaces[i % len(namespaces)]
        kind = (i // len(namespaces)) % 6  # every namespace gets every kind
        if kind < 3:
            config_services.create_configmap(
                admin, namespace=ns, name=f"app-config-{i}",
                data={"settings.yaml": f"replicas: {i % 5}\nlog: info\n" * 10, "mode": "prod"},
                labels={"app": f"app-{i % 12}"},
            )  # fmt: skip
        elif kind < 5:
            config_services.create_secret(
                admin, namespace=ns, name=f"app-secret-{i}",
                data={"username": f"user{i}", "password": f"pw-{i}-{'x' * 16}"},
            )  # fmt: skip
        else:
            storage_services.create_claim(admin, namespace=ns, name=f"data-{i}", size="1Gi")

    # The heart of what tenants do: Deployments with their pods and a Service each (two
    # a namespace, three replicas), made through the portal; once kubesim runs the pods,
    # one full sync mirrors them, as the informer would have.
    for ns in namespaces:
        for n in range(workloads):
            name = f"web-{n}"
            workload_services.create_from_yaml(admin, ns, DEPLOYMENT.format(name=name))
            network_services.create_service(
                admin, namespace=ns, name=name,
                spec={"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 80}]},
            )  # fmt: skip
    wanted, deadline = 3 * workloads * len(namespaces), time.monotonic() + 120
    while Pod.objects.filter(cluster=cluster, phase="Running").count() < wanted:
        if time.monotonic() > deadline:
            raise SystemExit(f"kubesim did not run the bench's {wanted} pods in 120 s")
        time.sleep(1)
        sync_cluster(cluster)

    def first(queryset):
        row = queryset.order_by("pk").first()
        if row is None:
            raise SystemExit(f"no {queryset.model.__name__} was made")
        return row.pk

    shop = Namespace.objects.get(name="shop")
    ids = {
        "cluster": cluster.pk,
        "node": first(Node.objects.filter(cluster=cluster)),
        "namespace": shop.pk,
        "project": web.pk,
        "configmap": first(ConfigMap.objects.filter(namespace=shop)),
        "secret": first(Secret.objects.filter(namespace=shop)),
        "claim": first(PersistentVolumeClaim.objects.filter(namespace=shop)),
        "workload": first(Workload.objects.filter(namespace=shop)),
        "pod": first(Pod.objects.filter(namespace=shop)),
        "service": first(Service.objects.filter(namespace=shop)),
    }

    def session(user) -> str:
        # What a sign-in stores (as Django's test Client.force_login does), without
        # paying the password hasher once per client before the measurement.
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    identities = {}
    for role, user in (("admin", admin), ("member", member)):
        _token, key = core_services.create_token(user, name="load bench")
        identities[role] = {"token": key, "sessions": [session(user) for _ in range(clients)]}
    for connection in connections.all():
        connection.close()
    return {"ids": ids, "identities": identities, "cookie": settings.SESSION_COOKIE_NAME}


def request_mix(ids: dict) -> dict[str, list[tuple[int, str, str]]]:
    """Per role: (weight, kind, path); kind is page, api (token) or static."""
    common = [
        (3, "page", "/"),
        (2, "page", "/projects/"),
        (2, "page", f"/projects/{ids['project']}/"),
        (4, "page", "/configmaps/"),
        (3, "page", f"/configmaps/{ids['configmap']}/"),
        (3, "page", "/secrets/"),
        (2, "page", f"/secrets/{ids['secret']}/"),
        (2, "page", "/storage/claims/"),
        (2, "page", f"/storage/claims/{ids['claim']}/"),
        (1, "page", "/operations/"),
        (3, "api", "/api/v1/configmaps/"),
        (2, "api", f"/api/v1/configmaps/{ids['configmap']}/"),
        (2, "api", "/api/v1/secrets/"),
        (1, "api", "/api/v1/projects/"),
        (1, "api", "/api/v1/persistentvolumeclaims/"),
        (4, "page", "/workloads/"),
        (3, "page", f"/workloads/{ids['workload']}/"),
        (3, "page", "/pods/"),
        (2, "page", f"/pods/{ids['pod']}/"),
        (2, "page", "/services/"),
        (1, "page", f"/services/{ids['service']}/"),
        (1, "page", "/events/"),
        (3, "api", "/api/v1/workloads/"),
        (2, "api", f"/api/v1/workloads/{ids['workload']}/"),
        (2, "api", "/api/v1/pods/"),
    ]
    admin = [
        (2, "page", "/clusters/"),
        (2, "page", f"/clusters/{ids['cluster']}/"),
        (2, "page", "/nodes/"),
        (1, "page", f"/nodes/{ids['node']}/"),
        (2, "page", "/namespaces/"),
        (2, "page", f"/namespaces/{ids['namespace']}/"),
        (1, "page", "/storage/classes/"),
        (1, "page", "/audit/"),
        (1, "page", "/departments/"),
        (2, "api", "/api/v1/nodes/"),
        (1, "api", "/api/v1/namespaces/"),
        (1, "api", "/api/v1/audit-events/"),
    ]
    return {"admin": common + admin, "member": common}


# --- load ----------------------------------------------------------------------------


class Results:
    def __init__(self):
        self.cpu_before = self.cpu_after = {}
        self.latencies = defaultdict(list)  # endpoint -> [seconds]
        self.errors = defaultdict(int)  # "endpoint: reason" -> count

    def add(self, endpoint, seconds, error=None):
        if error:
            self.errors[f"{endpoint}: {error}"] += 1
        else:
            self.latencies[endpoint].append(seconds)


def percentile(values, fraction) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


async def static_urls(base, cookie, session_key) -> list[str]:
    """The stylesheets and scripts a portal page links to (the manifest's hashed names)."""
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        http.get(f"{base}/", headers={"Cookie": f"{cookie}={session_key}"}) as answer,
    ):
        html = await answer.text()
    found = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js|svg))"', html)
    if not found:
        raise SystemExit("the dashboard links to no static file")
    return sorted(set(found))


async def client(n, base, headers_for, mix, statics, results, window, options):
    measure_from, stop_at = window
    rng = random.Random(n)  # noqa: S311  (a reproducible request sequence, not a secret)
    weights = [w for w, _kind, _path in mix]
    connector = aiohttp.TCPConnector(limit=1)  # one connection, kept alive, like a tab
    async with aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=options.timeout),
    ) as http:
        while (now := time.monotonic()) < stop_at:
            _w, kind, path = rng.choices(mix, weights)[0]
            if rng.random() < 0.1:  # now and then an asset the browser had not cached
                kind, path = "static", rng.choice(statics)
            endpoint = "/static/*" if kind == "static" else re.sub(r"/\d+/", "/<id>/", path)
            started, error = time.monotonic(), None
            try:
                async with http.get(
                    base + path, headers=headers_for(kind), allow_redirects=False
                ) as answer:
                    await answer.read()
                    if answer.status != 200:
                        error = f"HTTP {answer.status}"
            except TimeoutError:
                error = "timeout"
            except aiohttp.ClientError as exc:
                error = exc.__class__.__name__
            if now >= measure_from:
                results.add(endpoint, time.monotonic() - started, error)
            if options.think:  # a person reading the page before the next click
                pause = rng.expovariate(1 / options.think)
                await asyncio.sleep(min(pause, max(0.0, stop_at - time.monotonic())))


def queries_per_endpoint(data, repeat=10) -> None:
    """Each endpoint in this process (Django's test client): SQL queries and CPU per request.

    Neither depends on the load or on the other processes, so these are the figures to
    compare between two versions of the code; the means are weighted as the load's mix.
    """
    from django.conf import settings
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import override_settings

    ids, identities, cookie = data["ids"], data["identities"], data["cookie"]
    print(f"{'endpoint (in process)':<36} {'role':<7} {'queries':>7} {'CPU ms':>7}")
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        for role, mix in request_mix(ids).items():
            weighted = [0.0, 0.0, 0]  # queries, CPU, weight
            page = Client()
            page.cookies[cookie] = identities[role]["sessions"][-1]
            api = Client(HTTP_AUTHORIZATION=f"Token {identities[role]['token']}")
            for weight, kind, path in mix:
                http = api if kind == "api" else page
                http.get(path)  # warm
                queries = []

                def count(execute, sql, params, many, context, queries=queries):
                    queries.append(sql)
                    return execute(sql, params, many, context)

                # (Not CaptureQueriesContext: each request starts by emptying the log
                # that it reads.)
                with connection.execute_wrapper(count):
                    answer = http.get(path)
                assert answer.status_code == 200, (path, answer.status_code)
                started = time.process_time()
                for _ in range(repeat):
                    http.get(path)
                cpu = (time.process_time() - started) / repeat
                count = len(queries)
                print(f"{path:<36} {role:<7} {count:7d} {cpu * 1000:7.1f}")
                weighted[0] += weight * count
                weighted[1] += weight * cpu
                weighted[2] += weight
            print(
                f"{role}: mean of the mix {weighted[0] / weighted[2]:.1f} queries, "
                f"{weighted[1] / weighted[2] * 1000:.1f} ms CPU per request (in process)"
            )
    for each in connections.all():
        each.close()


async def cost_per_endpoint(base, data, server_pid, repeat=20) -> None:
    """Each endpoint alone, one request at a time: the server's CPU and time per request."""
    ids, identities, cookie = data["ids"], data["identities"], data["cookie"]
    print(f"{'endpoint (one client)':<36} {'role':<7} {'CPU ms':>7} {'wall ms':>8}")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        for role, mix in request_mix(ids).items():
            page = {"Cookie": f"{cookie}={identities[role]['sessions'][0]}"}
            api = {"Authorization": f"Token {identities[role]['token']}"}
            for _weight, kind, path in mix:
                headers = api if kind == "api" else page
                for _ in range(2):  # warm: the worker's first sight of the page
                    async with http.get(base + path, headers=headers) as answer:
                        await answer.read()
                cpu, started = cpu_seconds(server_pid), time.monotonic()
                for _ in range(repeat):
                    async with http.get(base + path, headers=headers) as answer:
                        await answer.read()
                        assert answer.status == 200, (path, answer.status)
                wall = (time.monotonic() - started) / repeat
                cpu = (cpu_seconds(server_pid) - cpu) / repeat
                print(f"{path:<36} {role:<7} {cpu * 1000:7.1f} {wall * 1000:8.1f}")


async def run_load(base, data, options, probe):
    clients = options.clients
    ids, identities, cookie = data["ids"], data["identities"], data["cookie"]
    mixes = request_mix(ids)
    sessions = {role: identities[role]["sessions"] for role in identities}
    statics = await static_urls(base, cookie, sessions["admin"][0])
    results = Results()
    start = time.monotonic()
    measure_from = start + options.warmup
    window = (measure_from, measure_from + options.duration)  # measured from, stop at

    def headers(role, n):
        page = {"Cookie": f"{cookie}={sessions[role][n]}"}
        api = {"Authorization": f"Token {identities[role]['token']}"}
        return lambda kind: api if kind == "api" else page

    tasks = []
    for n in range(clients):
        role = "admin" if n % 2 == 0 else "member"
        tasks.append(
            client(n, base, headers(role, n), mixes[role], statics, results, window, options)
        )

    async def sample_cpu():
        await asyncio.sleep(max(0.0, window[0] - time.monotonic()))
        results.cpu_before = probe()

    await asyncio.gather(sample_cpu(), *tasks)
    results.cpu_after = probe()
    return results, time.monotonic() - window[0]


def report(results: Results, elapsed: float, clients: int, goal: bool = True) -> bool:
    every = [s for values in results.latencies.values() for s in values]
    errors = sum(results.errors.values())
    total = len(every) + errors
    p50, p95, p99 = (percentile(every, f) * 1000 for f in (0.50, 0.95, 0.99))
    print(
        f"{clients} clients, {elapsed:.0f} s: {total} requests, {total / elapsed:.1f} req/s, "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, "
        f"max {max(every, default=0) * 1000:.0f} ms, {errors} errors"
    )
    used = {k: results.cpu_after[k] - results.cpu_before[k] for k in results.cpu_before}
    cores = os.cpu_count() or 1
    others = used["machine"] - used["server"] - used["kubesim"] - used["load generator"]
    print(
        f"CPU: server {used['server'] * 1000 / max(total, 1):.1f} ms per request "
        f"({used['server'] / elapsed:.2f} cores), load generator "
        f"{used['load generator'] / elapsed:.2f}, kubesim {used['kubesim'] / elapsed:.2f}, "
        f"other processes {max(others, 0) / elapsed:.2f}, idle "
        f"{(used['wall'] - used['machine']) / elapsed:.2f} (of {cores} cores)"
    )
    print(f"{'endpoint':<36} {'count':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    by_p95 = sorted(results.latencies.items(), key=lambda kv: -percentile(kv[1], 0.95))
    for endpoint, values in by_p95:
        print(
            f"{endpoint:<36} {len(values):6d} {percentile(values, 0.5) * 1000:7.0f} "
            f"{percentile(values, 0.95) * 1000:7.0f} {percentile(values, 0.99) * 1000:7.0f}"
        )
    for what, count in sorted(results.errors.items()):
        print(f"error: {what}: {count} times")
    if goal:
        met = "met" if p95 <= GOAL_P95_MS and not errors else "missed"
        print(f"goal (0 errors, p95 ≤ {GOAL_P95_MS} ms): {met}")
    else:
        print(f"capacity: {total / elapsed:.0f} requests/s; mean latency {clients} / that")
    return errors == 0


# --- main ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=5, help="seconds not measured first")
    parser.add_argument("--timeout", type=float, default=30, help="seconds for one answer")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds a client waits between requests"
    )
    parser.add_argument(
        "--saturation", type=float, default=20,
        help="seconds of a second run without pauses: the server's capacity (0: none)",
    )  # fmt: skip
    parser.add_argument("--objects", type=int, default=300)
    parser.add_argument(
        "--workloads", type=int, default=6, help="Deployments (3 pods, a Service) a namespace"
    )
    parser.add_argument(
        "--per-endpoint", action="store_true", help="first, each endpoint's cost on its own"
    )
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY for the server")
    parser.add_argument("--threads", type=int, help="WEB_THREADS for the server")
    parser.add_argument("--command", help="server command instead of the Procfile's web")
    parser.add_argument("--database-url", help="an empty database (default: SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the folder and its logs")
    args, _unknown = parser.parse_known_args()  # `make bench` passes every bench's flags

    workdir = Path(tempfile.mkdtemp(prefix="kcs-load-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="kcsportal.settings",
        DEBUG="0",
        SECRET_KEY=Fernet.generate_key().decode() * 2,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        ALLOWED_HOSTS=HOST,
        # Plain HTTP on the loopback: no HTTPS redirect, cookies without Secure.
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        KCS_VAR_DIR=str(workdir),
        STATIC_ROOT=str(workdir / "static"),
        DATABASE_URL=args.database_url or f"sqlite:///{workdir / 'db.sqlite3'}",
        LOG_LEVEL=env.get("LOG_LEVEL", "INFO"),
        CELERY_TASK_ALWAYS_EAGER="1",  # the seeding provisions its cluster in-process
    )
    if args.workers is not None:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads is not None:
        env["WEB_THREADS"] = str(args.threads)
    database_host = urlsplit(env["DATABASE_URL"]).hostname
    if database_host and not ipaddress.ip_address(socket.gethostbyname(database_host)).is_loopback:
        raise SystemExit("the load bench runs on the loopback only")

    kubesim = server = None
    try:
        kubesim, env["KUBESIM_URL"] = start_kubesim(env, workdir)
        os.environ.clear()
        os.environ.update(env, LOG_LEVEL="WARNING")  # the seeding's own logs
        started = time.monotonic()
        data = seed(args.objects, args.clients, args.workloads)
        print(f"seeded the demo and {args.objects} objects in {time.monotonic() - started:.0f} s")
        if args.per_endpoint:
            queries_per_endpoint(data)

        port = free_port()
        env.pop("CELERY_TASK_ALWAYS_EAGER")
        command = args.command or procfile_command("web")
        server_env = {**env, "HOST": HOST, "PORT": str(port)}
        server = Process(["sh", "-c", f"exec {command}"], server_env, workdir / "web.log")
        base = f"http://{HOST}:{port}"
        wait_for(f"{base}/readyz", server, timeout=120)
        shown = shlex.join(shlex.split(command))
        tuning = {k: env.get(k, "default") for k in ("WEB_CONCURRENCY", "WEB_THREADS")}
        print(f"server: {shown} ({', '.join(f'{k}={v}' for k, v in tuning.items())})")

        def probe():
            busy, total = machine_busy()
            return {
                "server": cpu_seconds(server.popen.pid),
                "kubesim": cpu_seconds(kubesim.popen.pid),
                "load generator": time.process_time(),
                "machine": busy,
                "wall": total,
            }

        if args.per_endpoint:
            asyncio.run(cost_per_endpoint(base, data, server.popen.pid))
        print(f"{args.clients} users, each pausing {args.think:g} s on average between requests:")
        results, elapsed = asyncio.run(run_load(base, data, args, probe))
        if not server.alive():
            print(f"the server died:\n{server.tail()}")
            return 1
        ok = report(results, elapsed, args.clients)
        if args.saturation:
            # Capacity: the same clients without pauses keep every one of them waiting in
            # the server, so the mean latency is clients / throughput (Little's law), not
            # a goal to judge; the throughput is the figure.
            flat = argparse.Namespace(**{**vars(args), "think": 0, "warmup": 2})
            flat.duration = args.saturation
            print(f"\nsaturation: the same {args.clients} clients without pauses:")
            results, elapsed = asyncio.run(run_load(base, data, flat, probe))
            ok = report(results, elapsed, args.clients, goal=False) and ok
        return 0 if ok else 1
    finally:
        for process in (server, kubesim):
            if process is not None:
                process.stop()
        if args.keep:
            # The settings, to run manage.py or the server against the kept database.
            names = (
                "DJANGO_SETTINGS_MODULE",
                "DEBUG",
                "SECRET_KEY",
                "FIELD_ENCRYPTION_KEY",
                "ALLOWED_HOSTS",
                "KCS_VAR_DIR",
                "STATIC_ROOT",
                "DATABASE_URL",
                "KUBESIM_URL",
                "SECURE_SSL_REDIRECT",
                "SECURE_COOKIES",
            )
            lines = [f"export {name}={shlex.quote(env[name])}" for name in names if name in env]
            (workdir / "env.sh").write_text("\n".join(lines) + "\n")
            print(f"kept {workdir} (settings in env.sh)")
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
