"""What a kubelet serves for Prometheus: `/metrics/cadvisor` and `/metrics/resource`.

Reached as real clusters expose them, through the API server's node proxy:
`GET /api/v1/nodes/{node}/proxy/metrics/cadvisor` and `.../proxy/metrics/resource`, in
Prometheus' text exposition format (0.0.4) with the kubelet's metric names and labels.

The numbers come from the one simulated usage that metrics.k8s.io reports
(`kubesim.runtime.controllers.usage` through the cluster's simulation: requests x load, on the
simulated clock). Counters (`*_cpu_usage_seconds_total`, network bytes) are that usage
integrated over simulated time: each read adds `rate now x seconds since the last read`,
so they only grow, and a container read for the first time starts with its rate times
its age. Samples carry no timestamps (a scraper stamps them with its own clock, as for
cadvisor's gauges), so a frozen simulated clock just keeps the counters still.

Network traffic is simulated from CPU: a pod receives `RX_PER_MILLICORE` bytes per
second per millicore it uses and sends `TX_SHARE` of that.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from kubesim.runtime.controllers import engine
from kubesim.runtime.controllers.base import condition
from kubesim.runtime.serving import NODE_OVERHEAD  # the node's own use, as metrics.k8s.io's
from kubesim.storage import errors
from kubesim.storage.clock import parse_time

POD_KEY = ("", "pods")
NODE_KEY = ("", "nodes")
RX_PER_MILLICORE = 2_000  # bytes/s
TX_SHARE = 0.6
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# (cluster name, created) -> key -> [last read (simulated), totals...]
_COUNTERS: dict[tuple[str, str], dict[tuple, list]] = {}


def _counters(cluster) -> dict[tuple, list]:
    key = (cluster.name, cluster.created)
    if key not in _COUNTERS:
        for old in [k for k in _COUNTERS if k[0] == cluster.name]:
            del _COUNTERS[old]  # a deleted cluster of the same name
        _COUNTERS[key] = {}
    return _COUNTERS[key]


def _integrate(store: dict, key: tuple, rates: tuple[float, ...], start, now) -> list[float]:
    """Totals of `rates` (per second) at `now`, grown since the last read."""
    entry = store.get(key)
    if entry is None:
        since = parse_time(start) or now
        age = max(0.0, (now - since).total_seconds())
        store[key] = entry = [now, *(r * age for r in rates)]
        return entry[1:]
    elapsed = max(0.0, (now - entry[0]).total_seconds())
    if elapsed:
        entry[0] = now
        for i, rate in enumerate(rates):
            entry[i + 1] += rate * elapsed
    return entry[1:]


def _running(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get(
        "deletionTimestamp"
    )


def _started(pod: dict, container: str) -> str | None:
    for cs in (pod.get("status") or {}).get("containerStatuses") or ():
        if cs.get("name") == container:
            return ((cs.get("state") or {}).get("running") or {}).get("startedAt")
    return None


def _images(pod: dict) -> dict[str, str]:
    return {c.get("name", ""): c.get("image", "") for c in pod["spec"].get("containers") or ()}


def node_sample(cluster, node_name: str) -> dict:
    """Everything both endpoints report for one node, counters brought up to now."""
    sim = engine.simulation_of(cluster)
    now: datetime = sim.clock.now()
    store = _counters(cluster)
    node = cluster.store.get(NODE_KEY, "", node_name)
    if node is None:
        raise errors.not_found("nodes", "", node_name)
    ready = condition(node, "Ready")
    if ready is not None and ready.get("status") != "True":
        # the API server cannot reach a NotReady node's kubelet
        raise errors.service_unavailable(0)
    pods, containers = [], []
    node_cpu, node_memory = NODE_OVERHEAD["cpu"], NODE_OVERHEAD["memory"]
    for pod in cluster.store.list(POD_KEY):
        if (pod.get("spec") or {}).get("nodeName") != node_name or not _running(pod):
            continue
        meta = pod["metadata"]
        uid, images = meta.get("uid", ""), _images(pod)
        pod_cpu = pod_memory = 0.0
        for usage in sim.container_usage(pod):
            name = usage["name"]
            (cpu_s,) = _integrate(
                store, ("c", uid, name), (usage["cpu"] / 1000,), _started(pod, name), now
            )
            pod_cpu += usage["cpu"]
            pod_memory += usage["memory"]
            containers.append(
                {
                    "namespace": meta["namespace"],
                    "pod": meta["name"],
                    "uid": uid,
                    "container": name,
                    "image": images.get(name, ""),
                    "cpu_seconds": cpu_s,
                    "memory": usage["memory"],
                    "start": parse_time(_started(pod, name)),
                }
            )
        rx_rate = pod_cpu * RX_PER_MILLICORE
        started = (pod.get("status") or {}).get("startTime")
        cpu_s, rx, tx = _integrate(
            store, ("p", uid), (pod_cpu / 1000, rx_rate, rx_rate * TX_SHARE), started, now
        )
        node_cpu += pod_cpu
        node_memory += pod_memory
        pods.append(
            {
                "namespace": meta["namespace"],
                "pod": meta["name"],
                "uid": uid,
                "cpu_seconds": cpu_s,
                "memory": pod_memory,
                "rx": rx,
                "tx": tx,
            }
        )
    created = node["metadata"].get("creationTimestamp")
    (node_cpu_s,) = _integrate(store, ("n", node_name), (node_cpu / 1000,), created, now)
    return {
        "node": node_name,
        "now": now,
        "pods": pods,
        "containers": containers,
        "cpu_seconds": node_cpu_s,
        "memory": node_memory,
    }


# -- text exposition ----------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else f"{value:.0f}"


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, rows) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in rows:
            self.lines.append(f"{name}{_labels(labels)} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _pod_cgroup(p: dict) -> str:
    return f"/kubepods/burstable/pod{p['uid']}"


def cadvisor_text(sample: dict) -> str:
    """cAdvisor's container metrics: one row per container, one per pod cgroup."""
    out = _Text()
    cpu_rows, mem_rows, start_rows = [], [], []
    for c in sample["containers"]:
        labels = {
            "container": c["container"],
            "id": f"/kubepods/burstable/pod{c['uid']}/{c['container']}",
            "image": c["image"],
            "name": f"{c['pod']}_{c['container']}",
            "namespace": c["namespace"],
            "pod": c["pod"],
        }
        cpu_rows.append(({**labels, "cpu": "total"}, c["cpu_seconds"]))
        mem_rows.append((labels, c["memory"]))
        if c["start"] is not None:
            start_rows.append((labels, c["start"].timestamp()))
    rx_rows, tx_rows = [], []
    for p in sample["pods"]:
        labels = {
            "container": "",
            "id": _pod_cgroup(p),
            "image": "",
            "name": "",
            "namespace": p["namespace"],
            "pod": p["pod"],
        }
        cpu_rows.append(({**labels, "cpu": "total"}, p["cpu_seconds"]))
        mem_rows.append((labels, p["memory"]))
        net = {**labels, "interface": "eth0"}
        rx_rows.append((net, p["rx"]))
        tx_rows.append((net, p["tx"]))
    root = {"container": "", "id": "/", "image": "", "name": "", "namespace": "", "pod": ""}
    cpu_rows.append(({**root, "cpu": "total"}, sample["cpu_seconds"]))
    mem_rows.append((root, sample["memory"]))
    out.family(
        "container_cpu_usage_seconds_total",
        "counter",
        "Cumulative cpu time consumed in seconds.",
        cpu_rows,
    )
    out.family(
        "container_memory_working_set_bytes",
        "gauge",
        "Current working set in bytes.",
        mem_rows,
    )
    out.family(
        "container_network_receive_bytes_total",
        "counter",
        "Cumulative count of bytes received",
        rx_rows,
    )
    out.family(
        "container_network_transmit_bytes_total",
        "counter",
        "Cumulative count of bytes transmitted",
        tx_rows,
    )
    out.family(
        "container_start_time_seconds",
        "gauge",
        "Start time of the container since unix epoch in seconds.",
        start_rows,
    )
    return out.text()


