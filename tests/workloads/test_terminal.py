"""The web terminal through the portal's ASGI application (Channels' WebSocket consumer)
to a shell in a kubesim pod: commands, a mounted ConfigMap, resize, refusals, audit."""

import asyncio
import functools
import json
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.test import Client
from kubernetes import client as k8s

from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster
from apps.workloads import services
from apps.workloads.models import Pod
from kcsportal.asgi import application
from tests.kube.conftest import eventually

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: shell}
spec:
  replicas: 1
  selector: {matchLabels: {app: shell}}
  template:
    metadata: {labels: {app: shell}}
    spec:
      containers:
      - name: main
        image: IMAGE
        volumeMounts: [{name: config, mountPath: /etc/config}]
      volumes:
      - name: config
        configMap: {name: app-config}
"""
WAIT = 20.0


class WebsocketCommunicator(ApplicationCommunicator):
    """A browser's WebSocket to the ASGI application, frame by frame (as Channels' own
    test communicator, which needs daphne installed to import)."""

    def __init__(self, app, path: str, headers=()):
        path, _, query = path.partition("?")
        super().__init__(
            app,
            {
                "type": "websocket",
                "path": path,
                "raw_path": path.encode(),
                "query_string": query.encode(),
                "headers": list(headers),
                "subprotocols": [],
                "client": ("127.0.0.1", 50000),
                "server": ("testserver", 80),
                "scheme": "ws",
                "asgi": {"version": "3.0"},
            },
        )

    async def connect(self, timeout: float = 1):
        await self.send_input({"type": "websocket.connect"})
        answer = await self.receive_output(timeout)
        return answer["type"] == "websocket.accept", answer.get("code")

    async def send_to(self, text_data=None, bytes_data=None):
        frame = {"type": "websocket.receive"}
        frame["text" if text_data is not None else "bytes"] = text_data or bytes_data
        await self.send_input(frame)

    async def disconnect(self, code: int = 1000, timeout: float = 1):
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def _pod(org, shop, image="nginx:1.27") -> Pod:
    core = k8s.CoreV1Api(shop.cluster.kube().api_client)
    core.create_namespaced_config_map(
        "shop", {"metadata": {"name": "app-config"}, "data": {"mode": "green"}}
    )
    services.create_from_yaml(org.member, shop, DEPLOYMENT.replace("IMAGE", image))

    def running():
        sync_cluster(shop.cluster)
        return Pod.objects.filter(namespace=shop, workload_name="shell", status="Running").first()

    return eventually(running)


def _cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _socket(pod, user, container="") -> WebsocketCommunicator:
    cookie = await sync_to_async(_cookie)(user)
    path = f"/ws/pods/{pod.pk}/terminal/" + (f"?container={container}" if container else "")
    return WebsocketCommunicator(
        application,
        path,
        headers=[(b"origin", b"http://localhost"), (b"cookie", cookie)],
    )


def in_own_loop(fn):
    """Run an async test in an event loop of its own thread: a browser test run earlier in
    the same process (Playwright's sync API) leaves a loop running in this one."""

    @functools.wraps(fn)
    def test(*args, **kwargs):
        failure = []

        def run():
            try:
                asyncio.run(fn(*args, **kwargs))
            except BaseException as exc:  # re-raised in the test's own thread
                failure.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        if failure:
            raise failure[0]

    return test


async def _until(socket, text: str) -> str:
    """What the terminal shows, read until ``text`` appears."""
    shown = ""
    deadline = time.monotonic() + WAIT
    while text not in shown:
        assert time.monotonic() < deadline, f"{text!r} not shown; the terminal shows {shown!r}"
        frame = await socket.receive_output(timeout=WAIT)
        if frame["type"] == "websocket.send" and frame.get("bytes"):
            shown += frame["bytes"].decode()
        elif frame["type"] == "websocket.send":
            control = json.loads(frame["text"])
            assert control["t"] == "p", control
        else:
            raise AssertionError(f"the socket closed: {frame}; it showed {shown!r}")
    return shown


async def _control(socket) -> dict:
    """The next control frame (JSON text), past the terminal output still arriving: the
    shell's prompt after a command may come before or after the answer to a keepalive."""
    deadline = time.monotonic() + WAIT
    while True:
        assert time.monotonic() < deadline, "no control frame came"
        frame = await socket.receive_output(timeout=WAIT)
        assert frame["type"] == "websocket.send", f"the socket closed: {frame}"
        if frame.get("text") is not None:
            return json.loads(frame["text"])


async def _type(socket, text: str) -> None:
    await socket.send_to(text_data=json.dumps({"t": "i", "d": text}))


@pytest.mark.django_db(transaction=True)
@in_own_loop
async def test_a_shell_runs_echo_and_cats_a_mounted_configmap(org, shop):
    pod = await sync_to_async(_pod)(org, shop)
    socket = await _socket(pod, org.member)
    connected, _ = await socket.connect(timeout=WAIT)
    assert connected
    await _until(socket, "# ")  # the shell's prompt
    await _type(socket, "echo hello from $HOSTNAME\r")
    assert f"hello from {pod.name}" in await _until(socket, f"hello from {pod.name}")
    await _type(socket, "cat /etc/config/mode\r")
    assert "green" in await _until(socket, "green")
    await socket.send_to(text_data=json.dumps({"t": "r", "c": 132, "r": 43}))
    await _type(socket, "echo $COLUMNS x $LINES\r")
    await _until(socket, "132 x 43")
    await socket.send_to(text_data=json.dumps({"t": "p"}))  # keepalive: answered
    assert await _control(socket) == {"t": "p"}
    await _type(socket, "exit\r")
    assert (await _control(socket))["t"] == "exit"
    await socket.disconnect()

    def audited():
        return AuditEvent.objects.filter(action="pod.terminal_end").first()

    start = await sync_to_async(AuditEvent.objects.get)(action="pod.terminal", result="success")
    assert start.actor_id == org.member.pk
    assert start.detail == {"container": "main", "shell": "bash"}
    assert start.target_name == pod.name and start.namespace == "shop"
    end = await sync_to_async(eventually)(audited)
    assert end.detail["container"] == "main" and end.detail["seconds"] >= 0


@pytest.mark.django_db(transaction=True)
@in_own_loop
async def test_busybox_has_no_bash_so_the_terminal_opens_sh(org, shop):
    pod = await sync_to_async(_pod)(org, shop, image="busybox:1.36")
    socket = await _socket(pod, org.member, container="main")
    connected, _ = await socket.connect(timeout=WAIT)
    assert connected
    await _type(socket, "echo $0 ok\r")
    await _until(socket, "ok")
    await socket.disconnect()
    start = await sync_to_async(AuditEvent.objects.get)(action="pod.terminal", result="success")
    assert start.detail["shell"] == "sh"


@pytest.mark.django_db(transaction=True)
@in_own_loop
async def test_a_member_of_another_project_is_refused_on_connect(org, shop):
    pod = await sync_to_async(_pod)(org, shop)
    socket = await _socket(pod, org.outsider)
    connected, _ = await socket.connect(timeout=WAIT)
    assert not connected  # refused before the handshake, like a pod that does not exist
    refusal = await sync_to_async(AuditEvent.objects.get)(action="pod.terminal")
    assert refusal.result == "failure" and refusal.actor_id == org.outsider.pk
    cookie = await sync_to_async(_cookie)(org.member)
    missing = WebsocketCommunicator(
        application,
        "/ws/pods/999999/terminal/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", cookie)],
    )
    assert not (await missing.connect(timeout=WAIT))[0]
    foreign = WebsocketCommunicator(
        application,
        f"/ws/pods/{pod.pk}/terminal/",
        headers=[(b"origin", b"http://evil.example"), (b"cookie", cookie)],
    )
    assert not (await foreign.connect(timeout=WAIT))[0]  # another site's page cannot open it
    anonymous = WebsocketCommunicator(
        application, f"/ws/pods/{pod.pk}/terminal/", headers=[(b"origin", b"http://localhost")]
    )
    assert not (await anonymous.connect(timeout=WAIT))[0]
