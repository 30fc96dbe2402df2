"""OpenAPI documents for kubesim clusters, built from the real Kubernetes definitions.

kubectl `create -f` / `apply -f` refuse to send anything unless the server publishes
OpenAPI: it reads `/openapi/v3` (and the per-group-version documents) to learn whether
the server validates fields itself (`fieldValidation` on the PATCH operation of the kind),
and it always parses `/openapi/v2` as protobuf. The schemas of the built-in kinds are not
written here: they come from the Kubernetes 1.32 definitions that the PyPI package
`kubernetes-validate` ships (its `_definitions.json`, a JSON-Schema rendering of the
apiserver's swagger definitions, with extensions such as x-kubernetes-group-version-kind
and the patch merge keys kept). We undo that rendering's changes (nullable types, the
oneOf for int-or-string and quantity, enums added to apiVersion/kind) so the documents
read like the apiserver's own.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import struct
from importlib import resources

K8S_VERSION = "v1.32.0"
_SCHEMA_DIR = "v1.32.0-local"

_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
_STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
_DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
_PATCH = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
_SCALE = "io.k8s.api.autoscaling.v1.Scale"

# (group, version, kind, plural, namespaced, subresources) of the built-in kinds kubesim
# serves. Only these get paths; their schemas pull in whatever definitions they reference.
BUILTIN_RESOURCES: list[tuple[str, str, str, str, bool, tuple[str, ...]]] = [
    ("", "v1", "Namespace", "namespaces", False, ("status",)),
    ("", "v1", "Node", "nodes", False, ("status",)),
    ("", "v1", "PersistentVolume", "persistentvolumes", False, ("status",)),
    ("", "v1", "Pod", "pods", True, ("status",)),
    ("", "v1", "Service", "services", True, ("status",)),
    ("", "v1", "Endpoints", "endpoints", True, ()),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True, ()),
    ("", "v1", "ConfigMap", "configmaps", True, ()),
    ("", "v1", "Secret", "secrets", True, ()),
    ("", "v1", "ServiceAccount", "serviceaccounts", True, ()),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("status",)),
    ("", "v1", "ResourceQuota", "resourcequotas", True, ("status",)),
    ("", "v1", "LimitRange", "limitranges", True, ()),
    ("", "v1", "Event", "events", True, ()),
    ("", "v1", "ReplicationController", "replicationcontrollers", True, ("status", "scale")),
    ("apps", "v1", "Deployment", "deployments", True, ("status", "scale")),
    ("apps", "v1", "ReplicaSet", "replicasets", True, ("status", "scale")),
    ("apps", "v1", "StatefulSet", "statefulsets", True, ("status", "scale")),
    ("apps", "v1", "DaemonSet", "daemonsets", True, ("status",)),
    ("apps", "v1", "ControllerRevision", "controllerrevisions", True, ()),
    ("batch", "v1", "Job", "jobs", True, ("status",)),
    ("batch", "v1", "CronJob", "cronjobs", True, ("status",)),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", True, ("status",)),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False, ()),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ()),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ()),
    ("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("status",)),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("status",)),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", True, ()),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, ()),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, ()),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False, ()),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        ("status",),
    ),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("status",)),
    ("coordination.k8s.io", "v1", "Lease", "leases", True, ()),
    ("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ()),
    ("apiregistration.k8s.io", "v1", "APIService", "apiservices", False, ("status",)),
    ("events.k8s.io", "v1", "Event", "events", True, ()),
]


def _gv(group: str, version: str) -> str:
    """The path key of a group/version in the /openapi/v3 index: api/v1, apis/apps/v1."""
    return f"api/{version}" if group == "" else f"apis/{group}/{version}"


BUILTIN_GROUP_VERSIONS = sorted({_gv(g, v) for g, v, *_ in BUILTIN_RESOURCES})


# --- loading and cleaning the definitions ---------------------------------------------


@functools.cache
def _raw_definitions() -> dict[str, dict]:
    # Read once per process; about 1.3 MB of JSON for one Kubernetes version.
    path = resources.files("kubernetes_validate") / "kubernetes-json-schema" / _SCHEMA_DIR
    with (path / "_definitions.json").open("rb") as f:
        return json.load(f)["$defs"]


def _clean(schema, prop_name: str | None = None):
    """Turn one JSON-Schema-rendered definition back into a swagger 2.0 schema.

    Refs become bare definition names under "$ref" (prefixed later for v2 or v3). The walk
    follows schema structure, not key names, because JSONSchemaProps has properties named
    "$ref", "type" and "enum".
    """
    if not isinstance(schema, dict):
        return schema
    out: dict = {}
    for key, value in schema.items():
        if key == "$ref":
            out[key] = value.rsplit("/", 1)[-1]
        elif key == "type":
            types = [t for t in (value if isinstance(value, list) else [value]) if t != "null"]
            if types:
                out[key] = types[0]
        elif key == "enum" and prop_name in ("apiVersion", "kind") and len(value) == 1:
            continue  # added by the JSON-Schema rendering; the apiserver has no such enum
        elif key == "properties":
            out[key] = {name: _clean(sub, name) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _clean(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_clean(sub) for sub in value]
        else:
            out[key] = value
    return out


@functools.cache
def definitions() -> dict[str, dict]:
    """All built-in definitions of Kubernetes 1.32 in swagger 2.0 form (refs are bare names)."""
    defs = {name: _clean(schema) for name, schema in _raw_definitions().items()}
    # As the apiserver publishes them in v2: strings with a format.
    defs[_INT_OR_STRING] = {
        "description": "IntOrString is a type that can hold an int32 or a string.  When used in "
        "JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  "
        "This allows you to have, for example, a JSON field that can accept a name or number.",
        "format": "int-or-string",
        "type": "string",
    }
    quantity = defs[_QUANTITY]
    quantity.pop("oneOf", None)
    quantity["type"] = "string"
    return defs


def _refs(schema, found: set[str]) -> None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for key, value in schema.items():
            if key == "properties":
                for sub in value.values():
                    _refs(sub, found)
            elif key in ("items", "additionalProperties", "not"):
                _refs(value, found)
            elif key in ("allOf", "anyOf", "oneOf"):
                for sub in value:
                    _refs(sub, found)


def _closure(roots: list[str], defs: dict[str, dict]) -> list[str]:
    """The named definitions and everything they reference, sorted by name."""
    seen: set[str] = set()
    todo = [r for r in roots if r in defs]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found: set[str] = set()
        _refs(defs[name], found)
        todo.extend(r for r in found if r in defs and r not in seen)
    return sorted(seen)


def _definition_name(group: str, version: str, kind: str, defs: dict[str, dict]) -> str | None:
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            # Shared meta kinds (DeleteOptions, WatchEvent) list many GVKs; skip them.
            single = len(schema["x-kubernetes-group-version-kind"]) == 1
            if single and (gvk["group"], gvk["version"], gvk["kind"]) == (group, version, kind):
                return name
    return None


# --- custom resources -------------------------------------------------------------------


def _crd_definition_name(group: str, version: str, kind: str) -> str:
    # The apiserver names CRD schemas by the reversed group: com.example.stable.v1.CronTab.
    return ".".join([*reversed(group.split(".")), version, kind])


def _crd_versions(crd: dict):
    """(group, version, kind, plural, namespaced, subresources, schema) for each served version."""
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    for v in spec.get("versions", []):
        if not v.get("served", True):
            continue
        subresources = tuple(sorted((v.get("subresources") or {}).keys()))
        schema = (v.get("schema") or {}).get("openAPIV3Schema") or {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
        }
        yield (
            spec.get("group", ""),
            v["name"],
            names.get("kind", ""),
            names.get("plural", ""),
            spec.get("scope", "Namespaced") == "Namespaced",
            subresources,
            schema,
        )


def _crd_schemas(crd_version) -> dict[str, dict]:
    """The object and list definitions of one CRD version, as the apiserver publishes them."""
    group, version, kind, _plural, _ns, _sub, schema = crd_version
    gvk = [{"group": group, "kind": kind, "version": version}]
    obj = copy.deepcopy(schema)
    props = obj.setdefault("properties", {})
    base = definitions()["io.k8s.api.core.v1.ConfigMap"]["properties"]
    props["apiVersion"] = copy.deepcopy(base["apiVersion"])
    props["kind"] = copy.deepcopy(base["kind"])
    props["metadata"] = copy.deepcopy(base["metadata"])
    obj.setdefault("type", "object")
    obj["x-kubernetes-group-version-kind"] = gvk
    name = _crd_definition_name(group, version, kind)
    list_schema = {
        "description": f"{kind}List is a list of {kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": copy.deepcopy(base["apiVersion"]),
            "items": {"type": "array", "items": {"$ref": name}},
            "kind": copy.deepcopy(base["kind"]),
            "metadata": {"$ref": _LIST_META},
        },
        "x-kubernetes-group-version-kind": [
            {"group": group, "kind": f"{kind}List", "version": version}
        ],
    }
    return {name: obj, f"{name}List": list_schema}


# --- paths ------------------------------------------------------------------------------


def _op_id(verb: str, group: str, version: str, kind: str, namespaced: bool, sub: str = "") -> str:
    parts = [p.capitalize() for p in group.replace("k8s.io", "").split(".") if p] or ["Core"]
    scope = "Namespaced" if namespaced else ""
    return verb + "".join(parts) + version.capitalize() + scope + kind + sub.capitalize()


def _param(name: str, where: str, description: str, required: bool = False) -> dict:
    p = {"name": name, "in": where, "description": description, "schema": {"type": "string"}}
    if required:
        p["required"] = True
    return p


_QUERY_PARAMS = {
    "dryRun": "When present, indicates that modifications should not be persisted.",
    "fieldManager": "fieldManager is a name associated with the actor or entity that is "
    "making these changes.",
    # kubectl looks for this one on the PATCH operation: when it is there, kubectl leaves
    # field validation to the server (?fieldValidation=Strict) instead of validating itself.
    "fieldValidation": "fieldValidation instructs the server on how to handle objects in the "
    "request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: "
    "Ignore, Warn, Strict.",
}


def _operation(
    action: str,
    verb: str,
    desc: str,
    gvk: tuple[str, str, str],
    op_id: str,
    body: str | None,
    response: str,
    patch: bool = False,
) -> dict:
    group, version, kind = gvk
    op: dict = {
        "tags": [(group or "core").replace(".k8s.io", "").replace(".", "_") + "_" + version],
        "description": desc,
        "operationId": op_id,
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"$ref": response}}},
            },
            "401": {"description": "Unauthorized"},
        },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": group, "kind": kind, "version": version},
    }
    if verb in ("post", "put", "patch"):
        op["parameters"] = [_param(n, "query", d) for n, d in _QUERY_PARAMS.items()]
    if patch:
        op["parameters"].append(_param("force", "query", 'Force is going to "force" Apply.'))
        types = (
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
        )
        op["requestBody"] = {
            "content": {t: {"schema": {"$ref": _PATCH}} for t in types},
            "required": True,
        }
    elif body:
        op["requestBody"] = {
            "content": {"*/*": {"schema": {"$ref": body}}},
            "required": True,
        }
    if verb == "delete":
        op["responses"]["202"] = {
            "description": "Accepted",
            "content": {"application/json": {"schema": {"$ref": response}}},
        }
    return op


def _resource_paths(group, version, kind, plural, namespaced, subresources, obj, lst) -> dict:
    base = "/api/v1" if group == "" else f"/apis/{group}/{version}"
    coll = f"{base}/namespaces/{{namespace}}/{plural}" if namespaced else f"{base}/{plural}"
    gvk = (group, version, kind)
    ns_params = [_param("namespace", "path", "object name and auth scope", True)]
    scope_params = ns_params if namespaced else []
    name_param = _param("name", "path", f"name of the {kind}", True)
    a = "an" if kind[0] in "AEIOU" else "a"

    def oid(verb, sub=""):
        return _op_id(verb, group, version, kind, namespaced, sub)

    paths = {
        coll: {
            "get": _operation(
                "list", "get", f"list or watch objects of kind {kind}", gvk, oid("list"), None, lst
            ),
            "post": _operation("post", "post", f"create {a} {kind}", gvk, oid("create"), obj, obj),
            "delete": _operation(
                "deletecollection",
                "delete",
                f"delete collection of {kind}",
                gvk,
                oid("deletecollection"),
                _DELETE_OPTIONS,
                _STATUS,
            ),
            "parameters": scope_params,
        },
        f"{coll}/{{name}}": {
            "get": _operation(
                "get", "get", f"read the specified {kind}", gvk, oid("read"), None, obj
            ),
            "put": _operation(
                "put", "put", f"replace the specified {kind}", gvk, oid("replace"), obj, obj
            ),
            "patch": _operation(
                "patch",
                "patch",
                f"partially update the specified {kind}",
                gvk,
                oid("patch"),
                None,
                obj,
                patch=True,
            ),
            "delete": _operation(
                "delete",
                "delete",
                f"delete {a} {kind}",
                gvk,
                oid("delete"),
                _DELETE_OPTIONS,
                _STATUS,
            ),
            "parameters": [name_param, *scope_params],
        },
    }
    if namespaced:
        all_ns = _op_id("list", group, version, kind, False) + "ForAllNamespaces"
        paths[f"{base}/{plural}"] = {
            "get": _operation(
                "list", "get", f"list or watch objects of kind {kind}", gvk, all_ns, None, lst
            ),
        }
    for sub in subresources:
        if sub not in ("status", "scale"):
            continue
        sgvk = ("autoscaling", "v1", "Scale") if sub == "scale" else gvk
        sobj = _SCALE if sub == "scale" else obj
        what = f"{sub} of the specified {kind}"
        paths[f"{coll}/{{name}}/{sub}"] = {
            "get": _operation("get", "get", f"read {what}", sgvk, oid("read", sub), None, sobj),
            "put": _operation(
                "put", "put", f"replace {what}", sgvk, oid("replace", sub), sobj, sobj
            ),
            "patch": _operation(
                "patch",
                "patch",
                f"partially update {what}",
                sgvk,
                oid("patch", sub),
                None,
                sobj,
                patch=True,
            ),
            "parameters": [name_param, *scope_params],
        }
    return paths


# --- v3 -----------------------------------------------------------------------------------


def _to_v3(schema, prefix: str = "#/components/schemas/"):
    """A swagger-2 schema (bare refs) as the apiserver's OpenAPI v3 renders it."""
    if not isinstance(schema, dict):
        return schema
    out: dict = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: _to_v3(sub, prefix) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _to_v3(value, prefix)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_to_v3(sub, prefix) for sub in value]
        else:
            out[key] = value
    ref = out.pop("$ref", None)
    if ref is None:
        return out
    if not out:
        return {"$ref": prefix + ref}
    # OpenAPI 3.0 ignores siblings of $ref, so the apiserver wraps the ref in allOf.
    return {**out, "allOf": [{"$ref": prefix + ref}]}


