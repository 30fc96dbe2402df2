"""Fixtures for the log centre: lines written straight into the store, and a cluster."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.logs.store import Record, get_store, to_us
from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.configs.conftest import lab, shop  # noqa: F401
from tests.namespaces.conftest import cluster  # noqa: F401
from tests.portal.conftest import _fast_password_hashing, api, org, portal  # noqa: F401

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def clear_store():
    """The lines' tables are not Django models: a transactional test's flush leaves them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM logs_line")


@pytest.fixture(autouse=True)
def _empty_store(request):
    if "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("db")
    clear_store()
    yield
    if "live_server" in request.fixturenames:
        clear_store()


@pytest.fixture(autouse=True)
def _shipper(_sandbox, settings):  # noqa: F811
    """Prepared clusters run fluent-bit here, as they do outside the tests."""
    settings.LOGS_SHIPPER = True


@pytest.fixture
def write_lines():
    """write_lines(cluster_id, [(minutes ago, namespace, pod, message), ...], now=NOW)."""

    def write(cluster_id, lines, now=NOW, container="app", workload=""):
        records = [
            Record(
                ts=to_us(now - timedelta(minutes=ago)),
                namespace=namespace,
                pod=pod,
                container=container,
                workload=workload or pod.rsplit("-", 2)[0],
                message=message,
            )
            for ago, namespace, pod, message in lines
        ]
        return get_store().ingest(cluster_id, records)

    return write
