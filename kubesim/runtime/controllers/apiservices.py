"""kube-aggregator's controllers for apiregistration.k8s.io/v1 APIServices.

- CRD registration: every served version of a CustomResourceDefinition gets the APIService
  `version.group` (automanaged `true`, groupPriorityMinimum 1000, versionPriority 100);
  it goes when no CRD serves that group/version any more.
- Availability: each APIService's `Available` condition, with the aggregator's reasons:
  `Local` for the apiserver's own (no `spec.service`); for one behind a Service,
  `ServiceNotFound` (`service/NAME in "NS" is not present`), `ServicePortError`,
  `MissingEndpoints` (`endpoints for service/NAME in "NS" have no addresses with port name
  "..."`), else — kubesim runs no aggregated API servers — `FailedDiscoveryCheck`, unless
  kubesim serves that group/version itself (metrics.k8s.io), which is `Passed`.

APIServices are few (one per group/version), so each run looks at all of them.
"""

from __future__ import annotations

from kubesim.runtime.controllers.base import Controller
from kubesim.runtime.controllers.common import ignore_gone, set_condition, write_status
from kubesim.storage import apiservices

API_VERSION = "apiregistration.k8s.io/v1"


class APIServiceController(Controller):
    name = "apiservice"
    component = "kube-aggregator"
    watches = ("APIService", "Service", "Endpoints", "CustomResourceDefinition")

    def reconcile(self, ctx) -> None:
        cluster = ctx.cluster
        self.register_crds(cluster)
        now = ctx.clock.now()
        for service in cluster.list(API_VERSION, "APIService"):
            status, reason, message = availability(cluster, service)
            old = (service.get("status") or {}).get("conditions") or []
            conditions = set_condition(old, "Available", status, reason, message, now)
            if conditions != old:
                write_status(cluster, service, {"conditions": conditions})

    def register_crds(self, cluster) -> None:
        wanted: dict[str, tuple[str, str]] = {}
        for crd in cluster.list("apiextensions.k8s.io/v1", "CustomResourceDefinition"):
            if crd["metadata"].get("deletionTimestamp"):
                continue
            spec = crd.get("spec") or {}
            for version in spec.get("versions") or []:
                if version.get("served", True) and spec.get("group") and version.get("name"):
                    key = apiservices.name_of(spec["group"], version["name"])
                    wanted[key] = (spec["group"], version["name"])
        existing = {
            s["metadata"]["name"]: s
            for s in cluster.list(API_VERSION, "APIService")
            if (s["metadata"].get("labels") or {}).get(apiservices.AUTOMANAGED) == "true"
        }
        for name, (group, version) in wanted.items():
            if name not in existing and _get(cluster, name) is None:
                ignore_gone(cluster.create, apiservices.for_crd(group, version), "kube-aggregator")
        for name in set(existing) - set(wanted):
            ignore_gone(cluster.delete, API_VERSION, "APIService", name, "")


def _get(cluster, name: str) -> dict | None:
    return cluster.store.get(("apiregistration.k8s.io", "apiservices"), "", name)


def availability(cluster, service: dict) -> tuple[str, str, str]:
    spec = service.get("spec") or {}
    ref = spec.get("service")
    if not ref:
        return "True", "Local", "Local APIServices are always available"
    ns, name, port = ref.get("namespace", ""), ref.get("name", ""), ref.get("port") or 443
    group, version = spec.get("group", ""), spec.get("version", "")
    if any(rt.group == group and rt.version == version for rt in cluster.registry.all()):
        return "True", "Passed", "all checks passed"
    svc = cluster.store.get(("", "services"), ns, name)
    if svc is None:
        return "False", "ServiceNotFound", f'service/{name} in "{ns}" is not present'
    svc_spec = svc.get("spec") or {}
    if svc_spec.get("type") == "ExternalName":
        return "False", "FailedDiscoveryCheck", _discovery_failure(spec, f"{name}.{ns}.svc", port)
    ports = [p for p in svc_spec.get("ports") or [] if p.get("port") == port]
    if not ports:
        message = f'service/{name} in "{ns}" is not listening on port {port}'
        return "False", "ServicePortError", message
    endpoints = cluster.store.get(("", "endpoints"), ns, name)
    port_name = ports[0].get("name", "")
    addresses = [
        a
        for subset in (endpoints or {}).get("subsets") or []
        if any(p.get("name", "") == port_name for p in subset.get("ports") or [])
        for a in subset.get("addresses") or []
    ]
    if not addresses:
        return (
            "False",
            "MissingEndpoints",
            f'endpoints for service/{name} in "{ns}" have no addresses with port name '
            f'"{port_name}"',
        )
    # kubesim runs no aggregated API server behind the Service: discovery cannot succeed
    failure = _discovery_failure(spec, svc_spec.get("clusterIP"), port)
    return "False", "FailedDiscoveryCheck", failure


def _discovery_failure(spec: dict, host: str | None, port: int) -> str:
    url = f"https://{host}:{port}/apis/{spec.get('group', '')}/{spec.get('version', '')}"
    return f"failing or missing response from {url}: bad status from {url}: 503"


CONTROLLERS = [APIServiceController]