def _v3_schemas(names: list[str], defs: dict[str, dict]) -> dict[str, dict]:
    out = {}
    for name in names:
        if name == _INT_OR_STRING:
            out[name] = {
                "description": defs[name]["description"],
                "format": "int-or-string",
                "oneOf": [{"type": "integer"}, {"type": "string"}],
            }
        elif name == _QUANTITY:
            out[name] = {
                "description": defs[name].get("description", ""),
                "oneOf": [{"type": "string"}, {"type": "number"}],
            }
        else:
            out[name] = _to_v3(defs[name])
    return out


def _document_parts(group_version: str, crds: list[dict]):
    """(paths, schema names, definitions) for one group/version, or None if not served."""
    defs = definitions()
    paths: dict = {}
    roots: list[str] = []
    for group, version, kind, plural, namespaced, subs in BUILTIN_RESOURCES:
        if _gv(group, version) != group_version:
            continue
        obj = _definition_name(group, version, kind, defs)
        lst = _definition_name(group, version, kind + "List", defs)
        if obj is None or lst is None:
            continue
        roots += [obj, lst]
        if "scale" in subs:
            roots.append(_SCALE)
        paths.update(_resource_paths(group, version, kind, plural, namespaced, subs, obj, lst))
    extra: dict[str, dict] = {}
    for crd in crds:
        for cv in _crd_versions(crd):
            group, version, kind, plural, namespaced, subs, _schema = cv
            if _gv(group, version) != group_version:
                continue
            schemas = _crd_schemas(cv)
            extra.update(schemas)
            obj, lst = list(schemas)
            crd_paths = _resource_paths(group, version, kind, plural, namespaced, subs, obj, lst)
            # Custom resources take no strategic merge patch; without it listed, kubectl
            # apply sends a JSON merge patch, as it does against a real apiserver.
            for item in crd_paths.values():
                if "patch" in item:
                    item["patch"]["requestBody"]["content"].pop(
                        "application/strategic-merge-patch+json", None
                    )
            paths.update(crd_paths)
            roots += [_OBJECT_META, _LIST_META]
            if "scale" in subs:
                roots.append(_SCALE)
    if not paths:
        return None
    roots += [_STATUS, _DELETE_OPTIONS, _PATCH]
    merged = {**defs, **extra}
    names = sorted(set(_closure(roots, defs)) | set(extra))
    for name in extra:
        names = sorted(set(names) | set(_closure([name], merged)))
    return paths, names, merged


