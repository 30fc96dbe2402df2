"""Fixtures for cluster tests: kubesim in-process, tasks run eagerly at commit."""

import pytest

from kcsportal.celery import app
from kubesim.testing import KubesimServer
from tests.portal.conftest import _fast_password_hashing, api, org, portal  # noqa: F401


@pytest.fixture(scope="session")
def kubesim():
    server = KubesimServer()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _sandbox(settings, kubesim):
    settings.KUBESIM_URL = kubesim.url
    # Clusters as they are before the log centre's shipper; its tests (tests/logs) turn it on.
    settings.LOGS_SHIPPER = False
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run what services queue (on commit) right away, as a worker would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run
