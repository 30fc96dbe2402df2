"""Real Celery workers for the tests that kill them: a subprocess per worker, on either
broker, sharing the test's database and kubesim.

A worker here is ``celery -A kcsportal worker`` in its own process group (solo pool:
one process), so ``kill()`` is the ``kill -9`` a crashed or evicted worker gets. The test
process sends to the same broker (the embedded filesystem transport in a temporary
folder, or Redis on its own queue) through the portal's own Celery app.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core import operations
from apps.core.models import Operation
from kcsportal.celery import app

_real_send = operations._send
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def redis_url() -> str | None:
    """REDIS_URL, or the local Redis's db 15 when it answers; None without a Redis."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    try:
        import redis

        redis.Redis.from_url(DEFAULT_REDIS, socket_connect_timeout=1).ping()
    except Exception:
        return None
    return DEFAULT_REDIS


def wait_for(condition, what: str, timeout: float = 120, interval: float = 0.2, worker=None):
    """Poll ``condition`` until it is true (its value) or fail naming ``what`` (and with
    the end of ``worker``'s log)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = f"\n--- worker log ---\n{worker.output()}" if worker is not None else ""
            raise AssertionError(f"timed out waiting for {what}{tail}")
        time.sleep(interval)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Broker:
    """Where the test process and its workers meet: ``kind`` is filesystem or redis."""

    def __init__(self, kind: str, tmp_path: Path, kubesim_url: str):
        self.kind = kind
        self.queue = f"kcs-test-{uuid.uuid4().hex[:8]}"
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "kcsportal.settings",
            "DATABASE_URL": _database_url(),
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "KUBESIM_URL": kubesim_url,
            "KCS_VAR_DIR": str(tmp_path / "var"),
            "OPERATION_HEARTBEAT_SECONDS": "1",
            # The retries' backoff, shortened: the suite waits on it in real time.
            "OPERATION_RETRY_SECONDS": "0.25",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "LOG_LEVEL": "INFO",
        }
        if kind == "redis":
            self.url = redis_url()
            self.options = {}
            self.env["REDIS_URL"] = self.url
        else:
            self.env.pop("REDIS_URL", None)
            queue = tmp_path / "var" / "celery" / "queue"
            queue.mkdir(parents=True)
            self.url = "filesystem://"
            self.options = {
                "data_folder_in": str(queue),
                "data_folder_out": str(queue),
                "processed_folder": str(tmp_path / "var" / "celery" / "processed"),
                "control_folder": str(tmp_path / "var" / "celery" / "control"),
                "store_processed": False,
            }
        self.workers = []

    @contextmanager
    def sending(self):
        """Send the operations the test starts (and the reaper resumes) to this broker.

        Through a Celery app of its own, so the portal's app (and the in-process workers
        of other tests) keep their broker and queues."""
        sender = Celery("kcs-test", set_as_current=False)
        sender.conf.broker_url = self.url
        sender.conf.broker_transport_options = self.options
        sender.conf.task_default_queue = self.queue
        sender.conf.task_ignore_result = True

        def send(task, operation, headers):
            sender.send_task(
                task.name,
                args=(operation.pk, *operation.task_args),
                headers={"kcs": headers},
                task_id=operation.task_id or None,
            )

        operations._send = send
        try:
            yield self
        finally:
            operations._send = _real_send
            for worker in self.workers:
                worker.kill()
            sender.close()

    def worker(self) -> "Worker":
        worker = Worker(self, len(self.workers) + 1)
        self.workers.append(worker)
        return worker


class Worker:
    def __init__(self, broker: Broker, number: int):
        self.log_path = broker.tmp_path / f"worker-{number}.log"
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "kcsportal",
                "worker",
                "--pool",
                "solo",
                "--queues",
                broker.queue,
                "--hostname",
                f"{broker.queue}-{number}@%h",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=broker.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes all of it
        )
        log.close()

    def kill(self) -> None:
        """``kill -9`` the worker (its whole process group) and wait for it to be gone."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


@pytest.fixture(params=["filesystem", "redis"])
def broker(request, tmp_path, kubesim, transactional_db):
    """A broker of each kind (Redis when REDIS_URL is set or the local Redis answers)."""
    if request.param == "redis" and redis_url() is None:
        pytest.skip("no Redis: set REDIS_URL or start Redis on 127.0.0.1:6379")
    with Broker(request.param, tmp_path, kubesim.url).sending() as chosen:
        yield chosen


@contextmanager
def eagerly():
    """Run what is queued meanwhile in the test process (to set a scene quickly)."""
    sending, operations._send = operations._send, _real_send
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
        operations._send = sending


def finished(operation: Operation) -> Operation | None:
    operation.refresh_from_db()
    return operation if operation.is_finished else None


def reap_later():
    """Run the reaper as it would run once the heartbeat timeout has passed."""
    # After the last sign of life (a retry's is in the future: when it is due).
    signs = Operation.objects.filter(status__in=Operation.UNFINISHED)
    last = max([timezone.now(), *(h for h in signs.values_list("heartbeat", flat=True) if h)])
    later = last + timedelta(seconds=operations.setting("OPERATION_HEARTBEAT_TIMEOUT") + 1)
    return operations.reap(now=later)


def kubectl(cluster, *args) -> dict:
    """``kubectl ... -o json`` against the cluster, with its kubeconfig."""
    path = Path(settings.VAR_DIR) / f"kubeconfig-{uuid.uuid4().hex[:8]}.json"
    path.write_text(cluster.kubeconfig)
    try:
        done = subprocess.run(
            ["kubectl", "--kubeconfig", str(path), *args, "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        path.unlink()
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
