"""HTTP handlers for one cluster's Kubernetes API (everything under /clusters/{name}/).

The path is parsed by hand rather than by aiohttp's router because Kubernetes paths
are ambiguous by position (`/api/v1/namespaces/x/pods` versus `/api/v1/namespaces/x/status`)
and custom resources appear at run time.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import yaml
from aiohttp import web

from kubesim.apiserver import authn, openapi, protobuf, rbac, serviceaccounts, watch
from kubesim.apiserver.backend import RUNTIME
from kubesim.apiserver.responses import (
    JSON,
    PROTOBUF,
    json_response,
    to_table,
    wants_table,
)
from kubesim.storage import errors, resources
from kubesim.storage.cluster import Cluster
from kubesim.storage.resources import ResourceType
from kubesim.storage.store import dumps

log = logging.getLogger("kubesim")
CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass
class Target:
    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None
    watch_path: bool  # the legacy /watch/ path form


async def handle(request: web.Request, cluster: Cluster, tail: str) -> web.StreamResponse:
    segments = [s for s in tail.split("/") if s]
    if not segments:
        return json_response(
            {"paths": ["/api", "/api/v1", "/apis", "/openapi/v2", "/openapi/v3", "/version"]}
        )
    head = segments[0]
    user = authn.user_of(request)
    if not ((head == "api" and len(segments) > 2) or (head == "apis" and len(segments) > 3)):
        rbac.authorize_path(request, cluster, user, "/" + "/".join(segments))  # discovery
    if head == "version" and len(segments) == 1:
        return json_response(cluster.version_info())
    if head in ("healthz", "livez", "readyz"):
        return web.Response(text="ok")
    if head == "openapi":
        return await _openapi(request, cluster, segments[1:])
    if head == "api":
        if len(segments) == 1:
            return json_response(resources.api_versions(request.host))
        group, version, rest = "", segments[1], segments[2:]
        if len(rest) >= 3 and rest[0] == "nodes" and rest[2] == "proxy":
            # the kubelet's endpoints
            return await request.app[RUNTIME].node_proxy(request, cluster, rest[1], rest[3:])
    elif head == "apis":
        if len(segments) == 1:
            return json_response(resources.api_group_list(cluster.registry))
        if len(segments) == 2:
            doc = resources.api_group(cluster.registry, segments[1])
            if doc is None:
                raise errors.resource_not_found()
            return json_response(doc)
        group, version, rest = segments[1], segments[2], segments[3:]
        if group == "metrics.k8s.io" and rest:
            rbac.authorize_metrics(request, cluster, user, rest)
            return await request.app[RUNTIME].metrics(request, cluster, version, rest)
    else:
        raise errors.resource_not_found()
    if not rest:
        doc = resources.api_resource_list(cluster.registry, group, version)
        if doc is None:
            raise errors.resource_not_found()
        return json_response(doc)
    target = _resolve(cluster, group, version, rest)
    rbac.authorize_target(request, cluster, user, target)
    return await _dispatch(request, cluster, target)


def _resolve(cluster: Cluster, group: str, version: str, rest: list[str]) -> Target:
    watch_path = False
    if rest[0] == "watch":
        watch_path, rest = True, rest[1:]
    namespace = None
    if (
        len(rest) >= 3
        and rest[0] == "namespaces"
        and not (group == "" and len(rest) == 3 and rest[2] in NAMESPACE_SUBRESOURCES)
    ):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise errors.resource_not_found()
    rt = cluster.registry.lookup(group, version, rest[0])
    if rt is None:
        raise errors.resource_not_found()
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if namespace is not None and not rt.namespaced:
        raise errors.resource_not_found()
    if rt.namespaced and namespace is None and name is not None:
        raise errors.resource_not_found()
    if sub is not None and rt.subresource(sub) is None:
        raise errors.resource_not_found()
    return Target(rt, namespace, name, sub, watch_path)


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true")


def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise errors.bad_request(f'Unsupported value: "{value}": supported values: "All"')
    return bool(values)


def _manager(request: web.Request) -> str:
    manager = request.query.get("fieldManager")
    if manager:
        return manager
    # the apiserver's default: the user agent up to its first slash
    return request.headers.get("User-Agent", "unknown").split("/", 1)[0] or "unknown"


async def _json_body(request: web.Request) -> dict:
    raw = await request.read()
    content_type = request.content_type
    if content_type == PROTOBUF:
        return _protobuf_body(raw)
    if content_type not in (JSON, "application/yaml", "application/octet-stream", "text/plain", ""):
        raise errors.unsupported_media_type(content_type, [JSON, "application/yaml", PROTOBUF])
    try:
        if content_type == "application/yaml":
            body = yaml.safe_load(raw.decode() or "{}")
        else:
            body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request was not a JSON object")
    return body


def _protobuf_body(raw: bytes) -> dict:
    """A protobuf request body (kubectl's generator commands send them) in its JSON form."""
    try:
        api_version, kind, _ = protobuf.unwrap(raw)
        if protobuf.message_name(api_version, kind) is None:
            # custom resources (and kinds without a message) are JSON-only, as on a real server
            raise errors.unsupported_media_type(PROTOBUF, [JSON, "application/yaml"])
        return protobuf.decode_object(raw)
    except protobuf.ProtobufError as exc:
        raise errors.bad_request(f"the body of the request could not be decoded: {exc}") from exc


async def _dispatch(request: web.Request, cluster: Cluster, t: Target) -> web.StreamResponse:
    method = request.method
    rt = t.rt
    if t.watch_path or (method == "GET" and t.name is None and _flag(request, "watch")):
        if method != "GET" or t.subresource:
            raise errors.method_not_allowed()
        return await watch.serve(request, cluster, rt, t.namespace, t.name)
    if t.subresource is not None:
        return await _subresource(request, cluster, t)
    ns = t.namespace or ""
    if rt.review:
        if method != "POST" or t.name is not None:
            raise errors.method_not_allowed()
        body = await _json_body(request)  # kubectl sends reviews as protobuf
        body.setdefault("apiVersion", rt.api_version)
        answer = rbac.review(cluster, authn.user_of(request), rt.kind, body, t.namespace)
        return json_response(answer, 201)
    if t.name is None:
        if method == "GET":
            return _list(request, cluster, rt, t.namespace)
        if method == "POST":
            if rt.namespaced and t.namespace is None:
                raise errors.method_not_allowed()
            body = await _json_body(request)
            warnings = _check_fields(request, cluster, rt, body)
            obj = cluster.create_object(rt, ns, body, _manager(request), _dry_run(request))
            return _object_response(request, cluster, rt, obj, 201, warnings)
        if method == "DELETE":
            options = await _delete_options(request)
            removed = cluster.delete_collection(
                rt,
                t.namespace,
                request.query.get("labelSelector"),
                request.query.get("fieldSelector"),
                options.get("propagationPolicy"),
                _dry_run(request),
                options.get("gracePeriodSeconds"),
            )
            rv = str(cluster.store.resource_version)
            return json_response(
                {
                    "kind": rt.list_kind,
                    "apiVersion": rt.api_version,
                    "metadata": {"resourceVersion": rv},
                    "items": [cluster.present(rt, o) for o in removed],
                }
            )
        raise errors.method_not_allowed()
    if method == "GET":
        obj = cluster.get_object(rt, ns, t.name)
        return _object_response(request, cluster, rt, obj)
    if method == "PUT":
        body = await _json_body(request)
        warnings = _check_fields(request, cluster, rt, body)
        obj = cluster.update_object(
            rt, ns, t.name, body, _manager(request), None, _dry_run(request)
        )
        return _object_response(request, cluster, rt, obj, 200, warnings)
    if method == "PATCH":
        return await _patch(request, cluster, t)
    if method == "DELETE":
        options = await _delete_options(request)
        obj, gone = cluster.delete_object(
            rt,
            ns,
            t.name,
            options.get("propagationPolicy"),
            options.get("preconditions"),
            _dry_run(request),
            options.get("gracePeriodSeconds"),
        )
        if gone and rt.key != ("", "namespaces") and not rt.returns_deleted:
            meta = obj["metadata"]
            return json_response(
                errors.success_status(meta["name"], rt.group, rt.plural, meta["uid"])
            )
        # a pod's graceful deletion answers 200 with the pod, as the apiserver does
        held = 200 if gone or rt.key == ("", "pods") else 202
        return _object_response(request, cluster, rt, obj, held)
    raise errors.method_not_allowed()


async def _patch(request: web.Request, cluster: Cluster, t: Target) -> web.Response:
    raw = await request.read()
    existed = cluster.store.get(t.rt.key, t.namespace or "", t.name or "") is not None
    warnings: list[str] = []
    if request.content_type == "application/apply-patch+yaml" and t.subresource is None:
        # an apply configuration has the object's shape, so unknown fields can be named
        try:
            applied = yaml.safe_load(raw.decode() or "{}")
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"error decoding YAML: {exc}") from exc
        if isinstance(applied, dict):
            warnings = _check_fields(request, cluster, t.rt, applied)
            raw = yaml.safe_dump(applied).encode()
    obj = cluster.patch_object(
        t.rt,
        t.namespace or "",
        t.name or "",
        request.content_type,
        raw,
        request.query.get("fieldManager") or None
        if request.content_type.endswith("apply-patch+yaml")
        else _manager(request),
        _flag(request, "force"),
        t.subresource,
        _dry_run(request),
    )
    return _object_response(request, cluster, t.rt, obj, 200 if existed else 201, warnings)


