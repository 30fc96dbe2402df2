"""apiregistration.k8s.io/v1 APIServices: what kube-aggregator registers for each cluster.

A real cluster has one APIService per group/version it serves: the apiserver's own
("local": no `spec.service`, always Available) labelled
`kube-aggregator.kubernetes.io/automanaged: onstart`, one per CustomResourceDefinition
version (automanaged `true`, kept by the CRD registration controller) and those that
add-ons register for an aggregated API server behind a Service (metrics-server's
`v1beta1.metrics.k8s.io`). `builtin_api_services` gives the first kind for a registry;
`kubesim.runtime.controllers.apiservices` keeps the CRD ones and every APIService's Available
condition.

Group and version priorities are those kube-apiserver 1.32 gives its groups
(`apiVersionPriorities`), so `kubectl get apiservices` sorts the same.
"""

from __future__ import annotations

AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"

# group -> (groupPriorityMinimum, {version: versionPriority})
PRIORITIES: dict[str, tuple[int, dict[str, int]]] = {
    "": (18000, {"v1": 1}),
    "apiregistration.k8s.io": (18000, {"v1": 15}),
    "apps": (17800, {"v1": 15}),
    "events.k8s.io": (17750, {"v1": 15}),
    "authentication.k8s.io": (17700, {"v1": 15}),
    "authorization.k8s.io": (17600, {"v1": 15}),
    "autoscaling": (17500, {"v1": 15, "v2": 30}),
    "batch": (17400, {"v1": 15}),
    "certificates.k8s.io": (17300, {"v1": 15}),
    "networking.k8s.io": (17200, {"v1": 15}),
    "policy": (17100, {"v1": 15}),
    "rbac.authorization.k8s.io": (17000, {"v1": 15}),
    "storage.k8s.io": (16800, {"v1": 15}),
    "apiextensions.k8s.io": (16700, {"v1": 15}),
    "admissionregistration.k8s.io": (16700, {"v1": 15}),
    "scheduling.k8s.io": (16600, {"v1": 15}),
    "coordination.k8s.io": (16500, {"v1": 15}),
    "node.k8s.io": (16300, {"v1": 15}),
    "discovery.k8s.io": (16200, {"v1": 15}),
    "flowcontrol.apiserver.k8s.io": (16100, {"v1": 21}),
}
# Groups an add-on serves through the aggregator in a real cluster, and its Service.
AGGREGATED = {
    "metrics.k8s.io": {"namespace": "kube-system", "name": "metrics-server", "port": 443},
}
CRD_PRIORITY = (1000, 100)  # what the CRD registration controller gives custom groups


def name_of(group: str, version: str) -> str:
    return f"{version}.{group}"


def local(group: str, version: str) -> dict:
    """The APIService kube-apiserver registers at start for one of its group/versions."""
    minimum, versions = PRIORITIES.get(group, (1000, {}))
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": name_of(group, version), "labels": {AUTOMANAGED: "onstart"}},
        "spec": {
            "group": group,
            "version": version,
            "groupPriorityMinimum": minimum,
            "versionPriority": versions.get(version, 15),
        },
    }


def aggregated(group: str, version: str) -> dict:
    """An add-on's APIService (metrics-server's manifest), pointing at its Service."""
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {
            "name": name_of(group, version),
            "labels": {"k8s-app": AGGREGATED[group]["name"]},
        },
        "spec": {
            "service": dict(AGGREGATED[group]),
            "group": group,
            "version": version,
            "insecureSkipTLSVerify": True,
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
        },
    }


def for_crd(group: str, version: str) -> dict:
    minimum, priority = CRD_PRIORITY
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": name_of(group, version), "labels": {AUTOMANAGED: "true"}},
        "spec": {
            "group": group,
            "version": version,
            "groupPriorityMinimum": minimum,
            "versionPriority": priority,
        },
    }


def builtin_api_services(registry) -> list[dict]:
    """One APIService per built-in group/version the registry serves."""
    seen: dict[str, dict] = {}
    for rt in registry.all():
        if rt.custom:
            continue
        name = name_of(rt.group, rt.version)
        if name not in seen:
            maker = aggregated if rt.group in AGGREGATED else local
            seen[name] = maker(rt.group, rt.version)
    return [seen[n] for n in sorted(seen)]


def condition(status: str, reason: str, message: str, stamp: str) -> dict:
    return {
        "type": "Available",
        "status": status,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def available(service: dict, stamp: str) -> dict:
    """The Available condition of an APIService whose API kubesim serves itself."""
    if not (service.get("spec") or {}).get("service"):
        return condition("True", "Local", "Local APIServices are always available", stamp)
    return condition("True", "Passed", "all checks passed", stamp)
