"""Gunicorn's settings for the portal's web process, from environment variables.

Every place that serves the portal starts it the same way (Procfile, compose,
Dockerfile, the load bench, the server test):

    gunicorn --config python:kcsportal.gunicorn_conf kcsportal.asgi:application

The workers are uvicorn's ASGI worker, so the same processes can serve
WebSockets (Django Channels) when the portal has them. Each of the
``WEB_CONCURRENCY`` worker processes serves ``WEB_THREADS`` requests at once
(kcsportal/request_threads.py). The variables are documented in README.md
(Configuration).
"""

import os

from kcsportal import env


def _cores() -> int:
    # The cores this process may run on (a container's CPU set), not the host's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = [f"{env.text('HOST', '0.0.0.0')}:{env.integer('PORT', 8000)}"]  # noqa: S104
worker_class = "uvicorn_worker.UvicornWorker"
# Rendering pages is CPU work and each process runs Python on one core at a time:
# one process per core, with request threads to overlap the waits on the database
# and Kubernetes. At least two, so one restarting worker does not stop the site.
workers = env.integer("WEB_CONCURRENCY", max(2, _cores()))
# A worker whose event loop stays unresponsive this long is killed and replaced. A
# slow request in a request thread does not count: the loop keeps answering.
timeout = env.integer("WEB_TIMEOUT", 60)
graceful_timeout = env.integer("WEB_GRACEFUL_TIMEOUT", 30)
keepalive = env.integer("WEB_KEEPALIVE", 5)
# Replace each worker after this many requests (0: never), a guard against leaks;
# the jitter keeps workers from restarting all at once.
max_requests = env.integer("WEB_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
# Honour X-Forwarded-Proto/-For only from these addresses (the reverse proxy).
forwarded_allow_ips = env.text("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The portal logs every request itself (JSON, with its request id); gunicorn's
# access log is off unless asked for.
accesslog = "-" if env.flag("WEB_ACCESS_LOG") else None
errorlog = "-"
loglevel = env.text("LOG_LEVEL", "INFO").lower()


def post_worker_init(worker) -> None:
    # The application is loaded: take its long-lived objects out of the collector's
    # walks before the first request (kcsportal/settle.py says why).
    from kcsportal.settle import settle

    settle()
