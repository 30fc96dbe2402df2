"""Admission: the built-in plugins of a 1.32 API server that users notice.

`admit(obj, old, reader)` runs on create (`old is None`) and update, after defaulting, and either
mutates `obj` in place or raises `Forbidden` with Kubernetes' message:

- NamespaceLifecycle: nothing new in a namespace that is being terminated;
- DefaultStorageClass: a PVC without `storageClassName` gets the default class;
- LimitRanger: pods get `default`/`defaultRequest` from the namespace's LimitRanges (and the
  `kubernetes.io/limit-ranger` annotation); pods and PVCs are held to `min`/`max`/ratio;
- PersistentVolumeClaimResize: a bound claim grows only if its StorageClass allows expansion;
- ResourceQuota: object counts, compute requests/limits and storage against every quota in the
  namespace, with the "exceeded quota" and "failed quota" messages.

`quota_usage(quota, reader)` computes a ResourceQuota's `status.used` the way the quota
controller does. `reader.list(api_version, kind, namespace)` returns stored objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from kubesim.apiserver.defaults import qos_class
from kubesim.apiserver.validation import (
    RESOURCES,
    aggregate,
    go_quote,
    group_of,
    qualified_resource,
    resource_of,
)
from kubesim.storage import quantity
from kubesim.storage.quantity import Quantity


class Reader(Protocol):
    def list(self, api_version: str, kind: str, namespace: str | None) -> list[dict]: ...


class Forbidden(Exception):
    """A 403 from admission; `message` is the whole user-visible sentence."""

    def __init__(self, obj: dict, reason: str):
        meta = obj.get("metadata") or {}
        self.name = meta.get("name") or meta.get("generateName") or ""
        self.kind = resource_of(obj.get("kind", ""))
        self.group = group_of(obj.get("apiVersion", ""))
        self.reason = reason
        self.message = f"{qualified_resource(obj)} {go_quote(self.name)} is forbidden: {reason}"
        super().__init__(self.message)

    def status(self) -> dict:
        """The `Status` body Kubernetes sends with the 403."""
        details: dict[str, Any] = {"name": self.name}
        if self.group:
            details["group"] = self.group
        details["kind"] = self.kind
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": "Forbidden",
            "details": details,
            "code": 403,
        }


def admit(obj: dict, old: dict | None, reader: Reader, now: datetime | None = None) -> None:
    """Mutate `obj` as the admission chain would, or raise `Forbidden`.

    now: the cluster's (simulated) time, which quota compares grace periods with.
    """
    kind = obj.get("kind", "")
    group = group_of(obj.get("apiVersion", ""))
    namespace = (obj.get("metadata") or {}).get("namespace")
    if old is None and namespace and kind != "Namespace":
        _namespace_lifecycle(obj, namespace, reader)
    if (group, kind) == ("", "PersistentVolumeClaim"):
        if old is None:
            _default_storage_class(obj, reader)
        else:
            _pvc_resize(obj, old, reader)
    # LimitRanger leaves pod updates alone: containers cannot change anyway.
    limited = (group, kind) == ("", "PersistentVolumeClaim") or (
        (group, kind) == ("", "Pod") and old is None
    )
    if (group, kind) == ("", "Pod") and old is None:
        _priority(obj, reader)
    if (group, kind) == ("scheduling.k8s.io", "PriorityClass") and obj.get("globalDefault"):
        _one_global_default(obj, reader)
    if namespace and limited:
        _limit_ranger(obj, namespace, reader)
    if namespace:
        _resource_quota(obj, old, namespace, reader, now or datetime.now(UTC))


# --- Priority ---------------------------------------------------------------------------------


def _priority(pod: dict, reader: Reader) -> None:
    """The Priority plugin: spec.priority (and preemptionPolicy) from the pod's PriorityClass,
    or from the global default class (0 without one)."""
    spec = pod.setdefault("spec", {})
    classes = reader.list("scheduling.k8s.io/v1", "PriorityClass", None)
    name = spec.get("priorityClassName") or ""
    if name:
        found = next((c for c in classes if c["metadata"]["name"] == name), None)
        if found is None:
            raise Forbidden(pod, f"no PriorityClass with name {name} was found")
    else:
        defaults = [c for c in classes if c.get("globalDefault")]
        found = min(defaults, key=lambda c: c.get("value", 0), default=None)
        if found is not None:
            spec["priorityClassName"] = found["metadata"]["name"]
    priority = int((found or {}).get("value", 0))
    given = spec.get("priority")
    if given is not None and given != priority:
        raise Forbidden(
            pod,
            f"the integer value of priority ({given}) must not be provided in pod spec; "
            f"priority admission controller computed {priority} from the given PriorityClass "
            "name",
        )
    spec["priority"] = priority
    policy = (found or {}).get("preemptionPolicy") or "PreemptLowerPriority"
    given_policy = spec.get("preemptionPolicy")
    if found is not None and given_policy and given_policy != policy:
        raise Forbidden(
            pod,
            f"the string value of PreemptionPolicy ({given_policy}) must not be provided in "
            "pod spec; priority admission controller computed "
            f"{policy} from the given PriorityClass name",
        )
    spec["preemptionPolicy"] = given_policy or policy


def _one_global_default(pc: dict, reader: Reader) -> None:
    name = pc["metadata"].get("name")
    for other in reader.list("scheduling.k8s.io/v1", "PriorityClass", None):
        if other.get("globalDefault") and other["metadata"]["name"] != name:
            raise Forbidden(
                pc,
                f"PriorityClass {other['metadata']['name']} is already marked as default. "
                "Only one default can exist",
            )


# --- NamespaceLifecycle, DefaultStorageClass, PVC resize --------------------------------------


def _namespace_lifecycle(obj: dict, namespace: str, reader: Reader) -> None:
    for ns in reader.list("v1", "Namespace", None):
        if (ns.get("metadata") or {}).get("name") != namespace:
            continue
        if (ns.get("status") or {}).get("phase") == "Terminating":
            raise Forbidden(
                obj,
                f"unable to create new content in namespace {namespace} "
                "because it is being terminated",
            )


DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def default_storage_class(reader: Reader) -> dict | None:
    """The default StorageClass; with several, the newest (then by name), as in 1.26+."""
    defaults = [
        sc
        for sc in reader.list("storage.k8s.io/v1", "StorageClass", None)
        if any(
            ((sc.get("metadata") or {}).get("annotations") or {}).get(a) == "true"
            for a in DEFAULT_CLASS_ANNOTATIONS
        )
    ]
    if not defaults:
        return None
    defaults.sort(
        key=lambda sc: (
            (sc.get("metadata") or {}).get("creationTimestamp") or "",
            (sc.get("metadata") or {}).get("name") or "",
        )
    )
    return defaults[-1]


def _default_storage_class(obj: dict, reader: Reader) -> None:
    spec = obj.setdefault("spec", {})
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    # An explicit class, even "", or the legacy annotation opts out.
    if "storageClassName" in spec or "volume.beta.kubernetes.io/storage-class" in annotations:
        return
    default = default_storage_class(reader)
    if default is not None:
        spec["storageClassName"] = default["metadata"]["name"]


def storage_class_name(pvc: dict) -> str:
    annotations = (pvc.get("metadata") or {}).get("annotations") or {}
    legacy = annotations.get("volume.beta.kubernetes.io/storage-class")
    return legacy if legacy is not None else (pvc.get("spec") or {}).get("storageClassName") or ""


def pvc_resize_allowed(pvc: dict, reader: Reader) -> bool:
    """Growing a claim needs a StorageClass with `allowVolumeExpansion: true`."""
    name = storage_class_name(pvc)
    for sc in reader.list("storage.k8s.io/v1", "StorageClass", None):
        if (sc.get("metadata") or {}).get("name") == name:
            return bool(sc.get("allowVolumeExpansion"))
    return False


def _storage_request(pvc: dict) -> Quantity | None:
    requests = ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
    return _quantity(requests.get("storage"))


def _pvc_resize(obj: dict, old: dict, reader: Reader) -> None:
    new_size, old_size = _storage_request(obj), _storage_request(old)
    if new_size is None or old_size is None or new_size.value <= old_size.value:
        return
    if (old.get("status") or {}).get("phase") != "Bound":
        return  # validation already refuses: the spec of an unbound claim is immutable
    if not pvc_resize_allowed(obj, reader):
        raise Forbidden(
            obj,
            "only dynamically provisioned pvc can be resized and the storageclass that "
            "provisions the pvc must support resize",
        )


# --- LimitRanger ------------------------------------------------------------------------------

LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger"


def _quantity(value: Any) -> Quantity | None:
    if value is None:
        return None
    try:
        return quantity.parse(value)
    except ValueError:
        return None


def _limit_ranges(namespace: str, reader: Reader) -> list[dict]:
    ranges = reader.list("v1", "LimitRange", namespace)
    return sorted(ranges, key=lambda lr: (lr.get("metadata") or {}).get("name") or "")


def _containers(spec: dict) -> list[tuple[str, dict]]:
    return [
        (label, c)
        for key, label in (("containers", "container"), ("initContainers", "init container"))
        for c in spec.get(key) or []
        if isinstance(c, dict)
    ]


def _merge_defaults(pod: dict, item: dict) -> list[str]:
    """Fill missing limits/requests from a Container LimitRange item; what was set, in words."""
    notes: list[str] = []
    for label, container in _containers(pod.get("spec") or {}):
        resources = container.setdefault("resources", {})
        set_requests, set_limits = [], []
        for part, source, record in (
            ("limits", item.get("default") or {}, set_limits),
            ("requests", item.get("defaultRequest") or {}, set_requests),
        ):
            for name, value in source.items():
                current = resources.setdefault(part, {})
                if name not in current:
                    current[name] = quantity.canonical(value)
                    record.append(name)
            if not resources.get(part):
                resources.pop(part, None)
        if set_requests:
            notes.append(
                f"{', '.join(sorted(set_requests))} request for {label} {container.get('name')}"
            )
        if set_limits:
            notes.append(
                f"{', '.join(sorted(set_limits))} limit for {label} {container.get('name')}"
            )
    return notes


def _enforced_checks(
    limit_type: str, item: dict, requests: dict, limits: dict, request_only: bool = False
) -> list[str]:
    errors: list[str] = []
    for name, value in sorted((item.get("min") or {}).items()):
        errors.extend(_min_constraint(limit_type, name, value, requests, limits))
    for name, value in sorted((item.get("max") or {}).items()):
        if request_only:
            errors.extend(_max_request_constraint(limit_type, name, value, requests))
        else:
            errors.extend(_max_constraint(limit_type, name, value, requests, limits))
    for name, value in sorted((item.get("maxLimitRequestRatio") or {}).items()):
        errors.extend(_ratio_constraint(limit_type, name, value, requests, limits))
    return errors


def _min_constraint(kind: str, name: str, enforced: Any, requests: dict, limits: dict) -> list:
    floor = quantity.parse(enforced)
    request, limit = _quantity(requests.get(name)), _quantity(limits.get(name))
    if request is None:
        return [f"minimum {name} usage per {kind} is {floor}.  No request is specified"]
    if request.value < floor.value:
        return [f"minimum {name} usage per {kind} is {floor}, but request is {request}"]
    if limit is not None and limit.value < floor.value:
        return [f"minimum {name} usage per {kind} is {floor}, but limit is {limit}"]
    return []


def _max_constraint(kind: str, name: str, enforced: Any, requests: dict, limits: dict) -> list:
    ceiling = quantity.parse(enforced)
    request, limit = _quantity(requests.get(name)), _quantity(limits.get(name))
    if limit is None:
        return [f"maximum {name} usage per {kind} is {ceiling}.  No limit is specified"]
    if limit.value > ceiling.value:
        return [f"maximum {name} usage per {kind} is {ceiling}, but limit is {limit}"]
    if request is not None and request.value > ceiling.value:
        return [f"maximum {name} usage per {kind} is {ceiling}, but request is {request}"]
    return []


def _max_request_constraint(kind: str, name: str, enforced: Any, requests: dict) -> list:
    ceiling = quantity.parse(enforced)
    request = _quantity(requests.get(name))
    if request is None:
        return [f"maximum {name} usage per {kind} is {ceiling}.  No request is specified"]
    if request.value > ceiling.value:
        return [f"maximum {name} usage per {kind} is {ceiling}, but request is {request}"]
    return []


def _ratio_constraint(kind: str, name: str, enforced: Any, requests: dict, limits: dict) -> list:
    ratio = quantity.parse(enforced)
    request, limit = _quantity(requests.get(name)), _quantity(limits.get(name))
    prefix = f"{name} max limit to request ratio per {kind} is {ratio}"
    if request is None or request.value == 0:
        return [f"{prefix}, but no request is specified or request is 0"]
    if limit is None or limit.value == 0:
        return [f"{prefix}, but no limit is specified or limit is 0"]
    observed = limit.value / request.value
    if observed > ratio.value:
        # Go's %f: six decimals.
        return [f"{prefix}, but provided ratio is {float(observed):f}"]
    return []


def _limit_ranger(obj: dict, namespace: str, reader: Reader) -> None:
    ranges = _limit_ranges(namespace, reader)
    if not ranges:
        return
    kind = obj.get("kind")
    if kind == "Pod":
        for limit_range in ranges:
            notes: list[str] = []
            for item in (limit_range.get("spec") or {}).get("limits") or []:
                if item.get("type") == "Container":
                    notes.extend(_merge_defaults(obj, item))
            if notes:
                annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
                annotations[LIMIT_RANGER_ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)
    errors: list[str] = []
    for limit_range in ranges:
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            errors.extend(_check_item(obj, item))
    if errors:
        raise Forbidden(obj, aggregate(errors))


def _check_item(obj: dict, item: dict) -> list[str]:
    limit_type = item.get("type")
    spec = obj.get("spec") or {}
    if obj.get("kind") == "PersistentVolumeClaim":
        if limit_type != "PersistentVolumeClaim":
            return []
        requests = (spec.get("resources") or {}).get("requests") or {}
        return _enforced_checks(limit_type, item, requests, {}, request_only=True)
    if limit_type == "Container":
        errors = []
        for _label, container in _containers(spec):
            resources = container.get("resources") or {}
            errors.extend(
                _enforced_checks(
                    limit_type, item, resources.get("requests") or {}, resources.get("limits") or {}
                )
            )
        return errors
    if limit_type == "Pod":
        requests = {k: str(v) for k, v in pod_requests(obj, "requests").items()}
        limits = {k: str(v) for k, v in pod_requests(obj, "limits").items()}
        return _enforced_checks(limit_type, item, requests, limits)
    return []


# --- pod resource totals ----------------------------------------------------------------------


def _add(total: dict[str, Quantity], extra: dict[str, Quantity]) -> dict[str, Quantity]:
    result = dict(total)
    for name, value in extra.items():
        result[name] = result[name] + value if name in result else value
    return result


def _max(a: dict[str, Quantity], b: dict[str, Quantity]) -> dict[str, Quantity]:
    result = dict(a)
    for name, value in b.items():
        if name not in result or value.value > result[name].value:
            result[name] = value
    return result


def _container_values(container: dict, part: str) -> dict[str, Quantity]:
    values = (container.get("resources") or {}).get(part) or {}
    parsed = {name: _quantity(v) for name, v in values.items()}
    return {name: q for name, q in parsed.items() if q is not None}


def pod_requests(pod: dict, part: str = "requests") -> dict[str, Quantity]:
    """A pod's effective requests (or limits): containers plus sidecars, or the largest init
    container if that is more, plus the pod overhead (`resourcehelper.PodRequests`)."""
    spec = pod.get("spec") or {}
    total: dict[str, Quantity] = {}
    for container in spec.get("containers") or []:
        total = _add(total, _container_values(container, part))
    sidecars: dict[str, Quantity] = {}
    init_peak: dict[str, Quantity] = {}
    for container in spec.get("initContainers") or []:
        values = _container_values(container, part)
        if container.get("restartPolicy") == "Always":
            total = _add(total, values)
            sidecars = _add(sidecars, values)
            values = sidecars
        else:
            values = _add(values, sidecars)
        init_peak = _max(init_peak, values)
    total = _max(total, init_peak)
    overhead = {k: q for k, v in (spec.get("overhead") or {}).items() if (q := _quantity(v))}
    return _add(total, overhead) if overhead else total


# --- ResourceQuota ----------------------------------------------------------------------------

# Resource names a pod's compute usage is reported under (podComputeUsageHelper).
COMPUTE_NAMES = {
    "cpu": (("requests", "cpu"), ("requests", "requests.cpu"), ("limits", "limits.cpu")),
    "memory": (
        ("requests", "memory"),
        ("requests", "requests.memory"),
        ("limits", "limits.memory"),
    ),
    "ephemeral-storage": (
        ("requests", "ephemeral-storage"),
        ("requests", "requests.ephemeral-storage"),
        ("limits", "limits.ephemeral-storage"),
    ),
}
# The names for which every container must state a value once a quota tracks them.
CONSTRAINED = ("cpu", "limits.cpu", "limits.memory", "memory", "requests.cpu", "requests.memory")
ONE = Quantity(quantity.parse_quantity(1))

# Group versions used to list the objects `count/<resource>.<group>` counts.
GROUP_VERSIONS = {
    "": "v1",
    "apps": "apps/v1",
    "batch": "batch/v1",
    "networking.k8s.io": "networking.k8s.io/v1",
    "autoscaling": "autoscaling/v2",
    "storage.k8s.io": "storage.k8s.io/v1",
    "rbac.authorization.k8s.io": "rbac.authorization.k8s.io/v1",
    "policy": "policy/v1",
    "discovery.k8s.io": "discovery.k8s.io/v1",
}
KIND_GROUPS = {
    "Deployment": "apps",
    "ReplicaSet": "apps",
    "StatefulSet": "apps",
    "DaemonSet": "apps",
    "ControllerRevision": "apps",
    "Job": "batch",
    "CronJob": "batch",
    "Ingress": "networking.k8s.io",
    "EndpointSlice": "discovery.k8s.io",
    "IngressClass": "networking.k8s.io",
    "NetworkPolicy": "networking.k8s.io",
    "HorizontalPodAutoscaler": "autoscaling",
    "StorageClass": "storage.k8s.io",
    "Role": "rbac.authorization.k8s.io",
    "RoleBinding": "rbac.authorization.k8s.io",
    "ClusterRole": "rbac.authorization.k8s.io",
    "ClusterRoleBinding": "rbac.authorization.k8s.io",
    "PodDisruptionBudget": "policy",
}
# Core kinds with a legacy quota name besides `count/<resource>`.
LEGACY_COUNTS = {
    "Pod": None,  # `pods` only counts live pods, see _pod_usage
    "Service": "services",
    "ConfigMap": "configmaps",
    "Secret": "secrets",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "ReplicationController": "replicationcontrollers",
    "ResourceQuota": "resourcequotas",
}


def _count_name(kind: str, group: str) -> str:
    resource = resource_of(kind)
    return f"count/{resource}.{group}" if group else f"count/{resource}"


def _kind_for_count(name: str) -> tuple[str, str] | None:
    """`count/deployments.apps` → (`apps/v1`, `Deployment`)."""
    resource, _, group = name.removeprefix("count/").partition(".")
    for kind, plural in RESOURCES.items():
        if plural == resource and KIND_GROUPS.get(kind, "") == group and group in GROUP_VERSIONS:
            return GROUP_VERSIONS[group], kind
    return None


def _pod_is_live(pod: dict, now: datetime) -> bool:
    """Terminal pods, and pods past their deletion grace period, stop counting."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    meta = pod.get("metadata") or {}
    deleted, grace = meta.get("deletionTimestamp"), meta.get("deletionGracePeriodSeconds")
    if deleted and grace is not None:
        try:
            when = datetime.fromisoformat(deleted.replace("Z", "+00:00"))
        except ValueError:
            return True
        return now <= when + timedelta(seconds=grace)
    return True