def _check_fields(request: web.Request, cluster: Cluster, rt: ResourceType, obj: dict) -> list[str]:
    """Server-side field validation (`?fieldValidation=Strict|Warn|Ignore`, Warn by default).

    Unknown fields are dropped, as decoding into the apiserver's types drops them; Strict
    answers 400 instead, Warn returns the warnings to send back.
    """
    mode = request.query.get("fieldValidation", "Warn")
    if mode not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(
            f'fieldValidation: Unsupported value: "{mode}": supported values: "Ignore", '
            '"Strict", "Warn"'
        )
    crds = cluster.store.list(CRD_KEY) if rt.custom else ()
    unknown = openapi.unknown_fields(rt.api_version, rt.kind, obj, crds)
    if not unknown:
        return []
    if mode == "Strict":
        raise errors.bad_request(openapi.strict_decoding_message(rt.api_version, rt.kind, unknown))
    for path in unknown:
        _drop_path(obj, path)
    return [] if mode == "Ignore" else [f'unknown field "{path}"' for path in unknown]


def _drop_path(obj: dict, path: str) -> None:
    """Remove the field at a path like `spec.template.spec.containers[0].bogus`."""
    node: object = obj
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    for part in parts[:-1]:
        if part.startswith("["):
            index = int(part[1:-1])
            node = node[index] if isinstance(node, list) and index < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(parts[-1], None)


