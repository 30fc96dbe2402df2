"""Reading and writing Kubernetes objects by apiVersion and kind, as plain dicts.

One table says which typed client method serves each kind the portal manages,
so apps ask for "the ConfigMap x in namespace y" without knowing the client's
method names. Objects go in and come out as the JSON Kubernetes sends: answers
are read raw (``_preload_content=False``), which is lossless and several times
faster than the client's model classes.
"""

from dataclasses import dataclass

import orjson

from .client import Kube

PAGE = 500


@dataclass(frozen=True)
class Kind:
    api: str  # the Kube attribute holding the typed API (core, storage, ...); "custom"
    suffix: str  # the client's method suffix, e.g. "namespaced_config_map"; custom: plural
    namespaced: bool

    @property
    def custom(self) -> bool:
        """A custom resource, served by the client's CustomObjectsApi."""
        return self.api == "custom"


def custom(plural: str, namespaced: bool = True) -> Kind:
    return Kind("custom", plural, namespaced)


KINDS: dict[tuple[str, str], Kind] = {
    ("v1", "Namespace"): Kind("core", "namespace", False),
    ("v1", "Node"): Kind("core", "node", False),
    ("v1", "Pod"): Kind("core", "namespaced_pod", True),
    ("v1", "ConfigMap"): Kind("core", "namespaced_config_map", True),
    ("v1", "Secret"): Kind("core", "namespaced_secret", True),
    ("v1", "PersistentVolumeClaim"): Kind("core", "namespaced_persistent_volume_claim", True),
    ("v1", "PersistentVolume"): Kind("core", "persistent_volume", False),
    ("v1", "ResourceQuota"): Kind("core", "namespaced_resource_quota", True),
    ("v1", "LimitRange"): Kind("core", "namespaced_limit_range", True),
    ("storage.k8s.io/v1", "StorageClass"): Kind("storage", "storage_class", False),
    ("apps/v1", "Deployment"): Kind("apps", "namespaced_deployment", True),
    ("apps/v1", "StatefulSet"): Kind("apps", "namespaced_stateful_set", True),
    ("apps/v1", "DaemonSet"): Kind("apps", "namespaced_daemon_set", True),
    ("apps/v1", "ReplicaSet"): Kind("apps", "namespaced_replica_set", True),
    ("apps/v1", "ControllerRevision"): Kind("apps", "namespaced_controller_revision", True),
    ("batch/v1", "Job"): Kind("batch", "namespaced_job", True),
    ("batch/v1", "CronJob"): Kind("batch", "namespaced_cron_job", True),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): Kind(
        "autoscaling", "namespaced_horizontal_pod_autoscaler", True
    ),
    ("v1", "Event"): Kind("core", "namespaced_event", True),
    ("v1", "Service"): Kind("core", "namespaced_service", True),
    ("v1", "Endpoints"): Kind("core", "namespaced_endpoints", True),
    ("v1", "ServiceAccount"): Kind("core", "namespaced_service_account", True),
    ("networking.k8s.io/v1", "Ingress"): Kind("networking", "namespaced_ingress", True),
    ("discovery.k8s.io/v1", "EndpointSlice"): Kind("discovery", "namespaced_endpoint_slice", True),
    ("app.k8s.io/v1beta1", "Application"): custom("applications"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): Kind("rbac", "namespaced_role_binding", True),
}


def is_namespaced(api_version: str, kind: str) -> bool:
    return KINDS[(api_version, kind)].namespaced


def _target(kube: Kube, verb: str, api_version: str, kind: str, namespace=None, name=None):
    """(client method, its leading arguments) for ``verb`` on one object (or a list).

    Typed methods take (name, namespace); CustomObjectsApi's take (group, version,
    namespace, plural, name). A list without a namespace is across all of them.
    """
    spec = KINDS[(api_version, kind)]
    named = (name,) if name is not None else ()
    if spec.custom:
        group, version = api_version.split("/")
        scope = "namespaced" if spec.namespaced and namespace is not None else "cluster"
        verb = {"read": "get"}.get(verb, verb)
        where = (namespace,) if scope == "namespaced" else ()
        method = getattr(kube.custom, f"{verb}_{scope}_custom_object")
        return method, (group, version, *where, spec.suffix, *named)
    api = getattr(kube, spec.api)
    if verb == "list" and spec.namespaced and namespace is None:
        suffix = spec.suffix.removeprefix("namespaced_")
        return getattr(api, f"list_{suffix}_for_all_namespaces"), ()
    where = (namespace,) if spec.namespaced else ()
    return getattr(api, f"{verb}_{spec.suffix}"), (*named, *where)


def _json(response) -> dict:
    try:
        return orjson.loads(response.data or b"{}")
    except orjson.JSONDecodeError:
        return {}


def read(kube: Kube, api_version: str, kind: str, name: str, namespace: str | None = None):
    method, args = _target(kube, "read", api_version, kind, namespace, name)
    return _json(kube.call(method, *args, _preload_content=False))


def list_(kube: Kube, api_version: str, kind: str, namespace: str | None = None, **params):
    """The List object (``items`` and ``metadata``) of one request; every namespace by default."""
    method, args = _target(kube, "list", api_version, kind, namespace)
    return _json(kube.call(method, *args, _preload_content=False, **params))


