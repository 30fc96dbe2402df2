"""Every Kubernetes object's page shows its events from the stored rows (newest first,
bounded, in a fixed number of queries), kept after Kubernetes dropped them, and never
another project's."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.applications.models import Application
from apps.clusters.models import Node
from apps.configs.models import ConfigMap, Secret
from apps.events import services
from apps.events.models import Event
from apps.kube import objects
from apps.kube.sync import sync_cluster
from apps.namespaces.models import Namespace
from apps.networking.models import Ingress, Service
from apps.storage.models import PersistentVolume, PersistentVolumeClaim, StorageClass
from apps.workloads import autoscaling
from apps.workloads.models import Pod
from tests.events.conftest import make_event


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- from kubesim ---------------------------------------------------------------------


def test_an_event_kubesim_emits_shows_on_its_objects_pages(org, portal, shop, nginx):
    sync_cluster(shop.cluster)
    pod = Pod.objects.filter(cluster=shop.cluster, workload_name="nginx").order_by("name")[0]
    scheduled = Event.objects.get(
        cluster=shop.cluster, involved_kind="Pod", involved_name=pod.name, reason="Scheduled"
    )
    member = portal("member")
    page = _text(member.get(pod.get_absolute_url()))
    assert 'data-testid="object-events"' in page
    assert scheduled.message in page and f"Pod/{pod.name}" in page
    # The workload's page has its own events and those of its ReplicaSet and pods.
    page = _text(member.get(nginx.get_absolute_url()))
    assert "ScalingReplicaSet" in page and "Deployment/nginx" in page
    assert scheduled.message in page
    assert "kind=Deployment&amp;object=nginx" in page  # the events page, filtered to it

    # Kubernetes drops the event (its hour is up): the page still shows it.
    kube = shop.cluster.kube()
    objects.delete(kube, "v1", "Event", scheduled.name, "shop")
    sync_cluster(shop.cluster)
    assert scheduled.name not in {
        e["metadata"]["name"] for e in objects.list_all(kube, "v1", "Event")[0]
    }
    assert scheduled.message in _text(member.get(pod.get_absolute_url()))


# --- every kind's page ------------------------------------------------------------------


def _rows_of(model, cluster, namespace, **fields):
    if namespace is None:
        return model.objects.create(cluster=cluster, name="thing", **fields)
    return model.objects.create(
        cluster=cluster, namespace=namespace, namespace_name=namespace.name, name="thing", **fields
    )


KINDS = [
    (Pod, "Pod", True, {}),
    (Service, "Service", True, {}),
    (Ingress, "Ingress", True, {}),
    (ConfigMap, "ConfigMap", True, {}),
    (Secret, "Secret", True, {}),
    (PersistentVolumeClaim, "PersistentVolumeClaim", True, {}),
    (Application, "Application", True, {}),
    (Node, "Node", False, {}),
    (PersistentVolume, "PersistentVolume", False, {}),
    (StorageClass, "StorageClass", False, {}),
]


@pytest.mark.parametrize(("model", "kind", "namespaced", "fields"), KINDS)
def test_every_objects_page_shows_its_stored_events(
    org, portal, rows, model, kind, namespaced, fields
):
    cluster, web, _data = rows
    obj = _rows_of(model, cluster, web if namespaced else None, **fields)
    if namespaced:
        about = make_event(cluster, web, "thing", involved_kind=kind, message=f"about the {kind}")
    else:  # a cluster-scoped object's events are in "default"
        default = Namespace.objects.create(cluster=cluster, name="default")
        about = make_event(
            cluster,
            default,
            "thing",
            involved_kind=kind,
            involved_namespace="",
            message=f"about the {kind}",
        )
    other_kind = "ConfigMap" if kind != "ConfigMap" else "Secret"
    make_event(cluster, web, "thing", involved_kind=other_kind, message="about another kind")
    page = _text(portal("admin").get(obj.get_absolute_url()))
    assert about.message in page
    assert "about another kind" not in page


def test_a_namespaces_page_shows_the_namespaces_events(org, portal, rows):
    cluster, web, _data = rows
    make_event(
        cluster,
        web,
        "web",
        involved_kind="Namespace",
        involved_namespace="",
        message="quota changed",
    )
    # (an event of the namespace itself: Kubernetes files it in the namespace)
    Event.objects.filter(message="quota changed").update(involved_namespace="")
    page = _text(portal("admin").get(web.get_absolute_url()))
    assert "quota changed" in page


def test_an_autoscalers_events_are_on_its_workloads_page(org, portal, shop, nginx):
    hpa = autoscaling.create_autoscaler(
        org.member, nginx, min_replicas=2, max_replicas=4, cpu_target=60
    )
    make_event(
        shop.cluster,
        shop,
        hpa.name,
        involved_kind="HorizontalPodAutoscaler",
        reason="SuccessfulRescale",
        message="New size: 4; reason: cpu resource utilization above target",
    )
    page = _text(portal("member").get(nginx.get_absolute_url()))
    assert "New size: 4; reason: cpu resource utilization above target" in page


# --- newest first, bounded, fixed queries ---------------------------------------------------


def test_events_are_newest_first_and_bounded_in_constant_queries(org, portal, rows):
    cluster, web, _data = rows
    config = _rows_of(ConfigMap, cluster, web)
    make_event(cluster, web, "thing", involved_kind="ConfigMap", message="event 0")
    client = portal("projadmin")
    with CaptureQueriesContext(connection) as one:
        _text(client.get(config.get_absolute_url()))
    for i in range(1, services.SHOWN + 10):
        make_event(
            cluster,
            web,
            "thing",
            involved_kind="ConfigMap",
            message=f"event {i}",
            age=timedelta(minutes=-i),
        )
    with CaptureQueriesContext(connection) as many:
        page = _text(client.get(config.get_absolute_url()))
    assert len(many) == len(one)
    newest = services.SHOWN + 9
    assert page.index(f"event {newest}<") < page.index(f"event {newest - 1}<")
    assert page.count('<tr class="normal">') == services.SHOWN
    assert "event 0<" not in page  # the oldest are on the events page


# --- isolation ------------------------------------------------------------------------------


def test_a_member_never_sees_another_projects_events(org, portal, rows):
    cluster, web, data = rows
    mine = _rows_of(ConfigMap, cluster, web)
    theirs = _rows_of(ConfigMap, cluster, data)
    make_event(cluster, web, "thing", involved_kind="ConfigMap", message="own project event")
    make_event(cluster, data, "thing", involved_kind="ConfigMap", message="other project event")
    member = portal("projadmin")  # of web-shop
    page = _text(member.get(mine.get_absolute_url()))
    assert "own project event" in page and "other project event" not in page
    assert member.get(theirs.get_absolute_url()).status_code == 404
    listed = _text(member.get("/events/?object=thing"))
    assert "own project event" in listed and "other project event" not in listed
