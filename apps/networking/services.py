"""Services and Ingresses: create and update by form or YAML, delete, and what tenants
may not set.

Both kinds are declared once on the shared write path (``apps.kube.services``); what is
here is what is special about them: building the manifest from a form's fields, the load
balancer settings (``lb.py``), the host/path conflicts of Ingresses, and the guard that
refuses, for tenants, what would let them take addresses or certificates that are not
theirs: ``externalIPs`` and ``loadBalancerIP`` (address hijacking), and Secrets of another
namespace.
"""

import copy
import hashlib
import json
import re

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _

from apps.configs.models import Secret
from apps.configs.services import check_name
from apps.core import authz
from apps.core.audit import audited
from apps.kube import objects
from apps.kube.errors import KubeError
from apps.kube.services import YAML, ObjectService

from . import lb
from .models import Ingress, Service
from .sync import INGRESSES, SERVICES

T = Service.Type
PROTOCOLS = ("TCP", "UDP", "SCTP")
PATH_TYPES = ("Prefix", "Exact", "ImplementationSpecific")
PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
HOST = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_KEY = re.compile(r"^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
MAX_AFFINITY = 86400
# Ingress annotations (ingress-nginx) that name a Secret as namespace/name.
SECRET_ANNOTATION = re.compile(r"^nginx\.ingress\.kubernetes\.io/.*secret$")


# --- what tenants may not set ------------------------------------------------------------


def _current_spec(target) -> dict:
    return ((getattr(target, "manifest", None) or {}).get("spec") or {}) if target else {}


def _guard_service(actor, obj: dict, target) -> None:
    """Tenants may not claim addresses (externalIPs, loadBalancerIP) nor foreign Secrets.

    A value already on the Service (set by a cloud admin) may be kept in an edit.
    """
    if authz.is_cloud_admin(actor):
        return
    spec, current = obj.get("spec") or {}, _current_spec(target)
    errors = {}
    if spec.get("externalIPs") and spec.get("externalIPs") != current.get("externalIPs"):
        errors["external_ips"] = _(
            "Only cloud administrators may set externalIPs: an address on the cluster's nodes "
            "could take traffic meant for someone else (address hijacking)."
        )
    if spec.get("loadBalancerIP") and spec.get("loadBalancerIP") != current.get("loadBalancerIP"):
        errors["load_balancer_ip"] = _(
            "Only cloud administrators may choose the load balancer's IP: it could take an "
            "address in use by someone else (address hijacking); the cloud assigns one."
        )
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if "/" in (annotations.get(lb.PREFIX + "certificate-secret") or ""):
        errors[lb.field_name("certificate-secret")] = _(
            "The certificate must be a Secret of this namespace: a Secret of another "
            "namespace cannot be referenced."
        )
    if errors:
        raise ValidationError(errors)


def _guard_ingress(actor, obj: dict, target) -> None:
    """No Ingress references a Secret of another namespace (TLS or ingress-nginx's auth)."""
    if authz.is_cloud_admin(actor):
        return
    namespace = (obj.get("metadata") or {}).get("namespace") or getattr(target, "name", "")
    namespace = getattr(target, "namespace_name", "") or namespace
    problems = []
    for entry in (obj.get("spec") or {}).get("tls") or []:
        if "/" in (entry.get("secretName") or ""):
            problems.append(entry["secretName"])
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    for key, value in annotations.items():
        if (
            SECRET_ANNOTATION.match(key)
            and "/" in str(value)
            and str(value).split("/", 1)[0] != namespace
        ):
            problems.append(f"{key}={value}")
    if problems:
        raise ValidationError(
            {
                "tls": _(
                    "A Secret of another namespace cannot be referenced (%(refs)s): use a "
                    "Secret of this namespace."
                )
                % {"refs": ", ".join(problems)}
            }
        )


def _service_detail(row) -> dict:
    return {"type": row.type, "ports": [p.get("port") for p in row.ports]}


def _ingress_detail(row) -> dict:
    return {"hosts": row.hosts, "class": row.ingress_class}


services = ObjectService(SERVICES, noun="service", detail=_service_detail, guard=_guard_service)
ingresses = ObjectService(INGRESSES, noun="ingress", detail=_ingress_detail, guard=_guard_ingress)


def _refuse(errors: dict):
    raise ValidationError(errors)


def _secret_types(cluster_id, namespace: str) -> dict:
    return dict(
        Secret.objects.filter(cluster_id=cluster_id, namespace_name=namespace).values_list(
            "name", "type"
        )
    )


# --- Services: the form's fields -> the manifest ----------------------------------------


def _target_port(value):
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def check_labels(labels: dict, field: str) -> list[str]:
    problems = []
    for key, value in (labels or {}).items():
        if not LABEL_KEY.match(key or "") or len(key) > 316:
            problems.append(_("%(key)s is not a valid label key.") % {"key": key or '""'})
        elif not LABEL_VALUE.match(str(value)) or len(str(value)) > 63:
            problems.append(
                _("%(value)s is not a valid label value (for %(key)s).")
                % {"value": value, "key": key}
            )
    return problems


def check_service(name, spec: dict, *, creating=True) -> dict:
    """The Service's form fields checked and normalized; field errors otherwise."""
    errors: dict[str, list] = {}
    kind = spec.get("type") or T.CLUSTER_IP
    if name is not None:
        if not name:
            errors["name"] = [_("Give a name.")]
        elif len(name) > 63 or not DNS_LABEL.match(name):
            errors["name"] = [
                _(
                    "Use lowercase letters, digits and '-', starting with a letter and ending "
                    "with a letter or digit (at most 63 characters)."
                )
            ]
    if kind not in T.values:
        errors["type"] = [_("Choose one of the types offered.")]
    selector = dict(spec.get("selector") or {})
    if problems := check_labels(selector, "selector"):
        errors["selector"] = problems
    ports, seen_names, seen = [], set(), set()
    for index, port in enumerate(spec.get("ports") or [], start=1):
        problems = []
        number = port.get("port")
        name_ = (port.get("name") or "").strip()
        protocol = port.get("protocol") or "TCP"
        target = _target_port(port.get("target_port"))
        node_port = port.get("node_port") or None
        if not isinstance(number, int) or not 1 <= number <= 65535:
            problems.append(_("port %(n)s: give a port from 1 to 65535.") % {"n": index})
        if name_ and (len(name_) > 15 or not PORT_NAME.match(name_)):
            problems.append(
                _("port %(n)s: a port name is lowercase letters, digits and '-' (15 at most).")
                % {"n": index}
            )
        if protocol not in PROTOCOLS:
            problems.append(_("port %(n)s: the protocol is TCP, UDP or SCTP.") % {"n": index})
        if isinstance(target, int) and not 1 <= target <= 65535:
            problems.append(_("port %(n)s: the target port is from 1 to 65535.") % {"n": index})
        elif isinstance(target, str) and (len(target) > 15 or not PORT_NAME.match(target)):
            problems.append(
                _("port %(n)s: the target port is a number or a container port's name.")
                % {"n": index}
            )
        if node_port is not None:
            if kind not in (T.NODE_PORT, T.LOAD_BALANCER):
                problems.append(
                    _("port %(n)s: only NodePort and LoadBalancer Services have node ports.")
                    % {"n": index}
                )
            elif not isinstance(node_port, int) or not 30000 <= node_port <= 32767:
                problems.append(_("port %(n)s: a node port is from 30000 to 32767.") % {"n": index})
        if (number, protocol) in seen:
            problems.append(_("port %(n)s: the same port is given twice.") % {"n": index})
        if name_ and name_ in seen_names:
            problems.append(
                _("port %(n)s: the name %(name)s is used twice.") % {"n": index, "name": name_}
            )
        seen.add((number, protocol))
        seen_names.add(name_)
        errors.setdefault("ports", []).extend(problems)
        ports.append(
            {
                "name": name_,
                "protocol": protocol,
                "port": number,
                "target_port": target,
                "node_port": node_port,
            }
        )
    if len(ports) > 1 and any(not p["name"] for p in ports):
        errors.setdefault("ports", []).append(_("Name every port when there are several."))
    if kind == T.EXTERNAL_NAME:
        external = (spec.get("external_name") or "").strip().lower()
        if not external or not HOST.match(external) or external.startswith("*"):
            errors["external_name"] = [_("Give the DNS name it stands for, e.g. db.example.com.")]
    elif not ports and not spec.get("headless"):
        errors.setdefault("ports", []).append(_("Give at least one port."))
    affinity = spec.get("session_affinity") or "None"
    timeout = spec.get("affinity_timeout")
    if affinity not in ("None", "ClientIP"):
        errors["session_affinity"] = [_("Choose None or ClientIP.")]
    if affinity == "ClientIP" and timeout is not None and not 1 <= timeout <= MAX_AFFINITY:
        errors["affinity_timeout"] = [
            _("Give a timeout from 1 to %(n)s seconds.") % {"n": MAX_AFFINITY}
        ]
    policy = spec.get("external_traffic_policy") or ""
    if policy and policy not in ("Cluster", "Local"):
        errors["external_traffic_policy"] = [_("Choose Cluster or Local.")]
    if policy and kind not in (T.NODE_PORT, T.LOAD_BALANCER):
        errors["external_traffic_policy"] = [
            _("Only NodePort and LoadBalancer Services have an external traffic policy.")
        ]
    if spec.get("headless") and kind != T.CLUSTER_IP:
        errors["headless"] = [_("Only a ClusterIP Service can be headless.")]
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationError(errors)
    return {**spec, "type": kind, "selector": selector, "ports": ports}


def _manifest_port(port: dict) -> dict:
    entry = {"protocol": port["protocol"], "port": port["port"]}
    if port["name"]:
        entry = {"name": port["name"], **entry}
    if port["target_port"] is not None:
        entry["targetPort"] = port["target_port"]
    if port["node_port"]:
        entry["nodePort"] = port["node_port"]
    return entry


def service_manifest(namespace: str, name: str, spec: dict, base: dict | None = None) -> dict:
    """The Service's manifest from checked form fields; ``base`` is the live object of an
    edit (its cluster IP, and what the form does not show, are kept)."""
    body = copy.deepcopy(base) if base else {}
    body.update(apiVersion="v1", kind="Service")
    body.pop("status", None)
    metadata = body.setdefault("metadata", {})
    metadata.update(name=name, namespace=namespace)
    if spec.get("labels") is not None:
        metadata["labels"] = spec["labels"]
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items()}
    kind = spec["type"]
    if spec.get("load_balancer") is not None or kind != T.LOAD_BALANCER:
        annotations = {k: v for k, v in annotations.items() if not k.startswith(lb.PREFIX)}
        if kind == T.LOAD_BALANCER:
            annotations.update(
                {lb.PREFIX + k: str(v) for k, v in (spec.get("load_balancer") or {}).items()}
            )
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    old = body.get("spec") or {}
    new = {
        key: old[key]
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "externalIPs")
        if key in old and kind != T.EXTERNAL_NAME
    }
    if "loadBalancerIP" in old and kind == T.LOAD_BALANCER:
        new["loadBalancerIP"] = old["loadBalancerIP"]
    for key in ("externalIPs", "loadBalancerIP"):
        if spec.get(key):
            new[key] = spec[key]
    new["type"] = kind
    if kind == T.EXTERNAL_NAME:
        new["externalName"] = spec["external_name"].strip().lower()
    else:
        if spec["selector"]:
            new["selector"] = spec["selector"]
        if spec.get("headless") and not base:
            new["clusterIP"] = "None"
        affinity = spec.get("session_affinity") or "None"
        new["sessionAffinity"] = affinity
        if affinity == "ClientIP":
            new["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": spec.get("affinity_timeout") or 10800}
            }
        if kind in (T.NODE_PORT, T.LOAD_BALANCER):
            new["externalTrafficPolicy"] = spec.get("external_traffic_policy") or "Cluster"
    if spec["ports"]:
        new["ports"] = [_manifest_port(p) for p in spec["ports"]]
    body["spec"] = new
    return body