async def _delete_options(request: web.Request) -> dict:
    options: dict = {}
    raw = await request.read()
    if raw and request.content_type == PROTOBUF:
        options = _protobuf_body(raw)
    elif raw.strip():
        try:
            options = json.loads(raw)
        except ValueError as exc:
            raise errors.bad_request(f"invalid DeleteOptions: {exc}") from exc
        if not isinstance(options, dict):
            raise errors.bad_request("invalid DeleteOptions")
    if "propagationPolicy" in request.query:
        options["propagationPolicy"] = request.query["propagationPolicy"]
    if "gracePeriodSeconds" in request.query:
        raw_grace = request.query["gracePeriodSeconds"]
        try:
            options["gracePeriodSeconds"] = int(raw_grace)
        except ValueError as exc:
            raise errors.bad_request(
                f'strconv.ParseInt: parsing "{raw_grace}": invalid syntax'
            ) from exc
    grace = options.get("gracePeriodSeconds")
    if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int)):
        raise errors.bad_request("invalid DeleteOptions: gracePeriodSeconds must be an integer")
    orphan = request.query.get("orphanDependents", options.get("orphanDependents"))
    if orphan in (True, "true") and not options.get("propagationPolicy"):
        options["propagationPolicy"] = "Orphan"
    return options


def _object_response(
    request: web.Request,
    cluster: Cluster,
    rt: ResourceType,
    obj: dict,
    status: int = 200,
    warnings: list[str] | None = None,
) -> web.Response:
    response = _object_body(request, cluster, rt, obj, status)
    for warning in warnings or ():
        # RFC 7234 warn-code 299, the way the apiserver sends its warnings
        response.headers.add("Warning", f"299 - {json.dumps(warning)}")
    return response


