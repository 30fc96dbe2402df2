"""A virtual cluster: Kubernetes object semantics on top of the store.

`Cluster` is where a write becomes what a kube-apiserver would make of it: names and
generateName, uid, timestamps, generation, defaulting, validation, admission,
resourceVersion preconditions, status/scale subresources, finalizers, deletion with
propagation and garbage collection, namespace termination, CRDs, and ResourceQuota
usage. The HTTP handlers only translate requests into these calls, so controllers (see
`add_controller`) get the same semantics from Python.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import ipaddress
import json
import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import yaml

from kubesim.storage import apiservices, errors
from kubesim.storage.clock import Clock, format_time, parse_time
from kubesim.storage.resources import Registry, ResourceType
from kubesim.storage.selectors import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
    selector_to_string,
)
from kubesim.storage.store import Event, Key, Store, TooOld, clone

DEFAULT_VERSION = "1.32.0"
NAMESPACE_KEY: Key = ("", "namespaces")
CRD_KEY: Key = ("apiextensions.k8s.io", "customresourcedefinitions")
POD_KEY: Key = ("", "pods")
QUOTA_KEY: Key = ("", "resourcequotas")
SECRET_KEY: Key = ("", "secrets")
FOREGROUND = "foregroundDeletion"
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# the PriorityClasses kube-apiserver creates at start (scheduling/v1 bootstrap)
SYSTEM_PRIORITY_CLASSES = tuple(
    {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": name},
        "value": value,
        "description": description,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    for name, value, description in (
        (
            "system-node-critical",
            2000001000,
            "Used for system critical pods that must not be moved from their current node.",
        ),
        (
            "system-cluster-critical",
            2000000000,
            "Used for system critical pods that must run in the cluster, but can be moved to "
            "another node if necessary.",
        ),
    )
)

# the 410 messages of etcd3's store (k8s.io/apiserver/pkg/storage/etcd3)
LIST_EXPIRED = "The resourceVersion for the provided list is too old."
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You "
    "can start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)

# media types accepted by PATCH, in the order the apiserver lists them
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


def _spec_of(obj: dict, with_status: bool = False) -> dict:
    """What a generation bump reacts to: everything but metadata (and usually status)."""
    skipped = ("metadata",) if with_status else ("metadata", "status")
    return {k: v for k, v in obj.items() if k not in skipped}


def _random_suffix(n: int = 5) -> str:
    # the apiserver's alphabet for generateName: no vowels, no confusable digits
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


class Rules(Protocol):
    """The rules a cluster applies to every write, given to it by the API server.

    kube-apiserver's generic registry stores objects and calls the strategy and admission
    it was built with (defaulting, validation, admission plugins, managedFields, patch);
    `Cluster` does the same with a `Rules` object, so storage/ holds the mechanics of a
    write and apiserver/ the API's rules (`kubesim.apiserver.rules.RULES`). Each method
    raises `errors.ApiError` with the Status a client sees.
    """

    def prepare(self, cluster: Cluster, rt: ResourceType, obj: dict, old: dict | None) -> None:
        """Default and validate a built-in kind's object (create: old is None)."""

    def admit(self, cluster: Cluster, obj: dict, old: dict | None) -> None:
        """Run the admission plugins (quota, limits, priority, ...) on a built-in kind."""

    def record(self, old: dict | None, new: dict, manager: str, operation: str, now: str) -> None:
        """Update new's managedFields for a write by `manager`."""

    def patch(self, content_type: str, current: dict, patch, rt: ResourceType):
        """The object after a JSON, merge or strategic merge patch."""

    def apply(
        self,
        live: dict | None,
        applied: dict,
        manager: str,
        force: bool,
        rt: ResourceType,
        now: str,
    ) -> dict:
        """The object after server-side apply of `applied` by `manager`."""

    def quota_usage(self, cluster: Cluster, quota: dict) -> dict:
        """A ResourceQuota's status.used as of now."""

    def bootstrap(self, cluster: Cluster) -> None:
        """What the API server adds to a new cluster after its namespaces and nodes."""