def _check_lb(namespace, spec: dict, cluster_id) -> dict:
    if spec["type"] != T.LOAD_BALANCER or spec.get("load_balancer") is None:
        return spec
    types = _secret_types(cluster_id, namespace)
    return {**spec, "load_balancer": lb.check(spec["load_balancer"], types)}


def checked_manifest(namespace, name: str, spec: dict) -> dict:
    """The Service's manifest from the form's fields, every field checked first (a
    ValidationError by field otherwise); nothing is asked of Kubernetes. An application
    created with its workloads builds its Services with this."""
    spec = check_service(name, spec)
    spec = _check_lb(namespace.name, spec, namespace.cluster_id)
    return service_manifest(namespace.name, name, spec)


@audited("service.create", Service)
def create_service(actor, *, namespace, name: str, spec: dict) -> Service:
    """A Service from the form's fields (type, selector, ports, affinity, LB settings...)."""
    services.authorize_create(actor, namespace)
    return services.create(actor, namespace, checked_manifest(namespace, name, spec))


def fingerprint(manifest: dict) -> str:
    """What a user edits of a Service or an Ingress, as a short digest: its spec, labels
    and annotations, without what the cloud's controller reports (``lb.kcs.io/backend-health``).

    The form carries it instead of the resourceVersion alone: the cloud's controller
    rewrites its report whenever a backend's health changes, and the ingress controller
    the status, which is no reason to refuse an edit.
    """
    metadata = manifest.get("metadata") or {}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != lb.HEALTH}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    content = [manifest.get("spec") or {}, metadata.get("labels") or {}, annotations]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return digest[:32]


