"""Simulated CPU and memory usage of running pods (what metrics-server would report).

Usage is a function of each container's requests and its workload's load factor (set
through the admin API, 1 by default): CPU is 30% of the request at load 1 and grows
linearly with the load; memory is 40% of the request at load 1 and grows by half as
much. Both wobble by up to ±5% per minute (deterministic per pod and minute) and never
exceed the container's limit. A container without requests uses a little anyway
(10m CPU, 16Mi memory at load 1), as idle processes do.

What a container would use without its limit is `memory_demand`: when it passes the
memory limit the kubelet OOM-kills the container (reason OOMKilled, exit code 137).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from kubesim.storage.quantity import bytes_, cpu_millicores

CPU_SHARE = 0.30
MEMORY_SHARE = 0.40
IDLE_CPU = 10  # millicores
IDLE_MEMORY = 16 * 1024 * 1024  # bytes
OWNER_KEYS = {
    "ReplicaSet": ("apps", "replicasets"),
    "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"),
    "Job": ("batch", "jobs"),
    "Deployment": ("apps", "deployments"),
    "CronJob": ("batch", "cronjobs"),
}


def owner_chain(cluster, pod: dict) -> list[tuple[str, str]]:
    """(kind, name) from the pod up through its controllers: Pod, ReplicaSet, Deployment."""
    meta = pod["metadata"]
    chain = [("Pod", meta["name"])]
    obj = pod
    for _ in range(3):
        ref = next(
            (r for r in obj["metadata"].get("ownerReferences") or () if r.get("controller")), None
        )
        if ref is None:
            break
        chain.append((ref.get("kind", ""), ref.get("name", "")))
        key = OWNER_KEYS.get(ref.get("kind", ""))
        if key is None:
            break
        obj = cluster.store.get(key, meta.get("namespace", ""), ref.get("name", ""))
        if obj is None:
            break
    return chain


def _wobble(pod: dict, name: str, now: datetime) -> float:
    minute = int(now.timestamp()) // 60
    seed = f"{pod['metadata'].get('uid', '')}/{name}/{minute}".encode()
    return 0.95 + (int(hashlib.sha256(seed).hexdigest()[:4], 16) / 0xFFFF) * 0.10


def _amount(resources: dict, section: str, name: str, parse) -> int | None:
    value = (resources.get(section) or {}).get(name)
    return parse(value) if value is not None else None


def memory_demand(pod: dict, container: dict, load: float, now: datetime) -> int:
    """Bytes one container would use at `now`, before its memory limit caps it."""
    res = container.get("resources") or {}
    mem_req = _amount(res, "requests", "memory", bytes_)
    mem_base = mem_req * MEMORY_SHARE if mem_req else IDLE_MEMORY
    return round(mem_base * (0.5 + 0.5 * load) * _wobble(pod, container.get("name", ""), now))


def memory_limit(container: dict) -> int | None:
    return _amount(container.get("resources") or {}, "limits", "memory", bytes_)


def container_usage(pod: dict, load: float, now: datetime) -> list[dict]:
    """[{"name", "cpu" (millicores), "memory" (bytes)}] for the running containers."""
    statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or ()}
    out = []
    for container in (pod.get("spec") or {}).get("containers") or ():
        name = container.get("name", "")
        if "running" not in (statuses.get(name, {}).get("state") or {}):
            continue
        res = container.get("resources") or {}
        cpu_req = _amount(res, "requests", "cpu", cpu_millicores)
        wobble = _wobble(pod, name, now)
        cpu = (cpu_req * CPU_SHARE if cpu_req else IDLE_CPU) * load * wobble
        memory = memory_demand(pod, container, load, now)
        cpu_limit = _amount(res, "limits", "cpu", cpu_millicores)
        mem_limit = _amount(res, "limits", "memory", bytes_)
        if cpu_limit:
            cpu = min(cpu, cpu_limit)
        if mem_limit:
            memory = min(memory, mem_limit)
        out.append({"name": name, "cpu": max(1, round(cpu)), "memory": max(1, round(memory))})
    return out


def pod_usage(pod: dict, load: float, now: datetime) -> dict[str, int]:
    """{"cpu": millicores, "memory": bytes} summed over the running containers."""
    containers = container_usage(pod, load, now)
    return {
        "cpu": sum(c["cpu"] for c in containers),
        "memory": sum(c["memory"] for c in containers),
    }
