"""Browser tests: Debian's Chromium driven by Playwright against a live server."""

import os
import shutil

import pytest
from celery.contrib.testing.worker import start_worker

from kcsportal.celery import app
from kubesim.testing import KubesimServer

# Playwright's sync API runs an event loop in the test thread; the test's own
# database calls are still synchronous, which Django must be told is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(transactional_db):
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)


@pytest.fixture
def sign_in(page, live_server, demo):
    def sign_in(username, password="kcs-demo-2026"):
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return sign_in


@pytest.fixture
def sandbox(settings):
    """kubesim in this process, used by the sandbox provider."""
    server = KubesimServer()
    settings.KUBESIM_URL = server.url
    yield server
    server.stop()


def _broker(url):
    """Send and take tasks through ``url`` from now on (dropping pooled connections)."""
    app.conf.broker_url = url
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None


@pytest.fixture
def worker(transactional_db, sandbox):
    """A real Celery worker thread running what the browser starts.

    Its queue is in this process's memory: a shared one (the filesystem queue under
    var/) would hand this test's tasks to workers of other test runs, and theirs to it.
    """
    saved = app.conf.broker_url
    app.conf.task_always_eager = False
    _broker("memory://")
    try:
        with start_worker(app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
            yield
    finally:
        _broker(saved)
