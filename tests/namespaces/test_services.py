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
