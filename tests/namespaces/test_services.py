"""Namespaces with quotas and members, against kubesim."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from kubernetes import client as k8s

from apps.namespaces import services
from apps.namespaces.models import Namespace

QUOTA = {
    "requests.cpu": "2",
    "limits.cpu": "4",
    "requests.memory": "4Gi",
    "limits.memory": "8Gi",
    "requests.storage": "20Gi",
    "persistentvolumeclaims": "2",
    "pods": "10",
}


def test_create_makes_namespace_quota_and_limits(org, cluster):
    ns = services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota=QUOTA
    )
    core = k8s.CoreV1Api(cluster.kube().api_client)
    live = core.read_namespace("shop")
    assert live.metadata.labels["kcs.io/project"] == "web-shop"
    quota = core.read_namespaced_resource_quota("kcs-quota", "shop")
    assert quota.spec.hard["limits.cpu"] == "4"
    limits = core.read_namespaced_limit_range("kcs-limits", "shop")
    assert limits.spec.limits[0].default_request["cpu"] == "100m"
    assert ns.project == org.web and ns.quota_hard["pods"] == "10"

    # The project's admins now see the cluster and the namespace; members do not yet.
    assert Namespace.objects.restrict(org.projadmin).filter(pk=ns.pk).exists()
    assert not Namespace.objects.restrict(org.member).exists()
    services.set_members(org.projadmin, ns, [org.member])
    assert Namespace.objects.restrict(org.member).filter(pk=ns.pk).exists()
    assert not Namespace.objects.restrict(org.outsider).exists()


def test_quota_cannot_drop_below_use(org, cluster):
    ns = services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="busy", quota={"configmaps": "5"}
    )
    core = k8s.CoreV1Api(cluster.kube().api_client)
    for i in range(3):
        core.create_namespaced_config_map("busy", {"metadata": {"name": f"c{i}"}})
    with pytest.raises(ValidationError) as error:
        services.update_quota(org.projadmin, ns, {"configmaps": "2"})
    assert "lower than what is in use" in str(error.value)
    assert "configmaps" in str(error.value)
    services.update_quota(org.projadmin, ns, {"configmaps": "8"})
    assert core.read_namespaced_resource_quota("kcs-quota", "busy").spec.hard["configmaps"] == "8"


def test_who_may_create_and_bad_input(org, cluster):
    with pytest.raises(PermissionDenied):
        services.create_namespace(org.member, cluster=cluster, project=org.web, name="x", quota={})
    with pytest.raises(Http404):
        # A project admin cannot even see a cluster none of their namespaces are in.
        services.create_namespace(
            org.projadmin, cluster=cluster, project=org.web, name="x", quota={}
        )
    with pytest.raises(ValidationError) as error:
        services.create_namespace(
            org.admin,
            cluster=cluster,
            project=org.web,
            name="kube-x",
            quota={"pods": "two", "requests.cpu": "3", "limits.cpu": "1"},
        )
    messages = error.value.message_dict
    assert "reserved" in str(messages["name"])
    assert "'two' is not a quantity" in str(messages["quota"])
    assert "CPU requests cannot exceed CPU limits" in str(messages["quota"])


def test_delete_shows_terminating_and_members_of_other_projects_refused(org, cluster):
    ns = services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="gone", quota={}
    )
    with pytest.raises(ValidationError, match="Not members of the project: outsider"):
        services.set_members(org.projadmin, ns, [org.outsider])
    services.delete_namespace(org.projadmin, ns)
    assert (
        Namespace.objects.filter(pk=ns.pk).first() is None
        or Namespace.objects.get(pk=ns.pk).phase == "Terminating"
    )


def test_unassigned_namespaces_can_be_assigned_but_system_ones_never(org, cluster):
    from apps.kube.sync import sync_cluster

    k8s.CoreV1Api(cluster.kube().api_client).create_namespace({"metadata": {"name": "legacy"}})
    sync_cluster(cluster)
    legacy = Namespace.objects.get(cluster=cluster, name="legacy")
    assert legacy.project is None
    services.assign(org.admin, legacy, org.data)
    sync_cluster(cluster)
    assert Namespace.objects.get(pk=legacy.pk).project == org.data
    with pytest.raises(ValidationError, match="own namespaces"):
        services.assign(
            org.admin, Namespace.objects.get(cluster=cluster, name="kube-system"), org.data
        )


# --- quotas Kubernetes cannot hold, quotas the cluster cannot give (issue 9, 5) ------------

MOST = "9223372036854775807"  # 2^63 - 1


@pytest.mark.parametrize(
    ("quota", "message"),
    [
        ({"pods": "1e23"}, f"pods: 1e23 is more than Kubernetes can hold; the most is {MOST}."),
        ({"configmaps": "9223372036854775808"}, f"the most is {MOST}."),
        ({"limits.memory": "8Ei"}, "limits.memory: 8Ei is more than Kubernetes can hold"),
        ({"requests.storage": "1e19"}, f"the most is {MOST}."),
        (
            {"requests.cpu": "9223372036854776"},
            f"requests.cpu: 9223372036854776 is more than Kubernetes can hold; "
            f"the most is {MOST}m.",
        ),
        ({"limits.cpu": "1e16"}, f"the most is {MOST}m."),
    ],
)
def test_quota_kubernetes_cannot_hold_is_refused_with_the_maximum(org, cluster, quota, message):
    with pytest.raises(ValidationError) as error:
        services.create_namespace(
            org.admin, cluster=cluster, project=org.web, name="huge", quota=quota
        )
    assert message in " ".join(error.value.message_dict["quota"])
    assert not Namespace.objects.filter(name="huge").exists()
    names = [
        n.metadata.name for n in k8s.CoreV1Api(cluster.kube().api_client).list_namespace().items
    ]
    assert "huge" not in names


def test_quota_at_kubernetes_limits_is_accepted():
    hard = services.clean_quota(
        {"pods": MOST, "requests.cpu": f"{MOST}m", "limits.cpu": f"{MOST}m", "limits.memory": MOST}
    )
    assert hard["pods"] == MOST and hard["requests.cpu"] == f"{MOST}m"


def test_quota_beyond_the_clusters_nodes_is_saved_with_a_warning(org, cluster):
    # Three kubesim nodes: 4 cpu, 16Gi and 110 pods allocatable each.
    ns = services.create_namespace(
        org.admin,
        cluster=cluster,
        project=org.web,
        name="big",
        quota={"requests.cpu": "100", "limits.cpu": "200", "requests.memory": "1Gi", "pods": "500"},
    )
    assert ns.warnings == [
        "requests.cpu: 100 is more than the cluster's nodes can allocate in all (12).",
        "limits.cpu: 200 is more than the cluster's nodes can allocate in all (12).",
        "pods: 500 is more than the cluster's nodes can allocate in all (330).",
    ]
    core = k8s.CoreV1Api(cluster.kube().api_client)
    assert core.read_namespaced_resource_quota("kcs-quota", "big").spec.hard["pods"] == "500"

    ns = services.update_quota(org.admin, ns, {"requests.memory": "1Ti", "pods": "10"})
    assert ns.warnings == [
        "requests.memory: 1Ti is more than the cluster's nodes can allocate in all (48Gi)."
    ]
    assert core.read_namespaced_resource_quota("kcs-quota", "big").spec.hard == {
        "requests.memory": "1Ti",
        "pods": "10",
    }
    ns = services.update_quota(org.admin, ns, {"pods": "330"})
    assert ns.warnings == []
