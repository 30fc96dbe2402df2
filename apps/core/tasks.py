"""Operations of the portal itself."""

import time

from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext_lazy as _

from kcsportal.celery import app

from . import operations
from .operations import operation_task


@operation_task("diagnostics", _("Portal diagnostics"))
def run_diagnostics(progress):
    """Check, from inside a worker, what the portal depends on."""
    progress.step(_("Checking the database"), 10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    progress.log(_("database: %(vendor)s ok"), vendor=connection.vendor)

    progress.step(_("Checking the cache"), 40)
    key = f"diagnostics:{progress.operation.pk}"
    cache.set(key, "ok", 30)
    if cache.get(key) != "ok":
        raise RuntimeError(_("The cache did not return what was stored in it."))
    progress.log(_("cache: ok"))

    progress.step(_("Checking the task broker"), 70)
    started = time.monotonic()
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        transport = conn.transport_cls
    progress.log(
        _("broker: %(transport)s ok in %(ms)s ms"),
        transport=transport,
        ms=round((time.monotonic() - started) * 1000),
    )


@shared_task(name="core.reap_operations", ignore_result=True)
def reap_operations():
    """Beat: resume (or fail, with the reason) the operations whose worker stopped."""
    return operations.reap()