def _built_v3(group_version: str, crds: list[dict]) -> dict | None:
    parts = _document_parts(group_version, crds)
    if parts is None:
        return None
    paths, names, defs = parts
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": K8S_VERSION},
        "paths": paths,
        "components": {
            "schemas": _v3_schemas(names, defs),
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer Token authentication",
                    "name": "authorization",
                    "in": "header",
                }
            },
        },
    }


@functools.cache
def _builtin_v3_json(group_version: str) -> str | None:
    doc = _built_v3(group_version, [])
    return None if doc is None else json.dumps(doc, sort_keys=True)


def _crd_group_versions(crds: list[dict]) -> set[str]:
    return {_gv(cv[0], cv[1]) for crd in crds for cv in _crd_versions(crd)}


def openapi_v3_document(group_version: str, crds: list[dict]) -> dict | None:
    """The OpenAPI 3 document of one group/version ("api/v1", "apis/apps/v1"), or None."""
    group_version = group_version.strip("/")
    if group_version in ("api", "apis") or (
        group_version.startswith("apis/") and group_version.count("/") == 1
    ):
        return _discovery_document(group_version)
    if group_version in _crd_group_versions(crds):
        return _built_v3(group_version, crds)
    text = _builtin_v3_json(group_version)
    return None if text is None else json.loads(text)


