"""Running the portal itself: probes, request ids, logs, security settings, packaging."""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from django.test import Client

from apps.core import context
from apps.core.logging import ContextFilter, JsonFormatter
from kcsportal.celery import app

ROOT = Path(__file__).resolve().parents[2]


# --- probes and request ids -------------------------------------------------------


def test_healthz_answers_without_login(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_cache_and_broker(db):
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_readyz_is_503_when_the_cache_is_unreachable(db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("unavailable")
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_the_kubelet_by_pod_address_over_plain_http(db, settings, path):
    # In production ALLOWED_HOSTS names the portal and plain HTTP is redirected; the
    # kubelet asks by the pod's IP over HTTP and must get the probe's own answer.
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = []
    client = Client()
    assert client.get("/", HTTP_HOST="10.244.1.7:8000").status_code == 400  # others: refused
    response = client.get(path, HTTP_HOST="10.244.1.7:8000")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response["X-Request-ID"]


def test_readyz_is_503_when_the_broker_is_unreachable(db, monkeypatch):
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unavailable")


def test_request_id_is_returned_and_a_callers_valid_id_is_kept(db):
    client = Client()
    generated = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234abcd")["X-Request-ID"] == "lb-1234abcd"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert forged != "bad id\nwith newline"


def test_logs_are_json_lines_with_the_request_id():
    record = logging.LogRecord(
        "kcsportal.test", logging.INFO, __file__, 1, "hello %s", ("x",), None
    )
    record.path = "/x"
    with context.bound(rid="rid-0001", ip="192.0.2.1"):
        ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello x"
    assert line["request_id"] == "rid-0001"
    assert line["path"] == "/x"
    assert line["level"] == "INFO"


# --- security ---------------------------------------------------------------------


def _production_env(**extra):
    # Only what a production deployment sets: nothing leaks in from the test run.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "portal.example.com",
        **extra,
    }
    return env


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(KCS_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_secrets(tmp_path):
    env = _production_env(KCS_VAR_DIR=str(tmp_path))
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert not (tmp_path / "secret_key").exists()


PORTAL_PAGES = [
    "/",
    "/departments/",
    "/projects/",
    "/members/",
    "/operations/",
    "/audit/",
    "/tokens/",
    "/tokens/add/",
    "/system/",
    "/projects/add/",
]


@pytest.mark.parametrize("url", PORTAL_PAGES)
def test_portal_pages_satisfy_the_content_security_policy(org, portal, url):
    response = portal("admin").get(url)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert inline_scripts == []
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert "<style" not in html
    assert "javascript:" not in html
    assert response["X-Frame-Options"] == "DENY"


def test_login_is_throttled_after_repeated_failures(org):
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(4):
        page = client.post("/login/", {"username": "member", "password": "wrong"})
        assert page.status_code == 200
    fifth = client.post("/login/", {"username": "member", "password": "wrong"})
    assert fifth.status_code == 429
    locked = client.post("/login/", {"username": "member", "password": "kcs-demo-2026"})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_sets_httponly_cookies(org):
    client = Client()
    client.get("/login/")
    response = client.post("/login/", {"username": "member", "password": "kcs-demo-2026"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]
    assert client.cookies["csrftoken"]["httponly"]


# --- packaging ----------------------------------------------------------------------


def test_compose_file_parses_and_every_command_exists():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name, service in services.items():
        command = service.get("command")
        if command is None:
            assert "image" in service, f"{name} has neither image nor command"
            continue
        program, *args = command
        if program == "python" and args[0] == "manage.py":
            assert (ROOT / "manage.py").exists()
            _assert_management_command(args[1])
        elif program == "python" and args[0] == "-m":
            assert (ROOT / args[1] / "__main__.py").exists(), name
        elif program == "gunicorn":
            options, app = args[:-1], args[-1]
            module, attribute = app.split(":")
            assert (ROOT / (module.replace(".", "/") + ".py")).exists(), name
            assert f"{attribute} =" in (ROOT / (module.replace(".", "/") + ".py")).read_text()
            config = options[options.index("--config") + 1].removeprefix("python:")
            assert (ROOT / (config.replace(".", "/") + ".py")).exists(), name
        elif program == "celery":
            assert args[:2] == ["-A", "kcsportal"] and (ROOT / "kcsportal" / "celery.py").exists()
            assert args[2] in {"worker", "beat"}
        else:
            pytest.fail(f"{name}: unknown program {program}")


def _assert_management_command(name):
    from django.core.management import get_commands

    assert name in get_commands(), name


def test_dockerfile_copies_only_what_exists():
    for line in (ROOT / "docker" / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_procfile_runs_the_demo_processes():
    lines = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert {"web", "worker", "beat", "kubesim", "cluster"} <= set(lines)
    from django.core.management import get_commands

    assert "demo_cluster" in get_commands()


def test_one_address_spraying_many_usernames_is_throttled(org, settings):
    """Per username+address, each of these is one failure; the address has many (hole 7)."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    sprayer = Client(REMOTE_ADDR="203.0.113.9")
    for number in range(8):
        page = sprayer.post("/login/", {"username": f"user{number}", "password": "wrong"})
        assert page.status_code == 200, number
    # Now every sign-in from the address waits, even a right password for another user.
    for username, password in (("user99", "wrong"), ("member", "kcs-demo-2026")):
        page = sprayer.post("/login/", {"username": username, "password": password})
        assert page.status_code == 429
        assert "Sign-ins from your address are paused" in page.content.decode()
    assert "_auth_user_id" not in sprayer.session
    # Another address is not affected.
    other = Client(REMOTE_ADDR="203.0.113.10")
    page = other.post("/login/", {"username": "member", "password": "kcs-demo-2026"})
    assert page.status_code == 302 and "_auth_user_id" in other.session