def pages(kube: Kube, api_version: str, kind: str, namespace: str | None = None, **params):
    """A list read in pages: (items, the list's resourceVersion) for each page, in order.

    The version is the first page's: the snapshot every page belongs to, and where a
    watch resumes.
    """
    token, version = None, ""
    while True:
        extra = {"_continue": token} if token else {}
        answer = list_(kube, api_version, kind, namespace, limit=PAGE, **extra, **params)
        metadata = answer.get("metadata") or {}
        version = version or metadata.get("resourceVersion") or ""
        yield answer.get("items") or [], version
        token = metadata.get("continue")
        if not token:
            return


def list_all(
    kube: Kube, api_version: str, kind: str, namespace: str | None = None, **params
) -> tuple[list[dict], str]:
    """Every object, read in pages; with the list's resourceVersion (where a watch resumes)."""
    items, version = [], ""
    for page, page_version in pages(kube, api_version, kind, namespace, **params):
        items.extend(page)
        version = page_version
    return items, version


def count(kube: Kube, api_version: str, kind: str, **params) -> int:
    """How many objects there are, without reading them all when the server says how many."""
    answer = list_(kube, api_version, kind, limit=1, **params)
    metadata = answer.get("metadata") or {}
    items = len(answer.get("items") or [])
    if metadata.get("remainingItemCount") is not None:
        return items + int(metadata["remainingItemCount"])
    if not metadata.get("continue"):
        return items
    return len(list_all(kube, api_version, kind, **params)[0])  # selectors: no count given


def watch(
    kube: Kube, api_version: str, kind: str, *, resource_version: str, timeout: int, **params
):
    """A watch stream from ``resource_version``: the raw response, one JSON event per line.

    The server ends it after ``timeout`` seconds; bookmarks carry the version to resume from.
    """
    method, args = _target(kube, "list", api_version, kind)
    return kube.call(
        method,
        *args,
        watch=True,
        resource_version=resource_version,
        allow_watch_bookmarks=True,
        timeout_seconds=timeout,
        _preload_content=False,
        _request_timeout=(5, timeout + 30),
        retry=False,
        **params,
    )


def create(kube: Kube, obj: dict, *, dry_run: bool = False) -> dict:
    method, args = _target(
        kube, "create", obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace")
    )
    extra = {"dry_run": "All"} if dry_run else {}
    response = kube.call(method, *args, obj, retry=False, _preload_content=False, **extra)
    return _json(response)


def replace(kube: Kube, obj: dict, *, dry_run: bool = False) -> dict:
    """Replace the object; its resourceVersion makes a stale edit a 409 Conflict."""
    metadata = obj["metadata"]
    method, args = _target(
        kube, "replace", obj["apiVersion"], obj["kind"], metadata.get("namespace"), metadata["name"]
    )
    extra = {"dry_run": "All"} if dry_run else {}
    response = kube.call(method, *args, obj, retry=False, _preload_content=False, **extra)
    return _json(response)


def patch(kube: Kube, api_version: str, kind: str, name: str, body, namespace=None) -> dict:
    """A merge of ``body`` into the object: strategic for built-in kinds (as kubectl
    patches), a JSON merge for custom resources (which have no strategy); a list is a
    JSON patch."""
    method, args = _target(kube, "patch", api_version, kind, namespace, name)
    extra = {}
    if KINDS[(api_version, kind)].custom and isinstance(body, dict):
        extra["_content_type"] = "application/merge-patch+json"
    response = kube.call(method, *args, body, _preload_content=False, **extra)
    return _json(response)


def apply(kube: Kube, obj: dict, *, manager: str, dry_run: bool = False) -> dict:
    """Server-side apply (``kubectl apply --server-side --force-conflicts``): create the
    object or bring the fields ``manager`` sets to what ``obj`` says, leaving fields other
    managers own alone. Applying the same object twice changes nothing: it is how imports
    are retried."""
    metadata = obj["metadata"]
    method, args = _target(
        kube, "patch", obj["apiVersion"], obj["kind"], metadata.get("namespace"), metadata["name"]
    )
    extra = {"dry_run": "All"} if dry_run else {}
    response = kube.call(
        method,
        *args,
        obj,
        field_manager=manager,
        force=True,
        _content_type="application/apply-patch+yaml",
        _preload_content=False,
        retry=False,
        **extra,
    )
    return _json(response)


def delete(kube: Kube, api_version: str, kind: str, name: str, namespace: str | None = None):
    """Delete; the answer: the object (kept while finalizers or graceful deletion run) or a
    Status (gone). What the object owns goes too, in the background, as with kubectl (the
    API's own default for Jobs would leave their pods behind)."""
    method, args = _target(kube, "delete", api_version, kind, namespace, name)
    return _json(
        kube.call(
            method,
            *args,
            propagation_policy="Background",
            retry=False,
            _preload_content=False,
        )
    )


def is_gone(answer: dict) -> bool:
    """Whether a delete's answer says the object is gone (a Status), not still terminating."""
    return answer.get("kind") in ("Status", "", None)
