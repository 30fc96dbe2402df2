"""How Kubernetes merges each list and map of the built-in kinds (package-private).

Strategic merge patch and server-side apply both need, for a field of a kind, the
answer the Go struct tags give on a real apiserver: `patchStrategy`/`patchMergeKey`
(strategic merge patch) and `+listType`/`+listMapKey`/`+mapType`/`+structType`
(server-side apply). The table below is written by hand from the Kubernetes 1.32
definitions, as path patterns per kind: a path names fields joined by dots, `[]`
steps into the items of a list (`spec.template.spec.containers[].ports`). Fragments
(object metadata, pod spec, container, volume) are written once and mounted under
every kind that embeds them. tests/kubesim/test_patch.py checks the table against
the OpenAPI definitions kubesim serves.

Anything not in the table is what Kubernetes does by default: a list is replaced
as a whole (strategic merge) and atomic (apply); a map is merged key by key.
Tolerations and node taints are such lists: Kubernetes has no merge key for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache


@dataclass(frozen=True)
class ListRule:
    """How one list field merges.

    smp: "merge" or "replace" (strategic merge patch); smp_key: its patchMergeKey
    (None for a list of scalars merged as a set); retain_keys: the `retainKeys`
    strategy; ssa: "map", "set" or "atomic" (server-side apply's listType);
    keys: the listMapKeys; defaults: key fields' defaults, used to key an item
    that leaves them out (a port without protocol is a TCP port).
    """

    smp: str = "replace"
    smp_key: str | None = None
    retain_keys: bool = False
    ssa: str = "atomic"
    keys: tuple[str, ...] = ()
    defaults: tuple[tuple[str, object], ...] = field(default=())


ATOMIC_LIST = ListRule()
ATOMIC = "atomic"  # a map or struct that server-side apply treats as one value
SET = ListRule(smp="merge", ssa="set")
SSA_SET = ListRule(ssa="set")  # listType=set without a strategic merge strategy


def keyed(*keys: str, merge_key: str | None = None, retain: bool = False, smp: bool = True):
    """A list of objects keyed by `keys` (its first key is the patch merge key)."""
    defaults = (("protocol", "TCP"),) if "protocol" in keys else ()
    return ListRule(
        smp="merge" if smp else "replace",
        smp_key=(merge_key or keys[0]) if smp else None,
        retain_keys=retain,
        ssa="map",
        keys=keys,
        defaults=defaults,
    )


def merge_only(key: str) -> ListRule:
    """Strategic merge by `key`, but atomic for apply (Job conditions, pod hostIPs)."""
    return ListRule(smp="merge", smp_key=key, ssa="atomic")


def _under(prefix: str, fragment: dict) -> dict:
    return {f"{prefix}.{path}" if path else prefix: rule for path, rule in fragment.items()}


OBJECT_META = {
    "finalizers": SET,
    "ownerReferences": keyed("uid"),
    "ownerReferences[]": ATOMIC,
}

CONTAINER = {
    "env": keyed("name"),
    "env[].valueFrom.configMapKeyRef": ATOMIC,
    "env[].valueFrom.fieldRef": ATOMIC,
    "env[].valueFrom.resourceFieldRef": ATOMIC,
    "env[].valueFrom.secretKeyRef": ATOMIC,
    "ports": keyed("containerPort", "protocol"),
    "resources.claims": keyed("name", smp=False),
    "volumeDevices": keyed("devicePath"),
    "volumeMounts": keyed("mountPath"),
}

PVC_SPEC = {"dataSource": ATOMIC, "selector": ATOMIC}

VOLUME = {
    "cephfs.secretRef": ATOMIC,
    "cinder.secretRef": ATOMIC,
    "csi.nodePublishSecretRef": ATOMIC,
    "downwardAPI.items[].fieldRef": ATOMIC,
    "downwardAPI.items[].resourceFieldRef": ATOMIC,
    **_under("ephemeral.volumeClaimTemplate.metadata", OBJECT_META),
    **_under("ephemeral.volumeClaimTemplate.spec", PVC_SPEC),
    "flexVolume.secretRef": ATOMIC,
    "iscsi.secretRef": ATOMIC,
    "projected.sources[].clusterTrustBundle.labelSelector": ATOMIC,
    "projected.sources[].downwardAPI.items[].fieldRef": ATOMIC,
    "projected.sources[].downwardAPI.items[].resourceFieldRef": ATOMIC,
    "rbd.secretRef": ATOMIC,
    "scaleIO.secretRef": ATOMIC,
    "storageos.secretRef": ATOMIC,
}

_NODE_AFFINITY = "affinity.nodeAffinity."
_POD_AFFINITY_TERMS = {
    f"affinity.{kind}.{term}.{selector}": ATOMIC
    for kind in ("podAffinity", "podAntiAffinity")
    for term in (
        "preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm",
        "requiredDuringSchedulingIgnoredDuringExecution[]",
    )
    for selector in ("labelSelector", "namespaceSelector")
}

POD_SPEC = {
    **{name: keyed("name") for name in ("containers", "initContainers", "ephemeralContainers")},
    **_under("containers[]", CONTAINER),
    **_under("initContainers[]", CONTAINER),
    **_under("ephemeralContainers[]", CONTAINER),
    _NODE_AFFINITY + "preferredDuringSchedulingIgnoredDuringExecution[].preference": ATOMIC,
    _NODE_AFFINITY + "requiredDuringSchedulingIgnoredDuringExecution": ATOMIC,
    _NODE_AFFINITY + "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[]": ATOMIC,
    **_POD_AFFINITY_TERMS,
    "hostAliases": keyed("ip"),
    "imagePullSecrets": keyed("name"),
    "imagePullSecrets[]": ATOMIC,
    "nodeSelector": ATOMIC,
    "resourceClaims": keyed("name", retain=True),
    "resources.claims": keyed("name", smp=False),
    "schedulingGates": keyed("name"),
    "topologySpreadConstraints": keyed("topologyKey", "whenUnsatisfiable"),
    "topologySpreadConstraints[].labelSelector": ATOMIC,
    "volumes": keyed("name", retain=True),
    **_under("volumes[]", VOLUME),
}

POD_TEMPLATE = {**_under("metadata", OBJECT_META), **_under("spec", POD_SPEC)}

CONDITIONS = {"conditions": keyed("type")}

POD_STATUS = {
    **CONDITIONS,
    "hostIPs": merge_only("ip"),
    "podIPs": keyed("ip"),
    "resourceClaimStatuses": keyed("name", retain=True),
}

WORKLOAD = {"spec.selector": ATOMIC, "spec.template": POD_TEMPLATE, "status": CONDITIONS}

JOB_SPEC = {
    "podFailurePolicy.rules[].onExitCodes.values": SSA_SET,
    "selector": ATOMIC,
    **_under("template", POD_TEMPLATE),
}

# Per (group, kind): path prefix -> fragment (or a single rule). Every kind also gets
# OBJECT_META under "metadata".
KINDS: dict[tuple[str, str], dict] = {
    ("", "Pod"): {"spec": POD_SPEC, "status": POD_STATUS},
    ("", "PodTemplate"): {"template": POD_TEMPLATE},
    ("", "ReplicationController"): {
        "spec.selector": ATOMIC,
        "spec.template": POD_TEMPLATE,
        "status": CONDITIONS,
    },
    ("", "Namespace"): {"status": CONDITIONS},
    ("apiregistration.k8s.io", "APIService"): {"status": CONDITIONS},
    ("", "Node"): {
        "spec.podCIDRs": SET,
        "status": {**CONDITIONS, "addresses": keyed("type")},
    },
    ("", "Service"): {
        "spec.ports": keyed("port", "protocol"),
        "spec.selector": ATOMIC,
        "status": CONDITIONS,
    },
    ("", "ServiceAccount"): {
        "imagePullSecrets[]": ATOMIC,
        "secrets": keyed("name"),
        "secrets[]": ATOMIC,
    },
    ("", "PersistentVolume"): {
        "spec": {
            **{f"{source}.secretRef": ATOMIC for source in ("cephfs", "cinder", "flexVolume")},
            **{
                f"{source}.secretRef": ATOMIC for source in ("iscsi", "rbd", "scaleIO", "storageos")
            },
            "claimRef": ATOMIC,
            **{
                f"csi.{ref}": ATOMIC
                for ref in (
                    "controllerExpandSecretRef",
                    "controllerPublishSecretRef",
                    "nodeExpandSecretRef",
                    "nodePublishSecretRef",
                    "nodeStageSecretRef",
                )
            },
            "nodeAffinity.required": ATOMIC,
        }
    },
    ("", "PersistentVolumeClaim"): {"spec": PVC_SPEC, "status": CONDITIONS},
    ("", "ResourceQuota"): {"spec.scopeSelector": ATOMIC},
    ("", "Event"): {"involvedObject": ATOMIC, "related": ATOMIC},
    ("apps", "Deployment"): WORKLOAD,
    ("apps", "ReplicaSet"): WORKLOAD,
    ("apps", "DaemonSet"): WORKLOAD,
    ("apps", "StatefulSet"): {
        **WORKLOAD,
        "spec.volumeClaimTemplates[].metadata": OBJECT_META,
        "spec.volumeClaimTemplates[].spec": PVC_SPEC,
        "spec.volumeClaimTemplates[].status": CONDITIONS,
    },
    ("batch", "Job"): {
        "spec": JOB_SPEC,
        "status": {
            "conditions": merge_only("type"),
            "uncountedTerminatedPods.failed": SSA_SET,
            "uncountedTerminatedPods.succeeded": SSA_SET,
        },
    },
    ("batch", "CronJob"): {
        "spec.jobTemplate.metadata": OBJECT_META,
        "spec.jobTemplate.spec": JOB_SPEC,
    },
    ("networking.k8s.io", "Ingress"): {
        "spec.defaultBackend.resource": ATOMIC,
        "spec.defaultBackend.service.port": ATOMIC,
        "spec.rules[].http.paths[].backend.resource": ATOMIC,
        "spec.rules[].http.paths[].backend.service.port": ATOMIC,
    },
    ("networking.k8s.io", "NetworkPolicy"): {
        "spec.podSelector": ATOMIC,
        **{
            f"spec.{direction}[].{peer}[].{selector}": ATOMIC
            for direction, peer in (("ingress", "from"), ("egress", "to"))
            for selector in ("namespaceSelector", "podSelector")
        },
    },
    ("storage.k8s.io", "StorageClass"): {"allowedTopologies[]": ATOMIC},
    ("autoscaling", "HorizontalPodAutoscaler"): {
        "spec.scaleTargetRef": ATOMIC,
        **{
            f"{part}[].{source}.metric.selector": ATOMIC
            for part in ("spec.metrics", "status.currentMetrics")
            for source in ("external", "object", "pods")
        },
        "status": CONDITIONS,
    },
    ("rbac.authorization.k8s.io", "RoleBinding"): {"roleRef": ATOMIC, "subjects[]": ATOMIC},
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): {
        "roleRef": ATOMIC,
        "subjects[]": ATOMIC,
    },
    ("rbac.authorization.k8s.io", "ClusterRole"): {
        "aggregationRule.clusterRoleSelectors[]": ATOMIC
    },
    ("apiextensions.k8s.io", "CustomResourceDefinition"): {
        "status.conditions": keyed("type", smp=False),
    },
    ("policy", "PodDisruptionBudget"): {"spec.selector": ATOMIC, "status": CONDITIONS},
    ("events.k8s.io", "Event"): {"regarding": ATOMIC, "related": ATOMIC},
}

# Groups served by the apiserver itself. Strategic merge patch needs the Go types, so
# Kubernetes refuses it (415) for everything else: custom resources.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    }
)


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def supports_strategic(api_version: str, kind: str) -> bool:
    """Whether Kubernetes accepts a strategic merge patch for this kind (not for CRs)."""
    return group_of(api_version or "") in BUILTIN_GROUPS


def _flatten(prefix: str, node, out: dict) -> None:
    if isinstance(node, dict):
        for path, child in node.items():
            _flatten(f"{prefix}.{path}" if prefix else path, child, out)
    else:
        out[prefix] = node


@dataclass(frozen=True)
class Schema:
    """The merge rules of one kind, looked up by schema path (`spec.ports[].name`)."""

    builtin: bool
    rules: dict = field(default_factory=dict)

    def list_rule(self, spath: str) -> ListRule:
        rule = self.rules.get(spath)
        return rule if isinstance(rule, ListRule) else ATOMIC_LIST

    def atomic_map(self, spath: str) -> bool:
        return self.rules.get(spath) == ATOMIC


@cache
def schema_for(api_version: str, kind: str) -> Schema:
    group = group_of(api_version or "")
    builtin = group in BUILTIN_GROUPS
    rules: dict = {}
    if builtin:
        _flatten("metadata", OBJECT_META, rules)
        _flatten("", KINDS.get((group, kind), {}), rules)
    return Schema(builtin=builtin, rules=rules)


def child_path(spath: str, name: str) -> str:
    return f"{spath}.{name}" if spath else name