def _pod_usage(pod: dict, now: datetime) -> dict[str, Quantity]:
    usage = {"count/pods": ONE}
    if not _pod_is_live(pod, now):
        return usage
    usage["pods"] = ONE
    parts = {"requests": pod_requests(pod, "requests"), "limits": pod_requests(pod, "limits")}
    for resource, names in COMPUTE_NAMES.items():
        for part, name in names:
            if resource in parts[part]:
                usage[name] = parts[part][resource]
    for name, value in parts["requests"].items():
        if name.startswith("hugepages-"):
            usage[name] = value
            usage[f"requests.{name}"] = value
        elif "/" in name and not name.startswith("kubernetes.io/"):
            usage[f"requests.{name}"] = value
    return usage


def _service_usage(svc: dict) -> dict[str, Quantity]:
    spec = svc.get("spec") or {}
    usage = {"count/services": ONE, "services": ONE}
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    if spec.get("type") == "NodePort":
        usage["services.nodeports"] = Quantity(quantity.parse_quantity(len(ports)))
    elif spec.get("type") == "LoadBalancer":
        counted = ports
        if spec.get("allocateLoadBalancerNodePorts") is False:
            counted = [p for p in ports if p.get("nodePort")]
        usage["services.nodeports"] = Quantity(quantity.parse_quantity(len(counted)))
        usage["services.loadbalancers"] = ONE
    return usage


