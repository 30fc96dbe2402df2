"""What runs inside pods: container logs, exec sessions and resource usage.

The pod subresources ``log`` and ``exec`` and the metrics API (metrics.k8s.io), through
the official client. Callers (``apps.workloads.containers``) authorize first.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from collections.abc import Iterator
from contextvars import ContextVar

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream as k8s_stream
from kubernetes.stream import ws_client
from kubernetes.stream.ws_client import RESIZE_CHANNEL, V5_CHANNEL_PROTOCOL
from websocket import WebSocketBadStatusException

from . import quantity
from .client import CONNECT_TIMEOUT, READ_TIMEOUT, Kube
from .errors import KubeError, translate

log = logging.getLogger("kcsportal.kube")

# A followed log (or a terminal) may stay quiet for long: no read timeout to speak of.
FOLLOW_TIMEOUT = (CONNECT_TIMEOUT, 7 * 24 * 3600)


def _log_query(
    container: str,
    *,
    tail_lines: int | None = None,
    since_seconds: int | None = None,
    since_time: str | None = None,
    timestamps: bool = False,
    previous: bool = False,
    limit_bytes: int | None = None,
    follow: bool = False,
) -> list[tuple[str, str]]:
    query = [("container", container)]
    for name, value in (("timestamps", timestamps), ("previous", previous), ("follow", follow)):
        if value:
            query.append((name, "true"))
    if tail_lines is not None:
        query.append(("tailLines", str(tail_lines)))
    if since_time:
        query.append(("sinceTime", since_time))
    elif since_seconds is not None:
        query.append(("sinceSeconds", str(since_seconds)))
    if limit_bytes is not None:
        query.append(("limitBytes", str(limit_bytes)))
    return query


def _log_request(kube: Kube, namespace: str, pod: str, query, timeout, *, retry: bool = True):
    """GET pods/log, its body unread (the official client's typed method has no sinceTime)."""
    api = kube.api_client

    def get(_request_timeout):
        method, url, headers, _body, _post = api.param_serialize(
            method="GET",
            resource_path="/api/v1/namespaces/{namespace}/pods/{name}/log",
            path_params={"namespace": namespace, "name": pod},
            query_params=query,
            header_params={"Accept": "text/plain"},
            auth_settings=["BearerToken"],
        )
        answer = api.call_api(method, url, header_params=headers, _request_timeout=_request_timeout)
        raw = answer.response
        if answer.status >= 400:
            body = raw.data.decode("utf-8", errors="replace")
            raw.release_conn()
            raise ApiException(status=answer.status, reason=answer.reason, body=body)
        return raw

    return kube.call(get, retry=retry, _request_timeout=timeout)


def read_log(kube: Kube, namespace: str, pod: str, container: str, **options) -> str:
    """The container's log now (``kubectl logs``), as text."""
    response = _log_request(
        kube, namespace, pod, _log_query(container, **options), (CONNECT_TIMEOUT, READ_TIMEOUT)
    )
    try:
        return response.data.decode("utf-8", errors="replace")
    finally:
        response.release_conn()


class LogStream:
    """A followed log (``kubectl logs -f``): the log so far, then each line as the
    container writes it. Iterate for lines (without their newline); it ends when the
    container stops. ``close`` (from any thread) ends it at once."""

    def __init__(self, response):
        self.response = response
        self.closed = False

    def __iter__(self) -> Iterator[str]:
        pending = b""
        try:
            for chunk in self.response.stream(64 * 1024, decode_content=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield line.decode("utf-8", errors="replace")
            if pending:
                yield pending.decode("utf-8", errors="replace")
        except Exception as exc:  # the connection dropped or was closed: the follow ends
            if not self.closed:
                log.info("a followed log ended: %s", exc)
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            # Shut the socket first: a reader thread blocked in recv holds the buffer's
            # lock, and closing the response would wait for it, that is for the
            # container's next line (in an event loop, stalling every other request).
            sock = getattr(getattr(self.response, "connection", None), "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            try:
                self.response.close()
                self.response.release_conn()
            except Exception:  # noqa: S110 (closing anyway)
                pass


def follow_log(kube: Kube, namespace: str, pod: str, container: str, **options) -> LogStream:
    query = _log_query(container, follow=True, **options)
    return LogStream(_log_request(kube, namespace, pod, query, FOLLOW_TIMEOUT, retry=False))


class ExecSession:
    """An interactive exec into a container, on the official client's WebSocket client.

    The client offers ``v5.channel.k8s.io`` and falls back to ``v4.channel.k8s.io``
    when the API server does not speak v5.
    """

    def __init__(self, ws, command: list[str]):
        self.ws = ws
        self.command = command

    @property
    def protocol(self) -> str:
        return getattr(self.ws, "subprotocol", "") or ""

    def read(self, timeout: float = 1.0) -> tuple[bytes, bool]:
        """(output that arrived within ``timeout``, whether the session is still open)."""
        if not self.ws.is_open():
            return b"", False
        self.ws.update(timeout=timeout)
        out = self.ws.read_channel(1) if self.ws.peek_channel(1) else ""
        err = self.ws.read_channel(2) if self.ws.peek_channel(2) else ""
        data = (out + err).encode("utf-8", errors="replace") if isinstance(out, str) else out + err
        return data, self.ws.is_open()

    def write(self, data: str) -> None:
        self.ws.write_stdin(data)

    def resize(self, cols: int, rows: int) -> None:
        self.ws.write_channel(RESIZE_CHANNEL, json.dumps({"Width": cols, "Height": rows}))

    def close(self) -> None:
        try:
            if self.protocol == V5_CHANNEL_PROTOCOL and self.ws.is_open():
                self.ws.close_channel(0)  # stdin closed: the shell ends (v5)
        except Exception:  # noqa: S110 (closing anyway)
            pass
        self.ws.close()

    def exit_message(self) -> str:
        """The error channel's status (empty for success or when nothing came)."""
        try:
            raw = self.ws.read_channel(3)
        except Exception:
            return ""
        if not raw:
            return ""
        try:
            status = json.loads(raw)
        except ValueError:
            return raw
        return "" if status.get("status") == "Success" else status.get("message", "")


# The official client's WebSocket handshake sends only the Authorization header of the
# request (kubernetes.stream.ws_client.create_websocket), which would drop Impersonate-User:
# an exec would run as the portal rather than as its user. Its WebSocket class is swapped,
# once, for one that adds the headers ``open_exec`` puts here for the handshake it makes.
_handshake_headers: ContextVar[tuple[str, ...]] = ContextVar("kcs_ws_headers", default=())


class _WebSocket(ws_client.WebSocket):
    def connect(self, url, **options):
        extra = _handshake_headers.get()
        if extra:
            options["header"] = [*(options.get("header") or []), *extra]
        return super().connect(url, **options)


ws_client.WebSocket = _WebSocket


def open_exec(
    kube: Kube, namespace: str, pod: str, container: str, command: list[str], *, tty: bool = True
) -> ExecSession:
    """Start ``command`` in the container with stdin (and a TTY); a KubeError if it cannot
    start (no such container, not running, the runtime refused the binary). An
    impersonating ``kube`` execs as its user."""
    # the client's WebSocket handshake sends only Authorization: the rest is added here
    who = kube.impersonate
    headers = tuple(f"{name}: {value}" for name, value in who.headers()) if who else ()
    token = _handshake_headers.set(headers)
    try:
        ws = k8s_stream(
            kube.core.connect_get_namespaced_pod_exec,
            pod,
            namespace,
            container=container,
            command=command,
            stdin=True,
            stdout=True,
            stderr=True,
            tty=tty,
            _preload_content=False,
            _request_timeout=FOLLOW_TIMEOUT,
        )
    except Exception as exc:
        raise _refused_handshake(exc) or translate(exc) from exc
    finally:
        _handshake_headers.reset(token)
    return ExecSession(ws, command)


def _refused_handshake(exc: Exception) -> KubeError | None:
    """The API server's own refusal of the WebSocket handshake (a 403 Forbidden, a 404),
    which the official client reduces to a status-0 ApiException naming it in its text."""
    refused = exc.__context__
    if not isinstance(refused, WebSocketBadStatusException):
        return None
    answer = ApiException(status=refused.status_code, reason=refused.status_message or "")
    answer.body = (refused.resp_body or b"").decode("utf-8", errors="replace")
    return translate(answer)


def pod_usage(kube: Kube, namespace: str, label_selector: str = "") -> dict[str, dict]:
    """{pod: {container: {"cpu": millicores, "memory": bytes}}} from the metrics API; empty
    when the cluster has no metrics server (or it is not ready)."""
    api = k8s.CustomObjectsApi(kube.api_client)
    try:
        answer = kube.call(
            api.list_namespaced_custom_object,
            "metrics.k8s.io",
            "v1beta1",
            namespace,
            "pods",
            label_selector=label_selector,
            retry=False,
        )
    except KubeError as exc:
        if exc.status in (404, 503):
            return {}
        raise
    usage = {}
    for item in answer.get("items") or []:
        usage[item["metadata"]["name"]] = {
            c["name"]: {
                "cpu": int(quantity.parse((c.get("usage") or {}).get("cpu", "0")) * 1000),
                "memory": int(quantity.parse((c.get("usage") or {}).get("memory", "0"))),
            }
            for c in item.get("containers") or []
        }
    return usage