def _changed_by_someone_else():
    _refuse(
        {
            NON_FIELD_ERRORS: _(
                "It was changed by someone else since you loaded it. Reload and apply your "
                "change again."
            )
        }
    )


@audited("service.update")
def update_service(
    actor, service: Service, *, spec: dict, resource_version: str = "", seen: str = ""
) -> Service:
    """Replace what the form shows; the cluster IP and what the form does not show stay.

    ``resource_version`` is the version the user edited (a newer one is a conflict);
    ``seen``, the ``fingerprint`` of what the user edited: a change since of anything but
    the cloud controller's report is a conflict.
    """
    services.authorize(actor, "change", service)
    spec = check_service(None, spec, creating=False)
    if bool(spec.get("headless")) != service.headless and spec["type"] == T.CLUSTER_IP:
        _refuse({"headless": _("A Service cannot become headless or stop being so: recreate it.")})
    spec = _check_lb(service.namespace_name, spec, service.cluster_id)
    base = service.manifest
    if seen:
        live = services.read(service)
        if live is None:
            _refuse({NON_FIELD_ERRORS: _("Kubernetes is unavailable; try again in a moment.")})
        if fingerprint(live) != seen:
            _changed_by_someone_else()
        base, resource_version = live, live["metadata"]["resourceVersion"]
    body = service_manifest(service.namespace_name, service.name, spec, base=base)
    body["metadata"]["resourceVersion"] = resource_version or service.resource_version
    return services.replace(actor, service, body)


