"""Events: mirrored, kept after Kubernetes drops them, pruned by age, listed with filters
to those who may see their namespaces, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.events import services
from apps.events.models import Event
from apps.events.sync import EVENTS
from apps.kube import informer, objects
from apps.kube.sync import resync, sync_cluster
from tests.events.conftest import make_event


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- mirroring and keeping ------------------------------------------------------------


def test_events_are_kept_after_kubernetes_drops_them(org, portal, shop, nginx, monkeypatch):
    cluster = shop.cluster
    sync_cluster(cluster)
    pod_events = Event.objects.filter(cluster=cluster, namespace_name="shop", involved_kind="Pod")
    scheduled = pod_events.filter(reason="Scheduled").first()
    assert scheduled is not None, list(pod_events.values_list("reason", flat=True))
    assert scheduled.namespace_id == shop.pk
    assert scheduled.involved_name.startswith("nginx-")
    assert scheduled.last_seen is not None and scheduled.source

    # Kubernetes drops it (its TTL passed): neither a list without it nor the watch's
    # deletion removes the row.
    kube = cluster.kube()
    objects.delete(kube, "v1", "Event", scheduled.name, "shop")
    listed = {e["metadata"]["name"] for e in objects.list_all(kube, "v1", "Event")[0]}
    assert scheduled.name not in listed
    sync_cluster(cluster)
    EVENTS.apply(cluster, deletes=[scheduled.manifest])
    assert Event.objects.filter(pk=scheduled.pk).exists()
    # Beat's resync (under a watching informer) does not list events again because there
    # are more rows than Kubernetes has events.
    assert EVENTS.agrees(len(listed), cluster)
    monkeypatch.setattr(informer, "is_watched", lambda _cluster: True)
    cluster.refresh_from_db()
    assert "Event" not in resync(cluster)

    page = _text(portal("member").get(f"/events/?namespace={shop.pk}&reason=Scheduled"))
    assert scheduled.involved_name in page and scheduled.message in page


def test_other_mirrors_still_remove_what_kubernetes_deleted(org, shop, nginx):
    from apps.workloads.models import Pod
    from apps.workloads.sync import PODS

    assert not PODS.keep_missing
    pod = Pod.objects.filter(cluster=shop.cluster, namespace_name="shop").first()
    PODS.apply(shop.cluster, deletes=[pod.manifest])
    assert not Pod.objects.filter(pk=pod.pk).exists()


def test_prune_removes_events_older_than_the_retention(settings, rows):
    cluster, web, _data = rows
    settings.EVENTS_RETENTION_DAYS = 7
    old = make_event(cluster, web, "old", age=timedelta(days=8))
    recent = make_event(cluster, web, "recent", age=timedelta(days=6))
    assert services.prune() == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Event.objects.filter(pk=old.pk).exists()
    settings.EVENTS_RETENTION_DAYS = 1
    assert services.prune() == 1
    assert not Event.objects.exists()


# --- the page and the API -------------------------------------------------------------


@pytest.fixture
def mixed(rows):
    cluster, web, data = rows
    return {
        "crash": make_event(
            cluster,
            web,
            "shop-api-1",
            type="Warning",
            reason="BackOff",
            message="Back-off restarting failed container",
            age=timedelta(hours=3),
        ),
        "pulled": make_event(
            cluster, web, "shop-web-1", reason="Pulled", message="Pulled image nginx"
        ),
        "scaled": make_event(
            cluster,
            web,
            "shop-web",
            involved_kind="Deployment",
            reason="ScalingReplicaSet",
            message="Scaled up replica set shop-web-6d9 to 2",
            age=timedelta(days=2),
        ),
        "lab": make_event(
            cluster,
            data,
            "lab-job-1",
            type="Warning",
            reason="FailedMount",
            message="MountVolume failed for lab",
        ),
    }


def test_events_page_filters(org, portal, rows, mixed):
    _cluster, web, _data = rows
    admin = portal("admin")

    def shown(query: str) -> set[str]:
        page = _text(admin.get(f"/events/?{query}"))
        return {key for key, event in mixed.items() if event.message in page}

    assert shown("") == set(mixed)
    assert shown("type=Warning") == {"crash", "lab"}
    assert shown("reason=Pulled") == {"pulled"}
    assert shown("kind=deployment") == {"scaled"}
    assert shown("object=shop-api") == {"crash"}
    assert shown(f"namespace={web.pk}") == {"crash", "pulled", "scaled"}
    assert shown("q=replica+set") == {"scaled"}
    since = (mixed["crash"].last_seen + timedelta(minutes=1)).isoformat()
    until = (mixed["pulled"].last_seen - timedelta(minutes=1)).isoformat()
    assert shown(f"since={since.replace('+', '%2B')}") == {"pulled", "lab"}
    assert shown(f"since={since.replace('+', '%2B')}&until={until.replace('+', '%2B')}") == set()
    assert shown(f"until={until.replace('+', '%2B')}") == {"crash", "scaled"}


def test_events_are_only_those_of_the_users_namespaces(org, portal, api, rows, mixed):
    web_page = _text(portal("projadmin").get("/events/"))
    assert mixed["crash"].message in web_page and mixed["lab"].message not in web_page
    lab_page = _text(portal("outsider").get("/events/"))
    assert mixed["crash"].message not in lab_page

    answer = api("projadmin").get("/api/v1/events/?type=Warning")
    assert answer.status_code == 200
    assert [row["reason"] for row in answer.json()["results"]] == ["BackOff"]
    assert api("projadmin").get(f"/api/v1/events/{mixed['lab'].pk}/").status_code == 404
    detail = api("admin").get(f"/api/v1/events/{mixed['lab'].pk}/").json()
    assert detail["involved_name"] == "lab-job-1" and detail["type"] == "Warning"
    assert api("projadmin").post("/api/v1/events/", {}).status_code == 405


def test_events_api_filters_and_orders_newest_first(org, api, rows, mixed):
    client = api("admin")
    names = [r["involved_name"] for r in client.get("/api/v1/events/").json()["results"]]
    assert names[-2:] == ["shop-api-1", "shop-web"]  # 3 hours, then 2 days ago
    assert [
        r["involved_name"] for r in client.get("/api/v1/events/?kind=Deployment").json()["results"]
    ] == ["shop-web"]
    page = client.get("/api/v1/events/?limit=2").json()
    assert len(page["results"]) == 2 and page["next"]
    rest = client.get(page["next"]).json()["results"]
    assert [r["involved_name"] for r in rest] == names[2:]


@pytest.mark.parametrize("username", ["admin", "projadmin"])
@pytest.mark.parametrize("url", ["/events/", "/api/v1/events/"])
def test_event_lists_cost_the_same_whatever_the_rows(org, portal, api, rows, username, url):
    cluster, web, data = rows
    client = api(username) if url.startswith("/api/") else portal(username)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for i in range(2):
        make_event(cluster, web, f"few-{i}")
        make_event(cluster, data, f"few-lab-{i}")
    few = count()
    for i in range(30):
        make_event(cluster, web, f"many-{i}", type="Warning")
        make_event(cluster, data, f"many-lab-{i}")
    assert count() == few
