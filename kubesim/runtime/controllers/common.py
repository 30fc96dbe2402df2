"""Helpers shared by the workload controllers: owner references, pods from templates,
conditions, pod state, template hashes, times and integer-or-percent values.

Everything here is a pure function over plain dict objects.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
from datetime import UTC, datetime

from kubesim.runtime.controllers.base import condition, controller_of, is_pod_ready, owner_reference
from kubesim.storage import errors

# rand.SafeEncodeString's alphabet: no vowels, no confusable characters
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
TERMINAL = ("Succeeded", "Failed")


# -- time ----------------------------------------------------------------------------------


def fmt_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    with contextlib.suppress(ValueError):
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    return None


def seconds_since(text: str | None, now: datetime) -> float | None:
    t = parse_time(text)
    return None if t is None else (aware(now) - t).total_seconds()


def aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


# -- hashes --------------------------------------------------------------------------------


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    return "".join(SAFE_ALPHABET[ord(c) % len(SAFE_ALPHABET)] for c in text)


def compute_hash(value, collision_count: int | None = None) -> str:
    """controller.ComputeHash: FNV-32a of the object (and collisionCount), safe-encoded."""
    data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


# -- owners --------------------------------------------------------------------------------


def owner_ref(owner: dict) -> dict:
    return owner_reference(owner)


def controller_uid(obj: dict) -> str | None:
    ref = controller_of(obj)
    return ref.get("uid") if ref else None


def owned(cluster, api_version: str, kind: str, owner: dict) -> list[dict]:
    """Objects of one kind in the owner's namespace whose controller is `owner`."""
    uid = owner["metadata"]["uid"]
    rt = cluster.resource(api_version, kind)
    ns = owner["metadata"].get("namespace", "")
    out = []
    for key, obj_ns, name in cluster.store.dependents(uid):
        if key != rt.key or obj_ns != ns:
            continue
        obj = cluster.store.get(key, obj_ns, name)
        if obj is not None and controller_uid(obj) == uid:
            out.append(obj)
    return out


# -- pods ----------------------------------------------------------------------------------


def pod_from_template(
    template: dict,
    owner: dict,
    name: str | None = None,
    generate_name: str | None = None,
    labels: dict | None = None,
    annotations: dict | None = None,
) -> dict:
    """A Pod the way controller.GetPodFromTemplate builds it."""
    tmeta = template.get("metadata") or {}
    meta: dict = {
        "namespace": owner["metadata"].get("namespace", "default"),
        "labels": {**(tmeta.get("labels") or {}), **(labels or {})},
        "ownerReferences": [owner_ref(owner)],
    }
    merged_annotations = {**(tmeta.get("annotations") or {}), **(annotations or {})}
    if merged_annotations:
        meta["annotations"] = merged_annotations
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name or f"{owner['metadata']['name']}-"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def is_active(pod: dict) -> bool:
    """controller.IsPodActive: not finished and not being deleted."""
    return (pod.get("status") or {}).get("phase") not in TERMINAL and not pod["metadata"].get(
        "deletionTimestamp"
    )


def is_ready(pod: dict) -> bool:
    return is_pod_ready(pod)


def is_available(pod: dict, min_ready_seconds: int, now: datetime) -> bool:
    """podutil.IsPodAvailable: Ready for at least minReadySeconds."""
    if not is_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = seconds_since(condition(pod, "Ready").get("lastTransitionTime"), now)
    return since is not None and since >= min_ready_seconds


def ready_since(pod: dict) -> datetime | None:
    cond = condition(pod, "Ready")
    return parse_time(cond.get("lastTransitionTime")) if cond else None


# -- conditions ----------------------------------------------------------------------------


def set_condition(
    conditions: list[dict],
    kind: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
    update_time: bool = False,
) -> list[dict]:
    """A new conditions list with `kind` set; the transition time moves only on a new status.

    update_time adds lastUpdateTime (Deployment conditions carry it).
    """
    stamp = fmt_time(now)
    out = []
    found = False
    for cond in conditions or ():
        if cond.get("type") != kind:
            out.append(cond)
            continue
        found = True
        new = {"type": kind, "status": status}
        if update_time:
            same = (cond.get("status"), cond.get("reason"), cond.get("message")) == (
                status,
                reason,
                message,
            )
            new["lastUpdateTime"] = cond.get("lastUpdateTime", stamp) if same else stamp
        new["lastTransitionTime"] = (
            cond.get("lastTransitionTime", stamp) if cond.get("status") == status else stamp
        )
        new["reason"], new["message"] = reason, message
        out.append(new)
    if not found:
        new = {"type": kind, "status": status}
        if update_time:
            new["lastUpdateTime"] = stamp
        new.update(lastTransitionTime=stamp, reason=reason, message=message)
        out.append(new)
    return out


def remove_condition(conditions: list[dict], kind: str) -> list[dict]:
    return [c for c in conditions or () if c.get("type") != kind]


# -- values --------------------------------------------------------------------------------


def int_or_percent(value, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        scaled = int(text[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(text)


# -- writes --------------------------------------------------------------------------------


def write_status(cluster, obj: dict, status: dict) -> dict | None:
    """Write status if it changed; None when the object vanished or changed meanwhile."""
    if obj.get("status") == status:
        return obj
    updated = {**obj, "status": status}
    try:
        return cluster.update_status(updated, manager="kube-controller-manager")
    except errors.ApiError as exc:
        if exc.code in (404, 409):
            return None
        raise


def ignore_gone(fn, *args, **kwargs):
    """Call fn; None when the object is gone or changed meanwhile (409), as a requeue."""
    try:
        return fn(*args, **kwargs)
    except errors.ApiError as exc:
        if exc.code in (404, 409):
            return None
        raise


def record(ctx, obj: dict, kind: str, reason: str, message: str) -> None:
    ctx.events.record(obj, kind, reason, message)


def requeue(ctx, seconds: float) -> None:
    ctx.requeue_after(seconds)


__all__ = ["condition", "controller_of"]


# -- controller revisions (DaemonSet, StatefulSet) -------------------------------------------


def template_patch(owner: dict) -> dict:
    """The ControllerRevision data of a DaemonSet or StatefulSet: its template, replaced."""
    template = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def sync_revisions(cluster, owner: dict, labels: dict | None = None) -> tuple[dict, list[dict]]:
    """The owner's current ControllerRevision (created, or renumbered when an old one comes
    back) and all its revisions; the hash is the `controller-revision-hash` label value."""
    data = template_patch(owner)
    revisions = sorted(
        owned(cluster, "apps/v1", "ControllerRevision", owner), key=lambda r: r.get("revision", 0)
    )
    latest = max((r.get("revision", 0) for r in revisions), default=0)
    for rev in revisions:
        if rev.get("data") == data:
            if rev.get("revision", 0) != latest:
                updated = {**rev, "revision": latest + 1}
                stored = ignore_gone(cluster.update, updated, "kube-controller-manager")
                if stored is not None:
                    revisions = [stored if r is rev else r for r in revisions]
                    return stored, revisions
            return rev, revisions
    collisions = int((owner.get("status") or {}).get("collisionCount") or 0)
    digest = compute_hash(data, collisions)
    name = owner["metadata"]["name"]
    revision_labels = dict(labels or {})
    revision_labels["controller-revision-hash"] = digest
    meta = {
        "name": f"{name}-{digest}",
        "namespace": owner["metadata"]["namespace"],
        "labels": revision_labels,
        "ownerReferences": [owner_ref(owner)],
    }
    annotations = {
        k: v
        for k, v in (owner["metadata"].get("annotations") or {}).items()
        if k != "kubectl.kubernetes.io/last-applied-configuration"
    }
    if annotations:
        meta["annotations"] = annotations
    body = {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": meta}
    body.update(data=data, revision=latest + 1)
    created = cluster.create(body, "kube-controller-manager")
    return created, [*revisions, created]


def revision_hash(rev: dict) -> str:
    return (rev["metadata"].get("labels") or {}).get("controller-revision-hash") or rev["metadata"][
        "name"
    ].rsplit("-", 1)[-1]


def truncate_history(cluster, revisions: list[dict], keep: set[str], limit: int) -> None:
    """Delete the oldest revisions no live pod uses beyond revisionHistoryLimit."""
    unused = [r for r in revisions if r["metadata"]["name"] not in keep]
    for rev in sorted(unused, key=lambda r: r.get("revision", 0))[: max(len(unused) - limit, 0)]:
        meta = rev["metadata"]
        ignore_gone(
            cluster.delete, "apps/v1", "ControllerRevision", meta["name"], meta["namespace"]
        )


# -- incremental reconciling -----------------------------------------------------------------


def affected(ctx, api_version: str, kind: str, *child_kinds: str) -> list[dict]:
    """The objects of `kind` to look at in this run: all of them on a resync or a timer,
    else those that changed and the controllers of the changed children."""
    cluster = ctx.cluster
    if ctx.resync or ctx.timer:
        return cluster.list(api_version, kind)
    keys: set[tuple[str, str]] = set()
    for event in ctx.changed(kind):
        keys.add((event.namespace, event.obj["metadata"]["name"]))
    if child_kinds:
        for event in ctx.changed(*child_kinds):
            for obj in (event.obj, event.old):
                ref = controller_of(obj) if obj else None
                if ref is not None and ref.get("kind") == kind:
                    keys.add((event.namespace, ref.get("name", "")))
    key = cluster.resource(api_version, kind).key
    out = []
    for ns, name in sorted(keys):
        obj = cluster.store.get(key, ns, name)
        if obj is not None:
            out.append(obj)
    return out