@audited("service.update")
def set_load_balancer(actor, service: Service, settings: dict) -> Service:
    """Replace the load balancer settings only (``lb.kcs.io/`` annotations)."""
    services.authorize(actor, "change", service)
    if service.type != T.LOAD_BALANCER:
        _refuse({NON_FIELD_ERRORS: _("Only a LoadBalancer Service has load balancer settings.")})
    clean = lb.check(settings, _secret_types(service.cluster_id, service.namespace_name))
    annotations = {key: None for key in lb.settings_of(service.annotations) if key not in clean}
    patch = {lb.PREFIX + k: v for k, v in {**annotations, **clean}.items()}
    return services.patch(
        actor, service, {"metadata": {"annotations": patch}}, verb="update", settings=clean
    )


def service_yaml(actor, service: Service) -> str:
    return services.yaml(actor, service)


def replace_service_yaml(actor, service: Service, text: str) -> Service:
    return services.replace_from_yaml(actor, service, text)


def create_service_from_yaml(actor, namespace, text: str) -> Service:
    return services.create_from_yaml(actor, namespace, text)


def delete_service(actor, service: Service) -> None:
    services.delete(actor, service)


# --- Ingresses ---------------------------------------------------------------------------


def _backend_port(value):
    if isinstance(value, int):
        return {"number": value}
    text = str(value or "").strip()
    return {"number": int(text)} if text.isdigit() else {"name": text}