@dataclass
class Faults:
    """Misbehaviour injected through the admin API (all off by default)."""

    refuse: bool = False
    error_rate: float = 0.0
    error_code: int = 503
    retry_after: int = 1
    latency_ms: int = 0
    expire_watches: bool = False
    seed: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Cluster:
    name: str
    version: str = DEFAULT_VERSION
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    spec: dict = field(default_factory=dict)  # masters/workers/zones/arch as created
    created: str = ""  # simulated time of its creation
    history: int = 2_000  # watch events kept per cluster (the watch cache window)
    # defaulting, validation, admission, managedFields, patch: the API server's
    # (kubesim.apiserver.rules.RULES); required, so no cluster skips them by omission
    rules: Rules = field(kw_only=True, repr=False)

    def __post_init__(self) -> None:
        self.version = self.version.lstrip("v")
        if self.version.count(".") == 1:
            self.version += ".0"
        # Simulated time: every timestamp the cluster writes, and what its controllers
        # (kubesim.runtime.controllers.engine) run on.
        self.clock = Clock()
        self.created = self.created or self.clock.timestamp()
        self.ca_pem = ""  # the CA of the API server's certificate (set by the hub)
        self.registry = Registry()
        self.store = Store(history=self.history)
        self.faults = Faults()
        self.rng = random.Random()
        self.controller_tasks: list[asyncio.Task] = []
        # watchers register a callable that ends their stream (fault injection)
        self.watch_expirers: set[Callable[[], None]] = set()

    # -- bootstrap -------------------------------------------------------------------------

    def bootstrap(self) -> None:
        """Create what an empty real cluster starts with."""
        for ns in INITIAL_NAMESPACES:
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "type": "ClusterIP",
                    "clusterIP": "10.96.0.1",
                    "ports": [
                        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}
                    ],
                },
            }
        )
        for pc in SYSTEM_PRIORITY_CLASSES:
            self.create(pc)
        for service in apiservices.builtin_api_services(self.registry):
            stored = self.create(service)
            self.update_status(
                {**stored, "status": {"conditions": [apiservices.available(service, self.now())]}},
                manager="kube-apiserver",
            )
        spec = self.spec
        zones = spec.get("zones") or []
        self.add_nodes(int(spec.get("masters", 1) or 0), "master", zones, spec.get("arch"))
        self.add_nodes(int(spec.get("workers", 0) or 0), "worker", zones, spec.get("arch"))
        self.rules.bootstrap(self)

    def add_nodes(
        self, count: int, role: str = "worker", zones: list[str] | str | None = None, arch=None
    ) -> list[dict]:
        if isinstance(zones, str):
            zones = [zones]
        zones = list(zones or [])
        arch = arch or "amd64"
        prefix = "master" if role in ("master", "control-plane") else "worker"
        existing = {n["metadata"]["name"] for n in self.store.list(("", "nodes"))}
        created, index = [], 0
        while len(created) < count:
            index += 1
            name = f"{prefix}-{index}"
            if name in existing:
                continue
            zone = zones[len(created) % len(zones)] if zones else None
            created.append(self.create(self._node(name, prefix, zone, arch, len(existing))))
            existing.add(name)
        return created

    def _node(self, name: str, role: str, zone: str | None, arch: str, seq: int) -> dict:
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": arch,
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": arch,
        }
        spec: dict[str, Any] = {"podCIDR": f"10.244.{seq}.0/24"}
        if role == "master":
            labels["node-role.kubernetes.io/control-plane"] = ""
            spec["taints"] = [
                {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
            ]
        if zone:
            labels["topology.kubernetes.io/zone"] = zone
        capacity = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
        stamp = self.now()
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            "spec": spec,
            "status": {
                "capacity": capacity,
                "allocatable": dict(capacity),
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "kubelet is posting ready status",
                        "lastHeartbeatTime": stamp,
                        "lastTransitionTime": stamp,
                    }
                ],
                "addresses": [
                    {"type": "InternalIP", "address": f"172.18.0.{seq + 2}"},
                    {"type": "Hostname", "address": name},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "machineID": uuid.uuid4().hex,
                    "systemUUID": str(uuid.uuid4()),
                    "bootID": str(uuid.uuid4()),
                    "architecture": arch,
                    "operatingSystem": "linux",
                    "osImage": "kubesim",
                    "kernelVersion": "6.1.0-kubesim",
                    "containerRuntimeVersion": "containerd://1.7.0",
                    "kubeletVersion": f"v{self.version}",
                    "kubeProxyVersion": f"v{self.version}",
                },
            },
        }

    # -- lookup helpers ------------------------------------------------------------------

    def now(self, later: float = 0) -> str:
        """The API's timestamp of the simulated now (or of `later` seconds from it)."""
        return self.clock.timestamp(later)

    def resource(self, api_version: str, kind: str) -> ResourceType:
        rt = self.registry.by_kind(api_version, kind)
        if rt is None:
            raise errors.bad_request(f'no kind "{kind}" is registered for version "{api_version}"')
        return rt

    def present(self, rt: ResourceType, obj: dict) -> dict:
        """The object as served at rt's version (custom resources may have several)."""
        if obj.get("apiVersion") == rt.api_version:
            return obj
        return {**obj, "apiVersion": rt.api_version}

    def version_info(self) -> dict:
        major, minor, _ = self.version.split(".", 2)
        return {
            "major": major,
            "minor": minor,
            "gitVersion": f"v{self.version}",
            "gitCommit": "kubesim",
            "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "go1.23.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    # -- Python API (for controllers and tests) ------------------------------------------

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict:
        """A copy of the object; raises ApiError NotFound."""
        rt = self.resource(api_version, kind)
        return clone(self.present(rt, self.get_object(rt, namespace or "", name)))

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
    ) -> list[dict]:
        """Objects (shared, do not mutate) of one kind, all namespaces when namespace is None.

        Also what admission modules receive as their `reader`.
        """
        rt = self.registry.by_kind(api_version, kind)
        if rt is None:
            return []
        selector = parse_label_selector(label_selector)
        objs = self.store.list(rt.key, namespace if rt.namespaced else None)
        if selector:
            objs = [o for o in objs if selector.matches(o["metadata"].get("labels"))]
        return objs

    def create(self, obj: dict, manager: str = "kubesim", dry_run: bool = False) -> dict:
        rt = self.resource(obj.get("apiVersion", ""), obj.get("kind", ""))
        ns = obj.get("metadata", {}).get("namespace", "") if rt.namespaced else ""
        ns = (ns or "default") if rt.namespaced else ""
        return self.create_object(rt, ns, clone(obj), manager, dry_run)

    def update(self, obj: dict, manager: str = "kubesim", subresource: str | None = None) -> dict:
        rt = self.resource(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj["metadata"]
        ns = meta.get("namespace", "") if rt.namespaced else ""
        return self.update_object(rt, ns, meta["name"], clone(obj), manager, subresource)

    def update_status(self, obj: dict, manager: str = "kubesim") -> dict:
        return self.update(obj, manager, subresource="status")

    def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        patch: dict | list,
        patch_type: str = MERGE_PATCH,
        manager: str = "kubesim",
        subresource: str | None = None,
    ) -> dict:
        """Patch with any PATCH media type (merge by default); returns the stored object."""
        rt = self.resource(api_version, kind)
        raw = (
            yaml.safe_dump(patch).encode()
            if patch_type == APPLY_PATCH
            else json.dumps(patch).encode()
        )
        return self.patch_object(
            rt, namespace or "", name, patch_type, raw, manager, False, subresource
        )

    def event_queue(self, *kinds: tuple[str, str]) -> tuple[asyncio.Queue, Callable[[], None]]:
        """An asyncio.Queue of store Events, optionally only for (api_version, kind) pairs.

        Call it on the server's event loop (controllers run there); events written from any
        thread arrive through the loop. Returns (queue, unsubscribe).
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        keys = {self.resource(api_version, kind).key for api_version, kind in kinds}

        def deliver(event: Event) -> None:
            if not keys or event.key in keys:
                loop.call_soon_threadsafe(queue.put_nowait, event)

        return queue, self.store.subscribe(deliver)

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        propagation: str | None = None,
        grace_period_seconds: int | None = None,
        preconditions: dict | None = None,
    ) -> dict | None:
        """Delete; returns the object (gone, or still there with its deletionTimestamp).

        A pod bound to a node is deleted gracefully (see `delete_object`); its kubelet
        removes it, or `grace_period_seconds=0` does at once.
        """
        rt = self.resource(api_version, kind)
        return self.delete_object(
            rt,
            namespace or "",
            name,
            propagation=propagation,
            preconditions=preconditions,
            grace_period=grace_period_seconds,
        )[0]

    # -- reads -----------------------------------------------------------------------------

    def get_object(self, rt: ResourceType, namespace: str, name: str) -> dict:
        obj = self.store.get(rt.key, namespace if rt.namespaced else "", name)
        if obj is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return obj

    def list_objects(
        self,
        rt: ResourceType,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 0,
        continue_token: str | None = None,
        resource_version: str | None = None,
        resource_version_match: str | None = None,
    ) -> tuple[list[dict], str, str | None, int | None]:
        """(items, list resourceVersion, continue token, remainingItemCount).

        A paged list is one snapshot: every page is read at the first page's
        resourceVersion, which its continue token carries, so later pages never show what
        changed after the first. A token older than the store's history (its compaction
        window) is 410 Expired, as from etcd. `resource_version` with
        `resource_version_match` ("NotOlderThan", "Exact", or "" for the legacy meaning) as
        kube-apiserver reads them.
        """
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, rt.allows_field)
        _validate_list_options(continue_token, resource_version, resource_version_match)
        ns = namespace if rt.namespaced else None
        if ns is None and rt.namespaced:
            ns = fields.exact("metadata.namespace")
        with self.store.lock:
            current = self.store.resource_version
            at, key = self._list_revision(
                continue_token, resource_version, resource_version_match, limit, current
            )
            start = None if key is None else _start_of(key, ns, rt.namespaced)
            try:
                objs = self.store.list_at(rt.key, ns, at)
            except TooOld:
                if continue_token:
                    # etcd compacted the revision: the rest can only be read at the latest
                    # one, which the Status's token offers (handleCompactedErrorForPaging)
                    body = errors.expired(CONTINUE_EXPIRED).status
                    body["metadata"] = {"continue": _encode_continue(-1, key)}
                    raise errors.ApiError(body) from None
                raise errors.expired(LIST_EXPIRED) from None
        out = []
        remaining = 0
        for obj in objs:
            meta = obj["metadata"]
            if start is not None and (meta.get("namespace", ""), meta["name"]) <= start:
                continue
            if not _matches(obj, labels, fields):
                continue
            if limit and len(out) >= limit:
                remaining += 1
                continue
            out.append(obj)
        token = None
        if remaining:
            last = out[-1]["metadata"]
            resume = (
                last["name"]
                if ns is not None or not rt.namespaced
                else (f"{last['namespace']}/{last['name']}")
            )
            token = _encode_continue(at, resume)
        return out, str(at), token, remaining or None

    def _list_revision(
        self,
        continue_token: str | None,
        resource_version: str | None,
        match: str | None,
        limit: int,
        current: int,
    ) -> tuple[int, str | None]:
        """(the resourceVersion to read at, the storage key to resume after)."""
        if continue_token:
            rv, key = _decode_continue(continue_token)
            return (current if rv < 0 else rv), key
        if not resource_version:
            return current, None
        try:
            wanted = int(resource_version)
            if wanted < 0:
                raise ValueError(resource_version)
        except ValueError:
            raise errors.bad_request(
                f'invalid resource version: resourceVersion: Invalid value: "{resource_version}"'
                ": must be a non-negative integer"
            ) from None
        if wanted > current:
            raise errors.ApiError(
                errors.status_body(
                    504,
                    "Timeout",
                    f"Timeout: Too large resource version: {wanted}, current: {current}",
                    {
                        "causes": [
                            {
                                "reason": "ResourceVersionTooLarge",
                                "message": "Too large resource version",
                            }
                        ],
                        "retryAfterSeconds": 1,
                    },
                ),
                headers={"Retry-After": "1"},
            )
        # Exact reads at that revision; so does the legacy form with a limit (it goes to
        # etcd); NotOlderThan and "0" read the latest, which is never older
        if match == "Exact" or (not match and limit and wanted > 0):
            return wanted, None
        return current, None

    # -- create ----------------------------------------------------------------------------

    def create_object(
        self,
        rt: ResourceType,
        namespace: str,
        obj: dict,
        manager: str = "kubesim",
        dry_run: bool = False,
        operation: str = "Update",
    ) -> dict:
        """Create `obj` (which the caller hands over; it is modified and stored)."""
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
            raise errors.bad_request("Object 'metadata' is missing or invalid")
        self._check_type(rt, obj)
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and namespace and body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            meta["namespace"] = namespace or body_ns or "default"
        else:
            meta.pop("namespace", None)
        with self.store.lock:
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise errors.invalid(
                        rt.kind,
                        rt.group,
                        "",
                        [
                            {
                                "reason": "FieldValueRequired",
                                "message": "Required value: name or generateName is required",
                                "field": "metadata.name",
                            }
                        ],
                    )
                meta["name"] = meta["generateName"] + _random_suffix()
            name = meta["name"]
            if rt.namespaced:
                self._check_namespace_open(rt, meta["namespace"], name)
            if self.store.get(rt.key, meta.get("namespace", ""), name) is not None:
                raise errors.already_exists(rt.plural, rt.group, name)
            for transient in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
                meta.pop(transient, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = self.now()
            if rt.tracks_generation:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            if rt.has_status() and rt.key not in (("", "nodes"), ("", "namespaces")):
                # status is written through /status, never on create
                obj.pop("status", None)
            self._prepare(rt, obj, None)
            self._admit(rt, obj, None)
            if operation == "Update":
                self._record(None, obj, manager, "Update")
            if dry_run:
                return obj
            stored = self.store.put(rt.key, obj).obj
            self._after_write(rt, stored)
            return stored

    def _check_type(self, rt: ResourceType, obj: dict) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if kind and kind != rt.kind:
            raise errors.bad_request(
                f"the server could not find the requested resource (kind {kind} on "
                f"{rt.plural}.{rt.group or 'core'})"
            )
        if api_version and api_version != rt.api_version:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({rt.api_version})"
            )
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind

    def _check_namespace_open(self, rt: ResourceType, namespace: str, name: str) -> None:
        ns = self.store.get(NAMESPACE_KEY, "", namespace)
        if ns is None:
            raise errors.not_found("namespaces", "", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                rt.plural,
                rt.group,
                name,
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )

    # -- update ----------------------------------------------------------------------------

    def update_object(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: dict,
        manager: str = "kubesim",
        subresource: str | None = None,
        dry_run: bool = False,
        operation: str = "Update",
    ) -> dict:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request is not a JSON object")
        meta = body.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        if rt.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        with self.store.lock:
            old = self.get_object(rt, namespace, name)
            body_rv = meta.get("resourceVersion")
            if body_rv and body_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.plural, rt.group, name)
            if subresource is None:
                self._check_type(rt, body)
                new = body
                if rt.has_status():
                    if "status" in old:
                        new["status"] = old["status"]
                    else:
                        new.pop("status", None)
            elif subresource == "status":
                new = clone(old)
                if "status" in body:
                    new["status"] = body["status"]
                else:
                    new.pop("status", None)
            elif subresource == "finalize" and rt.key == NAMESPACE_KEY:
                new = clone(old)
                new.setdefault("spec", {})["finalizers"] = (body.get("spec") or {}).get(
                    "finalizers", []
                )
            else:
                raise errors.method_not_allowed()
            return self._commit_update(rt, old, new, manager, dry_run, operation)

    def _commit_update(
        self, rt: ResourceType, old: dict, new: dict, manager: str, dry_run: bool, operation: str
    ) -> dict:
        meta, old_meta = new.setdefault("metadata", {}), old["metadata"]
        for kept in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if kept in old_meta:
                meta[kept] = old_meta[kept]
            else:
                meta.pop(kept, None)
        meta["name"] = old_meta["name"]
        if rt.namespaced:
            meta["namespace"] = old_meta["namespace"]
        else:
            meta.pop("namespace", None)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if meta.get("deletionTimestamp") and not set(meta.get("finalizers") or ()) <= set(
            old_meta.get("finalizers") or ()
        ):
            raise errors.forbidden(
                rt.plural,
                rt.group,
                meta["name"],
                "no new finalizers can be added if the object is being deleted",
            )
        self._prepare(rt, new, old)
        self._admit(rt, new, old)
        if rt.tracks_generation:
            # Judged on the defaulted object, as the apiserver's PrepareForUpdate does: a
            # write that only leaves out defaults (a YAML round trip) is no new generation.
            generation = old_meta.get("generation", 1)
            # without a status subresource, status is part of what the generation tracks
            status_tracked = rt.custom and not rt.has_status()
            if _spec_of(new, status_tracked) != _spec_of(old, status_tracked):
                generation += 1
            meta["generation"] = generation
        if _same_ignoring_managed_fields(new, old):
            return old  # a no-op write changes nothing, not even the resourceVersion
        if operation == "Update":
            self._record(old, new, manager, "Update")
        if dry_run:
            return new
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and not old_meta.get("deletionGracePeriodSeconds")
        ):
            # the last finalizer went (and no graceful deletion is pending): it goes now
            self.store.put(rt.key, new)
            return self._remove(rt, new)
        stored = self.store.put(rt.key, new).obj
        self._after_write(rt, stored)
        return stored

    # -- patch -----------------------------------------------------------------------------

    def patch_object(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        raw: bytes,
        manager: str | None,
        force: bool = False,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict:
        accepted = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
        if not rt.custom:
            accepted.append(STRATEGIC_PATCH)
        if content_type not in accepted:
            raise errors.unsupported_media_type(content_type, accepted)
        try:
            if content_type == APPLY_PATCH:
                patch = yaml.safe_load(raw.decode() or "{}")
            else:
                patch = json.loads(raw or b"null")
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"error decoding patch: {exc}") from exc
        if content_type == APPLY_PATCH:
            if not manager:
                raise errors.bad_request(
                    "PATCH /apply requests require a fieldManager query parameter"
                )
            return self._apply(rt, namespace, name, patch, manager, force, subresource, dry_run)
        with self.store.lock:
            old = self.get_object(rt, namespace, name)
            current = clone(self.present(rt, old))
            patched = self.rules.patch(content_type, current, patch, rt)
            if not isinstance(patched, dict):
                raise errors.bad_request("the patched object is not a JSON object")
            meta = patched.setdefault("metadata", {})
            if (
                meta.get("resourceVersion")
                and meta["resourceVersion"] != old["metadata"]["resourceVersion"]
            ):
                raise errors.conflict(rt.plural, rt.group, name)
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
            return self.update_object(
                rt, namespace, name, patched, manager or "unknown", subresource, dry_run
            )

    def _apply(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        applied: dict,
        manager: str,
        force: bool,
        subresource: str | None,
        dry_run: bool,
    ) -> dict:
        if not isinstance(applied, dict):
            raise errors.bad_request("the applied configuration is not an object")
        self._check_type(rt, applied)
        applied_meta = applied.setdefault("metadata", {})
        if applied_meta.get("name") and applied_meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({applied_meta['name']}) does not match the name on "
                f"the URL ({name})"
            )
        applied_meta["name"] = name
        with self.store.lock:
            live = self.store.get(rt.key, namespace if rt.namespaced else "", name)
            current = clone(self.present(rt, live)) if live else None
            result = self.rules.apply(current, applied, manager, force, rt, self.now())
            if live is None:
                if subresource:
                    raise errors.not_found(rt.plural, rt.group, name)
                return self.create_object(rt, namespace, result, manager, dry_run, "Apply")
            if subresource == "status":
                new = clone(live)
                new["status"] = result.get("status", {})
                new["metadata"]["managedFields"] = result["metadata"].get("managedFields", [])
                return self._commit_update(rt, live, new, manager, dry_run, "Apply")
            return self.update_object(rt, namespace, name, result, manager, None, dry_run, "Apply")

    # -- scale subresource ---------------------------------------------------------------

    def _scale_paths(self, rt: ResourceType) -> tuple[str, str, str | None]:
        if rt.scale_paths is not None:
            p = rt.scale_paths
            return (
                p.get("specReplicasPath", ".spec.replicas"),
                p.get("statusReplicasPath", ".status.replicas"),
                p.get("labelSelectorPath"),
            )
        return ".spec.replicas", ".status.replicas", None

    def get_scale(self, rt: ResourceType, namespace: str, name: str) -> dict:
        return self._scale_of(rt, self.get_object(rt, namespace, name))

    def _scale_of(self, rt: ResourceType, obj: dict) -> dict:
        spec_path, status_path, selector_path = self._scale_paths(rt)
        meta = obj["metadata"]
        if selector_path:
            selector = _get_path(obj, selector_path) or ""
        else:
            selector = (obj.get("spec") or {}).get("selector")
            if rt.kind == "ReplicationController":  # a plain label map, not a LabelSelector
                selector = {"matchLabels": selector or {}}
            selector = selector_to_string(selector)
        status: dict[str, Any] = {"replicas": _get_path(obj, status_path) or 0}
        if selector:
            status["selector"] = selector
        scale_meta = {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        }
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": scale_meta,
            "spec": {"replicas": _get_path(obj, spec_path) or 0},
            "status": status,
        }

    def update_scale(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        scale: dict,
        manager: str,
        dry_run: bool = False,
    ) -> dict:
        with self.store.lock:
            old = self.get_object(rt, namespace, name)
            rv = (scale.get("metadata") or {}).get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.plural, rt.group, name)
            replicas = (scale.get("spec") or {}).get("replicas", 0)
            if not isinstance(replicas, int) or replicas < 0:
                raise errors.invalid(
                    "Scale",
                    "autoscaling",
                    name,
                    [
                        {
                            "reason": "FieldValueInvalid",
                            "message": f"Invalid value: {replicas}: must be greater than or "
                            "equal to 0",
                            "field": "spec.replicas",
                        }
                    ],
                )
            new = clone(old)
            _set_path(new, self._scale_paths(rt)[0], replicas)
            result = self._commit_update(rt, old, new, manager, dry_run, "Update")
            return self._scale_of(rt, result)

    def patch_scale(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        raw: bytes,
        manager: str,
        dry_run: bool = False,
    ) -> dict:
        accepted = [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH]
        if content_type not in accepted:
            raise errors.unsupported_media_type(content_type, accepted)
        try:
            patch = json.loads(raw or b"null")
        except ValueError as exc:
            raise errors.bad_request(f"error decoding patch: {exc}") from exc
        with self.store.lock:
            scale = self.get_scale(rt, namespace, name)
            # a Scale has no patch strategy of its own: strategic is a merge patch
            kind = MERGE_PATCH if content_type == STRATEGIC_PATCH else content_type
            patched = self.rules.patch(kind, scale, patch, rt)
            if not isinstance(patched, dict):
                raise errors.bad_request("the patched object is not a JSON object")
            return self.update_scale(rt, namespace, name, patched, manager, dry_run)

    # -- delete ----------------------------------------------------------------------------

    def delete_object(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        propagation: str | None = None,
        preconditions: dict | None = None,
        dry_run: bool = False,
        grace_period: int | None = None,
    ) -> tuple[dict, bool]:
        """Delete an object. Returns (object, gone): gone is False while it is held.

        Finalizers hold an object, and so does graceful deletion: a pod bound to a node
        only gets its deletionTimestamp (now + grace period) and
        deletionGracePeriodSeconds, and its kubelet deletes it again with grace 0 once the
        containers have stopped (the pod strategy's CheckGracefulDelete). Unbound and
        finished pods, and a grace period of 0, go at once.
        """
        if propagation not in (None, "Background", "Foreground", "Orphan"):
            raise errors.bad_request(
                f'Unsupported value: "{propagation}": supported values: "Foreground", '
                '"Background", "Orphan"'
            )
        if grace_period is not None and (
            isinstance(grace_period, bool) or not isinstance(grace_period, int)
        ):
            raise errors.bad_request(f"invalid gracePeriodSeconds: {grace_period!r}")
        with self.store.lock:
            obj = self.get_object(rt, namespace, name)
            meta = obj["metadata"]
            for field_name, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
                wanted = (preconditions or {}).get(field_name)
                if wanted and wanted != meta.get(field_name):
                    raise errors.conflict(
                        rt.plural,
                        rt.group,
                        name,
                        f"Precondition failed: {label} in precondition: {wanted}, {label} in "
                        f"object meta: {meta.get(field_name)}",
                    )
            if dry_run:
                return obj, False
            if rt.key == NAMESPACE_KEY:
                if name in ("default", "kube-system", "kube-public"):
                    raise errors.forbidden(
                        "namespaces", "", name, "this namespace may not be deleted"
                    )
                return self._terminate_namespace(obj)
            if meta.get("deletionTimestamp"):
                # already on its way out: a shorter grace period may still be given
                return self._shorten_grace_period(rt, obj, grace_period)
            if propagation == "Orphan":
                self._orphan_dependents(meta["uid"])
            finalizers = list(meta.get("finalizers") or ())
            if propagation == "Foreground" and self.store.dependents(meta["uid"]):
                finalizers.append(FOREGROUND)
            grace = _pod_grace_period(obj, grace_period) if rt.key == POD_KEY else 0
            if not finalizers and not grace:
                return self._remove(rt, obj), True
            marked = clone(obj)
            marked["metadata"]["deletionTimestamp"] = self.now(grace)
            marked["metadata"]["deletionGracePeriodSeconds"] = grace
            if finalizers:
                marked["metadata"]["finalizers"] = finalizers
            self.store.put(rt.key, marked)
            if FOREGROUND not in finalizers:
                return marked, False
            self._collect_dependents(meta["uid"], "Foreground", force=True)
            marked = self.store.get(rt.key, namespace if rt.namespaced else "", name)
            if marked is None:
                return obj, True
            rest = [f for f in finalizers if f != FOREGROUND]
            released = clone(marked)
            released["metadata"]["finalizers"] = rest
            if not rest and not grace:
                self.store.put(rt.key, released)
                return self._remove(rt, released), True
            if not rest:
                del released["metadata"]["finalizers"]
            return self.store.put(rt.key, released).obj, False

    def _shorten_grace_period(
        self, rt: ResourceType, obj: dict, grace_period: int | None
    ) -> tuple[dict, bool]:
        """rest.BeforeDelete on an object being deleted: only a shorter period counts."""
        meta = obj["metadata"]
        current = meta.get("deletionGracePeriodSeconds") or 0
        if grace_period is None or current <= 0 or max(grace_period, 0) >= current:
            return obj, False
        period = max(grace_period, 0)
        marked = clone(obj)
        stamp = parse_time(meta["deletionTimestamp"])
        if stamp is None:
            marked["metadata"]["deletionTimestamp"] = self.now(period)
        else:
            at = stamp - timedelta(seconds=current) + timedelta(seconds=period)
            marked["metadata"]["deletionTimestamp"] = format_time(at)
        marked["metadata"]["deletionGracePeriodSeconds"] = period
        if period == 0 and not meta.get("finalizers"):
            self.store.put(rt.key, marked)
            return self._remove(rt, marked), True
        return self.store.put(rt.key, marked).obj, False

    def delete_collection(
        self,
        rt: ResourceType,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
        propagation: str | None = None,
        dry_run: bool = False,
        grace_period: int | None = None,
    ) -> list[dict]:
        with self.store.lock:
            items, *_ = self.list_objects(rt, namespace, label_selector, field_selector)
            out = []
            for obj in items:
                meta = obj["metadata"]
                try:
                    gone_obj, _ = self.delete_object(
                        rt,
                        meta.get("namespace", ""),
                        meta["name"],
                        propagation,
                        None,
                        dry_run,
                        grace_period,
                    )
                except errors.ApiError as exc:
                    if exc.code != 404:
                        raise
                    continue
                out.append(gone_obj)
            return out

    def _remove(self, rt: ResourceType, obj: dict) -> dict:
        """Take the object out of storage and let its dependents and namespace react."""
        meta = obj["metadata"]
        ns = meta.get("namespace", "")
        event = self.store.remove(rt.key, ns, meta["name"])
        if event is None:
            return obj
        self._collect_dependents(meta["uid"], "Background")
        if rt.key == CRD_KEY:
            self._drop_crd(obj)
        if ns:
            self._after_write(rt, event.obj, removed=True)
            self._maybe_finish_namespace(ns)
        return event.obj

    def _collect_dependents(self, owner_uid: str, propagation: str, force: bool = False) -> None:
        """Garbage collection: delete dependents whose owners are all gone."""
        for key, ns, name in self.store.dependents(owner_uid):
            dependent = self.store.get(key, ns, name)
            rt = self.registry.by_key(key)
            if dependent is None or rt is None:
                continue
            refs = dependent["metadata"].get("ownerReferences") or []
            alive = [r for r in refs if r.get("uid") != owner_uid and self._owner_exists(r, ns)]
            if alive and not force:
                continue
            with contextlib.suppress(errors.ApiError):  # raced with another deletion
                self.delete_object(rt, ns, name, propagation)

    def _owner_exists(self, ref: dict, namespace: str) -> bool:
        rt = self.registry.by_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
        if rt is None:
            return False
        owner = self.store.get(rt.key, namespace if rt.namespaced else "", ref.get("name", ""))
        return (
            owner is not None
            and owner["metadata"].get("uid") == ref.get("uid")
            and not owner["metadata"].get("deletionTimestamp")
        )

    def _orphan_dependents(self, owner_uid: str) -> None:
        for key, ns, name in self.store.dependents(owner_uid):
            dependent = self.store.get(key, ns, name)
            if dependent is None:
                continue
            updated = clone(dependent)
            refs = [r for r in updated["metadata"]["ownerReferences"] if r.get("uid") != owner_uid]
            if refs:
                updated["metadata"]["ownerReferences"] = refs
            else:
                del updated["metadata"]["ownerReferences"]
            self.store.put(key, updated)

    # -- namespaces ------------------------------------------------------------------------

    def _terminate_namespace(self, ns_obj: dict) -> tuple[dict, bool]:
        name = ns_obj["metadata"]["name"]
        if not ns_obj["metadata"].get("deletionTimestamp"):
            marked = clone(ns_obj)
            marked["metadata"]["deletionTimestamp"] = self.now()
            marked["metadata"]["deletionGracePeriodSeconds"] = 0
            marked.setdefault("status", {})["phase"] = "Terminating"
            self.store.put(NAMESPACE_KEY, marked)
            ns_obj = marked
            # what the namespace controller does: delete everything inside, owners first
            # so garbage collection takes their dependents along
            for key in sorted(self.store.resource_keys(), key=_deletion_order):
                rt = self.registry.by_key(key)
                if rt is None or not rt.namespaced:
                    continue
                for obj in self.store.list(key, name):
                    if obj["metadata"].get("deletionTimestamp"):
                        continue
                    with contextlib.suppress(errors.ApiError):
                        self.delete_object(rt, name, obj["metadata"]["name"])
        gone = self._maybe_finish_namespace(name)
        current = self.store.get(NAMESPACE_KEY, "", name)
        return (current or ns_obj), gone

    def _maybe_finish_namespace(self, name: str) -> bool:
        ns_obj = self.store.get(NAMESPACE_KEY, "", name)
        if ns_obj is None or not ns_obj["metadata"].get("deletionTimestamp"):
            return False
        if ns_obj["metadata"].get("finalizers"):
            return False
        for key in self.store.resource_keys():
            if key != NAMESPACE_KEY and self.store.list(key, name):
                return False
        self.store.remove(NAMESPACE_KEY, "", name)
        return True

    # -- the write pipeline --------------------------------------------------------------

    def allocate_cluster_ip(self) -> str:
        used = {(s.get("spec") or {}).get("clusterIP") for s in self.store.list(("", "services"))}
        network = ipaddress.ip_network("10.96.0.0/12")
        for _ in range(1000):
            candidate = str(network[self.rng.randrange(10, network.num_addresses - 1)])
            if candidate not in used:
                return candidate
        raise errors.internal_error("no cluster IP left")

    def allocate_node_port(self) -> int:
        used = {
            p.get("nodePort")
            for s in self.store.list(("", "services"))
            for p in (s.get("spec") or {}).get("ports") or ()
        }
        for _ in range(5000):
            port = self.rng.randrange(30000, 32768)
            if port not in used:
                return port
        raise errors.internal_error("no node port left")

    def _prepare(self, rt: ResourceType, obj: dict, old: dict | None) -> None:
        """Defaulting and validation (built-in kinds), CRD bookkeeping."""
        if rt.key == NAMESPACE_KEY:
            _namespace_defaults(obj)
        if rt.key == CRD_KEY:
            self._prepare_crd(obj, old)
        if rt.custom:
            return
        self.rules.prepare(self, rt, obj, old)

    def _admit(self, rt: ResourceType, obj: dict, old: dict | None) -> None:
        if rt.custom:
            return
        self.rules.admit(self, obj, old)

    def _record(self, old: dict | None, new: dict, manager: str, operation: str) -> None:
        self.rules.record(old, new, manager, operation, self.now())

    def _after_write(self, rt: ResourceType, obj: dict, removed: bool = False) -> None:
        if rt.key == CRD_KEY and not removed:
            self.registry.register_crd(obj)
        ns = obj["metadata"].get("namespace")
        if ns and not (rt.key == QUOTA_KEY and removed):
            self._refresh_quotas(ns)

    def _refresh_quotas(self, namespace: str | None) -> None:
        if not namespace:
            return
        quotas = self.store.list(QUOTA_KEY, namespace)
        if not quotas:
            return
        for quota in quotas:
            hard = (quota.get("spec") or {}).get("hard") or {}
            status = {"hard": hard, "used": self.rules.quota_usage(self, quota)}
            if quota.get("status") != status:
                # straight to storage: a status refresh must not re-enter admission
                self.store.put(QUOTA_KEY, {**quota, "status": status})

    # -- custom resource definitions -----------------------------------------------------

    def _prepare_crd(self, crd: dict, old: dict | None) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group, plural = spec.get("group", ""), names.get("plural", "")
        name = crd["metadata"].get("name", "")
        causes = []
        if name != f"{plural}.{group}":
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "message": f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
                    "field": "metadata.name",
                }
            )
        if not names.get("kind"):
            causes.append(
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value",
                    "field": "spec.names.kind",
                }
            )
        versions = spec.get("versions") or []
        if not versions:
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "message": "Invalid value: []: must have exactly one version marked as "
                    "storage version",
                    "field": "spec.versions",
                }
            )
        if spec.get("scope") not in ("Namespaced", "Cluster"):
            causes.append(
                {
                    "reason": "FieldValueNotSupported",
                    "message": f'Unsupported value: "{spec.get("scope", "")}": supported values: '
                    '"Cluster", "Namespaced"',
                    "field": "spec.scope",
                }
            )
        if causes:
            raise errors.invalid("CustomResourceDefinition", "apiextensions.k8s.io", name, causes)
        if old is None and self.registry.conflicts_with(group, plural, name):
            raise errors.conflict("customresourcedefinitions", "apiextensions.k8s.io", name)
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", f"{names['kind']}List")
        stamp = self.now()
        storage = [v["name"] for v in versions if v.get("storage")] or [versions[0]["name"]]
        crd["status"] = {
            "acceptedNames": dict(names),
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                    "lastTransitionTime": stamp,
                },
                {
                    "type": "Established",
                    "status": "True",
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                    "lastTransitionTime": stamp,
                },
            ],
            "storedVersions": storage,
        }
        if old is not None and old.get("status") is not None:
            # conditions keep their original transition times
            old_conditions = {c["type"]: c for c in old["status"].get("conditions", [])}
            crd["status"]["conditions"] = [
                old_conditions.get(c["type"], c) for c in crd["status"]["conditions"]
            ]

    def _drop_crd(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        key = (spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
        rt = self.registry.by_key(key)
        if rt is not None:
            # the CRD's cleanup finalizer: its custom resources go with it
            for obj in self.store.list(key):
                self.store.remove(
                    key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
                )
        self.registry.unregister_crd(crd["metadata"]["name"])
        self.store.drop_resource(key)

    def restore_crds(self) -> None:
        """Re-register the custom resources of stored CRDs (after loading a state file)."""
        for crd in self.store.list(CRD_KEY):
            self.registry.register_crd(crd)

    # -- controllers -------------------------------------------------------------------

    def on_change(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Subscribe to every stored change (see Store.subscribe)."""
        return self.store.subscribe(callback)


# -- helpers -----------------------------------------------------------------------------


def _deletion_order(key: Key) -> tuple[int, Key]:
    owners = {("apps", "deployments"): 0, ("batch", "cronjobs"): 0, ("apps", "statefulsets"): 1}
    return owners.get(key, 2), key


def _pod_grace_period(pod: dict, requested: int | None) -> int:
    """The pod strategy's CheckGracefulDelete: the grace period a pod deletion gets."""
    spec = pod.get("spec") or {}
    if requested is None:
        requested = spec.get("terminationGracePeriodSeconds")
        if not isinstance(requested, int) or isinstance(requested, bool):
            requested = 30
    if not spec.get("nodeName"):
        return 0  # never scheduled: no kubelet has to stop anything
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return 0  # already finished
    return 1 if requested < 0 else requested


def _namespace_defaults(obj: dict) -> None:
    name = obj["metadata"].get("name", "")
    labels = obj["metadata"].setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    status = obj.setdefault("status", {})
    if not obj["metadata"].get("deletionTimestamp"):
        status["phase"] = "Active"


def _same_ignoring_managed_fields(new: dict, old: dict) -> bool:
    def strip(o: dict) -> dict:
        meta = {k: v for k, v in o["metadata"].items() if k not in ("managedFields",)}
        return {**o, "metadata": meta}

    return strip(new) == strip(old)


def _matches(obj: dict, labels: LabelSelector, fields: FieldSelector) -> bool:
    if labels and not labels.matches(obj["metadata"].get("labels")):
        return False
    return not fields or fields.matches(obj)


def _validate_list_options(continue_token, resource_version, match) -> None:
    """ValidateListOptions (apimachinery): 422 on ListOptions.meta.k8s.io; then etcd3's
    own check of a continue token with a resourceVersion (400)."""
    causes = []

    def forbid(message: str) -> None:
        causes.append(
            {
                "reason": "FieldValueForbidden",
                "message": f"Forbidden: {message}",
                "field": "resourceVersionMatch",
            }
        )

    if match and not resource_version:
        forbid("resourceVersionMatch is forbidden unless resourceVersion is provided")
    if match and continue_token:
        forbid("resourceVersionMatch is forbidden when continue is provided")
    if match and match not in ("Exact", "NotOlderThan"):
        causes.append(
            {
                "reason": "FieldValueNotSupported",
                "message": f'Unsupported value: "{match}": supported values: "Exact", '
                '"NotOlderThan", ""',
                "field": "resourceVersionMatch",
            }
        )
    if match == "Exact" and resource_version == "0":
        forbid('resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
    if causes:
        raise errors.invalid("ListOptions", "meta.k8s.io", "", causes)
    if continue_token and resource_version and resource_version != "0":
        raise errors.bad_request("specifying resource version is not allowed when using continue")


def _encode_continue(rv: int, key: str) -> str:
    """kube-apiserver's continue token: base64url (unpadded) JSON with the list's
    resourceVersion and the storage key to resume after, relative to the list's prefix
    (`name` within a namespace or for a cluster-scoped kind, else `namespace/name`), plus
    the NUL byte that makes it the next key."""
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": key + "\x00"})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, str]:
    """(resourceVersion, the key to resume after); -1 means the latest."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(data, dict):
            raise ValueError("not a continue token")
        version, rv, key = data.get("v"), data.get("rv"), data.get("start")
    except (ValueError, TypeError, binascii.Error) as exc:
        raise _bad_continue(f"continue key is not valid: {exc}") from exc
    if version != "meta.k8s.io/v1":
        raise _bad_continue(
            f"continue key is not valid: server does not recognize this encoded version {version}"
        )
    if not isinstance(rv, int) or isinstance(rv, bool) or rv == 0:
        raise _bad_continue(
            "continue key is not valid: incorrect encoded start resourceVersion "
            "(version meta.k8s.io/v1)"
        )
    if not isinstance(key, str) or not key:
        raise _bad_continue(
            "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)"
        )
    key = key.removesuffix("\x00")
    if not key or ".." in key.split("/") or key.startswith("/"):
        raise _bad_continue(f"continue key is not valid: {key}")
    return rv, key


def _start_of(key: str, namespace: str | None, namespaced: bool) -> tuple[str, str]:
    """The (namespace, name) a continue key resumes after, for the list it came from."""
    if not namespaced:
        return "", key
    if namespace is not None:
        return namespace, key
    ns, _, name = key.partition("/")
    return ns, name


def _bad_continue(message: str) -> errors.ApiError:
    return errors.bad_request(f"invalid continue token: {message}")


def _get_path(obj: dict, path: str):
    node: Any = obj
    for part in path.lstrip(".").split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _set_path(obj: dict, path: str, value) -> None:
    parts = path.lstrip(".").split(".")
    node = obj
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
