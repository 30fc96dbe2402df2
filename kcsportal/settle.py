"""What a long-running web process does once it has started, before its first request.

A Django process holds a few hundred thousand objects that live as long as it does
(modules, URL patterns, settings, translations). Python's cyclic collector walks
every one of them on each full collection, and a full collection comes every ten or
so requests, because a request leaves cycles behind (request ↔ response ↔ view):
those requests take tens of milliseconds longer, which is what a page's p95 shows.

``settle()`` imports what the first requests would otherwise import (the URLconf and
with it every app's views, forms, tables and serializers), then moves everything
alive into the collector's permanent generation (``gc.freeze``), which it never
walks. The objects stay reference-counted: nothing leaks, only the walk is saved.
Called by gunicorn's ``post_worker_init`` (kcsportal/gunicorn_conf.py) in every web
worker, and by the benchmarks so that they measure what the server does.
"""

import gc


def settle() -> None:
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018  (imports every urls.py, views and all)
    gc.collect()
    gc.freeze()
