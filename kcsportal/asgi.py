"""The portal as an ASGI application, served by gunicorn's uvicorn workers.

Each worker runs the HTTP requests' synchronous code on ``WEB_THREADS``
long-lived threads (see request_threads.py), which keep their database
connections between requests.
"""

import os

from django.core.asgi import get_asgi_application

from kcsportal import env
from kcsportal.request_threads import RequestThreads

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kcsportal.settings")

THREADS = env.integer("WEB_THREADS", 4)
if THREADS > 0:
    # The threads live as long as the worker, so their connections can too.
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

django_application = get_asgi_application()  # loads the settings


def _static_prefix() -> str:
    from django.conf import settings

    url = settings.STATIC_URL or ""
    return "" if "://" in url or url.startswith("//") else "/" + url.lstrip("/")


def _websockets():
    from channels.auth import AuthMiddlewareStack
    from channels.routing import URLRouter
    from channels.security.websocket import AllowedHostsOriginValidator

    from apps.workloads.routing import websocket_urlpatterns

    return AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))


application = RequestThreads(
    django_application, THREADS, static_prefix=_static_prefix(), websocket=_websockets()
)
