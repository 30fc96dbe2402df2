"""Liveness and readiness, for load balancers, orchestrators and the System page."""

import logging

from django.db import connection

log = logging.getLogger("kcsportal.health")


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker():
    from kcsportal.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _cache():
    # Sessions' throttling, the informer's "watched" marks and page change tokens
    # live in the cache: Redis in production, shared by every replica.
    from django.core.cache import cache

    cache.set("kcs:readyz", "ok", 30)
    if cache.get("kcs:readyz") != "ok":
        raise RuntimeError("the cache did not keep a value")


CHECKS = {"database": _database, "cache": _cache, "broker": _broker}


def readiness() -> dict[str, str]:
    """Each dependency: "ok" or the reason it is not reachable."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # a check reports any failure, whatever its kind
            log.warning("readiness check %s failed: %s", name, exc)
            results[name] = f"unavailable: {exc.__class__.__name__}"
        else:
            results[name] = "ok"
    return results