def _discovery_document(path: str) -> dict:
    """The small documents the apiserver lists for /api, /apis and /apis/{group}."""
    if path == "api":
        schema, op = "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions", "getCoreAPIVersions"
    elif path == "apis":
        schema, op = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList", "getAPIVersions"
    else:
        schema, op = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup", "getAPIGroup"
    defs = definitions()
    names = _closure([schema], defs)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": K8S_VERSION},
        "paths": {
            f"/{path}/": {
                "get": {
                    "description": "get available API versions",
                    "operationId": op,
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/" + schema}
                                }
                            },
                        },
                        "401": {"description": "Unauthorized"},
                    },
                }
            }
        },
        "components": {"schemas": _v3_schemas(names, defs)},
    }


def _hash(doc: dict | str) -> str:
    text = doc if isinstance(doc, str) else json.dumps(doc, sort_keys=True)
    return hashlib.sha512(text.encode()).hexdigest().upper()


@functools.cache
def _builtin_hash(group_version: str) -> str:
    text = _builtin_v3_json(group_version)
    if text is None:
        return _hash(_discovery_document(group_version))
    return _hash(text)


def openapi_v3_index(prefix: str, crds: list[dict]) -> dict:
    """The /openapi/v3 discovery document; URLs carry the cluster's path prefix and a hash.

    client-go requests a serverRelativeURL as given when it does not start with
    /openapi/v3, so prefixed URLs reach the right cluster.
    """
    prefix = prefix.rstrip("/")
    crd_gvs = _crd_group_versions(crds)
    groups = {gv.rsplit("/", 1)[0] for gv in [*BUILTIN_GROUP_VERSIONS, *crd_gvs]}
    groups.discard("api")
    paths: dict[str, dict] = {}
    for key in ["api", "apis", *sorted(groups)]:
        paths[key] = {"serverRelativeURL": f"{prefix}/openapi/v3/{key}?hash={_builtin_hash(key)}"}
    for gv in BUILTIN_GROUP_VERSIONS:
        if gv in crd_gvs:
            continue
        paths[gv] = {"serverRelativeURL": f"{prefix}/openapi/v3/{gv}?hash={_builtin_hash(gv)}"}
    for gv in sorted(crd_gvs):
        digest = _hash(_built_v3(gv, crds))
        paths[gv] = {"serverRelativeURL": f"{prefix}/openapi/v3/{gv}?hash={digest}"}
    return {"paths": dict(sorted(paths.items()))}


# --- v2 -----------------------------------------------------------------------------------


def _to_v2(schema):
    if not isinstance(schema, dict):
        return schema
    out: dict = {}
    for key, value in schema.items():
        if key == "$ref":
            out[key] = "#/definitions/" + value
        elif key == "properties":
            out[key] = {name: _to_v2(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _to_v2(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_to_v2(sub) for sub in value]
        else:
            out[key] = value
    return out


def _v2_parts(crds: list[dict]) -> tuple[dict, dict]:
    """(definitions, paths) of the whole cluster in swagger 2.0 form."""
    defs = definitions()
    merged = dict(defs)
    paths: dict = {}
    for crd in crds:
        for cv in _crd_versions(crd):
            merged.update(_crd_schemas(cv))
    for gv in sorted(set(BUILTIN_GROUP_VERSIONS) | _crd_group_versions(crds)):
        parts = _document_parts(gv, crds)
        if parts:
            paths.update(parts[0])
    return {name: _to_v2(schema) for name, schema in sorted(merged.items())}, paths


def _v2_paths(paths: dict) -> dict:
    """The v3 operations re-expressed as swagger 2.0 operations (body and query params)."""
    out: dict = {}
    for path, item in paths.items():
        new_item: dict = {}
        for verb, op in item.items():
            if verb == "parameters":
                new_item[verb] = [_v2_param(p) for p in op]
                continue
            new_op = {k: v for k, v in op.items() if k not in ("requestBody", "responses")}
            params = [_v2_param(p) for p in op.get("parameters", [])]
            body = op.get("requestBody")
            if body:
                ref = next(iter(body["content"].values()))["schema"]["$ref"]
                params.insert(
                    0,
                    {
                        "name": "body",
                        "in": "body",
                        "required": True,
                        "schema": {"$ref": "#/definitions/" + ref},
                    },
                )
                if verb == "patch":
                    new_op["consumes"] = list(body["content"])
            if params:
                new_op["parameters"] = params
            new_op["produces"] = ["application/json", "application/yaml"]
            new_op["responses"] = {}
            for code, resp in op["responses"].items():
                r = {"description": resp["description"]}
                if "content" in resp:
                    ref = resp["content"]["application/json"]["schema"]["$ref"]
                    r["schema"] = {"$ref": "#/definitions/" + ref}
                new_op["responses"][code] = r
            new_item[verb] = new_op
        out[path] = new_item
    return out


def _v2_param(p: dict) -> dict:
    q = {k: v for k, v in p.items() if k != "schema"}
    q["type"] = "string"
    q["uniqueItems"] = True
    return q


def openapi_v2_document(crds: list[dict]) -> dict:
    """The swagger 2.0 document (served as JSON to JSON clients)."""
    defs, paths = _v2_parts(crds)
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": K8S_VERSION},
        "paths": _v2_paths(paths),
        "definitions": defs,
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "type": "apiKey",
                "name": "authorization",
                "in": "header",
            }
        },
        "security": [{"BearerToken": []}],
    }


