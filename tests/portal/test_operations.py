"""Long-running operations: a real Celery worker, progress in the API and the portal partial."""

import logging
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from apps.core import operations
from apps.core.logging import ContextFilter
from apps.core.models import AuditEvent, Operation
from apps.core.operations import log_lines
from kcsportal.celery import app


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(ContextFilter())
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def worker(transactional_db):
    """A real Celery worker consuming from the configured broker (Redis in CI)."""
    app.conf.task_always_eager = False
    with start_worker(app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        yield


def _wait_until_finished(client, pk, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = client.get(f"/api/v1/operations/{pk}/").json()
        if data["status"] in ("succeeded", "failed", "cancelled"):
            return data
        time.sleep(0.2)
    raise AssertionError(f"operation {pk} did not finish in {timeout}s: {data}")


def test_worker_runs_diagnostics_and_progress_is_visible(org, portal, api, worker):
    collect = _Collect()
    logger = logging.getLogger("kcsportal.operations")
    # Earlier workers in the run may have set the root level to WARNING.
    level, logger.level = logger.level, logging.INFO
    logger.addHandler(collect)
    try:
        response = portal("admin").post("/system/", HTTP_X_REQUEST_ID="req-diagnostics-1")
        assert response.status_code == 302
        operation = Operation.objects.get(kind="diagnostics")
        assert response["Location"] == f"/operations/{operation.pk}/"

        data = _wait_until_finished(api("admin"), operation.pk)
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)

    assert data["status"] == "succeeded", data
    assert data["progress"] == 100
    assert data["error"] == ""
    assert any("database:" in line for line in data["log"])
    assert any("broker:" in line for line in data["log"])
    assert data["request_id"] == "req-diagnostics-1"
    # The request id followed the operation into the worker's log records.
    started = [r for r in collect.records if r.getMessage().startswith("operation")]
    assert started and {r.request_id for r in started} == {"req-diagnostics-1"}

    page = portal("admin").get(f"/operations/{operation.pk}/", HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert 'value="100"' in html
    assert "Succeeded" in html
    assert "hx-trigger" not in html  # a finished operation stops polling


def test_running_operation_partial_polls_and_shows_step(org, portal):
    operation = Operation.objects.create(kind="diagnostics", actor=org.admin)
    progress = operations.Progress(operation)
    progress._save(status=Operation.Status.RUNNING)
    progress.step("Checking the cache", 40)

    html = portal("admin").get(f"/operations/{operation.pk}/", HTTP_HX_REQUEST="true").content
    html = html.decode()
    assert 'hx-trigger="every 1s"' in html
    assert 'value="40"' in html
    assert "Checking the cache" in html
    assert "<html" not in html  # HTMX gets the partial, not the whole page


def test_operations_are_visible_to_their_project_only(org, api):
    mine = Operation.objects.create(kind="diagnostics", project=org.web, target_name="x")
    api_member, api_outsider = api("member"), api("outsider")
    assert [o["id"] for o in api_member.get("/api/v1/operations/").json()["results"]] == [mine.pk]
    assert api_outsider.get("/api/v1/operations/").json()["results"] == []
    assert api_outsider.get(f"/api/v1/operations/{mine.pk}/").status_code == 404


def test_cancelling_stops_the_task_at_its_next_step(org, api):
    operation = Operation.objects.create(kind="diagnostics", actor=org.admin)
    response = api("admin").post(f"/api/v1/operations/{operation.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"

    from apps.core.tasks import run_diagnostics

    run_diagnostics.apply(args=(operation.pk,))  # a late delivery does nothing
    operation.refresh_from_db()
    assert operation.status == "cancelled"
    assert operation.log == []

    again = api("admin").post(f"/api/v1/operations/{operation.pk}/cancel/")
    assert again.status_code == 400


def test_the_cancel_is_audited_with_the_operation_it_cancelled(org, portal, api):
    other = Operation.objects.create(kind="diagnostics", actor=org.admin)
    operation = Operation.objects.create(kind="diagnostics", actor=org.admin)
    response = portal("admin").post(f"/operations/{operation.pk}/cancel/")
    assert response.status_code == 302
    operation.refresh_from_db()
    assert operation.status == "cancelled"
    event = AuditEvent.objects.get(action="operation.cancel")
    assert (event.result, event.operation, event.target_id) == (
        "success",
        operation,
        str(operation.pk),
    )
    # What an operator reads: the event names the operation it cancelled.
    [listed] = api("admin").get("/api/v1/audit-events/?action=operation.cancel").json()["results"]
    assert listed["operation"] == operation.pk != other.pk


def test_member_cannot_cancel_others_operations(org, api):
    operation = Operation.objects.create(kind="diagnostics", project=org.web, actor=org.admin)
    assert api("member").post(f"/api/v1/operations/{operation.pk}/cancel/").status_code == 403
    operation.refresh_from_db()
    assert operation.status == "pending"


def test_failed_step_records_the_error(org, monkeypatch):
    from apps.core import tasks

    def broken():
        raise RuntimeError("cache unreachable")

    monkeypatch.setattr(tasks.cache, "set", lambda *a, **k: broken())
    operation = Operation.objects.create(kind="diagnostics", actor=org.admin)
    tasks.run_diagnostics.apply(args=(operation.pk,))
    operation.refresh_from_db()
    assert operation.status == "failed"
    assert operation.error == "cache unreachable"
    assert operation.finished is not None
    assert log_lines(operation)[-1].endswith("Failed: cache unreachable")


def test_broker_is_redis_when_redis_url_is_set():
    if settings.REDIS_URL:
        assert app.conf.broker_url == settings.REDIS_URL
        assert app.conf.result_backend == settings.REDIS_URL
    else:
        assert app.conf.broker_url == "filesystem://"
    assert app.conf.task_acks_late is True
