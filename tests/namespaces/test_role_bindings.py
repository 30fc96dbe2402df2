"""Who may work in a namespace, kept in RoleBindings in the cluster (kubesim enforces them).

Project admins (and department admins) → ClusterRole admin, the members the namespace is
opened to → edit, each as the Kubernetes user the portal impersonates; kept in line when
roles change and repaired by beat's resync.
"""

from kubernetes import client as k8s

from apps.clusters import health
from apps.core import services as core_services
from apps.core.authz import Role
from apps.kube import identity
from apps.kube import rbac as kube_rbac
from apps.kube.errors import KubeError
from apps.namespaces import services as ns_services
from apps.tenancy import services as tenancy
from tests.configs.conftest import lab, shop  # noqa: F401


def _rbac(cluster) -> k8s.RbacAuthorizationV1Api:
    return k8s.RbacAuthorizationV1Api(cluster.kube().api_client)


def bindings(cluster, namespace: str) -> dict[str, tuple[str, list[str]]]:
    """{binding: (cluster role, [users])} of the portal's bindings in the namespace."""
    listed = _rbac(cluster).list_namespaced_role_binding(
        namespace, label_selector="app.kubernetes.io/managed-by=kcs-portal"
    )
    return {
        b.metadata.name: (b.role_ref.name, sorted(s.name for s in b.subjects or []))
        for b in listed.items
    }


def test_admins_get_admin_and_opened_members_edit(org, shop, lab):  # noqa: F811
    assert bindings(shop.cluster, "shop") == {
        "kcs-admin": ("admin", ["kcs:user:deptadmin", "kcs:user:projadmin"]),
        "kcs-edit": ("edit", ["kcs:user:member"]),
    }
    # data-lab's namespace was opened to none of its members (outsider): its admins only
    assert bindings(lab.cluster, "lab") == {"kcs-admin": ("admin", ["kcs:user:deptadmin"])}


def test_bindings_follow_membership_changes(org, shop):  # noqa: F811
    ns_services.set_members(org.projadmin, shop, [])
    assert "kcs-edit" not in bindings(shop.cluster, "shop")
    ns_services.set_members(org.projadmin, shop, [org.member])
    tenancy.change_member_role(org.projadmin, org.member_of_web, Role.ADMIN)
    assert bindings(shop.cluster, "shop") == {
        "kcs-admin": ("admin", ["kcs:user:deptadmin", "kcs:user:member", "kcs:user:projadmin"])
    }
    membership = org.member_of_web
    membership.refresh_from_db()
    tenancy.remove_member(org.projadmin, membership)
    assert bindings(shop.cluster, "shop") == {
        "kcs-admin": ("admin", ["kcs:user:deptadmin", "kcs:user:projadmin"])
    }


def test_beat_repairs_drift_and_leaves_others_bindings_alone(org, shop):  # noqa: F811
    api = _rbac(shop.cluster)
    api.delete_namespaced_role_binding("kcs-admin", "shop")
    stray = kube_rbac.manifest("shop", "edit", ["kcs:user:outsider"])
    stray["metadata"]["name"] = "kcs-stray"
    api.create_namespaced_role_binding("shop", stray)
    edit = kube_rbac.manifest("shop", "edit", ["kcs:user:outsider"])  # a widened binding
    live = api.read_namespaced_role_binding("kcs-edit", "shop")
    edit["metadata"]["resourceVersion"] = live.metadata.resource_version
    api.replace_namespaced_role_binding("kcs-edit", "shop", edit)
    theirs = kube_rbac.manifest("shop", "edit", ["ci-bot"])
    theirs["metadata"] = {"name": "ci", "namespace": "shop"}  # not the portal's
    api.create_namespaced_role_binding("shop", theirs)

    health.check(shop.cluster, sync=True)

    assert bindings(shop.cluster, "shop") == {
        "kcs-admin": ("admin", ["kcs:user:deptadmin", "kcs:user:projadmin"]),
        "kcs-edit": ("edit", ["kcs:user:member"]),
    }
    kept = api.read_namespaced_role_binding("ci", "shop")
    assert [s.name for s in kept.subjects] == ["ci-bot"]
    assert not kept.metadata.labels


def _member_may_list_configmaps(org, namespace) -> bool:
    """Whether the cluster lets the member list ConfigMaps there (as the portal acts as them)."""
    with identity.acting_as(org.member):
        kube = namespace.cluster.kube()
        try:
            kube.call(k8s.CoreV1Api(kube.api_client).list_namespaced_config_map, namespace.name)
        except KubeError as exc:
            assert exc.status == 403, exc.message
            return False
    return True


def test_removing_a_member_takes_their_access_away_in_the_cluster(org, shop):  # noqa: F811
    assert _member_may_list_configmaps(org, shop)
    ns_services.set_members(org.projadmin, shop, [])  # the namespace closed to them
    assert not _member_may_list_configmaps(org, shop)
    ns_services.set_members(org.projadmin, shop, [org.member])
    assert _member_may_list_configmaps(org, shop)
    membership = org.member_of_web
    membership.refresh_from_db()
    tenancy.remove_member(org.projadmin, membership)  # out of the project altogether
    assert not _member_may_list_configmaps(org, shop)


def test_a_deleted_users_bindings_go_with_them(org, shop, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        core_services.delete_user(org.admin, org.member)
    # a user made later under the same name must not find the old access waiting
    assert bindings(shop.cluster, "shop") == {
        "kcs-admin": ("admin", ["kcs:user:deptadmin", "kcs:user:projadmin"])
    }