def _pvc_usage(pvc: dict) -> dict[str, Quantity]:
    usage = {"count/persistentvolumeclaims": ONE, "persistentvolumeclaims": ONE}
    class_name = storage_class_name(pvc)
    if class_name:
        usage[f"{class_name}.storageclass.storage.k8s.io/persistentvolumeclaims"] = ONE
    storage = _storage_request(pvc)
    allocated = _quantity(
        ((pvc.get("status") or {}).get("allocatedResources") or {}).get("storage")
    )
    if allocated is not None and (storage is None or allocated.value > storage.value):
        storage = allocated
    if storage is not None:
        usage["requests.storage"] = storage
        if class_name:
            usage[f"{class_name}.storageclass.storage.k8s.io/requests.storage"] = storage
    return usage


def usage_of(obj: dict, now: datetime | None = None) -> dict[str, Quantity]:
    """What one object charges against quota, by quota resource name."""
    kind = obj.get("kind", "")
    group = group_of(obj.get("apiVersion", ""))
    if (group, kind) == ("", "Pod"):
        return _pod_usage(obj, now or datetime.now(UTC))
    if (group, kind) == ("", "Service"):
        return _service_usage(obj)
    if (group, kind) == ("", "PersistentVolumeClaim"):
        return _pvc_usage(obj)
    usage = {_count_name(kind, group): ONE}
    legacy = LEGACY_COUNTS.get(kind) if not group else None
    if legacy:
        usage[legacy] = ONE
    return usage


# Kinds whose updates the quota evaluator re-measures; for the rest only creation is charged.
UPDATE_CHARGED = {("", "Service"), ("", "PersistentVolumeClaim")}


def _scope_matches(quota: dict, obj: dict) -> bool:
    spec = quota.get("spec") or {}
    scopes = list(spec.get("scopes") or [])
    expressions = (spec.get("scopeSelector") or {}).get("matchExpressions") or []
    if not scopes and not expressions:
        return True
    if obj.get("kind") != "Pod" or group_of(obj.get("apiVersion", "")):
        return False
    pod_spec = obj.get("spec") or {}
    best_effort = qos_class(pod_spec) == "BestEffort"
    terminating = pod_spec.get("activeDeadlineSeconds") is not None
    checks = {
        "BestEffort": best_effort,
        "NotBestEffort": not best_effort,
        "Terminating": terminating,
        "NotTerminating": not terminating,
    }
    for scope in scopes:
        if not checks.get(scope, True):
            return False
    for expr in expressions:
        name, op, values = expr.get("scopeName"), expr.get("operator"), expr.get("values") or []
        if name in checks:
            wanted = op != "DoesNotExist"
            if checks[name] != wanted:
                return False
        elif name == "PriorityClass":
            priority = pod_spec.get("priorityClassName") or ""
            ok = {
                "In": priority in values,
                "NotIn": priority not in values,
                "Exists": bool(priority),
                "DoesNotExist": not priority,
            }.get(op, True)
            if not ok:
                return False
    return True


