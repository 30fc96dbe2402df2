"""Workloads in the portal and the API, as a member and as others see them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.kube.sync import sync_cluster
from apps.workloads import services, tasks
from apps.workloads.models import Workload
from tests.kube.conftest import eventually

from .test_services import DEPLOYMENT


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.1)


def _running(workload):
    def check():
        sync_cluster(workload.cluster)
        fresh = Workload.objects.get(pk=workload.pk)
        return fresh if fresh.status == "running" else None

    return eventually(check)


def test_a_member_creates_scales_and_redeploys_in_the_portal(org, portal, shop, run_tasks):
    client = portal("member")
    page = client.post("/workloads/add/yaml/", {"namespace": shop.pk, "yaml": DEPLOYMENT})
    web = Workload.objects.get(name="web", namespace=shop)
    assert page.status_code == 302 and page["Location"] == f"/workloads/{web.pk}/"
    web = _running(web)
    detail = client.get(f"/workloads/{web.pk}/").content.decode()
    assert "web" in detail and "nginx:1.27" in detail and "2/2" in detail
    assert 'data-testid="workload-pods"' in detail and "Running" in detail

    # The + button: one request, answered with the page (HTMX swaps its live part).
    response = client.post(
        f"/workloads/{web.pk}/scale/", {"replicas": "3"}, HTTP_HX_REQUEST="true", follow=True
    )
    assert response.status_code == 200
    assert Workload.objects.get(pk=web.pk).desired == 3

    response = run_tasks(client.post, f"/workloads/{web.pk}/redeploy/")
    assert response.status_code == 302 and response["Location"].startswith("/operations/")

    listed = client.get("/workloads/?kind=Deployment").content.decode()
    assert f"/workloads/{web.pk}/" in listed
    assert f"/workloads/{web.pk}/" not in client.get("/workloads/?kind=CronJob").content.decode()
    assert f"/workloads/{web.pk}/" in client.get("/workloads/?label=app%3Dweb").content.decode()
    assert f"/workloads/{web.pk}/" not in client.get("/workloads/?label=app%3Ddb").content.decode()


def test_delete_asks_for_the_name(org, portal, shop):
    web = services.create_from_yaml(org.member, shop, DEPLOYMENT)
    client = portal("member")
    refused = client.post(f"/workloads/{web.pk}/delete/", {"confirm_name": "wrong"})
    assert refused.status_code == 200 and Workload.objects.filter(pk=web.pk).exists()
    done = client.post(f"/workloads/{web.pk}/delete/", {"confirm_name": "web"})
    assert done.status_code == 302 and not Workload.objects.filter(pk=web.pk).exists()


@pytest.mark.parametrize(
    ("username", "view", "act"),
    [
        ("admin", 200, 302),
        ("deptadmin", 200, 302),
        ("projadmin", 200, 302),
        ("member", 200, 302),  # the namespace is opened to them
        ("outsider", 404, 404),
    ],
)
def test_workload_permission_matrix(org, portal, api, shop, username, view, act):
    web = services.create_from_yaml(org.admin, shop, DEPLOYMENT)
    client = portal(username)
    assert client.get(f"/workloads/{web.pk}/").status_code == view
    assert client.get(f"/workloads/{web.pk}/yaml/").status_code == view
    assert client.post(f"/workloads/{web.pk}/scale/", {"replicas": "1"}).status_code == act
    status = api(username).post(f"/api/v1/workloads/{web.pk}/scale/", {"replicas": 1})
    assert status.status_code == (202 if act == 302 else 404)


def test_the_api_sets_an_image_and_answers_the_operation(org, api, shop, run_tasks):
    web = _running(services.create_from_yaml(org.member, shop, DEPLOYMENT))
    client = api("member")
    response = run_tasks(
        client.post,
        f"/api/v1/workloads/{web.pk}/set-image/",
        {"container": "web", "image": "nginx:1.28"},
        format="json",
    )
    assert response.status_code == 202
    operation = client.get(f"/api/v1/operations/{response.json()['id']}/").json()
    assert operation["status"] == "succeeded" and operation["kind"] == "workload.set_image"
    revisions = client.get(f"/api/v1/workloads/{web.pk}/revisions/").json()
    assert [r["images"] for r in revisions] == [["nginx:1.28"], ["nginx:1.27"]]
    bad = client.post(
        f"/api/v1/workloads/{web.pk}/set-image/", {"container": "x", "image": "y"}, format="json"
    )
    assert bad.status_code == 400 and "container" in bad.json()
    dry = client.post(
        "/api/v1/workloads/dry-run/",
        {"namespace": shop.pk, "yaml": DEPLOYMENT.replace("name: web", "name: trial", 1)},
        format="json",
    )
    assert dry.status_code == 200 and dry.json()["object"]["metadata"]["name"] == "trial"
    assert not Workload.objects.filter(name="trial").exists()


@pytest.mark.parametrize("username", ["admin", "member"])
@pytest.mark.parametrize("url", ["/workloads/", "/api/v1/workloads/?limit=1000"])
def test_workload_lists_run_constant_queries(org, portal, api, shop, username, url):
    client = api(username) if url.startswith("/api/") else portal(username)

    def grow(start, n):
        Workload.objects.bulk_create(
            Workload(
                cluster=shop.cluster,
                namespace=shop,
                namespace_name="shop",
                kind="Deployment",
                name=f"w-{start + i}",
                desired=1,
                status="running",
            )
            for i in range(n)
        )

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    grow(0, 3)
    small = queries()
    grow(3, 300)
    assert queries() == small


def test_a_yaml_edit_of_the_pods_follows_the_rollout_in_the_portal(org, portal, shop, run_tasks):
    web = _running(services.create_from_yaml(org.member, shop, DEPLOYMENT))
    client = portal("member")
    text = services.workload_yaml(org.member, web).replace("nginx:1.27", "nginx:1.28")
    response = run_tasks(client.post, f"/workloads/{web.pk}/yaml/", {"yaml": text})
    # The change rolls out: the page that follows it, as after an edit in the wizard.
    assert response.status_code == 302 and "/operations/" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "succeeded" in page.lower()
    sync_cluster(web.cluster)
    assert Workload.objects.get(pk=web.pk).images == ["nginx:1.28"]
