"""The cloud load balancer's settings: annotations on a LoadBalancer Service under one prefix.

``lb.kcs.io/`` is the interface the cloud provider's service controller reads (kubesim's,
in ``kubesim/runtime/controllers/loadbalancers.py``, honours and validates exactly these). The
portal checks them before applying, so a form never sends a value the controller would
refuse; a value written some other way (kubectl, YAML) is refused by the controller with a
Warning event on the Service, which the Service page shows. The controller reports each
backend's health in ``lb.kcs.io/backend-health`` (read-only), with its weight under weighted
round robin.

Weights (``lb.kcs.io/backend-weights``, weighted round robin only) are comma-separated
``MATCH:WEIGHT`` entries: MATCH is a pod label ``key=value`` or a pod's name, WEIGHT a whole
number from 0 (no new connections) to 100; the first entry that matches a backend wins and
a backend no entry matches weighs 1. E.g. ``track=stable:9, track=canary:1``.
"""

import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PREFIX = "lb.kcs.io/"
HEALTH = PREFIX + "backend-health"

CHOICES = {
    "listener-protocol": [
        ("TCP", gettext_lazy("TCP (layer 4)")),
        ("UDP", gettext_lazy("UDP (layer 4)")),
        ("HTTP", gettext_lazy("HTTP (layer 7)")),
        ("HTTPS", gettext_lazy("HTTPS (layer 7, with a certificate)")),
    ],
    "algorithm": [
        ("round-robin", gettext_lazy("Round robin")),
        ("weighted-round-robin", gettext_lazy("Weighted round robin")),
        ("least-connections", gettext_lazy("Least connections")),
        ("source-ip", gettext_lazy("Source IP hash")),
    ],
    "session-persistence": [
        ("none", gettext_lazy("None")),
        ("source-ip", gettext_lazy("By source IP")),
        ("cookie", gettext_lazy("By cookie (HTTP/HTTPS)")),
    ],
    "health-check-protocol": [
        ("TCP", gettext_lazy("TCP")),
        ("HTTP", gettext_lazy("HTTP")),
        ("HTTPS", gettext_lazy("HTTPS")),
    ],
}
NUMBERS = {
    "session-timeout": (1, 86400),
    "health-check-interval": (1, 300),
    "health-check-timeout": (1, 60),
    "healthy-threshold": (1, 10),
    "unhealthy-threshold": (1, 10),
}
TEXT = ("health-check-path", "certificate-secret", "backend-weights")
MAX_WEIGHT = 100
KEYS = (*CHOICES, *NUMBERS, *TEXT)
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


def weights_problem(text: str) -> str:
    """Why ``lb.kcs.io/backend-weights`` is not MATCH:WEIGHT entries, or ""."""
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        match, sep, weight = part.rpartition(":")
        if not sep or not match.strip():
            return _(
                "%(part)s is not MATCH:WEIGHT: a pod label key=value or a pod name, a colon, "
                "a weight."
            ) % {"part": part}
        if not weight.strip().isdigit() or int(weight) > MAX_WEIGHT:
            return _("%(part)s: the weight must be a whole number from 0 to %(max)s.") % {
                "part": part,
                "max": MAX_WEIGHT,
            }
    return ""


def field_name(key: str) -> str:
    """The form field of a setting: "health-check-path" -> "lb_health_check_path"."""
    return "lb_" + key.replace("-", "_")


def settings_of(annotations: dict) -> dict:
    """The settings written on a Service (key without the prefix -> value)."""
    return {
        key[len(PREFIX) :]: value
        for key, value in (annotations or {}).items()
        if key.startswith(PREFIX) and key != HEALTH
    }


def effective(annotations: dict) -> dict:
    """The settings in force: the written ones over the defaults."""
    return {**DEFAULTS, **settings_of(annotations)}


def check(settings: dict, secret_types: dict) -> dict:
    """The settings cleaned (key -> text); a ValidationError by form field otherwise.

    ``secret_types`` are the namespace's Secrets (name -> type), for the certificate.
    """
    errors, clean = {}, {}
    for key, value in settings.items():
        value = "" if value is None else str(value).strip()
        if value == "":
            continue
        if key in CHOICES:
            allowed = [choice for choice, _label in CHOICES[key]]
            if value not in allowed:
                errors[field_name(key)] = _("Choose one of: %(values)s.") % {
                    "values": ", ".join(allowed)
                }
        elif key in NUMBERS:
            low, high = NUMBERS[key]
            if not value.isdigit() or not low <= int(value) <= high:
                errors[field_name(key)] = _("Give a whole number from %(low)s to %(high)s.") % {
                    "low": low,
                    "high": high,
                }
        elif key == "health-check-path":
            if not value.startswith("/") or " " in value:
                errors[field_name(key)] = _("Give an absolute path, e.g. /healthz.")
        elif key == "backend-weights":
            problem = weights_problem(value)
            if problem:
                errors[field_name(key)] = problem
        elif key == "certificate-secret":
            if "/" in value:
                errors[field_name(key)] = _(
                    "The certificate must be a Secret of this namespace: a Secret of another "
                    "namespace cannot be referenced."
                )
        else:
            errors["load_balancer"] = _("%(key)s is not a load balancer setting.") % {
                "key": PREFIX + key
            }
        clean[key] = value
    merged = {**DEFAULTS, **clean}
    if int(merged["health-check-timeout"] or 0) > int(merged["health-check-interval"] or 0):
        errors.setdefault(
            field_name("health-check-timeout"),
            _("The timeout must not be longer than the interval."),
        )
    if clean.get("backend-weights") and merged["algorithm"] != "weighted-round-robin":
        errors.setdefault(
            field_name("backend-weights"),
            _(
                "Weights are only used by the weighted round robin algorithm: choose it, or "
                "leave the weights empty."
            ),
        )
    layer7 = merged["listener-protocol"] in ("HTTP", "HTTPS")
    if merged["session-persistence"] == "cookie" and not layer7:
        errors.setdefault(
            field_name("session-persistence"),
            _("Cookie persistence needs an HTTP or HTTPS listener."),
        )
    if merged["listener-protocol"] == "HTTPS" and field_name("certificate-secret") not in errors:
        secret = merged["certificate-secret"]
        if not secret:
            errors[field_name("certificate-secret")] = _(
                "An HTTPS listener needs a certificate: choose a TLS Secret."
            )
        elif secret_types.get(secret) != "kubernetes.io/tls":
            errors[field_name("certificate-secret")] = _(
                "There is no TLS Secret named %(name)s in this namespace."
            ) % {"name": secret}
    if merged["listener-protocol"] != "HTTPS" and clean.get("certificate-secret"):
        errors.setdefault(
            field_name("certificate-secret"), _("A certificate is only used by an HTTPS listener.")
        )
    if errors:
        raise ValidationError(errors)
    return clean


def backend_health(annotations: dict) -> list[dict]:
    """What the cloud controller reported of each backend (pod, ip, node, healthy, reason;
    weight under weighted round robin)."""
    try:
        reported = json.loads((annotations or {}).get(HEALTH) or "[]")
    except ValueError:
        return []
    return [b for b in reported if isinstance(b, dict)] if isinstance(reported, list) else []