def _kinds_for(hard: Iterable[str]) -> set[tuple[str, str]]:
    """Which (apiVersion, kind) lists a quota with these resource names must read."""
    kinds: set[tuple[str, str]] = set()
    for name in hard:
        if name in ("services", "services.nodeports", "services.loadbalancers"):
            kinds.add(("v1", "Service"))
        elif name in ("persistentvolumeclaims", "requests.storage") or (
            ".storageclass.storage.k8s.io/" in name
        ):
            kinds.add(("v1", "PersistentVolumeClaim"))
        elif name.startswith("count/"):
            found = _kind_for_count(name)
            if found:
                kinds.add(found)
        elif name in ("configmaps", "secrets", "replicationcontrollers", "resourcequotas"):
            kinds.add(("v1", {v: k for k, v in LEGACY_COUNTS.items() if v}[name]))
        else:
            kinds.add(("v1", "Pod"))
    return kinds


def _hard(quota: dict) -> dict[str, Quantity]:
    hard = (quota.get("status") or {}).get("hard") or (quota.get("spec") or {}).get("hard") or {}
    parsed = {name: _quantity(v) for name, v in hard.items()}
    return {name: q for name, q in parsed.items() if q is not None}


def _used(quota: dict, reader: Reader, now: datetime) -> dict[str, Quantity]:
    hard = _hard(quota)
    namespace = (quota.get("metadata") or {}).get("namespace")
    used = {name: Quantity(quantity.parse_quantity(0)) for name in hard}
    for api_version, kind in sorted(_kinds_for(hard)):
        for item in reader.list(api_version, kind, namespace):
            if not _scope_matches(quota, item):
                continue
            for name, value in usage_of(item, now).items():
                if name in used:
                    used[name] = used[name] + value
    return used


