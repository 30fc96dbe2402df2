""" "Does it answer?": a route resolved as the cluster would, from the objects alone.

For a Service: which pods a request would reach (the ready endpoints of its
EndpointSlices), or why none: the selector matches no pod, the pods are not ready, the
target port is not one the containers expose. For an Ingress: which rule a request to
host + path takes (the longest matching path, Exact before Prefix), then that Service.
Nothing is probed over the network: the same answer holds against a real cluster.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from apps.workloads.models import Pod

from .models import EndpointSlice, Ingress, Service


@dataclass
class Answer:
    ok: bool = False
    route: str = ""
    pods: list[dict] = field(default_factory=list)  # pod, ip, node, port
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    port: str = ""  # the Service port answered for ("http 80/TCP"), "" when none applies


def _container_ports(pod: Pod) -> list[dict]:
    spec = (pod.manifest or {}).get("spec") or {}
    return [p for c in spec.get("containers") or [] for p in c.get("ports") or []]


def resolve(pod: Pod, port: dict) -> int | bool | None:
    """The pod's port for a Service port: a number, None (a name it does not have), or
    False (a number its containers do not list, when they list some)."""
    target = port.get("target_port", port.get("port"))
    declared = _container_ports(pod)
    protocol = port.get("protocol") or "TCP"
    if isinstance(target, str) and not target.isdigit():
        for cport in declared:
            if cport.get("name") == target and (cport.get("protocol") or "TCP") == protocol:
                return cport.get("containerPort")
        return None
    number = int(target)
    if declared and number not in {c.get("containerPort") for c in declared}:
        return False
    return number


def selector_text(selector: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def port_label(port: dict) -> str:
    """A Service port as a user names it: "http 80/TCP"."""
    number = f"{port.get('port')}/{port.get('protocol') or 'TCP'}"
    return f"{port['name']} {number}" if port.get("name") else number


def _facts(service: Service) -> tuple[list[dict], list[Pod]]:
    """The Service's endpoints and the pods its selector matches (two queries)."""
    slices = EndpointSlice.objects.filter(
        cluster_id=service.cluster_id,
        namespace_name=service.namespace_name,
        service_name=service.name,
    ).only("endpoints", "ports")
    endpoints = [e for s in slices for e in s.endpoints]
    if not service.selector:
        return endpoints, []
    pods = list(
        Pod.objects.filter(
            cluster_id=service.cluster_id,
            namespace_name=service.namespace_name,
            **{f"labels__{key}": value for key, value in service.selector.items()},
        ).only("name", "labels", "manifest", "ready", "pod_ip", "node_name", "status")
    )
    return endpoints, pods


def service_port_answers(service: Service) -> list[Answer]:
    """One answer per port of the Service (every port is checked, not only the first);
    a single answer for an ExternalName Service or one without ports."""
    if service.type == Service.Type.EXTERNAL_NAME or not service.ports:
        return [service_answers(service)]
    facts = _facts(service)
    return [service_answers(service, p, facts=facts) for p in service.ports]


def overall(answers: list[Answer], service: Service) -> Answer:
    """The Service answers when every port does: the API's summary of the per-port check."""
    if len(answers) == 1:
        return answers[0]
    summary = Answer(ok=all(a.ok for a in answers), route=service.name)
    seen = set()
    for answer in answers:
        for pod in answer.pods:
            if pod["pod"] not in seen:
                seen.add(pod["pod"])
                summary.pods.append({**pod, "port": ""})
        summary.reasons += [f"{answer.port}: {reason}" for reason in answer.reasons]
    return summary


def service_answers(service: Service, port=None, facts=None) -> Answer:
    """Whether a request to the Service (on ``port``: a number, a name or one of its port
    dicts; its first if None) reaches a pod, and which. ``facts``: its endpoints and pods,
    when already loaded."""
    answer = Answer(route=service.name)
    if service.type == Service.Type.EXTERNAL_NAME:
        answer.ok = True
        answer.notes.append(
            _("It is a DNS alias: requests go to %(name)s, outside the cluster's pods.")
            % {"name": service.external_address}
        )
        return answer
    ports = service.ports
    chosen = ports[0] if ports else None
    if isinstance(port, dict):  # one of its ports, as given (two may share a number)
        chosen = port
    elif port not in (None, ""):
        chosen = next(
            (p for p in ports if str(p.get("port")) == str(port) or p.get("name") == port), None
        )
        if chosen is None:
            answer.reasons.append(_("The Service has no port %(port)s.") % {"port": port})
            return answer
    if chosen:
        answer.route = f"{service.name}:{chosen.get('port')}"
        answer.port = port_label(chosen)
    endpoints, pods = facts if facts is not None else _facts(service)
    ready = [e for e in endpoints if e["ready"] and not e["terminating"]]
    if not service.selector:
        if ready:
            answer.ok = True
            answer.pods = [{**e, "port": ""} for e in ready]
            answer.notes.append(_("It has no selector: its endpoints are written by hand."))
        else:
            answer.reasons.append(
                _("It has no selector and no ready endpoints: nothing is behind it.")
            )
        return answer
    if not pods:
        answer.reasons.append(
            _("The selector %(selector)s matches no pod in the namespace.")
            % {"selector": selector_text(service.selector)}
        )
        return answer
    leaving = [pod for pod in pods if pod.status == "Terminating"]
    if len(leaving) == len(pods):
        answer.reasons.append(
            _("Every pod the selector %(selector)s matches is shutting down.")
            % {"selector": selector_text(service.selector)}
        )
        return answer
    pods = [pod for pod in pods if pod.status != "Terminating"]
    if chosen:
        exposed = {pod.name: resolve(pod, chosen) for pod in pods}
        missing = [name for name, number in exposed.items() if number in (None, False)]
        if len(missing) == len(pods):
            target = chosen.get("target_port", chosen.get("port"))
            answer.reasons.append(
                _(
                    "The target port %(port)s is not exposed by the containers of the pods it "
                    "selects (%(pods)s)."
                )
                % {"port": target, "pods": ", ".join(sorted(missing)[:5])}
            )
            return answer
    else:
        exposed = {}
    ready_pods = {e["pod"]: e for e in ready}
    reached = [
        pod for pod in pods if pod.name in ready_pods and exposed.get(pod.name) not in (None, False)
    ]
    if not reached and not chosen:
        reached = [pod for pod in pods if pod.name in ready_pods]
    if not reached:
        not_ready = [pod.name for pod in pods if not pod.ready]
        if not_ready:
            answer.reasons.append(
                _("%(n)s pods match the selector but none is ready (%(pods)s).")
                % {"n": len(pods), "pods": ", ".join(sorted(not_ready)[:5])}
            )
        else:
            answer.reasons.append(
                _("The pods are ready but not yet listed as endpoints; check again in a moment.")
            )
        return answer
    answer.ok = True
    answer.pods = [
        {
            "pod": pod.name,
            "ip": ready_pods[pod.name]["ip"],
            "node": ready_pods[pod.name]["node"],
            "port": exposed.get(pod.name) or "",
        }
        for pod in sorted(reached, key=lambda p: p.name)
    ]
    others = len(pods) - len(reached)
    if others:
        answer.notes.append(
            _("%(n)s other pods match but are not ready or do not expose the port.") % {"n": others}
        )
    return answer


def _host_matches(rule_host: str, host: str) -> bool:
    if not rule_host:
        return True
    if rule_host.startswith("*."):
        suffix = rule_host[1:]
        return host.endswith(suffix) and host.count(".") == rule_host.count(".")
    return rule_host == host


def _path_matches(rule: dict, path: str) -> bool:
    wanted = rule.get("path") or "/"
    if rule.get("path_type") == "Exact":
        return path == wanted
    if wanted == "/":
        return True
    parts, given = wanted.rstrip("/").split("/"), path.split("/")
    return given[: len(parts)] == parts


def match_rule(ingress: Ingress, host: str, path: str) -> dict | None:
    """The rule (or the default backend) a request to host + path takes."""
    host = (host or "").lower().split(":")[0]
    path = path or "/"
    candidates = [
        rule
        for rule in ingress.rules
        if _host_matches(rule.get("host") or "", host) and _path_matches(rule, path)
    ]
    if candidates:
        # A host named exactly before a wildcard or none; then the longest path; Exact first.
        return max(
            candidates,
            key=lambda r: (
                bool(r.get("host")) and not r["host"].startswith("*"),
                bool(r.get("host")),
                len(r.get("path") or "/"),
                r.get("path_type") == "Exact",
            ),
        )
    if ingress.default_backend:
        return {"host": "", "path": "", "path_type": "", **ingress.default_backend}
    return None


def ingress_answers(ingress: Ingress, host: str = "", path: str = "/") -> Answer:
    rule = match_rule(ingress, host, path)
    shown = f"{host or '*'}{path or '/'}"
    if rule is None:
        return Answer(
            route=shown,
            reasons=[
                _(
                    "No rule matches %(route)s and there is no default backend: the ingress "
                    "controller answers 404."
                )
                % {"route": shown}
            ],
        )
    target = f"{rule.get('service')}:{rule.get('port')}"
    service = Service.objects.filter(
        cluster_id=ingress.cluster_id,
        namespace_name=ingress.namespace_name,
        name=rule.get("service"),
    ).first()
    route = f"{shown} → {target}"
    if service is None:
        return Answer(
            route=route,
            reasons=[_("The Service %(name)s does not exist.") % {"name": rule.get("service")}],
        )
    answer = service_answers(service, rule.get("port"))
    answer.route = route
    if not ingress.address:
        answer.notes.append(_("The ingress controller has not given it an address yet."))
    return answer


def backends(ingress: Ingress) -> list[dict]:
    """Each backend the Ingress names, with whether its Service, port and endpoints exist."""
    named = [*ingress.rules]
    if ingress.default_backend:
        named.insert(0, {"host": "", "path": "", "default": True, **ingress.default_backend})
    wanted = {r.get("service") for r in named}
    services = {
        s.name: s
        for s in Service.objects.filter(
            cluster_id=ingress.cluster_id, namespace_name=ingress.namespace_name, name__in=wanted
        )
    }
    ready = {}
    for s in EndpointSlice.objects.filter(
        cluster_id=ingress.cluster_id,
        namespace_name=ingress.namespace_name,
        service_name__in=wanted,
    ).only("service_name", "endpoints"):
        ready[s.service_name] = ready.get(s.service_name, 0) + sum(
            1 for e in s.endpoints if e["ready"] and not e["terminating"]
        )
    rows = []
    for rule in named:
        service = services.get(rule.get("service"))
        port = rule.get("port")
        has_port = service is not None and any(
            str(p.get("port")) == str(port) or p.get("name") == port for p in service.ports
        )
        rows.append(
            {
                **rule,
                "service_row": service,
                "exists": service is not None,
                "has_port": has_port,
                "ready": ready.get(rule.get("service"), 0),
            }
        )
    return rows
