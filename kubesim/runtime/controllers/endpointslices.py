"""The EndpointSlice controller: discovery.k8s.io/v1 slices for every Service with a selector.

As kube-controller-manager's endpointslice controller: each Service with a selector gets
slices named `<service>-<suffix>`, labelled `kubernetes.io/service-name` and
`endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`, owned by the
Service (so they go with it). Each slice holds the endpoints that share one set of
resolved ports (a named target port resolves per pod, from its container ports), with
their `ready` / `serving` / `terminating` conditions, nodeName, zone and targetRef.
Services without a selector keep the slices their users write; ExternalName Services get
none. Simplified: IPv4 only, and at most one slice per port set (no 100-endpoint split).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json

from kubesim.runtime.controllers.base import Controller, owner_reference
from kubesim.runtime.controllers.common import ignore_gone, is_ready
from kubesim.runtime.controllers.services import _selector, apiserver_subsets, resolve_port
from kubesim.storage import errors

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
CONTROLLER = "endpointslice-controller.k8s.io"
MANAGER = "kube-controller-manager"
APISERVER = "kube-apiserver"
API = "discovery.k8s.io/v1"
ZONE = "topology.kubernetes.io/zone"


def _suffix(ports: list[dict]) -> str:
    digest = hashlib.sha256(json.dumps(ports, sort_keys=True).encode()).hexdigest()
    return "".join(c for c in digest if c not in "aeiou")[:5]


def slices_for(svc: dict, pods: list[dict], zones: dict[str, str]) -> list[dict]:
    """The slices the Service should have: {ports, endpoints} per distinct port set."""
    spec = svc.get("spec") or {}
    publish_all = bool(spec.get("publishNotReadyAddresses"))
    groups: dict[str, dict] = {}
    for pod in pods:
        status = pod.get("status") or {}
        ip = status.get("podIP")
        if not ip or status.get("phase") in ("Succeeded", "Failed"):
            continue
        ports = []
        for port in spec.get("ports") or ():
            number = resolve_port(pod, port)
            if number is None:
                continue
            entry = {"name": port.get("name", ""), "port": number}
            entry["protocol"] = port.get("protocol", "TCP")
            if port.get("appProtocol"):
                entry["appProtocol"] = port["appProtocol"]
            ports.append(entry)
        if spec.get("ports") and not ports:
            continue
        ports.sort(key=lambda p: (p["name"], p["port"], p["protocol"]))
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ready = is_ready(pod)
        pod_spec = pod.get("spec") or {}
        endpoint: dict = {
            "addresses": [ip],
            "conditions": {
                "ready": (ready or publish_all) and not terminating,
                "serving": ready,
                "terminating": terminating,
            },
            "targetRef": {
                "kind": "Pod",
                "namespace": pod["metadata"]["namespace"],
                "name": pod["metadata"]["name"],
                "uid": pod["metadata"]["uid"],
            },
        }
        if pod_spec.get("nodeName"):
            endpoint["nodeName"] = pod_spec["nodeName"]
            if zones.get(pod_spec["nodeName"]):
                endpoint["zone"] = zones[pod_spec["nodeName"]]
        if pod_spec.get("hostname") and pod_spec.get("subdomain") == svc["metadata"]["name"]:
            endpoint["hostname"] = pod_spec["hostname"]
        key = json.dumps(ports, sort_keys=True)
        groups.setdefault(key, {"ports": ports, "endpoints": []})["endpoints"].append(endpoint)
    for group in groups.values():
        group["endpoints"].sort(key=lambda e: ipaddress.ip_address(e["addresses"][0]))
    if not groups:
        ports = [
            {"name": p.get("name", ""), "port": None, "protocol": p.get("protocol", "TCP")}
            for p in spec.get("ports") or ()
        ]
        return [{"ports": [], "endpoints": [], "empty": True, "declared": ports}]
    return list(groups.values())


class EndpointSliceController(Controller):
    name = "endpointslice"
    component = "endpoint-slice-controller"
    watches = ("Service", "Pod", "Node")

    def reconcile(self, ctx) -> None:
        cluster = ctx.cluster
        services = cluster.list("v1", "Service")
        if ctx.resync or ctx.timer or ctx.changed("Node"):
            targets = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in services}
        else:
            targets = {
                (e.namespace, e.obj["metadata"]["name"])
                for e in ctx.changed("Service")
                if e.type != "DELETED"
            }
            pods_by_ns: dict[str, list[dict]] = {}
            for event in ctx.changed("Pod"):
                pods_by_ns.setdefault(event.namespace, []).extend(
                    p for p in (event.obj, event.old) if p
                )
            for svc in services:
                ns = svc["metadata"]["namespace"]
                selector = _selector(svc)
                if selector is None or ns not in pods_by_ns:
                    continue
                if any(selector.matches(p["metadata"].get("labels")) for p in pods_by_ns[ns]):
                    targets.add((ns, svc["metadata"]["name"]))
        zones = {
            n["metadata"]["name"]: (n["metadata"].get("labels") or {}).get(ZONE, "")
            for n in cluster.list("v1", "Node")
        }
        by_name = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in services}
        for key in sorted(targets):
            svc = by_name.get(key)
            if svc is None:
                continue
            try:
                self.sync(ctx, svc, zones)
            except errors.ApiError as exc:
                if exc.code not in (404, 409, 403):
                    raise

    def sync(self, ctx, svc: dict, zones: dict) -> None:
        meta = svc["metadata"]
        if (meta["namespace"], meta["name"]) == ("default", "kubernetes"):
            self.sync_apiserver(ctx)
            return
        selector = _selector(svc)
        if selector is None or meta.get("deletionTimestamp"):
            return
        ns, name = meta["namespace"], meta["name"]
        pods = [
            p
            for p in ctx.cluster.list("v1", "Pod", ns)
            if selector.matches(p["metadata"].get("labels"))
        ]
        wanted = {}
        for group in slices_for(svc, pods, zones):
            suffix = _suffix(group.get("declared", group["ports"]))
            wanted[f"{name[:57]}-{suffix}"] = group
        existing = {
            s["metadata"]["name"]: s
            for s in ctx.cluster.list(API, "EndpointSlice", ns)
            if (s["metadata"].get("labels") or {}).get(SERVICE_NAME) == name
            and (s["metadata"].get("labels") or {}).get(MANAGED_BY) == CONTROLLER
        }
        labels = {
            **{k: v for k, v in (meta.get("labels") or {}).items()},
            SERVICE_NAME: name,
            MANAGED_BY: CONTROLLER,
        }
        if (svc.get("spec") or {}).get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        for slice_name, group in wanted.items():
            body = {
                "apiVersion": API,
                "kind": "EndpointSlice",
                "metadata": {
                    "name": slice_name,
                    "namespace": ns,
                    "labels": labels,
                    "ownerReferences": [owner_reference(svc)],
                },
                "addressType": "IPv4",
                "endpoints": group["endpoints"],
                "ports": group["ports"],
            }
            current = existing.pop(slice_name, None)
            if current is None:
                ignore_gone(ctx.cluster.create, body, MANAGER)
            elif (
                (current.get("endpoints") or []) != group["endpoints"]
                or (current.get("ports") or []) != group["ports"]
                or (current["metadata"].get("labels") or {}) != labels
            ):
                updated = {
                    **current,
                    "metadata": {**current["metadata"], "labels": labels},
                    "endpoints": group["endpoints"],
                    "ports": group["ports"],
                }
                ignore_gone(ctx.cluster.update, updated, MANAGER)
        for stale in existing:
            ignore_gone(ctx.cluster.delete, API, "EndpointSlice", stale, ns)

    def sync_apiserver(self, ctx) -> None:
        """The slice kube-apiserver's endpoint reconciler keeps for the `kubernetes` Service
        (named like it, no owner, no managed-by label), beside its Endpoints."""
        subsets = apiserver_subsets(ctx.cluster)
        endpoints = [
            {"addresses": [a["ip"]], "conditions": {"ready": True}}
            for subset in subsets
            for a in subset["addresses"]
        ]
        ports = [dict(p) for subset in subsets[:1] for p in subset["ports"]]
        current = ctx.cluster.store.get(
            ctx.cluster.resource(API, "EndpointSlice").key, "default", "kubernetes"
        )
        labels = {SERVICE_NAME: "kubernetes"}
        if current is None:
            body = {
                "apiVersion": API,
                "kind": "EndpointSlice",
                "metadata": {"name": "kubernetes", "namespace": "default", "labels": labels},
                "addressType": "IPv4",
                "endpoints": endpoints,
                "ports": ports,
            }
            ignore_gone(ctx.cluster.create, body, APISERVER)
        elif (current.get("endpoints") or []) != endpoints or (current.get("ports") or []) != ports:
            updated = {**current, "endpoints": endpoints, "ports": ports}
            ignore_gone(ctx.cluster.update, updated, APISERVER)


CONTROLLERS = [EndpointSliceController]
