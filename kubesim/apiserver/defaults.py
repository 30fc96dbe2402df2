"""Defaulting: the fields the API server fills in before it stores an object.

`apply_defaults(obj, ctx, old=None)` mutates `obj` in place the way Kubernetes 1.32 does between
decoding a request and validating it: the scheme's `SetDefaults_*` functions, the REST strategies
(Job selector generation, Service IP and node-port allocation, Secret `stringData`), and the
always-on admission plugins that only add fields to Pods (ServiceAccount, Priority,
DefaultTolerationSeconds). Quantities are rewritten to their canonical form, as the API server
does when it re-encodes them (`cpu: 0.5` is returned as `cpu: 500m`).

`ctx` offers `allocate_cluster_ip() -> str`, `allocate_node_port() -> int` and `now() -> str`
(the cluster's simulated time as an API timestamp). On an update pass
the stored object as `old`: a Service then keeps its cluster IP and node ports instead of being
given new ones, and fields tied to a Service type the user moved away from are dropped.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from typing import Any

from kubesim.storage import quantity

POD_SPEC_DEFAULTS = {
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
}
CONTAINER_DEFAULTS = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}
PROBE_DEFAULTS = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
# Volume sources whose files get mode 0644 unless told otherwise.
DEFAULT_MODE_VOLUMES = ("secret", "configMap", "downwardAPI", "projected")
DEFAULT_MODE = 420
# DefaultTolerationSeconds admission: pods ride out a node problem for five minutes.
NODE_PROBLEM_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
TOLERATION_SECONDS = 300
# ServiceAccount admission names the token volume kube-api-access-<5 chars from this alphabet>.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")
CONTROLLER_UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")

HPA_SCALE_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
# scaleDown's stabilization window stays unset: the controller's flag (300s) applies.
HPA_SCALE_DOWN = {
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}


def apply_defaults(obj: dict, ctx: Any, old: dict | None = None) -> None:
    """Fill in what Kubernetes defaults on create (and, with `old`, on update), in place."""
    group = obj.get("apiVersion", "").rpartition("/")[0]
    defaulter = DEFAULTERS.get((group, obj.get("kind", "")))
    if defaulter is not None:
        defaulter(obj, ctx, old)


# --- helpers --------------------------------------------------------------------------------


def _setdefaults(target: dict, defaults: dict) -> None:
    for key, value in defaults.items():
        if target.get(key) is None:
            target[key] = value


def _child(obj: dict, *path: str) -> dict:
    """The dict at `path`, created empty where missing."""
    for key in path:
        if not isinstance(obj.get(key), dict):
            obj[key] = {}
        obj = obj[key]
    return obj


def _canonical_quantities(resources: Any) -> None:
    # Only valid quantities are rewritten; validation reports the others.
    if not isinstance(resources, dict):
        return
    for key, value in resources.items():
        with contextlib.suppress(ValueError):
            resources[key] = quantity.canonical(value)


def _canonical_requirements(requirements: Any) -> None:
    if isinstance(requirements, dict):
        for part in ("requests", "limits"):
            _canonical_quantities(requirements.get(part))


def _items(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def image_pull_policy(image: str) -> str:
    """`Always` for `:latest` or an untagged image, `IfNotPresent` otherwise (digests too)."""
    name = image.split("@", 1)[0]
    if "@" in image and ":" not in name.rsplit("/", 1)[-1]:
        return "IfNotPresent"
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


# --- pods and pod templates -----------------------------------------------------------------


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    _setdefaults(probe, PROBE_DEFAULTS)
    _default_handler(probe)


def _default_handler(handler: Any) -> None:
    if isinstance(handler, dict) and isinstance(handler.get("httpGet"), dict):
        _setdefaults(handler["httpGet"], {"path": "/", "scheme": "HTTP"})


def _default_container(container: dict, host_network: bool) -> None:
    _setdefaults(container, CONTAINER_DEFAULTS)
    if container.get("imagePullPolicy") in (None, "") and isinstance(container.get("image"), str):
        container["imagePullPolicy"] = image_pull_policy(container["image"])
    if not isinstance(container.get("resources"), dict):
        container["resources"] = {}
    _canonical_requirements(container["resources"])
    for port in _items(container.get("ports")):
        _setdefaults(port, {"protocol": "TCP"})
        if host_network and port.get("hostPort") in (None, 0):
            port["hostPort"] = port.get("containerPort")
    for env in _items(container.get("env")):
        source = env.get("valueFrom")
        if isinstance(source, dict):
            if isinstance(source.get("fieldRef"), dict):
                _setdefaults(source["fieldRef"], {"apiVersion": "v1"})
            if isinstance(source.get("resourceFieldRef"), dict):
                _setdefaults(source["resourceFieldRef"], {"divisor": "0"})
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe))
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        for hook in ("postStart", "preStop"):
            _default_handler(lifecycle.get(hook))


def _default_volume(volume: dict) -> None:
    for source in DEFAULT_MODE_VOLUMES:
        if isinstance(volume.get(source), dict):
            _setdefaults(volume[source], {"defaultMode": DEFAULT_MODE})
    if isinstance(volume.get("hostPath"), dict):
        _setdefaults(volume["hostPath"], {"type": ""})
    ephemeral = volume.get("ephemeral")
    if isinstance(ephemeral, dict) and isinstance(ephemeral.get("volumeClaimTemplate"), dict):
        _default_pvc_spec(_child(ephemeral["volumeClaimTemplate"], "spec"))


def default_pod_spec(spec: dict) -> None:
    """`SetDefaults_PodSpec` and friends: what a pod and every pod template get."""
    _setdefaults(spec, POD_SPEC_DEFAULTS)
    if not isinstance(spec.get("securityContext"), dict):
        spec["securityContext"] = {}
    host_network = bool(spec.get("hostNetwork"))
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in _items(spec.get(key)):
            _default_container(container, host_network)
    for volume in _items(spec.get("volumes")):
        _default_volume(volume)
    # The deprecated `serviceAccount` field mirrors `serviceAccountName` on every read.
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    elif spec.get("serviceAccount"):
        spec["serviceAccountName"] = spec["serviceAccount"]


def _default_template(template: Any) -> None:
    if not isinstance(template, dict):
        return
    # Go serialises the zero timestamp of an embedded ObjectMeta as null; kubectl shows it.
    _child(template, "metadata").setdefault("creationTimestamp", None)
    default_pod_spec(_child(template, "spec"))


def _token_volume_name(obj: dict) -> str:
    # Kubernetes picks five random characters; deriving them from the uid (or name) keeps the
    # name stable when the same pod is defaulted again.
    meta = obj.get("metadata") or {}
    seed = f"{meta.get('uid') or ''}/{meta.get('namespace') or ''}/{meta.get('name') or ''}"
    digest = hashlib.sha256(seed.encode()).digest()
    return "kube-api-access-" + "".join(NAME_ALPHABET[b % len(NAME_ALPHABET)] for b in digest[:5])


def _token_volume(name: str) -> dict:
    return {
        "name": name,
        "projected": {
            "defaultMode": DEFAULT_MODE,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {
                    "configMap": {
                        "name": "kube-root-ca.crt",
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {
                                    "apiVersion": "v1",
                                    "fieldPath": "metadata.namespace",
                                },
                            }
                        ]
                    }
                },
            ],
        },
    }


def _mount_service_account_token(obj: dict, spec: dict) -> None:
    """ServiceAccount admission: mount the API token unless automounting is switched off."""
    if spec.get("automountServiceAccountToken") is False:
        return
    mount_path = "/var/run/secrets/kubernetes.io/serviceaccount"
    volumes = spec.get("volumes") or []
    if not isinstance(volumes, list):
        return
    containers = [c for key in ("initContainers", "containers") for c in _items(spec.get(key))]
    if any(
        m.get("mountPath") == mount_path for c in containers for m in _items(c.get("volumeMounts"))
    ):
        return
    if any(v.get("name", "").startswith("kube-api-access-") for v in _items(volumes)):
        return
    name = _token_volume_name(obj)
    spec["volumes"] = [*volumes, _token_volume(name)]
    for container in containers:
        mounts = container.setdefault("volumeMounts", [])
        if isinstance(mounts, list):
            mounts.append({"name": name, "readOnly": True, "mountPath": mount_path})


def _tolerates(toleration: dict, key: str) -> bool:
    effect = toleration.get("effect") or ""
    if effect not in ("", "NoExecute"):
        return False
    tkey = toleration.get("key") or ""
    return (tkey == "" and toleration.get("operator") == "Exists") or tkey == key


def _default_tolerations(spec: dict) -> None:
    tolerations = spec.get("tolerations")
    if tolerations is None:
        tolerations = []
    if not isinstance(tolerations, list):
        return
    for key in NODE_PROBLEM_TAINTS:
        if not any(_tolerates(t, key) for t in _items(tolerations)):
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": TOLERATION_SECONDS,
                }
            )
    spec["tolerations"] = tolerations


def qos_class(spec: dict) -> str:
    """Guaranteed, Burstable or BestEffort, from cpu and memory requests and limits."""
    containers = [c for key in ("initContainers", "containers") for c in _items(spec.get(key))]
    compute = ("cpu", "memory")
    seen = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        for name in compute:
            if _nonzero(requests.get(name)) or _nonzero(limits.get(name)):
                seen = True
        for name in compute:
            if not _nonzero(limits.get(name)) or (
                name in requests and _value(requests[name]) != _value(limits[name])
            ):
                guaranteed = False
    if not seen:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _value(q: Any) -> Any:
    try:
        return quantity.parse_quantity(q)
    except ValueError:
        return q


def _nonzero(q: Any) -> bool:
    if q is None:
        return False
    try:
        return quantity.parse_quantity(q) != 0
    except ValueError:
        return True


def _default_pod(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    # Only a Pod (not a template) gets requests copied from limits.
    for key in ("initContainers", "containers"):
        for container in _items(spec.get(key)):
            resources = container.get("resources")
            if isinstance(resources, dict) and isinstance(resources.get("limits"), dict):
                requests = resources.setdefault("requests", {})
                if isinstance(requests, dict):
                    for name, value in resources["limits"].items():
                        requests.setdefault(name, value)
    default_pod_spec(spec)
    _setdefaults(spec, {"enableServiceLinks": True})
    if old is None:
        # Admission plugins that run on create only.
        _setdefaults(spec, {"serviceAccountName": "default", "serviceAccount": "default"})
        # spec.priority and preemptionPolicy come from the Priority admission plugin
        _default_tolerations(spec)
        _mount_service_account_token(obj, spec)
        status = obj.get("status")
        if not isinstance(status, dict) or not status.get("phase"):
            obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}
    elif isinstance(old.get("status"), dict) and not obj.get("status"):
        obj["status"] = old["status"]


def _default_pod_template(obj: dict, ctx: Any, old: dict | None) -> None:
    _default_template(obj.get("template"))


# --- workloads ------------------------------------------------------------------------------


def _default_deployment(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    _setdefaults(spec, {"replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600})
    strategy = _child(spec, "strategy")
    _setdefaults(strategy, {"type": "RollingUpdate"})
    if strategy["type"] == "RollingUpdate":
        _setdefaults(
            _child(strategy, "rollingUpdate"), {"maxUnavailable": "25%", "maxSurge": "25%"}
        )
    _default_template(spec.get("template"))


def _default_replica_set(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    _setdefaults(spec, {"replicas": 1})
    _default_template(spec.get("template"))


def _default_replication_controller(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    _setdefaults(spec, {"replicas": 1})
    template = spec.get("template")
    labels = (
        (template or {}).get("metadata", {}).get("labels") if isinstance(template, dict) else None
    )
    if labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = _child(obj, "metadata")
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    _default_template(template)


def _default_stateful_set(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    _setdefaults(
        spec,
        {"replicas": 1, "podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10},
    )
    strategy = _child(spec, "updateStrategy")
    _setdefaults(strategy, {"type": "RollingUpdate"})
    if strategy["type"] == "RollingUpdate":
        _setdefaults(_child(strategy, "rollingUpdate"), {"partition": 0})
    _setdefaults(
        _child(spec, "persistentVolumeClaimRetentionPolicy"),
        {"whenDeleted": "Retain", "whenScaled": "Retain"},
    )
    for claim in _items(spec.get("volumeClaimTemplates")):
        _setdefaults(claim, {"apiVersion": "v1", "kind": "PersistentVolumeClaim"})
        _child(claim, "metadata").setdefault("creationTimestamp", None)
        _default_pvc_spec(_child(claim, "spec"))
        if not (claim.get("status") or {}).get("phase"):
            claim["status"] = {"phase": "Pending"}
    _default_template(spec.get("template"))


def _default_daemon_set(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    _setdefaults(spec, {"revisionHistoryLimit": 10})
    strategy = _child(spec, "updateStrategy")
    _setdefaults(strategy, {"type": "RollingUpdate"})
    if strategy["type"] == "RollingUpdate":
        _setdefaults(_child(strategy, "rollingUpdate"), {"maxUnavailable": 1, "maxSurge": 0})
    _default_template(spec.get("template"))


def _default_job_spec(spec: dict) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    backoff = 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6
    _setdefaults(
        spec,
        {
            "parallelism": 1,
            "backoffLimit": backoff,
            "completionMode": "NonIndexed",
            "suspend": False,
            "manualSelector": False,
        },
    )
    replacement = "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed"
    _setdefaults(spec, {"podReplacementPolicy": replacement})
    policy = spec.get("podFailurePolicy")
    if isinstance(policy, dict):
        for rule in _items(policy.get("rules")):
            for condition in _items(rule.get("onPodConditions")):
                _setdefaults(condition, {"status": "True"})


def _default_job(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    meta = _child(obj, "metadata")
    _default_job_spec(spec)
    template = spec.get("template")
    if isinstance(template, dict) and not spec.get("manualSelector"):
        # The Job strategy's generated selector: it matches this Job's pods and nothing else.
        labels = _child(template, "metadata", "labels")
        for label in JOB_NAME_LABELS:
            labels.setdefault(label, meta.get("name", ""))
        for label in CONTROLLER_UID_LABELS:
            labels.setdefault(label, meta.get("uid", ""))
        selector = _child(spec, "selector")
        match_labels = _child(selector, "matchLabels")
        match_labels.setdefault(CONTROLLER_UID_LABELS[0], meta.get("uid", ""))
    _default_template(template)
    # Defaulting runs again when the stored Job is read back, by which time the template
    # carries the generated labels: an unlabelled Job ends up with all four.
    template_labels = (
        template.get("metadata", {}).get("labels") if isinstance(template, dict) else None
    )
    if template_labels and not meta.get("labels"):
        meta["labels"] = dict(template_labels)


def _default_cron_job(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    _setdefaults(
        spec,
        {
            "concurrencyPolicy": "Allow",
            "suspend": False,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
        },
    )
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict):
        _child(job_template, "metadata").setdefault("creationTimestamp", None)
        _default_template(_child(job_template, "spec").get("template"))


def _default_hpa(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    _setdefaults(spec, {"minReplicas": 1})
    if obj.get("apiVersion", "").endswith("/v1"):
        return
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            }
        ]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        # Each direction left out, or each field of it left out, takes the default.
        for key, default in (("scaleUp", HPA_SCALE_UP), ("scaleDown", HPA_SCALE_DOWN)):
            rules = behavior.get(key) if isinstance(behavior.get(key), dict) else {}
            for field, value in default.items():
                if rules.get(field) is None:
                    rules[field] = [dict(p) for p in value] if field == "policies" else value
            behavior[key] = rules


# --- services and networking ----------------------------------------------------------------


def _needs_node_ports(spec: dict) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def _default_service(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    _setdefaults(spec, {"type": "ClusterIP", "sessionAffinity": "None"})
    svc_type = spec["type"]
    if spec["sessionAffinity"] == "ClientIP":
        _setdefaults(_child(spec, "sessionAffinityConfig", "clientIP"), {"timeoutSeconds": 10800})
    for port in _items(spec.get("ports")):
        _setdefaults(port, {"protocol": "TCP"})
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if svc_type != "ExternalName":
        _setdefaults(spec, {"internalTrafficPolicy": "Cluster"})
    if _needs_node_ports(spec):
        _setdefaults(spec, {"externalTrafficPolicy": "Cluster"})
    if svc_type == "LoadBalancer":
        _setdefaults(spec, {"allocateLoadBalancerNodePorts": True})
    old_spec = (old or {}).get("spec") or {}
    if old is not None:
        _drop_type_dependent_fields(spec, old_spec)
        _keep_allocations(spec, old_spec)
    if svc_type != "ExternalName":
        _allocate_cluster_ip(spec, ctx)
    _allocate_node_ports(spec, ctx)
    status = obj.get("status")
    if not isinstance(status, dict) or "loadBalancer" not in status:
        obj["status"] = (old or {}).get("status") or {"loadBalancer": {}}


def _drop_type_dependent_fields(spec: dict, old_spec: dict) -> None:
    """Fields the user left untouched while changing the type away from where they apply."""
    if spec.get("type") == old_spec.get("type"):
        return
    if spec.get("type") == "ExternalName" and spec.get("clusterIP") == old_spec.get("clusterIP"):
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            spec.pop(key, None)
    if not _needs_node_ports(spec):
        old_ports = {p.get("name", ""): p.get("nodePort") for p in _items(old_spec.get("ports"))}
        for port in _items(spec.get("ports")):
            if port.get("nodePort") and port["nodePort"] == old_ports.get(port.get("name", "")):
                del port["nodePort"]
        if spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy"):
            spec.pop("externalTrafficPolicy", None)
    if spec.get("type") != "LoadBalancer":
        for key in ("healthCheckNodePort", "allocateLoadBalancerNodePorts", "loadBalancerClass"):
            if key in spec and spec.get(key) == old_spec.get(key):
                del spec[key]
    if spec.get("type") == "ExternalName":
        spec.pop("internalTrafficPolicy", None)


def _keep_allocations(spec: dict, old_spec: dict) -> None:
    """An update that leaves out the allocated IP and node ports keeps the old ones."""
    if spec.get("type") == "ExternalName" or old_spec.get("type") == "ExternalName":
        return
    if not spec.get("clusterIP") and old_spec.get("clusterIP"):
        spec["clusterIP"] = old_spec["clusterIP"]
        if not spec.get("clusterIPs"):
            spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [old_spec["clusterIP"]])
    for key in ("ipFamilies", "ipFamilyPolicy"):
        if spec.get(key) is None and old_spec.get(key) is not None:
            spec[key] = old_spec[key]
    if _needs_node_ports(spec) and _needs_node_ports(old_spec):
        new_ports = _items(spec.get("ports"))
        used = {p.get("nodePort") for p in new_ports if p.get("nodePort")}
        by_name = {p.get("name", ""): p.get("nodePort") for p in _items(old_spec.get("ports"))}
        for port in new_ports:
            previous = by_name.get(port.get("name", ""))
            if not port.get("nodePort") and previous and previous not in used:
                port["nodePort"] = previous
                used.add(previous)
        if spec.get("healthCheckNodePort") is None and old_spec.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]


def _allocate_cluster_ip(spec: dict, ctx: Any) -> None:
    cluster_ip = spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]
    headless = cluster_ip == "None"
    if not cluster_ip:
        cluster_ip = ctx.allocate_cluster_ip()
    spec["clusterIP"] = cluster_ip
    if not spec.get("clusterIPs"):
        spec["clusterIPs"] = [cluster_ip]
    elif spec["clusterIPs"][0] != cluster_ip and isinstance(spec["clusterIPs"], list):
        # clusterIP changed and clusterIPs was carried over: the primary follows clusterIP.
        spec["clusterIPs"] = [cluster_ip, *spec["clusterIPs"][1:]]
    if spec.get("ipFamilyPolicy") is None:
        # A headless Service without a selector is the documented exception.
        selectorless_headless = headless and not spec.get("selector")
        spec["ipFamilyPolicy"] = "RequireDualStack" if selectorless_headless else "SingleStack"
    if not spec.get("ipFamilies"):
        spec["ipFamilies"] = ["IPv4"]


def _allocate_node_ports(spec: dict, ctx: Any) -> None:
    if not _needs_node_ports(spec):
        return
    allocate = spec.get("type") == "NodePort" or spec.get("allocateLoadBalancerNodePorts", True)
    if allocate:
        for port in _items(spec.get("ports")):
            if not port.get("nodePort"):
                port["nodePort"] = ctx.allocate_node_port()
    local = spec.get("externalTrafficPolicy") == "Local"
    if spec.get("type") == "LoadBalancer" and local and not spec.get("healthCheckNodePort"):
        spec["healthCheckNodePort"] = ctx.allocate_node_port()


def _default_endpoints(obj: dict, ctx: Any, old: dict | None) -> None:
    for subset in _items(obj.get("subsets")):
        for port in _items(subset.get("ports")):
            _setdefaults(port, {"protocol": "TCP"})


def _default_ingress(obj: dict, ctx: Any, old: dict | None) -> None:
    # networking.k8s.io/v1 Ingress has no defaults; the status stanza is always present.
    if not isinstance(obj.get("status"), dict):
        obj["status"] = (old or {}).get("status") or {"loadBalancer": {}}


# --- namespaces, config and storage ---------------------------------------------------------


def _default_namespace(obj: dict, ctx: Any, old: dict | None) -> None:
    meta = _child(obj, "metadata")
    # The NamespaceDefaultLabelName feature: always equal to the name, on every write.
    _child(meta, "labels")["kubernetes.io/metadata.name"] = meta.get("name", "")
    spec = _child(obj, "spec")
    if old is None and spec.get("finalizers") is None:
        spec["finalizers"] = ["kubernetes"]
    elif old is not None and spec.get("finalizers") is None:
        # spec.finalizers only changes through the finalize subresource.
        spec["finalizers"] = list((old.get("spec") or {}).get("finalizers") or [])
        if not spec["finalizers"]:
            del spec["finalizers"]
    status = obj.get("status")
    if not isinstance(status, dict) or not status.get("phase"):
        obj["status"] = (old or {}).get("status") or {"phase": "Active"}


def _default_secret(obj: dict, ctx: Any, old: dict | None) -> None:
    _setdefaults(obj, {"type": "Opaque"})
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data


def _default_pvc_spec(spec: dict) -> None:
    _setdefaults(spec, {"volumeMode": "Filesystem"})
    _canonical_requirements(spec.get("resources"))


def _default_pvc(obj: dict, ctx: Any, old: dict | None) -> None:
    _default_pvc_spec(_child(obj, "spec"))
    status = obj.get("status")
    if not isinstance(status, dict) or not status.get("phase"):
        obj["status"] = (old or {}).get("status") or {"phase": "Pending"}


def _default_pv(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    _setdefaults(spec, {"persistentVolumeReclaimPolicy": "Retain", "volumeMode": "Filesystem"})
    _canonical_quantities(spec.get("capacity"))
    status = obj.get("status")
    if not isinstance(status, dict) or not status.get("phase"):
        # Created Pending; the PV controller moves an unclaimed volume to Available.
        obj["status"] = (old or {}).get("status") or {
            "phase": "Pending",
            "lastPhaseTransitionTime": ctx.now(),
        }


def _default_storage_class(obj: dict, ctx: Any, old: dict | None) -> None:
    _setdefaults(obj, {"reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"})


def _default_resource_quota(obj: dict, ctx: Any, old: dict | None) -> None:
    _canonical_quantities((obj.get("spec") or {}).get("hard"))


def _default_limit_range(obj: dict, ctx: Any, old: dict | None) -> None:
    for item in _items((obj.get("spec") or {}).get("limits")):
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            _canonical_quantities(item.get(key))
        if item.get("type") != "Container":
            continue
        # A max implies the default limit; a default limit implies the default request;
        # failing both, the min is the default request.
        default = dict(item.get("default") or {})
        default_request = dict(item.get("defaultRequest") or {})
        for name, value in (item.get("max") or {}).items():
            default.setdefault(name, value)
        for name, value in default.items():
            default_request.setdefault(name, value)
        for name, value in (item.get("min") or {}).items():
            default_request.setdefault(name, value)
        if default:
            item["default"] = default
        if default_request:
            item["defaultRequest"] = default_request


# --- RBAC and CRDs --------------------------------------------------------------------------


def _default_binding(obj: dict, ctx: Any, old: dict | None) -> None:
    role_ref = obj.get("roleRef")
    if isinstance(role_ref, dict):
        _setdefaults(role_ref, {"apiGroup": "rbac.authorization.k8s.io"})
    for subject in _items(obj.get("subjects")):
        if subject.get("kind") in ("User", "Group"):
            _setdefaults(subject, {"apiGroup": "rbac.authorization.k8s.io"})
        elif subject.get("kind") == "ServiceAccount" and subject.get("apiGroup") == "":
            # The core group: "" is Subject.apiGroup's zero value, which the apiserver
            # omits from its answers (omitempty), so `kubectl apply` sees no change.
            del subject["apiGroup"]


def _default_crd(obj: dict, ctx: Any, old: dict | None) -> None:
    spec = _child(obj, "spec")
    _setdefaults(_child(spec, "conversion"), {"strategy": "None"})
    names = spec.get("names")
    if isinstance(names, dict) and names.get("kind"):
        _setdefaults(names, {"singular": names["kind"].lower(), "listKind": names["kind"] + "List"})


def _default_priority_class(obj: dict, ctx: Any, old: dict | None) -> None:
    _setdefaults(obj, {"preemptionPolicy": "PreemptLowerPriority"})


def _default_api_service(obj: dict, ctx: Any, old: dict | None) -> None:
    service = _child(obj, "spec").get("service")
    if isinstance(service, dict):
        _setdefaults(service, {"port": 443})


DEFAULTERS = {
    ("", "Pod"): _default_pod,
    ("", "PodTemplate"): _default_pod_template,
    ("", "ReplicationController"): _default_replication_controller,
    ("", "Service"): _default_service,
    ("", "Endpoints"): _default_endpoints,
    ("", "Namespace"): _default_namespace,
    ("", "Secret"): _default_secret,
    ("", "PersistentVolumeClaim"): _default_pvc,
    ("", "PersistentVolume"): _default_pv,
    ("", "ResourceQuota"): _default_resource_quota,
    ("", "LimitRange"): _default_limit_range,
    ("apps", "Deployment"): _default_deployment,
    ("apps", "ReplicaSet"): _default_replica_set,
    ("apps", "StatefulSet"): _default_stateful_set,
    ("apps", "DaemonSet"): _default_daemon_set,
    ("batch", "Job"): _default_job,
    ("batch", "CronJob"): _default_cron_job,
    ("autoscaling", "HorizontalPodAutoscaler"): _default_hpa,
    ("networking.k8s.io", "Ingress"): _default_ingress,
    ("storage.k8s.io", "StorageClass"): _default_storage_class,
    ("rbac.authorization.k8s.io", "RoleBinding"): _default_binding,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _default_binding,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _default_crd,
    ("scheduling.k8s.io", "PriorityClass"): _default_priority_class,
    ("apiregistration.k8s.io", "APIService"): _default_api_service,
}
