"""Errors: the portal's own pages in the demo too, and one log line for a 403 or 404."""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from apps.core.logging import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]

# In a fresh process with the given environment: GET a page that does not exist.
PROBE = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kcsportal.settings")
django.setup()
from django.conf import settings
from django.test import Client
response = Client(HTTP_HOST="localhost").get("/no-such-page/")
print(response.status_code, settings.ALLOWED_HOSTS, settings.WHITENOISE_USE_FINDERS)
print(response.content.decode())
"""


def _not_found_page(tmp_path, **env):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "KCS_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _demo_environment() -> dict:
    """The variables `make demo` sets for its processes."""
    recipe = re.search(r"^demo:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    line = next(line for line in recipe.group(1).splitlines() if "honcho" in line)
    return dict(re.findall(r"\b([A-Z_]+)=(\S+)", line.split("honcho")[0]))


def test_the_demo_shows_the_portals_404_page_and_keeps_development_defaults(tmp_path):
    env = {k: v for k, v in _demo_environment().items() if not v.startswith("$(")}
    assert env.get("DEBUG_ERROR_PAGES") == "0"
    page = _not_found_page(tmp_path, DEBUG="1", **env)
    assert page.startswith("404 ")
    assert "There is nothing here, or you do not have access to it." in page
    assert "Using the URLconf" not in page  # not Django's technical 404
    first = page.splitlines()[0]
    assert "'localhost'" in first and first.endswith(" True")  # local hosts, static from source
    assert (tmp_path / "secret_key").exists()  # development keys still generated


def test_development_keeps_djangos_debug_pages_by_default(tmp_path):
    page = _not_found_page(tmp_path, DEBUG="1")
    assert page.startswith("404 ")
    assert "Using the URLconf" in page


@pytest.fixture
def request_log(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def _lines(caplog, path):
    """The JSON log lines a request to ``path`` wrote, as the console handler writes them."""
    formatter = JsonFormatter()
    records = [r for r in caplog.records if path in r.getMessage()]
    return [formatter.format(r) for r in records]


@pytest.mark.parametrize(
    ("url", "status"),
    [("/system/", 403), ("/clusters/99999/", 404), ("/no-such-page/", 404)],
)
def test_a_refusal_or_not_found_logs_one_line_without_a_traceback(portal, request_log, url, status):
    assert portal("member").get(url).status_code == status
    lines = _lines(request_log, url)
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert "\n" not in lines[0] and "exception" not in entry
    assert (entry["path"], entry["status"], entry["user"]) == (url, status, "member")


def test_a_server_error_shows_the_500_page_and_logs_its_traceback(org, request_log, monkeypatch):
    from apps.core import views

    def broken(self, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.DashboardView, "get_context_data", broken)
    client = Client(raise_request_exception=False)
    client.force_login(org.member)
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    errors = [r for r in request_log.records if r.name == "django.request"]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "RuntimeError: boom" in json.loads(JsonFormatter().format(errors[0]))["exception"]
