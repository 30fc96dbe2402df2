"""The RoleBindings the portal keeps in each namespace it manages.

One binding per role, to the cluster's default ClusterRoles: ``kcs-admin`` → ``admin``
(the project's admins) and ``kcs-edit`` → ``edit`` (the members the namespace is opened
to), their subjects the users as the portal impersonates them (``apps.kube.identity``).
They carry ``app.kubernetes.io/managed-by: kcs-portal``: a portal-managed binding the
portal does not want is deleted, a missing one created, a changed one put back; bindings
made by anyone else are left alone.
"""

from . import objects
from .client import Kube
from .errors import KubeError

API_VERSION = "rbac.authorization.k8s.io/v1"
KIND = "RoleBinding"
GROUP = "rbac.authorization.k8s.io"
MANAGED_BY = "app.kubernetes.io/managed-by"
PORTAL = "kcs-portal"
SELECTOR = f"{MANAGED_BY}={PORTAL}"
# ClusterRole → the name of the binding the portal keeps to it
ROLES = {"admin": "kcs-admin", "edit": "kcs-edit"}

# {namespace: {cluster role: [Kubernetes user names]}}
Wanted = dict[str, dict[str, list[str]]]


def manifest(namespace: str, role: str, users: list[str]) -> dict:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": ROLES[role],
            "namespace": namespace,
            "labels": {MANAGED_BY: PORTAL},
        },
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": GROUP, "kind": "User", "name": u} for u in sorted(set(users))],
    }


def managed(kube: Kube, namespace: str | None = None) -> list[dict]:
    """The portal's bindings in ``namespace`` (None: in every namespace, one list)."""
    items, _version = objects.list_all(
        kube, API_VERSION, KIND, namespace=namespace, label_selector=SELECTOR
    )
    return items


def same(live: dict, want: dict) -> bool:
    def subjects(obj):
        return sorted((s.get("kind"), s.get("name")) for s in obj.get("subjects") or [])

    return (
        live.get("roleRef", {}).get("name") == want["roleRef"]["name"]
        and live.get("roleRef", {}).get("kind") == "ClusterRole"
        and subjects(live) == subjects(want)
        and (live["metadata"].get("labels") or {}).get(MANAGED_BY) == PORTAL
    )


def reconcile(kube: Kube, wanted: Wanted, existing: list[dict]) -> dict[str, int]:
    """Make the portal's bindings in the ``wanted`` namespaces what ``wanted`` says;
    ``existing`` are the portal's bindings as listed (a namespace absent from ``wanted``
    keeps none). Returns what changed: {"created": n, "updated": n, "deleted": n}."""
    changes = {"created": 0, "updated": 0, "deleted": 0}
    failed: list[KubeError] = []
    have = {(b["metadata"]["namespace"], b["metadata"]["name"]): b for b in existing}
    want = {
        (namespace, ROLES[role]): manifest(namespace, role, users)
        for namespace, roles in wanted.items()
        for role, users in roles.items()
        if users
    }
    for key in sorted(have.keys() - want.keys()):
        if _attempt(failed, _delete, kube, *key):
            changes["deleted"] += 1
    for key, body in want.items():
        live = have.get(key)
        if live is None:
            if _attempt(failed, _create, kube, body):
                changes["created"] += 1
        elif not same(live, body) and _attempt(failed, _update, kube, live, body):
            changes["updated"] += 1
    if failed:
        raise failed[0]  # the others were still done: one namespace does not hold up the rest
    return changes


def _attempt(failed: list[KubeError], fn, *args) -> bool:
    try:
        fn(*args)
    except KubeError as exc:
        failed.append(exc)
        return False
    return True


def _create(kube: Kube, body: dict) -> None:
    try:
        objects.create(kube, body)
    except KubeError as exc:
        if exc.status != 409:
            raise
        # The name is taken by a binding that lost the portal's label (kubectl label
        # ...-): the name is the portal's, it is put back as the portal wants it.
        meta = body["metadata"]
        _update(kube, objects.read(kube, API_VERSION, KIND, meta["name"], meta["namespace"]), body)


def _update(kube: Kube, live: dict, body: dict) -> None:
    if live.get("roleRef", {}).get("name") != body["roleRef"]["name"]:
        _delete(kube, body["metadata"]["namespace"], body["metadata"]["name"])
        objects.create(kube, body)  # a roleRef cannot change: a new binding
        return
    body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
    objects.replace(kube, body)


def _delete(kube: Kube, namespace: str, name: str) -> None:
    try:
        objects.delete(kube, API_VERSION, KIND, name, namespace)
    except KubeError as exc:
        if not exc.not_found:
            raise
