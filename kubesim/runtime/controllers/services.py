"""Service networking: Endpoints, load balancers (the simulated cloud) and Ingress status.

- Endpoints controller: for every Service with a selector, an Endpoints object of the
  same name listing the matching pods that have an IP: Ready ones under `addresses`, the
  others under `notReadyAddresses` (all under `addresses` with
  `publishNotReadyAddresses`), each with nodeName and targetRef; named target ports are
  resolved per pod from its container ports. Services without a selector keep the
  Endpoints their users write; ExternalName Services get none. The `kubernetes` Service
  lists the control-plane nodes on 6443, as the apiserver maintains it.
- Service controller (the cloud provider): a LoadBalancer Service gets an external IP
  from the cluster's pool in the documentation range 203.0.113.0/24 (no real network is
  involved) in `status.loadBalancer.ingress`, with the EnsuringLoadBalancer and
  EnsuredLoadBalancer events; `spec.loadBalancerIP` is honoured when free. Changing the
  type away releases it.
- The ingress controller is in `ingress.py`, EndpointSlices in `endpointslices.py`, the
  load balancers' settings and backend health in `loadbalancers.py`.

Simplified: addresses are grouped into one subset per distinct port set.
"""

from __future__ import annotations

import ipaddress

from kubesim.runtime.controllers.base import Controller
from kubesim.runtime.controllers.common import ignore_gone, is_ready, record
from kubesim.storage import errors
from kubesim.storage.selectors import LabelSelector, parse_label_selector
from kubesim.storage.store import DELETED

POOL = ipaddress.ip_network("203.0.113.0/24")
INGRESS_IP = str(POOL[2])
FIRST_LB = 10  # pool addresses below this are reserved (gateway, ingress controller)
HEADLESS_LABEL = "service.kubernetes.io/headless"
MANAGER = "kube-controller-manager"


def _selector(svc: dict) -> LabelSelector | None:
    spec = svc.get("spec") or {}
    if spec.get("type") == "ExternalName" or not spec.get("selector"):
        return None
    return parse_label_selector(",".join(f"{k}={v}" for k, v in spec["selector"].items()))


class EndpointsController(Controller):
    name = "endpoints"
    component = "endpoint-controller"
    watches = ("Service", "Pod")

    def reconcile(self, ctx) -> None:
        cluster = ctx.cluster
        if ctx.resync or ctx.timer:
            targets = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in _services(ctx)}
        else:
            targets = set()
            pod_namespaces: dict[str, list[dict]] = {}
            for event in ctx.changed("Service"):
                key = (event.namespace, event.obj["metadata"]["name"])
                if event.type == DELETED:
                    self.service_gone(ctx, event.obj)
                else:
                    targets.add(key)
            for event in ctx.changed("Pod"):
                pods = pod_namespaces.setdefault(event.namespace, [])
                pods.extend(p for p in (event.obj, event.old) if p)
            for ns, pods in pod_namespaces.items():
                for svc in cluster.list("v1", "Service", ns):
                    selector = _selector(svc)
                    if selector is None:
                        continue
                    if any(selector.matches(p["metadata"].get("labels")) for p in pods):
                        targets.add((ns, svc["metadata"]["name"]))
        for ns, name in sorted(targets):
            svc = cluster.store.get(cluster.resource("v1", "Service").key, ns, name)
            if svc is not None:
                try:
                    self.sync(ctx, svc)
                except errors.ApiError as exc:
                    if exc.code not in (404, 409, 403):
                        raise

    def service_gone(self, ctx, svc: dict) -> None:
        if _selector(svc) is None:
            return
        meta = svc["metadata"]
        ignore_gone(ctx.cluster.delete, "v1", "Endpoints", meta["name"], meta["namespace"])

    def sync(self, ctx, svc: dict) -> None:
        meta = svc["metadata"]
        if meta["namespace"] == "default" and meta["name"] == "kubernetes":
            subsets = self.apiserver_subsets(ctx)
        else:
            selector = _selector(svc)
            if selector is None or meta.get("deletionTimestamp"):
                return
            pods = [
                p
                for p in ctx.cluster.list("v1", "Pod", meta["namespace"])
                if selector.matches(p["metadata"].get("labels"))
            ]
            subsets = endpoint_subsets(svc, pods)
        labels = dict(meta.get("labels") or {})
        if (svc.get("spec") or {}).get("clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        existing = ctx.cluster.store.get(
            ctx.cluster.resource("v1", "Endpoints").key, meta["namespace"], meta["name"]
        )
        body = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
        }
        if labels:
            body["metadata"]["labels"] = labels
        if subsets:
            body["subsets"] = subsets
        if existing is None:
            ctx.cluster.create(body, MANAGER)
            return
        if (existing["metadata"].get("labels") or {}) == labels and (
            existing.get("subsets") or []
        ) == subsets:
            return
        updated = {**existing, "metadata": {**existing["metadata"], "labels": labels}}
        if not labels:
            updated["metadata"].pop("labels")
        updated.pop("subsets", None)
        if subsets:
            updated["subsets"] = subsets
        ctx.cluster.update(updated, MANAGER)

    def apiserver_subsets(self, ctx) -> list[dict]:
        return apiserver_subsets(ctx.cluster)


