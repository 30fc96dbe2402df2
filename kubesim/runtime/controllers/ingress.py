"""The ingress controller: kubesim's ingress-nginx, for the ingress class `nginx`.

It installs its IngressClass `nginx` (controller `k8s.io/ingress-nginx`, the cluster's
default class) when the cluster has none of that name, and for every Ingress of that
class (or of no class, which the default class takes):

- puts its own address (203.0.113.2, the controller's LoadBalancer) in
  `status.loadBalancer.ingress`;
- reports, as Warning events on the Ingress, each backend whose Service does not exist
  (`MissingBackend`), or has no such port (`MissingBackendPort`), and each TLS entry whose
  Secret does not exist or is not a TLS Secret (`MissingCertificate`; the controller then
  serves its default certificate, as ingress-nginx does).

Ingresses of other classes are left to their own controllers (no address).
"""

from __future__ import annotations

from kubesim.runtime.controllers.base import Controller
from kubesim.runtime.controllers.common import ignore_gone
from kubesim.runtime.controllers.services import INGRESS_IP
from kubesim.storage import errors

CLASS = "nginx"
CONTROLLER = "k8s.io/ingress-nginx"
DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"
MANAGER = "nginx-ingress-controller"
API = "networking.k8s.io/v1"


def backends(ing: dict) -> list[dict]:
    """Every service backend the Ingress names (default backend first)."""
    spec = ing.get("spec") or {}
    found = []
    default = (spec.get("defaultBackend") or {}).get("service")
    if default:
        found.append(default)
    for rule in spec.get("rules") or ():
        for path in (rule.get("http") or {}).get("paths") or ():
            service = (path.get("backend") or {}).get("service")
            if service:
                found.append(service)
    return found


def port_exists(svc: dict, port: dict) -> bool:
    for declared in (svc.get("spec") or {}).get("ports") or ():
        if "number" in port and declared.get("port") == port["number"]:
            return True
        if "name" in port and declared.get("name") == port["name"]:
            return True
    return False


class IngressController(Controller):
    name = "ingress"
    component = "nginx-ingress-controller"
    watches = ("Ingress", "Service", "Secret", "IngressClass")

    def __init__(self) -> None:
        self.reported: dict[str, tuple] = {}

    def reconcile(self, ctx) -> None:
        cluster = ctx.cluster
        classes = cluster.list(API, "IngressClass")
        if ctx.resync and not any(c["metadata"]["name"] == CLASS for c in classes):
            body = {
                "apiVersion": API,
                "kind": "IngressClass",
                "metadata": {"name": CLASS, "annotations": {DEFAULT_CLASS: "true"}},
                "spec": {"controller": CONTROLLER},
            }
            try:
                classes.append(cluster.create(body, MANAGER))
            except errors.ApiError as exc:
                if exc.code != 409:
                    raise
        ours = {
            c["metadata"]["name"]
            for c in classes
            if (c.get("spec") or {}).get("controller") == CONTROLLER
        }
        default_is_ours = any(
            (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"
            and c["metadata"]["name"] in ours
            for c in classes
        )
        wanted = {"ingress": [{"ip": INGRESS_IP}]}
        for ing in cluster.list(API, "Ingress"):
            meta = ing["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            klass = (ing.get("spec") or {}).get("ingressClassName")
            if not (klass in ours or (not klass and default_is_ours)):
                continue
            self.report(ctx, ing)
            status = ing.get("status") or {}
            if status.get("loadBalancer") == wanted:
                continue
            ignore_gone(
                cluster.update_status,
                {**ing, "status": {**status, "loadBalancer": wanted}},
                MANAGER,
            )

    def report(self, ctx, ing: dict) -> None:
        meta = ing["metadata"]
        ns = meta["namespace"]
        services = {s["metadata"]["name"]: s for s in ctx.cluster.list("v1", "Service", ns)}
        secrets = {
            s["metadata"]["name"]: s.get("type", "") for s in ctx.cluster.list("v1", "Secret", ns)
        }
        problems = []
        for backend in backends(ing):
            name, port = backend.get("name", ""), backend.get("port") or {}
            shown = port.get("number", port.get("name", ""))
            if name not in services:
                problems.append(("MissingBackend", f'Service "{ns}/{name}" does not exist'))
            elif port and not port_exists(services[name], port):
                problems.append(
                    (
                        "MissingBackendPort",
                        f'Service "{ns}/{name}" does not have any active port {shown}',
                    )
                )
        for tls in (ing.get("spec") or {}).get("tls") or ():
            secret = tls.get("secretName")
            if not secret:
                continue
            if secret not in secrets:
                problems.append(
                    (
                        "MissingCertificate",
                        f'Secret "{ns}/{secret}" does not exist; serving the default certificate',
                    )
                )
            elif secrets[secret] != "kubernetes.io/tls":
                problems.append(
                    (
                        "MissingCertificate",
                        f'Secret "{ns}/{secret}" is not a TLS Secret; serving the default '
                        "certificate",
                    )
                )
        key = (meta["uid"], meta.get("generation"))
        if self.reported.get(meta["uid"]) == (key, tuple(problems)):
            return
        self.reported[meta["uid"]] = (key, tuple(problems))
        for reason, message in problems:
            ctx.events.record(ing, "Warning", reason, message)


CONTROLLERS = [IngressController]