def quota_usage(quota: dict, reader: Reader, now: datetime | None = None) -> dict[str, str]:
    """`status.used` for one ResourceQuota, as the quota controller would write it at `now`
    (the cluster's simulated time)."""
    used = _used(quota, reader, now or datetime.now(UTC))
    return {name: str(value) for name, value in used.items()}


def _pretty(values: dict[str, Quantity]) -> str:
    return ",".join(f"{name}={values[name]}" for name in sorted(values))


def _missing_constraints(pod: dict, tracked: set[str]) -> str | None:
    """`podEvaluator.Constraints`: a tracked cpu/memory value every container must state."""
    required = tracked & set(CONSTRAINED)
    missing: dict[str, set[str]] = {}
    for _label, container in _containers(pod.get("spec") or {}):
        requests = _container_values(container, "requests")
        limits = _container_values(container, "limits")
        stated = set()
        for resource, names in COMPUTE_NAMES.items():
            for part, name in names:
                if resource in (requests if part == "requests" else limits):
                    stated.add(name)
        for name in required - stated:
            missing.setdefault(name, set()).add(container.get("name") or "")
    if not missing:
        return None
    parts = [f"{name} for: {','.join(sorted(missing[name]))}" for name in sorted(missing)]
    return "must specify " + "; ".join(parts)


