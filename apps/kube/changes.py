"""Change counters: how pages know, cheaply, that what they show has changed.

Whatever writes mirrored rows (a service, the informer, a resync) bumps the
counter of the model; a live page polls with the token it was rendered at and
is re-rendered only when the token moved. The counters live in the cache, which
every process shares (Redis in production, files in the demo).
"""

import time

from django.core.cache import cache
from django.db import transaction

PREFIX = "kcs:changes:"
TTL = 24 * 3600


def _key(model) -> str:
    return f"{PREFIX}{model._meta.label_lower}"


def bump(*models) -> None:
    """Count a change of these models' rows, once it is committed (a page that looked
    earlier would see the old rows and never look again)."""
    transaction.on_commit(lambda: _bump(models))


def _bump(models) -> None:
    for model in models:
        key = _key(model)
        try:
            cache.incr(key)
        except ValueError:  # not there yet (or expired): start from a fresh number
            cache.set(key, int(time.time() * 1000), TTL)


def token(*models) -> str:
    """The state of these models' rows, as a short string that changes when they do."""
    values = cache.get_many([_key(m) for m in models])
    return ".".join(str(values.get(_key(m), 0)) for m in models)