def check_ingress(name, spec: dict, namespace: str, cluster_id) -> dict:
    errors: dict[str, list] = {}
    if name is not None and (problems := check_name(name)):
        errors["name"] = problems
    rules = []
    for index, rule in enumerate(spec.get("rules") or [], start=1):
        host = (rule.get("host") or "").strip().lower()
        path = (rule.get("path") or "/").strip()
        path_type = rule.get("path_type") or "Prefix"
        service = (rule.get("service") or "").strip()
        port = rule.get("port")
        problems = []
        if host and not HOST.match(host):
            problems.append(
                _("rule %(n)s: %(host)s is not a host name (e.g. shop.example.com).")
                % {"n": index, "host": host}
            )
        if not path.startswith("/"):
            problems.append(_("rule %(n)s: the path starts with /.") % {"n": index})
        if path_type not in PATH_TYPES:
            problems.append(
                _("rule %(n)s: the path type is Prefix, Exact or ImplementationSpecific.")
                % {"n": index}
            )
        if not service:
            problems.append(_("rule %(n)s: give the Service it goes to.") % {"n": index})
        if port in (None, ""):
            problems.append(_("rule %(n)s: give the Service's port.") % {"n": index})
        errors.setdefault("rules", []).extend(problems)
        rules.append(
            {"host": host, "path": path, "path_type": path_type, "service": service, "port": port}
        )
    default = spec.get("default_backend") or {}
    if default and (not default.get("service") or default.get("port") in (None, "")):
        errors["default_backend"] = [_("Give the default backend's Service and port.")]
    if not rules and not default:
        errors.setdefault("rules", []).append(_("Give at least one rule, or a default backend."))
    secrets = _secret_types(cluster_id, namespace)
    tls = []
    for index, entry in enumerate(spec.get("tls") or [], start=1):
        hosts = [h.strip().lower() for h in entry.get("hosts") or [] if h.strip()]
        secret = (entry.get("secret") or "").strip()
        if "/" in secret:
            errors.setdefault("tls", []).append(
                _(
                    "A Secret of another namespace cannot be referenced (%(refs)s): use a Secret "
                    "of this namespace."
                )
                % {"refs": secret}
            )
        elif secret and secrets.get(secret) != "kubernetes.io/tls":
            errors.setdefault("tls", []).append(
                _("TLS %(n)s: there is no TLS Secret named %(name)s in this namespace.")
                % {"n": index, "name": secret}
            )
        if not hosts:
            errors.setdefault("tls", []).append(_("TLS %(n)s: give its hosts.") % {"n": index})
        tls.append({"hosts": hosts, "secret": secret})
    klass = (spec.get("ingress_class") or "").strip()
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationError(errors)
    return {**spec, "rules": rules, "default_backend": default, "tls": tls, "ingress_class": klass}


def ingress_manifest(namespace: str, name: str, spec: dict, base: dict | None = None) -> dict:
    body = copy.deepcopy(base) if base else {}
    body.update(apiVersion="networking.k8s.io/v1", kind="Ingress")
    body.pop("status", None)
    metadata = body.setdefault("metadata", {})
    metadata.update(name=name, namespace=namespace)
    if spec.get("labels") is not None:
        metadata["labels"] = spec["labels"]
    new: dict = {}
    if spec["ingress_class"]:
        new["ingressClassName"] = spec["ingress_class"]
    if spec["default_backend"]:
        backend = spec["default_backend"]
        new["defaultBackend"] = {
            "service": {"name": backend["service"], "port": _backend_port(backend["port"])}
        }
    by_host: dict[str, list] = {}
    for rule in spec["rules"]:
        by_host.setdefault(rule["host"], []).append(
            {
                "path": rule["path"],
                "pathType": rule["path_type"],
                "backend": {
                    "service": {"name": rule["service"], "port": _backend_port(rule["port"])}
                },
            }
        )
    if by_host:
        new["rules"] = [
            {**({"host": host} if host else {}), "http": {"paths": paths}}
            for host, paths in by_host.items()
        ]
    if spec["tls"]:
        new["tls"] = [
            {
                "hosts": entry["hosts"],
                **({"secretName": entry["secret"]} if entry["secret"] else {}),
            }
            for entry in spec["tls"]
        ]
    body["spec"] = new
    return body


def conflicts(actor, cluster, rules, *, exclude=None) -> list[str]:
    """The host/paths of ``rules`` another Ingress of the cluster already routes.

    An Ingress the actor may not see is named only as "in another namespace".
    """
    wanted = {(r.get("host") or "", r.get("path") or "/") for r in rules}
    if not wanted:
        return []
    others = Ingress.objects.filter(cluster=cluster, hosts__isnull=False).only(
        "pk", "name", "namespace_name", "rules", "namespace_id", "cluster_id"
    )
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    visible = set(
        Ingress.objects.restrict(actor, "view").filter(cluster=cluster).values_list("pk", flat=True)
    )
    found = []
    for other in others:
        for rule in other.rules:
            key = (rule.get("host") or "", rule.get("path") or "/")
            if key not in wanted:
                continue
            where = (
                _("Ingress %(ns)s/%(name)s") % {"ns": other.namespace_name, "name": other.name}
                if other.pk in visible
                else _("an Ingress in another namespace")
            )
            found.append(
                _("%(host)s%(path)s is already routed by %(where)s.")
                % {"host": key[0] or "*", "path": key[1], "where": where}
            )
    return sorted(set(found))


