"""The production web server, started as the Procfile, compose and the image start it.

The server runs in its own process on a free port with production settings
(DEBUG=0) against this test run's database, so a broken server command or
configuration fails here rather than in a deployment.
"""

import asyncio
import concurrent.futures
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from kcsportal.request_threads import RequestThreads

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90  # a generous bound for a loaded CI machine, not a timing assertion


def procfile_web() -> str:
    lines = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    return lines["web"].strip()


def test_compose_and_the_image_start_the_same_server_as_the_procfile():
    web = shlex.split(procfile_web())
    assert web[0] == "gunicorn" and web[-1] == "kcsportal.asgi:application"
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    assert compose["services"]["web"]["command"] == web
    cmd = re.search(r"^CMD (.+)$", (ROOT / "docker" / "Dockerfile").read_text(), re.M)
    assert yaml.safe_load(cmd.group(1)) == web


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    assert connection.vendor == "postgresql", connection.vendor
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    where = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    return f"postgres://{quote(db['USER'], safe='')}{password}@{where}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url, headers=None):
    """(status, headers, body) of a GET, without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310  (checked above)
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers, answer.read()


@pytest.fixture
def production_server(transactional_db, tmp_path):
    """The Procfile's web command, production settings, this run's database; its base URL."""
    port = _free_port()
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DEBUG": "0",
        # The test's own keys, so the sessions it writes are valid to the server.
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": _database_url(),
        "KCS_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT, env=env, check=True, timeout=300,
    )  # fmt: skip
    log = (tmp_path / "web.log").open("wb")
    server = subprocess.Popen(
        ["sh", "-c", f"exec {procfile_web()}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert server.poll() is None, (tmp_path / "web.log").read_text()
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()
            time.sleep(0.25)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        log.close()


# Behind the TLS-terminating proxy, as in production (SECURE_SSL_REDIRECT on).
HTTPS = {"X-Forwarded-Proto": "https"}


def _session_for(user) -> str:
    # What signing in stores, as Django's test Client.force_login does.
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def test_the_production_server_serves_pages_static_files_and_probes(production_server):
    base = production_server
    status, _headers, body = _get(f"{base}/healthz")
    assert status == 200 and b'"ok"' in body
    status, _headers, body = _get(f"{base}/readyz")
    assert status == 200, body
    assert b'"database": "ok"' in body and b'"broker": "ok"' in body

    # Plain HTTP is sent to HTTPS; through the proxy a signed-in user gets the page.
    status, headers, _body = _get(f"{base}/")
    assert status == 301 and headers["Location"].startswith("https://")
    user = get_user_model().objects.create_user("server-test", is_staff=True)
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={_session_for(user)}"}
    status, headers, body = _get(f"{base}/", {**HTTPS, **cookie})
    assert status == 200, body[:2000]
    page = body.decode()
    assert "server-test" in page
    assert "Content-Security-Policy" in headers and headers["X-Request-ID"]

    # The page links collected, fingerprinted assets, which WhiteNoise serves with
    # far-future caching and, to clients that accept it, compressed.
    stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "no fingerprinted stylesheet on the page"
    status, headers, body = _get(f"{base}{stylesheet.group(1)}", HTTPS)
    assert status == 200 and body
    assert headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"]
    assert "max-age=315360000" in headers["Cache-Control"]
    status, headers, _body = _get(
        f"{base}{stylesheet.group(1)}", {**HTTPS, "Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"


# --- the request threads of an ASGI worker --------------------------------------------


def _recording_app():
    """An ASGI app whose requests note, from their synchronous part, the thread they ran on."""
    seen, lock = {"threads": [], "active": 0, "most": 0}, threading.Lock()

    def work():
        with lock:
            seen["threads"].append(threading.get_ident())
            seen["active"] += 1
            seen["most"] = max(seen["most"], seen["active"])
        time.sleep(0.01)  # long enough for the other requests to pile up
        with lock:
            seen["active"] -= 1

    async def app(scope, receive, send):
        await sync_to_async(work)()

    return app, seen


def _serve(app, *batches):
    """Serve each batch of (type, path) requests at once, one batch after the other."""

    async def main():
        for batch in batches:
            await asyncio.gather(*(app({"type": t, "path": p}, None, None) for t, p in batch))

    # One event loop, as in a worker; in a thread of its own, since a browser test earlier
    # in the run may have left one running in this thread.
    with concurrent.futures.ThreadPoolExecutor(1) as runner:
        runner.submit(asyncio.run, main()).result()


def test_requests_share_a_bounded_set_of_long_lived_threads():
    inner, seen = _recording_app()
    _serve(RequestThreads(inner, 2), [("http", "/projects/")] * 8, [("http", "/configmaps/")] * 4)
    assert seen["most"] <= 2
    pool = set(seen["threads"][:8])
    assert len(pool) == 2
    # Later requests run on the same threads (and so reuse their connections).
    assert set(seen["threads"][8:]) == pool


def test_liveness_static_files_and_websockets_do_not_wait_for_a_request_thread():
    inner, seen = _recording_app()
    app = RequestThreads(inner, 1, static_prefix="/static/")
    _serve(
        app,
        [("http", "/projects/")],
        [("http", "/healthz")],
        [("http", "/static/css/portal.css")],
        [("websocket", "/ws/logs/")],
    )
    pool_thread, *others = seen["threads"]
    assert len(others) == 3 and pool_thread not in others


def test_a_started_worker_takes_its_long_lived_objects_out_of_the_collectors_walks():
    import gc

    from kcsportal import gunicorn_conf

    assert gc.get_freeze_count() == 0
    try:
        gunicorn_conf.post_worker_init(worker=None)  # as gunicorn calls it, app loaded
        # Everything alive, the URLconf and every view it imports among it, is frozen:
        # a full collection walks none of it.
        assert gc.get_freeze_count() > 10_000
        assert "apps.workloads.views" in sys.modules
    finally:
        gc.unfreeze()