def _object_body(
    request: web.Request, cluster: Cluster, rt: ResourceType, obj: dict, status: int
) -> web.Response:
    obj = cluster.present(rt, obj)
    if wants_table(request):
        table = to_table(request, rt, [obj], cluster.clock.now())
        table.setdefault("metadata", {})["resourceVersion"] = obj["metadata"].get(
            "resourceVersion", ""
        )
        return json_response(table, status)
    if (
        cluster.store.get(rt.key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        is obj
    ):
        body = cluster.store.encoded(rt.key, obj)
        return web.Response(body=body, status=status, content_type=JSON)
    return json_response(obj, status)


def _list(
    request: web.Request, cluster: Cluster, rt: ResourceType, namespace: str | None
) -> web.Response:
    q = request.query
    try:
        limit = int(q.get("limit") or 0)
    except ValueError as exc:
        raise errors.bad_request(f"invalid limit: {q.get('limit')}") from exc
    items, rv, token, remaining = cluster.list_objects(
        rt,
        namespace,
        q.get("labelSelector"),
        q.get("fieldSelector"),
        limit,
        q.get("continue"),
        q.get("resourceVersion"),
        q.get("resourceVersionMatch"),
    )
    meta: dict = {"resourceVersion": rv}
    if token:
        meta["continue"] = token
        meta["remainingItemCount"] = remaining
    if wants_table(request):
        table = to_table(request, rt, [cluster.present(rt, o) for o in items], cluster.clock.now())
        table["metadata"] = meta
        return json_response(table)
    # Encode each stored object once and splice the list together: listing thousands of
    # objects must not re-serialise them on every request.
    store = cluster.store
    parts = [
        store.encoded(rt.key, o)
        if o.get("apiVersion") == rt.api_version
        else dumps(cluster.present(rt, o))
        for o in items
    ]
    head = dumps({"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta})
    body = head[:-1] + b',"items":[' + b",".join(parts) + b"]}"
    return web.Response(body=body, content_type=JSON)


# -- subresources ------------------------------------------------------------------------


async def _subresource(request: web.Request, cluster: Cluster, t: Target) -> web.StreamResponse:
    rt, ns, name, sub, method = t.rt, t.namespace or "", t.name or "", t.subresource, request.method
    sub_def = rt.subresource(sub or "")
    verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "POST": "create", "DELETE": "delete"}
    if sub_def is None or verb.get(method) not in sub_def.verbs:
        raise errors.method_not_allowed()
    if sub == "scale":
        if method == "GET":
            return json_response(cluster.get_scale(rt, ns, name))
        if method == "PUT":
            body = await _json_body(request)
            scale = cluster.update_scale(rt, ns, name, body, _manager(request), _dry_run(request))
            return json_response(scale)
        raw = await request.read()
        scale = cluster.patch_scale(
            rt, ns, name, request.content_type, raw, _manager(request), _dry_run(request)
        )
        return json_response(scale)
    if sub in ("status", "finalize"):
        if method == "GET":
            return _object_response(request, cluster, rt, cluster.get_object(rt, ns, name))
        if method == "PUT":
            body = await _json_body(request)
            obj = cluster.update_object(
                rt, ns, name, body, _manager(request), sub, _dry_run(request)
            )
            return _object_response(request, cluster, rt, obj)
        return await _patch(request, cluster, t)
    if rt.key == ("", "pods"):
        return await _pod_subresource(request, cluster, t)
    if rt.key == ("", "serviceaccounts") and sub == "token":
        body = await _json_body(request)  # kubectl create token may send protobuf
        return json_response(serviceaccounts.token_request(cluster, ns, name, body), 201)
    raise errors.method_not_allowed()


async def _pod_subresource(request: web.Request, cluster: Cluster, t: Target) -> web.StreamResponse:
    ns, name, sub = t.namespace or "", t.name or "", t.subresource
    pod = cluster.get_object(t.rt, ns, name)
    runtime = request.app[RUNTIME]
    if sub in runtime.pod_subresources:
        return await runtime.pod_subresource(request, cluster, pod, sub)
    if sub == "binding":
        body = await _json_body(request)
        node = (body.get("target") or {}).get("name", "")
        current = (pod.get("spec") or {}).get("nodeName")
        if current:
            raise errors.conflict(
                "pods", "", name, f'pod {name} is already assigned to node "{current}"'
            )
        bound = json.loads(json.dumps(pod))
        bound["spec"]["nodeName"] = node
        cluster.store.put(t.rt.key, bound)
        return json_response(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            },
            201,
        )
    if sub == "portforward":
        # kube-apiserver answers a plain request so; an upgrade (kubectl port-forward's
        # WebSocket, then SPDY) would reach the pod's ports, and a simulated pod has none
        # to reach: refused with a Status kubectl prints ("error upgrading connection: ...").
        if not _is_upgrade(request):
            raise errors.bad_request("Upgrade request required")
        raise errors.bad_request("kubesim forwards no ports")
    raise errors.method_not_allowed()


def _is_upgrade(request: web.Request) -> bool:
    """An upgrade request as apimachinery's httpstream.IsUpgradeRequest tells one."""
    tokens = request.headers.get("Connection", "").lower().replace(" ", "").split(",")
    return "upgrade" in tokens and bool(request.headers.get("Upgrade"))


# -- OpenAPI ---------------------------------------------------------------------------


async def _openapi(request: web.Request, cluster: Cluster, rest: list[str]) -> web.Response:
    crds = cluster.store.list(("apiextensions.k8s.io", "customresourcedefinitions"))
    prefix = request.path[: request.path.index("/openapi")]
    if rest == ["v2"]:
        if "protobuf" in request.headers.get("Accept", ""):
            return web.Response(
                body=openapi.openapi_v2_protobuf(crds),
                headers={"Content-Type": openapi.V2_PROTOBUF_CONTENT_TYPE},
            )
        return json_response(openapi.openapi_v2_document(crds))
    if rest == ["v3"]:
        return json_response(openapi.openapi_v3_index(prefix, crds))
    if len(rest) >= 2 and rest[0] == "v3":
        doc = openapi.openapi_v3_document("/".join(rest[1:]), crds)
        if doc is None:
            raise errors.resource_not_found()
        return json_response(doc)
    raise errors.resource_not_found()
