"""fluent-bit, emulated: a log-shipping DaemonSet sends its nodes' container logs.

On a real cluster a DaemonSet such as fluent-bit tails /var/log/containers on every
node and posts the lines, with the pods' Kubernetes metadata, to a collector. kubesim
has no files to tail, so this controller plays that part for any DaemonSet whose pods
mount a ConfigMap holding a ``fluent-bit.conf`` with an ``[OUTPUT]`` of ``Name http``:

- it reads the output's Host, Port, URI, tls, Format and Header lines, resolving
  ``${VAR}`` from the DaemonSet container's env (values or secretKeyRef, as the kubelet
  would), and the [SERVICE] Flush interval;
- every Flush (simulated) seconds, for each node where one of the DaemonSet's pods is
  Running, it takes the lines every running container on that node wrote since it last
  looked (``kubesim.runtime.logs``, the same lines ``kubectl logs`` shows) and posts them as
  fluent-bit's http output does: a JSON array (Format json) or one record a line
  (json_lines), each ``{"date": epoch seconds, "log", "stream", "time", "kubernetes":
  {pod_name, namespace_name, pod_id, labels, host, container_name, container_image}}``,
  gzip-compressed when ``Compress gzip``;
- a sender thread per endpoint delivers the batches in order, retrying on 429, 5xx and
  connection errors with back-off (fluent-bit's Retry_Limit), so the API server's loop
  never waits for the collector. A fresh shipper starts at the tail, as fluent-bit does
  with Read_from_Head off: what containers wrote before it ran is not sent, nor, after
  kubesim restarts (``--state``), what was sent before.
"""

from __future__ import annotations

import gzip
import json
import logging
import queue
import re
import threading
import urllib.error
import urllib.request
from base64 import b64decode
from dataclasses import dataclass, field
from datetime import datetime

from kubesim.runtime import logs
from kubesim.runtime.controllers.base import Context, Controller
from kubesim.runtime.controllers.kubelet import notes_for
from kubesim.storage.clock import parse_time

log = logging.getLogger("kubesim.logshipper")

BATCH = 1000  # records per request
MAX_RETRIES = 5
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Output:
    url: str
    headers: tuple[tuple[str, str], ...]
    format: str = "json"
    gzip: bool = False
    flush: float = 1.0
    retry_limit: int = MAX_RETRIES


def parse_config(text: str) -> dict[str, list[dict[str, str]]]:
    """fluent-bit's classic config: [SECTION] headers, then ``Key value`` lines."""
    sections: dict[str, list[dict[str, str]]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = {}
            sections.setdefault(line[1:-1].strip().upper(), []).append(current)
            continue
        if current is None:
            continue
        key, _sep, value = line.partition(" ")
        key = key.lower()
        if key == "header":  # may repeat
            current[f"header:{len(current)}"] = value.strip()
        else:
            current[key] = value.strip()
    return sections


def _env(cluster, namespace: str, container: dict) -> dict[str, str]:
    values = {}
    for var in container.get("env") or ():
        name = var.get("name", "")
        if "value" in var:
            values[name] = str(var["value"])
            continue
        ref = ((var.get("valueFrom") or {}).get("secretKeyRef")) or {}
        if ref:
            secret = cluster.store.get(("", "secrets"), namespace, ref.get("name", ""))
            data = (secret or {}).get("data") or {}
            if ref.get("key") in data:
                values[name] = b64decode(data[ref["key"]]).decode(errors="replace")
            continue
        cm_ref = ((var.get("valueFrom") or {}).get("configMapKeyRef")) or {}
        if cm_ref:
            cm = cluster.store.get(("", "configmaps"), namespace, cm_ref.get("name", ""))
            if cm_ref.get("key") in ((cm or {}).get("data") or {}):
                values[name] = cm["data"][cm_ref["key"]]
    return values


def output_of(cluster, daemonset: dict) -> Output | None:
    """The http output a DaemonSet's fluent-bit would send to, if it is one."""
    namespace = daemonset["metadata"].get("namespace", "")
    spec = ((daemonset.get("spec") or {}).get("template") or {}).get("spec") or {}
    for volume in spec.get("volumes") or ():
        name = (volume.get("configMap") or {}).get("name")
        if not name:
            continue
        cm = cluster.store.get(("", "configmaps"), namespace, name)
        text = ((cm or {}).get("data") or {}).get("fluent-bit.conf")
        if not text:
            continue
        sections = parse_config(text)
        outputs = [o for o in sections.get("OUTPUT", []) if o.get("name", "").lower() == "http"]
        if not outputs:
            continue
        containers = spec.get("containers") or [{}]
        env = _env(cluster, namespace, containers[0])

        out = {
            k: _VAR.sub(lambda m, env=env: env.get(m.group(1), ""), v)
            for k, v in outputs[0].items()
        }
        service = (sections.get("SERVICE") or [{}])[0]
        tls = out.get("tls", "off").lower() in ("on", "true", "yes")
        host = out.get("host", "127.0.0.1")
        port = out.get("port") or ("443" if tls else "80")
        uri = out.get("uri", "/")
        headers = []
        for key, value in out.items():
            if key.startswith("header:"):
                h_name, _sep, h_value = value.partition(" ")
                headers.append((h_name, h_value.strip()))
        try:
            flush = float(service.get("flush", "1"))
        except ValueError:
            flush = 1.0
        try:
            retries = int(out.get("retry_limit", MAX_RETRIES))
        except ValueError:
            retries = MAX_RETRIES
        return Output(
            url=f"{'https' if tls else 'http'}://{host}:{port}{uri}",
            headers=tuple(headers),
            format=out.get("format", "msgpack").lower(),
            gzip=out.get("compress", "").lower() == "gzip",
            flush=max(flush, 0.5),
            retry_limit=retries,
        )
    return None


class Sender(threading.Thread):
    """Posts one endpoint's batches in order, off the server's event loop."""

    def __init__(self, output: Output):
        super().__init__(name=f"logshipper {output.url}", daemon=True)
        self.output = output
        self.queue: queue.Queue = queue.Queue(maxsize=1000)
        self.stats = {"sent": 0, "records": 0, "retried": 0, "dropped": 0, "refused": 0}
        self.last_status: int | None = None
        self.stopped = threading.Event()

    def submit(self, records: list[dict]) -> None:
        try:
            self.queue.put_nowait(records)
        except queue.Full:  # fluent-bit's buffer limit: the oldest is lost, not the loop
            self.stats["dropped"] += len(records)

    def body(self, records: list[dict]) -> bytes:
        if self.output.format in ("json_lines", "json_stream"):
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
        else:
            data = json.dumps(records, ensure_ascii=False).encode()
        return gzip.compress(data) if self.output.gzip else data

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                records = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.deliver(records)
            finally:
                self.queue.task_done()

    def deliver(self, records: list[dict]) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "Fluent-Bit"}
        headers.update(dict(self.output.headers))
        if self.output.gzip:
            headers["Content-Encoding"] = "gzip"
        data = self.body(records)
        delay = 0.2
        for _attempt in range(self.output.retry_limit + 1):
            if self.stopped.is_set():
                return
            request = urllib.request.Request(  # noqa: S310 (the configured output)
                self.output.url, data=data, headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                    self.last_status = answer.status
                self.stats["sent"] += 1
                self.stats["records"] += len(records)
                return
            except urllib.error.HTTPError as exc:
                self.last_status = exc.code
                retry = exc.code == 429 or exc.code >= 500
                wait = float(exc.headers.get("Retry-After") or delay) if retry else 0
            except (urllib.error.URLError, OSError):
                self.last_status = 0
                retry, wait = True, delay
            if not retry:
                self.stats["refused"] += 1  # 4xx: fluent-bit drops the chunk
                log.info("logshipper: %s refused a batch (%s)", self.output.url, self.last_status)
                return
            self.stats["retried"] += 1
            self.stopped.wait(min(wait, 5.0))
            delay = min(delay * 2, 5.0)
        self.stats["dropped"] += len(records)


@dataclass
class Shipper:
    output: Output
    sender: Sender
    cursors: dict[tuple[str, str, int], datetime] = field(default_factory=dict)
    # Found when kubesim (re)started: fluent-bit resumes from its offsets database, so
    # what was written before is not sent again; here, it starts at the tail.
    from_tail: bool = False


def _running_pods_by_node(cluster) -> dict[str, list[dict]]:
    by_node: dict[str, list[dict]] = {}
    for pod in cluster.store.list(("", "pods")):
        if (pod.get("status") or {}).get("phase") == "Running":
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                by_node.setdefault(node, []).append(pod)
    return by_node


def _owned_by(pod: dict, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in pod["metadata"].get("ownerReferences") or ())


class LogShipperController(Controller):
    name = "logshipper"
    component = "fluent-bit"
    watches = ("DaemonSet", "ConfigMap", "Secret")

    def __init__(self) -> None:
        self.shippers: dict[str, Shipper] = {}  # DaemonSet uid -> its shipper

    def reconcile(self, ctx: Context) -> None:
        cluster = ctx.cluster
        now = ctx.clock.now()
        seen = set()
        pods_by_node = None
        flush = None
        for ds in cluster.store.list(("apps", "daemonsets")):
            if ds["metadata"].get("deletionTimestamp"):
                continue
            output = output_of(cluster, ds)
            if output is None:
                continue
            uid = ds["metadata"]["uid"]
            seen.add(uid)
            shipper = self.shippers.get(uid)
            if shipper is None or shipper.output != output:
                if shipper is not None:
                    shipper.sender.stopped.set()
                sender = Sender(output)
                sender.start()
                shipper = Shipper(
                    output,
                    sender,
                    dict(shipper.cursors) if shipper else {},
                    from_tail=shipper is None and ctx.resync,
                )
                self.shippers[uid] = shipper
            flush = output.flush if flush is None else min(flush, output.flush)
            if pods_by_node is None:
                pods_by_node = _running_pods_by_node(cluster)
            self._ship(cluster, shipper, uid, pods_by_node, now)
            shipper.from_tail = False
        for uid in set(self.shippers) - seen:
            self.shippers.pop(uid).sender.stopped.set()
        if flush is not None:
            ctx.requeue_after(flush)

    def _ship(self, cluster, shipper: Shipper, uid: str, pods_by_node: dict, now) -> None:
        records: list[dict] = []
        live = set()
        for node, pods in pods_by_node.items():
            agents = [p for p in pods if _owned_by(p, uid)]
            if not agents:
                continue  # no shipper pod runs on this node (yet)
            agent_start = min(parse_time(p["status"].get("startTime")) or now for p in agents)
            for pod in pods:
                for record in self._pod_records(
                    cluster, shipper, pod, node, agent_start, now, live
                ):
                    records.append(record)
                    if len(records) >= BATCH:
                        shipper.sender.submit(records)
                        records = []
        if records:
            shipper.sender.submit(records)
        for key in set(shipper.cursors) - live:
            del shipper.cursors[key]  # the container is gone

    def _pod_records(self, cluster, shipper, pod, node, agent_start, now, live):
        meta, status = pod["metadata"], pod.get("status") or {}
        specs = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or ()}
        for cs in status.get("containerStatuses") or ():
            running = (cs.get("state") or {}).get("running")
            if not running or not running.get("startedAt"):
                continue
            name = cs.get("name", "")
            key = (meta.get("uid", ""), name, cs.get("restartCount", 0))
            live.add(key)
            started = parse_time(running["startedAt"])
            since = shipper.cursors.get(key) or (
                now if shipper.from_tail else max(started, agent_start)
            )
            if since >= now:
                shipper.cursors.setdefault(key, since)
                continue
            lines = logs.log_lines(pod, name, started, now, since=since)
            lines = _with_notes(cluster, pod, name, lines, started, now)
            shipper.cursors[key] = now
            for at, text in lines:
                if at <= since:
                    continue
                yield {
                    "date": round(at.timestamp(), 6),
                    "time": logs.format_timestamp(at, text),
                    "stream": "stdout",
                    "log": text + "\n",
                    "kubernetes": {
                        "pod_name": meta.get("name"),
                        "namespace_name": meta.get("namespace"),
                        "pod_id": meta.get("uid"),
                        "labels": meta.get("labels") or {},
                        "host": node,
                        "container_name": name,
                        "container_image": (specs.get(name) or {}).get("image", ""),
                        "docker_id": (cs.get("containerID") or "").rpartition("/")[2],
                    },
                }

    def stop(self) -> None:
        for shipper in self.shippers.values():
            shipper.sender.stopped.set()


def _with_notes(cluster, pod, name, lines, start, now):
    """The kubelet's extra lines (configuration reloads), as kubectl logs shows them."""
    extra = [(t, text) for t, text in notes_for(cluster, pod, name) if start <= t <= now]
    return sorted(lines + extra, key=lambda line: line[0]) if extra else lines


def shipper_stats(cluster) -> dict[str, dict]:
    """What each shipper of the cluster sent so far (for tests and the admin API)."""
    sim = getattr(cluster, "simulation", None)
    for controller in getattr(sim, "controllers", ()):
        if isinstance(controller, LogShipperController):
            return {
                s.output.url: {
                    **s.sender.stats,
                    "status": s.sender.last_status,
                    # Batches queued or being sent: 0 once everything flushed has an answer.
                    "pending": s.sender.queue.unfinished_tasks,
                }
                for s in controller.shippers.values()
            }
    return {}


CONTROLLERS = [LogShipperController]
