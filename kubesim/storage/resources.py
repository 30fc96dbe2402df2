"""The resource registry: which kinds a cluster serves, and its discovery documents.

Each cluster owns a `Registry` holding the built-in resources plus the custom resources
its CustomResourceDefinitions declare. Objects are stored by `(group, plural)`, so every
served version of a resource shares one storage (kubesim does no version conversion beyond
rewriting `apiVersion`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_COLLECTION = ("create", "delete", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")

# Field labels every kind supports; per-kind extras are listed with the kind.
COMMON_FIELDS = frozenset({"metadata.name", "metadata.namespace"})


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None  # set when the subresource's kind lives in another group
    version: str | None = None


@dataclass
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[Subresource, ...] = ()
    fields: frozenset[str] = frozenset()
    # metadata.generation moves on spec changes (workloads, CRDs, custom resources)
    tracks_generation: bool = False
    custom: bool = False
    # DELETE answers the deleted object rather than a Status (the apiserver's
    # ReturnDeletedObject, set for these core kinds)
    returns_deleted: bool = False
    # a create-only review (access reviews, whoami): answered, never stored
    review: bool = False
    # custom resources: scale subresource paths from the CRD
    scale_paths: dict | None = None
    # custom resources: the CRD version's additionalPrinterColumns (for Table output)
    printer_columns: list[dict] = field(default_factory=list)
    singular: str = ""
    other_versions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.singular:
            self.singular = self.kind.lower()

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.plural)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def has_status(self) -> bool:
        return any(s.name == "status" for s in self.subresources)

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None

    def allows_field(self, name: str) -> bool:
        return name in COMMON_FIELDS or name in self.fields


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, STATUS_VERBS)


_SCALE = Subresource("scale", "Scale", STATUS_VERBS, "autoscaling", "v1")

_POD_FIELDS = frozenset(
    {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    }
)
_EVENT_FIELDS = frozenset(
    {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    }
)


_RETURNS_DELETED = {
    "pods",
    "services",
    "serviceaccounts",
    "resourcequotas",
    "persistentvolumes",
    "persistentvolumeclaims",
}


def _builtin() -> list[ResourceType]:
    types = _builtin_types()
    for rt in types:
        rt.returns_deleted = rt.group == "" and rt.plural in _RETURNS_DELETED
    return types


def _builtin_types() -> list[ResourceType]:
    R = ResourceType
    return [
        # core/v1
        R(
            "",
            "v1",
            "Namespace",
            "namespaces",
            False,
            ("ns",),
            verbs=NO_COLLECTION,
            subresources=(
                Subresource("finalize", "Namespace", ("update",)),
                _status("Namespace"),
            ),
            fields=frozenset({"status.phase"}),
        ),
        R(
            "",
            "v1",
            "Node",
            "nodes",
            False,
            ("no",),
            subresources=(
                Subresource(
                    "proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")
                ),
                _status("Node"),
            ),
            fields=frozenset({"spec.unschedulable"}),
        ),
        R(
            "",
            "v1",
            "Pod",
            "pods",
            True,
            ("po",),
            ("all",),
            subresources=(
                Subresource("attach", "PodAttachOptions", ("create", "get")),
                Subresource("binding", "Binding", ("create",)),
                Subresource("ephemeralcontainers", "Pod", STATUS_VERBS),
                Subresource("eviction", "Eviction", ("create",), "policy", "v1"),
                Subresource("exec", "PodExecOptions", ("create", "get")),
                Subresource("log", "Pod", ("get",)),
                Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
                Subresource(
                    "proxy", "PodProxyOptions", ("create", "delete", "get", "patch", "update")
                ),
                _status("Pod"),
            ),
            fields=_POD_FIELDS,
        ),
        R(
            "",
            "v1",
            "Service",
            "services",
            True,
            ("svc",),
            ("all",),
            subresources=(
                Subresource(
                    "proxy", "ServiceProxyOptions", ("create", "delete", "get", "patch", "update")
                ),
                _status("Service"),
            ),
        ),
        R("", "v1", "Endpoints", "endpoints", True, ("ep",), singular="endpoints"),
        # discovery.k8s.io/v1
        R("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
        R("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
        R("", "v1", "Secret", "secrets", True, fields=frozenset({"type"})),
        R(
            "",
            "v1",
            "ServiceAccount",
            "serviceaccounts",
            True,
            ("sa",),
            subresources=(
                Subresource("token", "TokenRequest", ("create",), "authentication.k8s.io", "v1"),
            ),
        ),
        R(
            "",
            "v1",
            "PersistentVolume",
            "persistentvolumes",
            False,
            ("pv",),
            subresources=(_status("PersistentVolume"),),
        ),
        R(
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            True,
            ("pvc",),
            subresources=(_status("PersistentVolumeClaim"),),
        ),
        R(
            "",
            "v1",
            "ResourceQuota",
            "resourcequotas",
            True,
            ("quota",),
            subresources=(_status("ResourceQuota"),),
        ),
        R("", "v1", "LimitRange", "limitranges", True, ("limits",)),
        R(
            "",
            "v1",
            "ReplicationController",
            "replicationcontrollers",
            True,
            ("rc",),
            ("all",),
            subresources=(_SCALE, _status("ReplicationController")),
            tracks_generation=True,
            fields=frozenset({"status.replicas"}),
        ),
        R("", "v1", "Event", "events", True, ("ev",), fields=_EVENT_FIELDS),
        # apps/v1
        R(
            "apps",
            "v1",
            "Deployment",
            "deployments",
            True,
            ("deploy",),
            ("all",),
            subresources=(_SCALE, _status("Deployment")),
            tracks_generation=True,
        ),
        R(
            "apps",
            "v1",
            "ReplicaSet",
            "replicasets",
            True,
            ("rs",),
            ("all",),
            subresources=(_SCALE, _status("ReplicaSet")),
            tracks_generation=True,
            fields=frozenset({"status.replicas"}),
        ),
        R(
            "apps",
            "v1",
            "StatefulSet",
            "statefulsets",
            True,
            ("sts",),
            ("all",),
            subresources=(_SCALE, _status("StatefulSet")),
            tracks_generation=True,
        ),
        R(
            "apps",
            "v1",
            "DaemonSet",
            "daemonsets",
            True,
            ("ds",),
            ("all",),
            subresources=(_status("DaemonSet"),),
            tracks_generation=True,
        ),
        R("apps", "v1", "ControllerRevision", "controllerrevisions", True),
        # batch/v1
        R(
            "batch",
            "v1",
            "Job",
            "jobs",
            True,
            (),
            ("all",),
            subresources=(_status("Job"),),
            tracks_generation=True,
            fields=frozenset({"status.successful"}),
        ),
        R(
            "batch",
            "v1",
            "CronJob",
            "cronjobs",
            True,
            ("cj",),
            ("all",),
            subresources=(_status("CronJob"),),
            tracks_generation=True,
        ),
        # networking.k8s.io/v1
        R(
            "networking.k8s.io",
            "v1",
            "Ingress",
            "ingresses",
            True,
            ("ing",),
            subresources=(_status("Ingress"),),
            tracks_generation=True,
        ),
        R("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
        # storage.k8s.io/v1
        R("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
        # policy/v1
        R(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            True,
            ("pdb",),
            subresources=(_status("PodDisruptionBudget"),),
            tracks_generation=True,
        ),
        # scheduling.k8s.io/v1: the built-in system-*-critical classes are created at start
        R("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ("pc",)),
        # apiregistration.k8s.io/v1: one local APIService per served group/version
        R(
            "apiregistration.k8s.io",
            "v1",
            "APIService",
            "apiservices",
            False,
            categories=("api-extensions",),
            subresources=(_status("APIService"),),
        ),
        # coordination.k8s.io/v1: leader election (kube-node-lease, controllers' own locks)
        R("coordination.k8s.io", "v1", "Lease", "leases", True),
        # metrics.k8s.io/v1beta1: computed from the simulated usage (kubesim.runtime.serving)
        R("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", False, verbs=("get", "list")),
        R("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", True, verbs=("get", "list")),
        # autoscaling/v2
        R(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            True,
            ("hpa",),
            ("all",),
            subresources=(_status("HorizontalPodAutoscaler"),),
        ),
        # rbac.authorization.k8s.io/v1
        R("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
        R("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
        R("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
        R("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
        # reviews (`kubectl auth can-i`, `auth whoami`), answered by kubesim/apiserver/rbac.py
        R(
            "authorization.k8s.io",
            "v1",
            "SubjectAccessReview",
            "subjectaccessreviews",
            False,
            verbs=("create",),
            review=True,
        ),
        R(
            "authorization.k8s.io",
            "v1",
            "LocalSubjectAccessReview",
            "localsubjectaccessreviews",
            True,
            verbs=("create",),
            review=True,
        ),
        R(
            "authorization.k8s.io",
            "v1",
            "SelfSubjectAccessReview",
            "selfsubjectaccessreviews",
            False,
            verbs=("create",),
            review=True,
        ),
        R(
            "authorization.k8s.io",
            "v1",
            "SelfSubjectRulesReview",
            "selfsubjectrulesreviews",
            False,
            verbs=("create",),
            review=True,
        ),
        R(
            "authentication.k8s.io",
            "v1",
            "SelfSubjectReview",
            "selfsubjectreviews",
            False,
            verbs=("create",),
            review=True,
        ),
        # apiextensions.k8s.io/v1
        R(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            False,
            ("crd", "crds"),
            ("api-extensions",),
            subresources=(_status("CustomResourceDefinition"),),
            tracks_generation=True,
        ),
    ]


BUILTIN: list[ResourceType] = _builtin()

# Preferred order of groups in /apis, as a real server lists them.
_GROUP_ORDER = [
    "apps",
    "autoscaling",
    "batch",
    "networking.k8s.io",
    "discovery.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "policy",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "apiregistration.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "metrics.k8s.io",
]


class Registry:
    """The resource types one cluster serves (built-ins plus its CRDs)."""

    def __init__(self) -> None:
        self._by_path: dict[tuple[str, str, str], ResourceType] = {}
        self._by_kind: dict[tuple[str, str], ResourceType] = {}
        self._crd_types: dict[str, list[ResourceType]] = {}  # CRD name -> its types
        for rt in BUILTIN:
            self._add(rt)

    def _add(self, rt: ResourceType) -> None:
        self._by_path[(rt.group, rt.version, rt.plural)] = rt
        self._by_kind[(rt.api_version, rt.kind)] = rt

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((api_version, kind))

    def by_key(self, key: tuple[str, str]) -> ResourceType | None:
        """Any served version of the resource stored under `key`."""
        for rt in self._by_path.values():
            if rt.key == key:
                return rt
        return None

    def all(self) -> list[ResourceType]:
        return list(self._by_path.values())

    def storage_keys(self) -> set[tuple[str, str]]:
        return {rt.key for rt in self._by_path.values()}

    def groups(self) -> dict[str, list[str]]:
        """group -> served versions, preferred first (core group excluded)."""
        out: dict[str, list[str]] = {}
        for group, version, _ in self._by_path:
            if not group:
                continue
            versions = out.setdefault(group, [])
            if version not in versions:
                versions.append(version)
        for group, versions in out.items():
            preferred = self._preferred_versions(group)
            versions.sort(key=lambda v: preferred.index(v) if v in preferred else len(preferred))
        order = {g: i for i, g in enumerate(_GROUP_ORDER)}
        return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))

    def _preferred_versions(self, group: str) -> list[str]:
        for types in self._crd_types.values():
            if types and types[0].group == group:
                return [t.version for t in types]
        return []

    # -- custom resources ----------------------------------------------------------------

    def register_crd(self, crd: dict) -> list[ResourceType]:
        """Serve the custom resource a CRD declares (replacing an earlier registration)."""
        self.unregister_crd(crd["metadata"]["name"])
        spec = crd.get("spec", {})
        names = spec.get("names", {})
        namespaced = spec.get("scope", "Namespaced") == "Namespaced"
        types = []
        for ver in spec.get("versions", []):
            if not ver.get("served", True):
                continue
            subs: list[Subresource] = []
            scale_paths = None
            declared = ver.get("subresources") or {}
            if "status" in declared:
                subs.append(_status(names["kind"]))
            if "scale" in declared:
                subs.append(_SCALE)
                scale_paths = declared["scale"] or {}
            types.append(
                ResourceType(
                    spec["group"],
                    ver["name"],
                    names["kind"],
                    names["plural"],
                    namespaced,
                    tuple(names.get("shortNames") or ()),
                    tuple(names.get("categories") or ()),
                    subresources=tuple(subs),
                    tracks_generation=True,
                    custom=True,
                    scale_paths=scale_paths,
                    printer_columns=list(ver.get("additionalPrinterColumns") or []),
                    singular=names.get("singular") or names["kind"].lower(),
                )
            )
        # storage version first, so by_key() and preferred versions agree with the CRD
        types.sort(key=lambda t: 0 if _is_storage(spec, t.version) else 1)
        for rt in types:
            self._add(rt)
        self._crd_types[crd["metadata"]["name"]] = types
        return types

    def unregister_crd(self, name: str) -> None:
        for rt in self._crd_types.pop(name, []):
            self._by_path.pop((rt.group, rt.version, rt.plural), None)
            self._by_kind.pop((rt.api_version, rt.kind), None)

    def conflicts_with(self, group: str, plural: str, crd_name: str) -> bool:
        """True when another CRD or a built-in already serves group/plural."""
        for (g, _, p), rt in self._by_path.items():
            if g == group and p == plural:
                owner = next((n for n, ts in self._crd_types.items() if rt in ts), None)
                if owner != crd_name:
                    return True
        return False


def _is_storage(spec: dict, version: str) -> bool:
    return any(v.get("name") == version and v.get("storage") for v in spec.get("versions", []))


# -- discovery documents -------------------------------------------------------------------


def api_versions(server_address: str) -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_entry(group: str, versions: list[str]) -> dict:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(registry: Registry) -> dict:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_entry(g, vs) for g, vs in registry.groups().items()],
    }


def api_group(registry: Registry, group: str) -> dict | None:
    versions = registry.groups().get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, versions)}


def api_resource_list(registry: Registry, group: str, version: str) -> dict | None:
    types = [rt for rt in registry.all() if rt.group == group and rt.version == version]
    if not types:
        return None
    resources = []
    for rt in sorted(types, key=lambda t: t.plural):
        entry: dict = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": list(rt.verbs),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        for sub in rt.subresources:
            sub_entry: dict = {
                "name": f"{rt.plural}/{sub.name}",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": sub.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group is not None:
                sub_entry["group"] = sub.group
                sub_entry["version"] = sub.version
            resources.append(sub_entry)
    resources.sort(key=lambda e: e["name"])
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }
