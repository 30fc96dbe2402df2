"""The cloud's load balancer settings: annotations under `lb.kcs.io/`, as a cloud
provider's service controller reads them.

For every LoadBalancer Service (without a `loadBalancerClass`) this controller:

- validates the settings; each bad value becomes a Warning event `InvalidLoadBalancerSettings`
  on the Service naming the annotation and what it accepts (the value is then ignored and
  the default used, as cloud controllers do);
- reports each backend's health in the annotation `lb.kcs.io/backend-health` (JSON: pod,
  ip, node, healthy, reason): a backend is a pod the Service selects that has an IP and
  exposes the target port; it turns healthy once it has been Ready for
  `health-check-interval` x `healthy-threshold` simulated seconds, and unhealthy as soon
  as it stops being Ready (a probe that sees a closed port fails at once).

The address itself is assigned by the service controller in `services.py`.

Settings (all optional; defaults in brackets):

    lb.kcs.io/listener-protocol        TCP | UDP | HTTP | HTTPS           [TCP]
    lb.kcs.io/certificate-secret       a kubernetes.io/tls Secret of the namespace (HTTPS)
    lb.kcs.io/algorithm                round-robin | weighted-round-robin |
                                       least-connections | source-ip      [round-robin]
    lb.kcs.io/session-persistence      none | source-ip | cookie (HTTP/HTTPS)  [none]
    lb.kcs.io/session-timeout          seconds, 1-86400                   [3600]
    lb.kcs.io/health-check-protocol    TCP | HTTP | HTTPS                 [TCP]
    lb.kcs.io/health-check-path        an absolute path, HTTP(S) checks   [/]
    lb.kcs.io/health-check-interval    seconds, 1-300                     [5]
    lb.kcs.io/health-check-timeout     seconds, 1-60, not over the interval   [2]
    lb.kcs.io/healthy-threshold        checks, 1-10                       [2]
    lb.kcs.io/unhealthy-threshold      checks, 1-10                       [2]
    lb.kcs.io/backend-weights          weighted-round-robin only: comma-separated
                                       MATCH:WEIGHT, MATCH a pod label key=value or a
                                       pod name, WEIGHT 0-100 (0: no new connections);
                                       the first match wins, other backends weigh 1

With weighted-round-robin each backend in `backend-health` carries its `weight`.
"""

from __future__ import annotations

import json

from kubesim.runtime.controllers.base import Controller, condition
from kubesim.runtime.controllers.common import ignore_gone, is_ready, seconds_since
from kubesim.runtime.controllers.services import _selector, resolve_port

PREFIX = "lb.kcs.io/"
HEALTH = PREFIX + "backend-health"
MANAGER = "cloud-controller-manager"

CHOICES = {
    "listener-protocol": ("TCP", "UDP", "HTTP", "HTTPS"),
    "algorithm": ("round-robin", "weighted-round-robin", "least-connections", "source-ip"),
    "session-persistence": ("none", "source-ip", "cookie"),
    "health-check-protocol": ("TCP", "HTTP", "HTTPS"),
}
NUMBERS = {
    "session-timeout": (1, 86400),
    "health-check-interval": (1, 300),
    "health-check-timeout": (1, 60),
    "healthy-threshold": (1, 10),
    "unhealthy-threshold": (1, 10),
}
DEFAULTS = {
    "listener-protocol": "TCP",
    "algorithm": "round-robin",
    "session-persistence": "none",
    "session-timeout": 3600,
    "health-check-protocol": "TCP",
    "health-check-path": "/",
    "health-check-interval": 5,
    "health-check-timeout": 2,
    "healthy-threshold": 2,
    "unhealthy-threshold": 2,
    "certificate-secret": "",
    "backend-weights": "",
}
KNOWN = {*DEFAULTS, "backend-health"}
MAX_WEIGHT = 100


def parse_weights(text: str) -> tuple[list[tuple[str, str, int]], str]:
    """(entries (label key or "", label value or pod name, weight), the problem or "")."""
    entries = []
    for part in str(text or "").split(","):
        part = part.strip()
        if not part:
            continue
        match, sep, weight = part.rpartition(":")
        match = match.strip()
        if not sep or not match:
            return [], f'"{part}" is not MATCH:WEIGHT (a label key=value or a pod name)'
        if not weight.strip().isdigit() or int(weight) > MAX_WEIGHT:
            return [], f'"{part}": the weight must be a whole number from 0 to {MAX_WEIGHT}'
        key, eq, value = match.partition("=")
        label = (key.strip(), value.strip()) if eq else ("", match)
        entries.append((*label, int(weight)))
    return entries, ""


def weight_of(pod: dict, entries: list[tuple[str, str, int]]) -> int:
    labels = pod["metadata"].get("labels") or {}
    for key, value, weight in entries:
        if (key and labels.get(key) == value) or (not key and pod["metadata"]["name"] == value):
            return weight
    return 1


def parse(annotations: dict, secrets: dict[str, str]) -> tuple[dict, list[str]]:
    """(the settings in force, a message per bad value). ``secrets``: name -> type."""
    given = {k[len(PREFIX) :]: v for k, v in (annotations or {}).items() if k.startswith(PREFIX)}
    settings, problems = dict(DEFAULTS), []

    def bad(key: str, text: str) -> None:
        problems.append(f"{PREFIX}{key}: {text}")

    for key, value in given.items():
        if key not in KNOWN:
            bad(key, "unknown setting")
        elif key in CHOICES:
            if value in CHOICES[key]:
                settings[key] = value
            else:
                bad(key, f'"{value}" is not one of {", ".join(CHOICES[key])}')
        elif key in NUMBERS:
            low, high = NUMBERS[key]
            if str(value).isdigit() and low <= int(value) <= high:
                settings[key] = int(value)
            else:
                bad(key, f'"{value}" is not a whole number from {low} to {high}')
        elif key == "health-check-path":
            if str(value).startswith("/") and " " not in str(value):
                settings[key] = value
            else:
                bad(key, f'"{value}" is not an absolute path')
        elif key == "certificate-secret":
            settings[key] = value
        elif key == "backend-weights":
            problem = parse_weights(value)[1]
            if problem:
                bad(key, problem)
            else:
                settings[key] = value
    settings["weights"] = parse_weights(settings["backend-weights"])[0]
    if settings["weights"] and settings["algorithm"] != "weighted-round-robin":
        bad("backend-weights", "weights are only used by the weighted-round-robin algorithm")
        settings["weights"] = []
    if settings["health-check-timeout"] > settings["health-check-interval"]:
        bad("health-check-timeout", "must not be longer than the health-check interval")
        settings["health-check-timeout"] = settings["health-check-interval"]
    layer7 = settings["listener-protocol"] in ("HTTP", "HTTPS")
    if settings["session-persistence"] == "cookie" and not layer7:
        bad("session-persistence", "cookie needs an HTTP or HTTPS listener")
        settings["session-persistence"] = "none"
    if settings["listener-protocol"] == "HTTPS":
        secret = settings["certificate-secret"]
        if not secret:
            bad("certificate-secret", "an HTTPS listener needs a TLS Secret")
        elif secret not in secrets:
            bad("certificate-secret", f'Secret "{secret}" not found in the namespace')
        elif secrets[secret] != "kubernetes.io/tls":
            bad("certificate-secret", f'Secret "{secret}" is not of type kubernetes.io/tls')
    return settings, problems


class LoadBalancerSettingsController(Controller):
    name = "lb-settings"
    component = "service-controller"
    watches = ("Service", "Pod", "Secret")

    def __init__(self) -> None:
        self.reported: dict[str, tuple] = {}  # service uid -> problems last reported

    def reconcile(self, ctx) -> None:
        soonest = None
        for svc in ctx.cluster.list("v1", "Service"):
            spec = svc.get("spec") or {}
            if spec.get("type") != "LoadBalancer" or spec.get("loadBalancerClass"):
                continue
            if svc["metadata"].get("deletionTimestamp"):
                continue
            wait = self.sync(ctx, svc)
            if wait is not None:
                soonest = wait if soonest is None else min(soonest, wait)
        if soonest is not None:
            ctx.requeue_after(soonest)

    def sync(self, ctx, svc: dict) -> float | None:
        meta = svc["metadata"]
        ns = meta["namespace"]
        secrets = {
            s["metadata"]["name"]: s.get("type", "Opaque")
            for s in ctx.cluster.list("v1", "Secret", ns)
        }
        settings, problems = parse(meta.get("annotations") or {}, secrets)
        if problems and self.reported.get(meta["uid"]) != tuple(problems):
            for message in problems:
                ctx.events.record(svc, "Warning", "InvalidLoadBalancerSettings", message)
        self.reported[meta["uid"]] = tuple(problems)
        backends, wait = self.health(ctx, svc, settings)
        text = json.dumps(backends, sort_keys=True, separators=(",", ":"))
        if (meta.get("annotations") or {}).get(HEALTH) != text:
            updated = {
                **svc,
                "metadata": {
                    **meta,
                    "annotations": {**(meta.get("annotations") or {}), HEALTH: text},
                },
            }
            ignore_gone(ctx.cluster.update, updated, MANAGER)
        return wait

    def health(self, ctx, svc: dict, settings: dict) -> tuple[list[dict], float | None]:
        selector = _selector(svc)
        if selector is None:
            return [], None
        ports = (svc.get("spec") or {}).get("ports") or []
        needed = settings["health-check-interval"] * settings["healthy-threshold"]
        now = ctx.clock.now()
        backends, wait = [], None
        for pod in ctx.cluster.list("v1", "Pod", svc["metadata"]["namespace"]):
            if not selector.matches(pod["metadata"].get("labels")):
                continue
            status = pod.get("status") or {}
            if not status.get("podIP") or status.get("phase") in ("Succeeded", "Failed"):
                continue
            entry = {
                "pod": pod["metadata"]["name"],
                "ip": status["podIP"],
                "node": (pod.get("spec") or {}).get("nodeName", ""),
            }
            if ports and resolve_port(pod, ports[0]) is None:
                target = ports[0].get("targetPort", ports[0].get("port"))
                entry.update(healthy=False, reason=f"target port {target} is not exposed")
            elif pod["metadata"].get("deletionTimestamp"):
                entry.update(healthy=False, reason="terminating")
            elif not is_ready(pod):
                entry.update(healthy=False, reason="not ready")
            else:
                ready_for = seconds_since(
                    (condition(pod, "Ready") or {}).get("lastTransitionTime"), now
                )
                if ready_for is not None and ready_for < needed:
                    passed = int(ready_for // settings["health-check-interval"])
                    entry.update(
                        healthy=False,
                        reason=f"health check {passed}/{settings['healthy-threshold']} passed",
                    )
                    left = needed - ready_for
                    wait = left if wait is None else min(wait, left)
                else:
                    protocol = settings["health-check-protocol"]
                    check = protocol
                    if protocol != "TCP":
                        check = f"{protocol} {settings['health-check-path']}"
                    entry.update(healthy=True, reason=f"{check} check passing")
            if settings["algorithm"] == "weighted-round-robin":
                entry["weight"] = weight_of(pod, settings["weights"])
            backends.append(entry)
        backends.sort(key=lambda b: b["pod"])
        return backends, wait


CONTROLLERS = [LoadBalancerSettingsController]
