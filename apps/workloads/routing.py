"""WebSocket routes (Django Channels), mounted by kcsportal/asgi.py."""

from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/pods/<int:pk>/terminal/", consumers.TerminalConsumer.as_asgi()),
]