def _refuse_conflicts(actor, cluster, rules, exclude=None, field="rules"):
    found = conflicts(actor, cluster, rules, exclude=exclude)
    if found:
        raise ValidationError(
            {
                field: [
                    *found,
                    _("Apply anyway only if both should answer: tick “Apply despite conflicts”."),
                ]
            },
            code="conflict",
        )


@audited("ingress.create", Ingress)
def create_ingress(actor, *, namespace, name: str, spec: dict, allow_conflicts=False) -> Ingress:
    """An Ingress from the form's fields; conflicting host/paths are refused unless allowed."""
    ingresses.authorize_create(actor, namespace)
    spec = check_ingress(name, spec, namespace.name, namespace.cluster_id)
    if not allow_conflicts:
        _refuse_conflicts(actor, namespace.cluster, spec["rules"])
    return ingresses.create(actor, namespace, ingress_manifest(namespace.name, name, spec))


@audited("ingress.update")
def update_ingress(
    actor,
    ingress: Ingress,
    *,
    spec: dict,
    resource_version: str = "",
    seen: str = "",
    allow_conflicts=False,
) -> Ingress:
    """Replace the Ingress's class, rules, default backend and TLS. ``seen`` as for
    ``update_service`` (the ingress controller's status writes are no conflict)."""
    ingresses.authorize(actor, "change", ingress)
    spec = check_ingress(None, spec, ingress.namespace_name, ingress.cluster_id)
    if not allow_conflicts:
        _refuse_conflicts(actor, ingress.cluster, spec["rules"], exclude=ingress)
    base = ingress.manifest
    if seen:
        live = ingresses.read(ingress)
        if live is None:
            _refuse({NON_FIELD_ERRORS: _("Kubernetes is unavailable; try again in a moment.")})
        if fingerprint(live) != seen:
            _changed_by_someone_else()
        base, resource_version = live, live["metadata"]["resourceVersion"]
    body = ingress_manifest(ingress.namespace_name, ingress.name, spec, base=base)
    body["metadata"]["resourceVersion"] = resource_version or ingress.resource_version
    return ingresses.replace(actor, ingress, body)


def ingress_yaml(actor, ingress: Ingress) -> str:
    return ingresses.yaml(actor, ingress)


def _yaml_rules(obj: dict) -> list[dict]:
    from .sync import ingress_summary

    return ingress_summary(obj)["rules"]


@audited("ingress.update")
def replace_ingress_yaml(actor, ingress: Ingress, text: str, allow_conflicts=False) -> Ingress:
    ingresses.authorize(actor, "change", ingress)
    if not allow_conflicts:
        obj = ingresses.load(text, namespace=ingress.namespace_name, name=ingress.name)
        _refuse_conflicts(actor, ingress.cluster, _yaml_rules(obj), exclude=ingress, field=YAML)
    return ingresses.replace_from_yaml(actor, ingress, text)


@audited("ingress.create", Ingress)
def create_ingress_from_yaml(actor, namespace, text: str, allow_conflicts=False) -> Ingress:
    ingresses.authorize_create(actor, namespace)
    if not allow_conflicts:
        obj = ingresses.load(text, namespace=namespace.name)
        _refuse_conflicts(actor, namespace.cluster, _yaml_rules(obj), field=YAML)
    return ingresses.create_from_yaml(actor, namespace, text)


def delete_ingress(actor, ingress: Ingress) -> None:
    ingresses.delete(actor, ingress)


# --- what the cluster says about them ------------------------------------------------------


def events_of(row) -> list[dict]:
    """The object's Kubernetes events (the cloud and ingress controllers' warnings among
    them), oldest first, read live; none when the cluster is away."""
    kind = "Service" if isinstance(row, Service) else "Ingress"
    try:
        answer = objects.list_(
            row.cluster.kube(retries=1),
            "v1",
            "Event",
            row.namespace_name,
            field_selector=f"involvedObject.kind={kind},involvedObject.name={row.name}",
            limit=500,
        )
    except KubeError:
        return []
    rows = [
        {
            "time": event.get("lastTimestamp")
            or event.get("eventTime")
            or (event.get("metadata") or {}).get("creationTimestamp", ""),
            "type": event.get("type", ""),
            "reason": event.get("reason", ""),
            "object": f"{kind}/{row.name}",
            "message": event.get("message", ""),
            "count": event.get("count") or 1,
        }
        for event in answer.get("items") or []
    ]
    return sorted(rows, key=lambda event: event["time"] or "")