def _resource_quota(
    obj: dict, old: dict | None, namespace: str, reader: Reader, now: datetime
) -> None:
    kind = obj.get("kind", "")
    group = group_of(obj.get("apiVersion", ""))
    if old is not None and (group, kind) not in UPDATE_CHARGED:
        return
    quotas = [
        q
        for q in sorted(
            reader.list("v1", "ResourceQuota", namespace),
            key=lambda q: (q.get("metadata") or {}).get("name") or "",
        )
        if _scope_matches(q, obj)
    ]
    if not quotas:
        return
    if (group, kind) == ("", "Pod"):
        for quota in quotas:
            problem = _missing_constraints(obj, set(_hard(quota)))
            if problem:
                name = (quota.get("metadata") or {}).get("name")
                raise Forbidden(obj, f"failed quota: {name}: {problem}")
    delta = usage_of(obj, now)
    if old is not None:
        before = usage_of(old, now)
        delta = {
            name: value - before[name] if name in before else value for name, value in delta.items()
        }
        delta = {name: value for name, value in delta.items() if value.value > 0}
    delta = {name: value for name, value in delta.items() if value.value != 0}
    if not delta:
        return
    for quota in quotas:
        hard = _hard(quota)
        requested = {name: value for name, value in delta.items() if name in hard}
        if not requested:
            continue
        used = _used(quota, reader, now)
        exceeded = sorted(
            name
            for name, value in requested.items()
            if (used[name] + value).value > hard[name].value
        )
        if exceeded:
            name = (quota.get("metadata") or {}).get("name")
            raise Forbidden(
                obj,
                f"exceeded quota: {name}, "
                f"requested: {_pretty({n: requested[n] for n in exceeded})}, "
                f"used: {_pretty({n: used[n] for n in exceeded})}, "
                f"limited: {_pretty({n: hard[n] for n in exceeded})}",
            )