_V2_PROTOBUF_CACHE: dict[str, bytes] = {}


def openapi_v2_protobuf(crds: list[dict]) -> bytes:
    """The swagger 2.0 document as the protobuf (gnostic openapi_v2.Document) kubectl asks for.

    kubectl sends `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`
    and cannot read JSON there; serve these bytes with that content type. Only the
    definitions are encoded: kubectl reads v2 for client-side schema validation, which
    needs the definitions and their x-kubernetes-group-version-kind, not the paths.
    """
    defs, _paths = _v2_parts(crds)
    key = _hash(json.dumps(defs, sort_keys=True))
    if key not in _V2_PROTOBUF_CACHE:
        if len(_V2_PROTOBUF_CACHE) > 8:
            _V2_PROTOBUF_CACHE.clear()
        _V2_PROTOBUF_CACHE[key] = _encode_document(
            {
                "swagger": "2.0",
                "info": {"title": "Kubernetes", "version": K8S_VERSION},
                "definitions": defs,
            }
        )
    return _V2_PROTOBUF_CACHE[key]


# kubectl asks with "...spec.v2@v1.0+protobuf" but Go cannot parse "@" in a reply
# Content-Type; the apiserver answers with this spelling.
V2_PROTOBUF_CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


# --- a minimal protobuf writer for gnostic's openapi_v2.Document ------------------------
# Field numbers from gnostic's OpenAPIv2.proto (Document, Info, Definitions, NamedSchema,
# Schema, TypeItem, ItemsItem, Properties, AdditionalPropertiesItem, NamedAny, Any).


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 values are ten-byte varints
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _str(num: int, value: str) -> bytes:
    return _field(num, value.encode()) if value else b""


