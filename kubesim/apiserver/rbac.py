"""RBAC authorization (rbac.authorization.k8s.io/v1), as kube-apiserver's RBAC authorizer.

- `system:masters` is allowed everything without looking at bindings (the apiserver's
  superuser short cut): the cluster's admin token stays all-powerful.
- Otherwise a request is allowed when a ClusterRoleBinding, or a RoleBinding in the
  request's namespace, binds a subject matching the user (User by name, Group by one of
  its groups, ServiceAccount by `system:serviceaccount:<ns>:<name>`) to a Role or
  ClusterRole with a rule that covers the verb, API group, resource (`pods/exec` for
  subresources) and name (`resourceNames`), or the path (`nonResourceURLs`).
- ClusterRoles with an `aggregationRule` hold the rules of every ClusterRole their
  selectors match (evaluated on each check, as the aggregation controller keeps them).
- The default roles of a real cluster are created with every cluster (`bootstrap`):
  cluster-admin, admin, edit, view with their aggregation labels, system:discovery,
  system:public-info-viewer, system:basic-user and the metrics reader, and their bindings.
- Denials are 403 Status bodies worded as kube-apiserver words them.
- Escalation prevention, as the RBAC registry does it (`admit`): a Role or ClusterRole
  may only grant what its writer holds, unless they may `escalate` it; a binding may only
  bind a role whose permissions its writer holds, unless they may `bind` that role.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from aiohttp import web

from kubesim.apiserver.authn import AUTHENTICATED, MASTERS, REQUESTER, UserInfo
from kubesim.storage import errors
from kubesim.storage.selectors import selector_from_object

GROUP = "rbac.authorization.k8s.io"
ROLES = (GROUP, "roles")
ROLE_BINDINGS = (GROUP, "rolebindings")
CLUSTER_ROLES = (GROUP, "clusterroles")
CLUSTER_ROLE_BINDINGS = (GROUP, "clusterrolebindings")
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"


@dataclass(frozen=True)
class Attributes:
    """What a request asks to do (authorizer.Attributes)."""

    verb: str
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str = ""
    path: str = ""  # a non-resource request when resource is empty

    @property
    def is_resource(self) -> bool:
        return bool(self.resource)

    @property
    def full_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


# -- evaluation --------------------------------------------------------------------------


def _verb_matches(rule: dict, verb: str) -> bool:
    verbs = rule.get("verbs") or []
    return "*" in verbs or verb in verbs


def _resource_matches(rule: dict, attrs: Attributes) -> bool:
    groups = rule.get("apiGroups") or []
    if "*" not in groups and attrs.api_group not in groups:
        return False
    resources = rule.get("resources") or []
    full = attrs.full_resource
    if not (
        "*" in resources
        or full in resources
        or (attrs.subresource and f"*/{attrs.subresource}" in resources)
    ):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


def _path_matches(rule: dict, path: str) -> bool:
    for pattern in rule.get("nonResourceURLs") or []:
        if pattern == "*" or pattern == path:
            return True
        if pattern.endswith("*") and path.startswith(pattern[:-1]):
            return True
    return False


def rule_allows(rule: dict, attrs: Attributes) -> bool:
    if not _verb_matches(rule, attrs.verb):
        return False
    if attrs.is_resource:
        return _resource_matches(rule, attrs)
    return _path_matches(rule, attrs.path)


def cluster_role_rules(cluster, name: str) -> list[dict]:
    role = cluster.store.get(CLUSTER_ROLES, "", name)
    if role is None:
        return []
    return _rules_of(cluster, role, set())


def _rules_of(cluster, role: dict, seen: set[str]) -> list[dict]:
    aggregation = role.get("aggregationRule")
    if not aggregation:
        return list(role.get("rules") or [])
    seen.add(role["metadata"]["name"])
    rules: list[dict] = []
    selectors = [selector_from_object(s) for s in aggregation.get("clusterRoleSelectors") or []]
    for other in cluster.store.list(CLUSTER_ROLES):
        name = other["metadata"]["name"]
        if name in seen:
            continue
        labels = other["metadata"].get("labels") or {}
        if any(s.matches(labels) for s in selectors):
            rules += _rules_of(cluster, other, seen)
    unique: dict[str, dict] = {}
    for rule in rules:
        unique.setdefault(json.dumps(rule, sort_keys=True), rule)
    return list(unique.values())


def _subject_matches(subject: dict, user: UserInfo, binding_ns: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return user.username == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_ns
        return user.username == f"system:serviceaccount:{namespace}:{name}"
    return False


def _bound(binding: dict, user: UserInfo) -> bool:
    namespace = binding["metadata"].get("namespace", "")
    return any(_subject_matches(s, user, namespace) for s in binding.get("subjects") or [])


def rules_for(cluster, user: UserInfo, namespace: str) -> list[dict]:
    """Every rule that applies to `user` in `namespace` ("" is cluster-wide only)."""
    rules: list[dict] = []
    for binding in cluster.store.list(CLUSTER_ROLE_BINDINGS):
        if _bound(binding, user):
            rules += cluster_role_rules(cluster, (binding.get("roleRef") or {}).get("name", ""))
    if namespace:
        for binding in cluster.store.list(ROLE_BINDINGS, namespace):
            if not _bound(binding, user):
                continue
            ref = binding.get("roleRef") or {}
            if ref.get("kind") == "Role":
                role = cluster.store.get(ROLES, namespace, ref.get("name", ""))
                rules += list((role or {}).get("rules") or [])
            else:
                rules += cluster_role_rules(cluster, ref.get("name", ""))
    return rules


def allowed(cluster, user: UserInfo, attrs: Attributes) -> bool:
    if MASTERS in user.groups:
        return True
    namespace = attrs.namespace if attrs.is_resource else ""
    return any(rule_allows(rule, attrs) for rule in rules_for(cluster, user, namespace))


def _describe(user: UserInfo) -> str:
    return f'User "{user.username}"'  # service accounts too, as the apiserver words it


def forbidden_message(user: UserInfo, attrs: Attributes) -> str:
    """kube-apiserver's words: `pods is forbidden: User "alice" cannot list resource
    "pods" in API group "" in the namespace "default"`."""
    if not attrs.is_resource:
        return f'forbidden: {_describe(user)} cannot {attrs.verb} path "{attrs.path}"'
    qualified = errors.qualified(attrs.resource, attrs.api_group)
    subject = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    return (
        f"{subject} is forbidden: {_describe(user)} cannot {attrs.verb} resource "
        f'"{attrs.full_resource}" in API group "{attrs.api_group}" {scope}'
    )


def forbidden(user: UserInfo, attrs: Attributes) -> errors.ApiError:
    details: dict = {}
    if attrs.is_resource:
        if attrs.name:
            details["name"] = attrs.name
        if attrs.api_group:
            details["group"] = attrs.api_group
        details["kind"] = attrs.resource
    return errors.ApiError(
        errors.status_body(403, "Forbidden", forbidden_message(user, attrs), details)
    )


def require(cluster, user: UserInfo, attrs: Attributes) -> None:
    if not allowed(cluster, user, attrs):
        raise forbidden(user, attrs)


# -- escalation prevention ---------------------------------------------------------------
#
# kube-apiserver's policy-based storage of the four kinds (pkg/registry/rbac/*/policybased)
# and ConfirmNoEscalation (pkg/registry/rbac/validation/rule.go): what a role grants is
# broken down into single (group, resource, name, verb) or (URL, verb) rights, each of
# which some rule of the writer's must cover, in the namespace of the object written.

KIND_RESOURCES = {"Role": "roles", "ClusterRole": "clusterroles"}
BINDINGS = ("RoleBinding", "ClusterRoleBinding")
FULL_AUTHORITY = [
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
    {"nonResourceURLs": ["*"], "verbs": ["*"]},
]
# what IsOnlyMutatingGCFields lets change (and what the server itself keeps)
GC_FIELDS = ("ownerReferences", "finalizers", "resourceVersion", "managedFields", "generation")


def _only_gc_fields(obj: dict, old: dict) -> bool:
    def rest(o: dict) -> dict:
        meta = {k: v for k, v in (o.get("metadata") or {}).items() if k not in GC_FIELDS}
        return {**o, "metadata": meta}

    return rest(obj) == rest(old)


def _breakdown(rule: dict) -> list[dict]:
    """One rule per right, as rbacv1helpers.BreakdownRule splits it."""
    out = []
    verbs = rule.get("verbs") or []
    for group in rule.get("apiGroups") or []:
        for resource in rule.get("resources") or []:
            for verb in verbs:
                base = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
                names = rule.get("resourceNames") or []
                out += [{**base, "resourceNames": [n]} for n in names] if names else [base]
    for url in rule.get("nonResourceURLs") or []:
        out += [{"nonResourceURLs": [url], "verbs": [verb]} for verb in verbs]
    return out


def _has(values: list[str], value: str) -> bool:
    return "*" in values or value in values


def _covers(owner: dict, right: dict) -> bool:
    """validation.ruleCovers: `owner` allows the single right `right` (literally: a `*`
    in the right is covered by a `*` only)."""
    if not _has(owner.get("verbs") or [], right["verbs"][0]):
        return False
    if "nonResourceURLs" in right:
        url = right["nonResourceURLs"][0]
        return any(
            pattern in ("*", url) or (pattern.endswith("*") and url.startswith(pattern[:-1]))
            for pattern in owner.get("nonResourceURLs") or []
        )
    if not _has(owner.get("apiGroups") or [], right["apiGroups"][0]):
        return False
    resources, resource = owner.get("resources") or [], right["resources"][0]
    if not _has(resources, resource) and not (
        "/" in resource and "*/" + resource.split("/", 1)[1] in resources
    ):
        return False
    names = owner.get("resourceNames") or []
    return not names or (right.get("resourceNames") or [""])[0] in names


def missing_rights(owned: list[dict], granted: list[dict]) -> list[dict]:
    """The rights in `granted` that no rule in `owned` covers."""
    return [
        right
        for rule in granted
        for right in _breakdown(rule)
        if not any(_covers(owner, right) for owner in owned)
    ]


def _go_quoted(values) -> str:
    """Go's %q of a []string: ["a" "b"]."""
    return "[" + " ".join(json.dumps(v) for v in values) + "]"


def _compact(rights: list[dict]) -> list[str]:
    """CompactRules, then rbacv1helpers.CompactString of each, sorted as a string set."""
    simple: dict[tuple, dict] = {}
    others: list[dict] = []
    for right in rights:
        if "nonResourceURLs" in right:
            others.append(right)
            continue
        key = (right["apiGroups"][0], right["resources"][0], tuple(right.get("resourceNames", ())))
        if key in simple:
            simple[key]["verbs"] = [*simple[key]["verbs"], *right["verbs"]]
        else:
            simple[key] = copy.deepcopy(right)
    described = set()
    for rule in [*others, *simple.values()]:
        parts = [
            f"{label}:{_go_quoted(rule[field])}"
            for label, field in (
                ("APIGroups", "apiGroups"),
                ("Resources", "resources"),
                ("NonResourceURLs", "nonResourceURLs"),
                ("ResourceNames", "resourceNames"),
                ("Verbs", "verbs"),
            )
            if rule.get(field)
        ]
        described.add("{" + ", ".join(parts) + "}")
    return sorted(described)


def escalation_message(user: UserInfo, missing: list[dict]) -> str:
    return (
        f"user {json.dumps(user.username)} (groups={_go_quoted(user.groups)}) is attempting "
        "to grant RBAC permissions not currently held:\n" + "\n".join(_compact(missing))
    )


def _refuse(obj: dict, resource: str, message: str) -> errors.ApiError:
    name = (obj.get("metadata") or {}).get("name", "")
    return errors.ApiError(
        errors.status_body(
            403,
            "Forbidden",
            f'{errors.qualified(resource, GROUP)} "{name}" is forbidden: {message}',
            {"name": name, "group": GROUP, "kind": resource},
        )
    )


def _role_ref_rules(cluster, ref: dict, namespace: str) -> list[dict]:
    """GetRoleReferenceRules: the rules of the role a binding refers to (NotFound if none)."""
    name = ref.get("name", "")
    if ref.get("kind") == "Role":
        role = cluster.store.get(ROLES, namespace, name)
        if role is None:
            raise errors.not_found("roles", GROUP, name)
        return list(role.get("rules") or [])
    if cluster.store.get(CLUSTER_ROLES, "", name) is None:
        raise errors.not_found("clusterroles", GROUP, name)
    return cluster_role_rules(cluster, name)


def admit(cluster, obj: dict, old: dict | None) -> None:
    """Refuse a Role, ClusterRole or binding that would give more than its writer holds.

    The writer is the request's user (`authn.REQUESTER`); kubesim's own writes and
    `system:masters` are not checked (rbacregistry.EscalationAllowed)."""
    user = REQUESTER.get()
    kind = obj.get("kind", "")
    if user is None or MASTERS in user.groups:
        return
    if not (obj.get("apiVersion", "").startswith(GROUP + "/")):
        return
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace", "") if kind in ("Role", "RoleBinding") else ""
    if old is not None and _only_gc_fields(obj, old):
        return  # what the garbage collector needs to delete it is never an escalation
    owned = rules_for(cluster, user, namespace)
    if kind in KIND_RESOURCES:
        resource = KIND_RESOURCES[kind]
        escalate = Attributes(
            verb="escalate",
            api_group=GROUP,
            resource=resource,
            name=meta.get("name", "") if old is not None else "",  # a create names none
            namespace=namespace,
        )
        if allowed(cluster, user, escalate):
            return
        granted = list(obj.get("rules") or [])
        aggregating = kind == "ClusterRole" and (
            obj.get("aggregationRule") or (old or {}).get("aggregationRule")
        )
        missing = missing_rights(owned, granted)
        if not missing and aggregating and missing_rights(owned, FULL_AUTHORITY):
            # it can gather anything: setting it takes * on *.*
            change = "use" if old is None else "use or change"
            raise _refuse(
                obj, resource, f"must have cluster-admin privileges to {change} the aggregationRule"
            )
    elif kind in BINDINGS:
        resource = "rolebindings" if kind == "RoleBinding" else "clusterrolebindings"
        ref = obj.get("roleRef") or {}
        bind = Attributes(
            verb="bind",
            api_group=GROUP,
            resource="roles" if ref.get("kind") == "Role" else "clusterroles",
            name=ref.get("name", ""),
            namespace=namespace,
        )
        if allowed(cluster, user, bind):
            return
        missing = missing_rights(owned, _role_ref_rules(cluster, ref, namespace))
    else:
        return
    if missing:
        raise _refuse(obj, resource, escalation_message(user, missing))


# -- the request path --------------------------------------------------------------------

_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}
STREAMING = ("exec", "attach", "portforward")


def request_verb(request: web.Request, named: bool, subresource: str | None, watch: bool) -> str:
    method = request.method
    if subresource in STREAMING:
        return "create"  # a WebSocket upgrade is a GET, authorized as create (1.31+)
    if watch:
        return "watch"
    if method in ("GET", "HEAD"):
        return "get" if named else "list"
    if method == "DELETE":
        return "delete" if named else "deletecollection"
    return _VERBS.get(method, method.lower())


def authorize_target(request: web.Request, cluster, user: UserInfo, target) -> None:
    """Raise a 403 unless `user` may do what the request asks of `target` (handlers.Target)."""
    if MASTERS in user.groups:
        return
    watching = target.watch_path or (
        request.method == "GET"
        and target.name is None
        and request.query.get("watch", "").lower() in ("1", "true")
    )
    rt = target.rt
    attrs = Attributes(
        verb=request_verb(request, target.name is not None, target.subresource, watching),
        api_group=rt.group,
        resource=rt.plural,
        subresource=target.subresource or "",
        name=target.name or "",
        # a namespace is in itself, as the apiserver's RequestInfo has it
        namespace=target.namespace
        or (target.name if rt.key == ("", "namespaces") and target.name else "")
        or "",
    )
    if rt.review:
        return  # reviews check their own rights (self reviews: system:basic-user)
    require(cluster, user, attrs)


def authorize_metrics(request: web.Request, cluster, user: UserInfo, rest: list[str]) -> None:
    """metrics.k8s.io: `[namespaces/<ns>/]pods[/<name>]`, `nodes[/<name>]`."""
    if MASTERS in user.groups:
        return
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    name = rest[1] if len(rest) > 1 else ""
    attrs = Attributes(
        verb=request_verb(request, bool(name), None, request.query.get("watch") in ("1", "true")),
        api_group="metrics.k8s.io",
        resource=rest[0] if rest else "",
        name=name,
        namespace=namespace,
    )
    require(cluster, user, attrs)


def authorize_path(request: web.Request, cluster, user: UserInfo, path: str) -> None:
    if MASTERS in user.groups:
        return
    verb = {"GET": "get", "HEAD": "head"}.get(request.method, request.method.lower())
    require(cluster, user, Attributes(verb=verb, path=path))


# -- reviews -----------------------------------------------------------------------------


def _review_attributes(spec: dict, namespace: str | None = None) -> Attributes:
    resource = spec.get("resourceAttributes")
    if resource:
        return Attributes(
            verb=resource.get("verb", ""),
            api_group=resource.get("group", ""),
            resource=resource.get("resource", ""),
            subresource=resource.get("subresource", ""),
            name=resource.get("name", ""),
            namespace=namespace if namespace is not None else resource.get("namespace", ""),
        )
    other = spec.get("nonResourceAttributes") or {}
    return Attributes(verb=other.get("verb", ""), path=other.get("path", ""))


def _decision(cluster, user: UserInfo, attrs: Attributes) -> dict:
    if MASTERS in user.groups:
        return {"allowed": True, "reason": ""}
    if attrs.is_resource or attrs.path:
        for binding_kind, reason in (
            (CLUSTER_ROLE_BINDINGS, "ClusterRoleBinding"),
            (ROLE_BINDINGS, "RoleBinding"),
        ):
            allowed_by = _allowing_binding(cluster, user, attrs, binding_kind)
            if allowed_by is not None:
                meta = allowed_by["metadata"]
                ref = allowed_by.get("roleRef") or {}
                where = f' of {ref.get("kind")} "{ref.get("name")}"'
                if reason == "RoleBinding":
                    return {
                        "allowed": True,
                        "reason": f'RBAC: allowed by RoleBinding "{meta["name"]}/'
                        f'{meta.get("namespace", "")}"{where} to {_describe(user)}',
                    }
                return {
                    "allowed": True,
                    "reason": f'RBAC: allowed by ClusterRoleBinding "{meta["name"]}"{where} '
                    f"to {_describe(user)}",
                }
    return {"allowed": False}


def _allowing_binding(cluster, user: UserInfo, attrs: Attributes, key) -> dict | None:
    if key == ROLE_BINDINGS:
        if not (attrs.is_resource and attrs.namespace):
            return None
        bindings = cluster.store.list(ROLE_BINDINGS, attrs.namespace)
    else:
        bindings = cluster.store.list(CLUSTER_ROLE_BINDINGS)
    for binding in bindings:
        if not _bound(binding, user):
            continue
        ref = binding.get("roleRef") or {}
        if ref.get("kind") == "Role":
            role = cluster.store.get(ROLES, attrs.namespace, ref.get("name", ""))
            rules = list((role or {}).get("rules") or [])
        else:
            rules = cluster_role_rules(cluster, ref.get("name", ""))
        if any(rule_allows(r, attrs) for r in rules):
            return binding
    return None


def _review_subject(spec: dict) -> UserInfo:
    groups = tuple(spec.get("groups") or ())
    return UserInfo(spec.get("user", ""), groups, spec.get("uid", ""), spec.get("extra") or {})


def review(cluster, requester: UserInfo, kind: str, body: dict, namespace: str | None) -> dict:
    """The answer to an access review, a rules review or a self review (whoami)."""
    out = {
        "kind": kind,
        "apiVersion": body.get("apiVersion", ""),
        "metadata": {"creationTimestamp": None},
        "spec": body.get("spec") or {},
    }
    spec = out["spec"]
    if kind == "SelfSubjectReview":
        out.pop("spec")
        out["status"] = {"userInfo": requester.to_dict()}
        return out
    basic = Attributes(
        verb="create",
        api_group="authorization.k8s.io",
        resource=kind.lower() + "s",
        namespace=namespace or "",
    )
    if kind.startswith("Self"):
        subject = requester
    else:
        require(cluster, requester, basic)
        subject = _review_subject(spec)
        if kind == "LocalSubjectAccessReview":
            resource_ns = (spec.get("resourceAttributes") or {}).get("namespace", "")
            if resource_ns and resource_ns != namespace:
                raise errors.bad_request(
                    f'spec.resourceAttributes.namespace must match namespace: "{namespace}"'
                )
    if kind == "SelfSubjectRulesReview":
        ns = spec.get("namespace", "")
        rules = rules_for(cluster, subject, ns) if not subject.is_master else []
        if subject.is_master:
            resource_rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
            non_resource = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
        else:
            resource_rules = [_clean_rule(r) for r in rules if r.get("resources")]
            non_resource = [
                {"verbs": r.get("verbs", []), "nonResourceURLs": r["nonResourceURLs"]}
                for r in rules
                if r.get("nonResourceURLs")
            ]
        out["status"] = {
            "resourceRules": resource_rules,
            "nonResourceRules": non_resource,
            "incomplete": False,
        }
        return out
    out["status"] = _decision(
        cluster,
        subject,
        _review_attributes(spec, namespace if kind == "LocalSubjectAccessReview" else None),
    )
    return out


def _clean_rule(rule: dict) -> dict:
    out = {"verbs": rule.get("verbs", []), "apiGroups": rule.get("apiGroups", [])}
    out["resources"] = rule.get("resources", [])
    if rule.get("resourceNames"):
        out["resourceNames"] = rule["resourceNames"]
    return out


# -- the default roles -------------------------------------------------------------------

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


VIEW_RULES = [
    _rule(
        [""],
        [
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
        READ,
    ),
    _rule(
        [""],
        [
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
        READ,
    ),
    _rule([""], ["namespaces"], READ),
    _rule(["discovery.k8s.io"], ["endpointslices"], READ),
    _rule(
        ["apps"],
        [
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
        READ,
    ),
    _rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    _rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    _rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    _rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], READ),
]

EDIT_RULES = [
    _rule(
        [""],
        [
            "pods/attach",
            "pods/exec",
            "pods/portforward",
            "pods/proxy",
            "secrets",
            "services/proxy",
        ],
        READ,
    ),
    _rule([""], ["serviceaccounts"], ["impersonate"]),
    _rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
    _rule([""], ["pods/eviction"], ["create"]),
    _rule(
        [""],
        [
            "configmaps",
            "events",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
        WRITE,
    ),
    _rule([""], ["serviceaccounts/token"], ["create"]),
    _rule(
        ["apps"],
        [
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
        WRITE,
    ),
    _rule(["autoscaling"], ["horizontalpodautoscalers"], WRITE),
    _rule(["batch"], ["cronjobs", "jobs"], WRITE),
    _rule(["policy"], ["poddisruptionbudgets"], WRITE),
    _rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], WRITE),
    _rule(
        ["coordination.k8s.io"], ["leases"], [*WRITE[:3], "get", "list", "patch", "update", "watch"]
    ),
]

ADMIN_RULES = [
    _rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
    _rule([GROUP], ["rolebindings", "roles"], [*WRITE, *READ]),
]

DISCOVERY_URLS = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
]
PUBLIC_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]


def _meta(name: str, labels: dict | None = None) -> dict:
    return {
        "name": name,
        "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", **(labels or {})},
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    }


def _aggregate(*levels: str) -> dict:
    return {f"{AGGREGATE}{level}": "true" for level in levels}


def _cluster_role(name: str, rules: list[dict], labels=None, aggregate_from: str = "") -> dict:
    role: dict = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": _meta(name, labels),
        "rules": rules,
    }
    if aggregate_from:
        role["aggregationRule"] = {
            "clusterRoleSelectors": [{"matchLabels": {f"{AGGREGATE}{aggregate_from}": "true"}}]
        }
    return role


def _cluster_role_binding(name: str, role: str, groups: list[str]) -> dict:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": _meta(name),
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": GROUP, "kind": "Group", "name": g} for g in groups],
    }


def default_objects() -> list[dict]:
    """The bootstrap policy kubesim starts every cluster with (a subset of the real one)."""
    everything = [
        _rule(["*"], ["*"], ["*"]),
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ]
    roles = [
        _cluster_role("cluster-admin", everything),
        _cluster_role("admin", [], aggregate_from="admin"),
        _cluster_role("edit", [], _aggregate("admin"), aggregate_from="edit"),
        _cluster_role("view", [], _aggregate("admin", "edit"), aggregate_from="view"),
        _cluster_role("system:aggregate-to-admin", ADMIN_RULES, _aggregate("admin")),
        _cluster_role("system:aggregate-to-edit", EDIT_RULES, _aggregate("admin", "edit")),
        _cluster_role("system:aggregate-to-view", VIEW_RULES, _aggregate("admin", "edit", "view")),
        # what metrics-server installs, so `kubectl top` works for whoever may view pods
        _cluster_role(
            "system:aggregated-metrics-reader",
            [_rule(["metrics.k8s.io"], ["pods", "nodes"], READ)],
            _aggregate("admin", "edit", "view"),
        ),
        _cluster_role("system:discovery", [{"nonResourceURLs": DISCOVERY_URLS, "verbs": ["get"]}]),
        _cluster_role(
            "system:public-info-viewer", [{"nonResourceURLs": PUBLIC_URLS, "verbs": ["get"]}]
        ),
        _cluster_role(
            "system:basic-user",
            [
                _rule(
                    ["authorization.k8s.io"],
                    ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    ["create"],
                ),
                _rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
            ],
        ),
    ]
    bindings = [
        _cluster_role_binding("cluster-admin", "cluster-admin", [MASTERS]),
        _cluster_role_binding("system:discovery", "system:discovery", [AUTHENTICATED]),
        _cluster_role_binding(
            "system:public-info-viewer", "system:public-info-viewer", [AUTHENTICATED]
        ),
        _cluster_role_binding("system:basic-user", "system:basic-user", [AUTHENTICATED]),
    ]
    return roles + bindings


def bootstrap(cluster) -> None:
    """Create the default roles and bindings that are missing (a restored cluster gets the
    ones it lacks, as the apiserver reconciles its bootstrap policy at start)."""
    for obj in default_objects():
        key = CLUSTER_ROLES if obj["kind"] == "ClusterRole" else CLUSTER_ROLE_BINDINGS
        if cluster.store.get(key, "", obj["metadata"]["name"]) is None:
            cluster.create(copy.deepcopy(obj))
    # the aggregated roles show their rules, as the aggregation controller writes them
    for name in ("admin", "edit", "view"):
        role = cluster.store.get(CLUSTER_ROLES, "", name)
        if role is None or not role.get("aggregationRule"):
            continue
        rules = cluster_role_rules(cluster, name)
        if role.get("rules") != rules:
            updated = copy.deepcopy(role)
            updated["rules"] = rules
            cluster.update(updated)
