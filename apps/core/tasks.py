"""Operations of the portal itself."""

import time

from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext_lazy as _

from kcsportal.celery import app

from .operations import operation_task


@operation_task("diagnostics", _("Portal diagnostics"))
def run_diagnostics(progress):
    """Check, from inside a worker, what the portal depends on."""
    progress.step(_("Checking the database"), 10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    progress.log(f"database: {connection.vendor} ok")

    progress.step(_("Checking the cache"), 40)
    key = f"diagnostics:{progress.operation.pk}"
    cache.set(key, "ok", 30)
    if cache.get(key) != "ok":
        raise RuntimeError(_("The cache did not return what was stored in it."))
    progress.log("cache: ok")

    progress.step(_("Checking the task broker"), 70)
    started = time.monotonic()
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        transport = conn.transport_cls
    progress.log(f"broker: {transport} ok in {(time.monotonic() - started) * 1000:.0f} ms")