def _bool(num: int, value: bool) -> bytes:
    return _varint(num << 3) + b"\x01" if value else b""


def _int(num: int, value: int) -> bytes:
    return _varint(num << 3) + _varint(int(value))


def _double(num: int, value: float) -> bytes:
    return _varint(num << 3 | 1) + struct.pack("<d", float(value))


def _any(value) -> bytes:
    # gnostic keeps arbitrary values as YAML text; JSON is valid YAML.
    return _str(2, json.dumps(value))


_SCHEMA_STRINGS = {
    "$ref": 1,
    "format": 2,
    "title": 3,
    "description": 4,
    "pattern": 13,
    "discriminator": 26,
}
_SCHEMA_NUMBERS = {"multipleOf": 6, "maximum": 7, "minimum": 9}
_SCHEMA_INTS = {
    "maxLength": 11,
    "minLength": 12,
    "maxItems": 14,
    "minItems": 15,
    "maxProperties": 17,
    "minProperties": 18,
}
_SCHEMA_BOOLS = {"exclusiveMaximum": 8, "exclusiveMinimum": 10, "uniqueItems": 16, "readOnly": 27}


def _encode_schema(s: dict) -> bytes:
    out = bytearray()
    for key, value in s.items():
        if key in _SCHEMA_STRINGS:
            out += _str(_SCHEMA_STRINGS[key], value)
        elif key in _SCHEMA_NUMBERS:
            out += _double(_SCHEMA_NUMBERS[key], value)
        elif key in _SCHEMA_INTS:
            out += _int(_SCHEMA_INTS[key], value)
        elif key in _SCHEMA_BOOLS:
            out += _bool(_SCHEMA_BOOLS[key], value)
        elif key == "default":
            out += _field(5, _any(value))
        elif key == "example":
            out += _field(30, _any(value))
        elif key == "required":
            out += b"".join(_str(19, r) for r in value)
        elif key == "enum":
            out += b"".join(_field(20, _any(v)) for v in value)
        elif key == "additionalProperties":
            inner = _bool(2, value) if isinstance(value, bool) else _field(1, _encode_schema(value))
            out += _field(21, inner)
        elif key == "type":
            types = value if isinstance(value, list) else [value]
            out += _field(22, b"".join(_str(1, t) for t in types))
        elif key == "items":
            items = value if isinstance(value, list) else [value]
            out += _field(23, b"".join(_field(1, _encode_schema(i)) for i in items))
        elif key == "allOf":
            out += b"".join(_field(24, _encode_schema(i)) for i in value)
        elif key == "properties":
            named = b"".join(
                _field(1, _str(1, name) + _field(2, _encode_schema(sub)))
                for name, sub in value.items()
            )
            out += _field(25, named)
        elif key.startswith("x-"):
            out += _field(31, _str(1, key) + _field(2, _any(value)))
    return bytes(out)