def apiserver_subsets(cluster) -> list[dict]:
    """The `kubernetes` Service's endpoints: the control-plane nodes' API server port (what
    kube-apiserver's endpoint reconciler writes, into its EndpointSlice too)."""
    ips = []
    for node in cluster.list("v1", "Node"):
        if "node-role.kubernetes.io/control-plane" not in (node["metadata"].get("labels") or {}):
            continue
        for address in (node.get("status") or {}).get("addresses") or ():
            if address.get("type") == "InternalIP":
                ips.append(address["address"])
    if not ips:
        return []
    return [
        {
            "addresses": [{"ip": ip} for ip in sorted(ips, key=ipaddress.ip_address)],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        }
    ]


def _services(ctx) -> list[dict]:
    return ctx.cluster.list("v1", "Service")


def resolve_port(pod: dict, port: dict) -> int | None:
    """podutil.FindPort: a number as is, a name looked up among the pod's container ports."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or ():
        for cport in container.get("ports") or ():
            if cport.get("name") == target and cport.get("protocol", "TCP") == port.get(
                "protocol", "TCP"
            ):
                return cport.get("containerPort")
    return None


def endpoint_subsets(svc: dict, pods: list[dict]) -> list[dict]:
    spec = svc.get("spec") or {}
    publish_all = bool(spec.get("publishNotReadyAddresses"))
    groups: dict[tuple, dict[str, list[dict]]] = {}
    for pod in pods:
        status = pod.get("status") or {}
        ip = status.get("podIP")
        if not ip or (pod["metadata"].get("deletionTimestamp") and not publish_all):
            continue  # a pod being deleted leaves at once (ShouldPodBeInEndpoints)
        if status.get("phase") in ("Succeeded", "Failed"):
            continue
        address: dict = {"ip": ip}
        pod_spec = pod.get("spec") or {}
        if pod_spec.get("hostname") and pod_spec.get("subdomain") == svc["metadata"]["name"]:
            address["hostname"] = pod_spec["hostname"]
        if pod_spec.get("nodeName"):
            address["nodeName"] = pod_spec["nodeName"]
        address["targetRef"] = {
            "kind": "Pod",
            "namespace": pod["metadata"]["namespace"],
            "name": pod["metadata"]["name"],
            "uid": pod["metadata"]["uid"],
        }
        ports = []
        for port in spec.get("ports") or ():
            number = resolve_port(pod, port)
            if number is None:
                continue
            entry = {"port": number, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry = {"name": port["name"], **entry}
            if port.get("appProtocol"):
                entry["appProtocol"] = port["appProtocol"]
            ports.append(entry)
        if spec.get("ports") and not ports:
            continue
        ports.sort(key=lambda p: (p.get("name", ""), p["port"], p["protocol"]))
        group = groups.setdefault(
            tuple(tuple(sorted(p.items())) for p in ports), {"ready": [], "notReady": []}
        )
        group["ready" if publish_all or is_ready(pod) else "notReady"].append(address)
    subsets = []
    for port_key, group in sorted(groups.items()):
        subset: dict = {}
        for field, addresses in (
            ("addresses", group["ready"]),
            ("notReadyAddresses", group["notReady"]),
        ):
            if addresses:
                subset[field] = sorted(
                    addresses, key=lambda a: (ipaddress.ip_address(a["ip"]), a["targetRef"]["uid"])
                )
        ports = [dict(p) for p in port_key]
        if ports:
            subset["ports"] = ports
        subsets.append(subset)
    return subsets


# -- load balancers ------------------------------------------------------------------------


class ServiceLoadBalancerController(Controller):
    name = "service-lb"
    component = "service-controller"
    watches = ("Service",)

    def reconcile(self, ctx) -> None:
        services = ctx.cluster.list("v1", "Service")
        used = {INGRESS_IP}
        for svc in services:
            for entry in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ():
                if entry.get("ip"):
                    used.add(entry["ip"])
        for svc in services:
            spec = svc.get("spec") or {}
            lb = (svc.get("status") or {}).get("loadBalancer") or {}
            wants = spec.get("type") == "LoadBalancer" and not spec.get("loadBalancerClass")
            if wants and not lb.get("ingress") and not svc["metadata"].get("deletionTimestamp"):
                ip = self.allocate(spec.get("loadBalancerIP"), used)
                if ip is None:
                    record(
                        ctx,
                        svc,
                        "Warning",
                        "SyncLoadBalancerFailed",
                        "Error syncing load balancer: failed to ensure load balancer: "
                        "no external IP left in the pool",
                    )
                    continue
                record(ctx, svc, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer")
                status = {
                    **(svc.get("status") or {}),
                    "loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]},
                }
                if ignore_gone(ctx.cluster.update_status, {**svc, "status": status}, MANAGER):
                    used.add(ip)
                    record(ctx, svc, "Normal", "EnsuredLoadBalancer", "Ensured load balancer")
            elif not wants and lb.get("ingress") and spec.get("type") != "LoadBalancer":
                record(ctx, svc, "Normal", "DeletingLoadBalancer", "Deleting load balancer")
                status = {**(svc.get("status") or {}), "loadBalancer": {}}
                if ignore_gone(ctx.cluster.update_status, {**svc, "status": status}, MANAGER):
                    record(ctx, svc, "Normal", "DeletedLoadBalancer", "Deleted load balancer")

    @staticmethod
    def allocate(requested: str | None, used: set[str]) -> str | None:
        if requested and requested not in used:
            return requested
        for index in range(FIRST_LB, POOL.num_addresses - 1):
            candidate = str(POOL[index])
            if candidate not in used:
                return candidate
        return None


CONTROLLERS = [EndpointsController, ServiceLoadBalancerController]
