"""The portal's RoleBindings are kept by the informer: changed with kubectl, put back at once.

The informer watches the bindings labelled ``app.kubernetes.io/managed-by=kcs-portal``
(a guard: no rows are kept) and repairs what drifted without waiting for beat.
"""

from kubernetes import client as k8s

from apps.kube import rbac as kube_rbac
from apps.namespaces import services as ns_services
from tests.namespaces.test_role_bindings import bindings

from .conftest import eventually

WANTED = {
    "kcs-admin": ("admin", ["kcs:user:deptadmin", "kcs:user:projadmin"]),
    "kcs-edit": ("edit", ["kcs:user:member"]),
}


def _shop(org, cluster):
    namespace = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota={}
    )
    ns_services.set_members(org.projadmin, namespace, [org.member])
    return namespace


def test_a_deleted_or_changed_binding_is_put_back_without_beat(org, cluster, informer):
    _shop(org, cluster)
    assert bindings(cluster, "shop") == WANTED
    api = k8s.RbacAuthorizationV1Api(cluster.kube().api_client)

    api.delete_namespaced_role_binding("kcs-edit", "shop")  # kubectl delete rolebinding
    eventually(lambda: bindings(cluster, "shop") == WANTED)

    widened = kube_rbac.manifest("shop", "edit", ["kcs:user:member", "kcs:user:outsider"])
    live = api.read_namespaced_role_binding("kcs-edit", "shop")
    widened["metadata"]["resourceVersion"] = live.metadata.resource_version
    api.replace_namespaced_role_binding("kcs-edit", "shop", widened)
    eventually(lambda: bindings(cluster, "shop") == WANTED)

    stray = kube_rbac.manifest("shop", "admin", ["kcs:user:outsider"])
    stray["metadata"]["name"] = "kcs-stray"  # carries the portal's label, the portal wants none
    api.create_namespaced_role_binding("shop", stray)
    eventually(lambda: bindings(cluster, "shop") == WANTED)

    # its label taken off, the binding leaves the watch: the name is taken back
    api.patch_namespaced_role_binding(
        "kcs-admin", "shop", {"metadata": {"labels": {kube_rbac.MANAGED_BY: None}}}
    )
    eventually(lambda: bindings(cluster, "shop") == WANTED)


def test_bindings_made_by_others_are_left_alone(org, cluster, informer):
    _shop(org, cluster)
    api = k8s.RbacAuthorizationV1Api(cluster.kube().api_client)
    theirs = kube_rbac.manifest("shop", "edit", ["ci-bot"])
    theirs["metadata"] = {"name": "ci", "namespace": "shop"}
    api.create_namespaced_role_binding("shop", theirs)
    api.delete_namespaced_role_binding("kcs-edit", "shop")
    eventually(lambda: bindings(cluster, "shop") == WANTED)  # (the repair has run)
    kept = api.read_namespaced_role_binding("ci", "shop")
    assert [s.name for s in kept.subjects] == ["ci-bot"] and not kept.metadata.labels
