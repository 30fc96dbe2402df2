"""Services, EndpointSlices and Ingresses mirrored from every cluster."""

from apps.kube.mirror import Mirror, register

from .models import EndpointSlice, Ingress, Service

SERVICE_NAME = "kubernetes.io/service-name"


def _address(status: dict) -> str:
    entries = ((status or {}).get("loadBalancer") or {}).get("ingress") or []
    return ", ".join(e.get("ip") or e.get("hostname") or "" for e in entries if e)


def service_summary(obj: dict) -> dict:
    spec = obj.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    external = _address(obj.get("status"))
    if kind == "ExternalName":
        external = spec.get("externalName") or ""
    return {
        "type": kind,
        "cluster_ip": spec.get("clusterIP") or "",
        "external_address": external,
        "ports": [
            {
                "name": port.get("name") or "",
                "protocol": port.get("protocol") or "TCP",
                "port": port.get("port"),
                "target_port": port.get("targetPort", port.get("port")),
                "node_port": port.get("nodePort"),
            }
            for port in spec.get("ports") or []
        ],
        "selector": spec.get("selector") or {},
        "session_affinity": spec.get("sessionAffinity") or "None",
    }


def slice_summary(obj: dict) -> dict:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    endpoints = []
    for endpoint in obj.get("endpoints") or []:
        conditions = endpoint.get("conditions") or {}
        ready = conditions.get("ready")
        for ip in endpoint.get("addresses") or []:
            endpoints.append(
                {
                    "ip": ip,
                    "ready": ready is not False,  # unknown (nil) counts as ready
                    "serving": conditions.get("serving", ready) is not False,
                    "terminating": bool(conditions.get("terminating")),
                    "node": endpoint.get("nodeName") or "",
                    "pod": (endpoint.get("targetRef") or {}).get("name", "")
                    if (endpoint.get("targetRef") or {}).get("kind") == "Pod"
                    else "",
                }
            )
    return {
        "service_name": labels.get(SERVICE_NAME, ""),
        "address_type": obj.get("addressType") or "",
        "ports": [
            {
                "name": p.get("name") or "",
                "port": p.get("port"),
                "protocol": p.get("protocol") or "TCP",
            }
            for p in obj.get("ports") or []
        ],
        "endpoints": endpoints,
    }


def _backend(backend: dict) -> dict:
    service = (backend or {}).get("service") or {}
    if not service:
        return {}
    port = service.get("port") or {}
    return {"service": service.get("name", ""), "port": port.get("number", port.get("name", ""))}


def ingress_summary(obj: dict) -> dict:
    spec = obj.get("spec") or {}
    rules, hosts = [], []
    for rule in spec.get("rules") or []:
        host = rule.get("host") or ""
        if host and host not in hosts:
            hosts.append(host)
        for path in (rule.get("http") or {}).get("paths") or []:
            rules.append(
                {
                    "host": host,
                    "path": path.get("path") or "/",
                    "path_type": path.get("pathType") or "ImplementationSpecific",
                    **_backend(path.get("backend")),
                }
            )
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return {
        "ingress_class": spec.get("ingressClassName")
        or annotations.get("kubernetes.io/ingress.class", ""),
        "address": _address(obj.get("status")),
        "hosts": hosts,
        "rules": rules,
        "default_backend": _backend(spec.get("defaultBackend")),
        "tls": [
            {"hosts": list(t.get("hosts") or []), "secret": t.get("secretName") or ""}
            for t in spec.get("tls") or []
        ],
    }


SERVICES = register(Mirror(Service, "v1", "Service", summary=service_summary, order=350))
ENDPOINT_SLICES = register(
    Mirror(EndpointSlice, "discovery.k8s.io/v1", "EndpointSlice", summary=slice_summary, order=360)
)
INGRESSES = register(
    Mirror(Ingress, "networking.k8s.io/v1", "Ingress", summary=ingress_summary, order=370)
)
