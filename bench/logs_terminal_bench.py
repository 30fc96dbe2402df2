"""The live log page with 100,000 lines (and one of 5 MB), and the terminal's keystroke
round trip, in Chromium against the portal's ASGI application on uvicorn (loopback).

    python bench/logs_terminal_bench.py [--lines 100000] [--keys 50]

Printed: the log page's time to show the lines, its DOM size (goal: bounded, the same
for 100 lines as for 100,000), the time a scroll to the middle takes to render; and
keystroke -> echo round trips through xterm.js, the portal's WebSocket and kubesim's
exec (p50/p95). A throwaway SQLite database and an in-process kubesim.
"""

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"


def wait(check, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=50)
    args, _unknown = parser.parse_known_args()

    workdir = tempfile.mkdtemp(prefix="kcs-bench-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="kcsportal.settings",
        KCS_VAR_DIR=workdir,
        DATABASE_URL=f"sqlite:///{workdir}/bench.sqlite3",
        LOG_LEVEL="WARNING",
        DJANGO_ALLOW_ASYNC_UNSAFE="true",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import kubernetes
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.test import Client
    from playwright.sync_api import sync_playwright

    from apps.clusters.models import Cluster
    from apps.kube.sync import sync_cluster
    from apps.tenancy.services import ensure_admin_project
    from apps.workloads.models import Pod
    from kcsportal.asgi import application
    from kubesim.testing import KubesimServer

    user = django.contrib.auth.get_user_model().objects.create_superuser("bench", "", "x")
    sim = KubesimServer()
    made = sim.create_cluster("bench", workers=1)
    cluster = Cluster.objects.create(
        name="bench",
        provider="kubeconfig",
        kubeconfig=json.dumps(made["kubeconfig"]),
        status="running",
        project=ensure_admin_project(),
    )
    core = kubernetes.client.CoreV1Api(
        kubernetes.config.new_client_from_config_dict(made["kubeconfig"])
    )
    core.create_namespaced_pod(
        "default",
        {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
    )

    def running():
        pod = core.read_namespaced_pod("web", "default")
        statuses = pod.status.container_statuses or []
        return statuses and statuses[0].state.running

    wait(running, what="the pod to run")
    sync_cluster(cluster)
    pod = wait(lambda: Pod.objects.filter(name="web").first(), what="the pod row")

    payload = {"body": b""}

    async def app(scope, receive, send):
        # The log lines come from here (a followed log of ``--lines`` lines), the rest of
        # the page from the portal itself.
        if scope["type"] == "http" and scope["path"].endswith("/logs/stream/"):
            headers = [(b"content-type", b"application/x-ndjson")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            body = payload["body"]
            for at in range(0, len(body), 1 << 20):
                more = at + (1 << 20) < len(body)
                await send(
                    {
                        "type": "http.response.body",
                        "body": body[at : at + (1 << 20)],
                        "more_body": more,
                    }
                )
            return
        await ASGIStaticFilesHandler(application)(scope, receive, send)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_level="warning",
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    wait(lambda: server.started, what="uvicorn")
    base = f"http://127.0.0.1:{port}"
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value

    def body(count: int) -> bytes:
        lines = []
        for i in range(count):
            stamp = f"2026-12-01T10:{(i // 60) % 60:02d}:{i % 60:02d}.{i:09d}Z"
            text = f'10.0.0.{i % 250} - - "GET /api/v1/items/{i} HTTP/1.1" 200 {i % 9000}'
            lines.append({"pod": "web", "container": "web", "time": stamp, "text": text})
        lines.insert(
            count // 2, {"pod": "web", "container": "web", "time": "", "text": "x" * 5_000_000}
        )
        lines.append({"end": True})  # as a followed log ends when its container stops
        return b"".join(json.dumps(x).encode() + b"\n" for x in lines)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()

        page.goto(f"{base}/pods/{pod.pk}/")  # warm up (the first request loads the URL map)
        print(
            f"{'log lines':>12} {'kept':>8} {'shown in':>10} {'DOM nodes':>10} "
            f"{'line rows':>10} {'scroll render':>14}"
        )
        for count in (100, args.lines):
            payload["body"] = body(count)
            started = time.perf_counter()
            page.goto(f"{base}/pods/{pod.pk}/logs/")
            wait(
                lambda: (
                    "ended" in page.evaluate("document.querySelector('#log-status').textContent")
                ),
                what="the lines",
            )
            shown = time.perf_counter() - started
            nodes = page.evaluate("document.getElementsByTagName('*').length")
            rows = page.evaluate("document.querySelectorAll('#log-view .log-line').length")
            scroll = page.evaluate(
                """() => new Promise((done) => {
                    const view = document.querySelector('#log-view');
                    const t0 = performance.now();
                    view.scrollTop = view.scrollHeight / 2;
                    requestAnimationFrame(() => requestAnimationFrame(
                        () => done(performance.now() - t0)));
                })"""
            )
            kept = page.evaluate("document.querySelector('#log-status').textContent").split()[0]
            print(
                f"{count + 1:>12,} {kept:>8} {shown * 1000:>8.0f}ms {nodes:>10} {rows:>10} "
                f"{scroll:>12.1f}ms"
            )

        page.goto(f"{base}/pods/{pod.pk}/terminal/")
        wait(
            lambda: page.evaluate(
                "window.kcsTerminal && "
                "document.querySelector('#terminal-status').textContent === 'Connected'"
            ),
            what="the terminal",
        )
        times = page.evaluate(
            """async (n) => {
                const term = window.kcsTerminal;
                const out = [];
                for (let i = 0; i < n; i++) {
                    const t0 = performance.now();
                    await new Promise((done) => {
                        const seen = term.onWriteParsed(() => { seen.dispose(); done(); });
                        term.input("x", true);
                    });
                    out.push(performance.now() - t0);
                }
                return out;
            }""",
            args.keys,
        )
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(
            f"terminal keystroke -> echo over {len(times)} keys: "
            f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"
        )
        print(
            "goal: the DOM stays the same size for 100 and 100,000 lines (only the rows in "
            "sight are in it); the window keeps at most 100,000 lines"
        )
        browser.close()
    server.should_exit = True
    sim.stop()


if __name__ == "__main__":
    main()