def _encode_document(doc: dict) -> bytes:
    info = _str(1, doc["info"]["title"]) + _str(2, doc["info"]["version"])
    definitions = b"".join(
        _field(1, _str(1, name) + _field(2, _encode_schema(schema)))
        for name, schema in doc["definitions"].items()
    )
    return _str(1, doc["swagger"]) + _field(2, info) + _field(9, definitions)


# --- server-side field validation ---------------------------------------------------------
# kubectl create/apply send ?fieldValidation=Strict (the PATCH operations above advertise
# it) and leave unknown-field checks to the server; these helpers let the server do them
# against the same schemas.


def _schema_for(api_version: str, kind: str, crds) -> tuple[dict | None, dict[str, dict]]:
    group, _, version = api_version.rpartition("/")
    defs = definitions()
    name = _definition_name(group, version, kind, defs)
    if name is not None:
        return defs[name], defs
    for crd in crds:
        for cv in _crd_versions(crd):
            if (cv[0], cv[1], cv[2]) == (group, version, kind):
                schemas = _crd_schemas(cv)
                merged = {**defs, **schemas}
                return merged[next(iter(schemas))], merged
    return None, defs


def _resolve(schema: dict, defs: dict[str, dict]) -> dict:
    for _ in range(20):
        if "$ref" in schema:
            schema = defs.get(schema["$ref"], {})
        elif len(schema.get("allOf") or []) == 1 and "properties" not in schema:
            schema = schema["allOf"][0]
        else:
            break
    return schema


def _unknown(value, schema: dict, defs: dict[str, dict], path: str, out: list[str]) -> None:
    schema = _resolve(schema, defs)
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
        embedded = schema.get("x-kubernetes-embedded-resource", False)
        for key, sub in value.items():
            where = f"{path}.{key}" if path else key
            if props is not None and key in props:
                _unknown(sub, props[key], defs, where, out)
            elif isinstance(extra, dict):
                _unknown(sub, extra, defs, where, out)
            elif props is not None and not preserve and extra is not True:
                allowed = embedded and key in ("apiVersion", "kind", "metadata")
                out.extend([] if allowed else [where])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _unknown(item, schema["items"], defs, f"{path}[{i}]", out)


def unknown_fields(api_version: str, kind: str, obj: dict, crds=()) -> list[str]:
    """Paths of the fields in obj that its kind's schema does not declare ("spec.replica",
    "spec.template.spec.containers[0].bogus"); [] for kinds without a known schema."""
    schema, defs = _schema_for(api_version, kind, crds)
    if schema is None:
        return []
    out: list[str] = []
    _unknown(obj, schema, defs, "", out)
    return out


def strict_decoding_message(api_version: str, kind: str, fields: list[str]) -> str:
    """The apiserver's 400 BadRequest message for fieldValidation=Strict."""
    version = api_version.rpartition("/")[2]
    problems = ", ".join(f'unknown field "{f}"' for f in fields)
    return (
        f'{kind} in version "{version}" cannot be handled as a {kind}: '
        f"strict decoding error: {problems}"
    )