def resource_text(sample: dict) -> str:
    """The kubelet's resource metrics endpoint (what metrics-server scrapes)."""
    out = _Text()
    containers = sample["containers"]
    key = [
        ({"container": c["container"], "namespace": c["namespace"], "pod": c["pod"]}, c)
        for c in containers
    ]
    out.family(
        "container_cpu_usage_seconds_total",
        "counter",
        "[STABLE] Cumulative cpu time consumed by the container in core-seconds",
        [(labels, c["cpu_seconds"]) for labels, c in key],
    )
    out.family(
        "container_memory_working_set_bytes",
        "gauge",
        "[STABLE] Current working set of the container in bytes",
        [(labels, c["memory"]) for labels, c in key],
    )
    out.family(
        "container_start_time_seconds",
        "gauge",
        "[STABLE] Start time of the container since unix epoch in seconds",
        [(labels, c["start"].timestamp()) for labels, c in key if c["start"] is not None],
    )
    out.family(
        "node_cpu_usage_seconds_total",
        "counter",
        "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
        [({}, sample["cpu_seconds"])],
    )
    out.family(
        "node_memory_working_set_bytes",
        "gauge",
        "[STABLE] Current working set of the node in bytes",
        [({}, sample["memory"])],
    )
    pods = [({"namespace": p["namespace"], "pod": p["pod"]}, p) for p in sample["pods"]]
    out.family(
        "pod_cpu_usage_seconds_total",
        "counter",
        "[STABLE] Cumulative cpu time consumed by the pod in core-seconds",
        [(labels, p["cpu_seconds"]) for labels, p in pods],
    )
    out.family(
        "pod_memory_working_set_bytes",
        "gauge",
        "[STABLE] Current working set of the pod in bytes",
        [(labels, p["memory"]) for labels, p in pods],
    )
    out.family(
        "resource_scrape_error",
        "gauge",
        "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise",
        [({}, 0)],
    )
    return out.text()


ENDPOINTS = {("metrics", "cadvisor"): cadvisor_text, ("metrics", "resource"): resource_text}


async def node_proxy(request: web.Request, cluster, node: str, path: list[str]) -> web.Response:
    """GET /api/v1/nodes/{node}/proxy/{path}: the kubelet's metrics endpoints."""
    render = ENDPOINTS.get(tuple(path))
    if render is None:
        raise errors.resource_not_found()
    if request.method != "GET":
        raise errors.method_not_allowed()
    text = render(node_sample(cluster, node))
    return web.Response(text=text, headers={"Content-Type": CONTENT_TYPE})
