"""The pod list: what a member may see, at a query cost that does not grow with the pods."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.workloads.models import Pod


def _grow(namespace, start, n):
    Pod.objects.bulk_create(
        Pod(
            cluster=namespace.cluster,
            namespace=namespace,
            namespace_name=namespace.name,
            name=f"web-{start + i}",
            phase="Running",
            status="Running",
            ready=True,
            ready_containers=1,
            container_count=1,
            node_name="worker-1",
        )
        for i in range(n)
    )


def _queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response.content.decode()


@pytest.mark.parametrize("username", ["admin", "projadmin", "member"])
@pytest.mark.parametrize("url", ["/pods/", "/api/v1/pods/?limit=1000"])
def test_pod_lists_run_constant_queries(org, portal, api, shop, username, url):
    client = api(username) if url.startswith("/api/") else portal(username)
    _grow(shop, 0, 3)
    small, _ = _queries(client, url)
    _grow(shop, 3, 300)
    large, page = _queries(client, url)
    assert "web-302" in page or "web-" in page
    assert small == large, f"{url}: {small} queries for 3 pods, {large} for 303"


def test_another_projects_pods_are_invisible(org, portal, api, shop, lab):
    _grow(lab, 0, 2)
    pod = Pod.objects.filter(namespace=lab).first()
    assert "web-0" not in portal("member").get("/pods/").content.decode()
    assert portal("member").get(f"/pods/{pod.pk}/").status_code == 404
    assert api("member").get(f"/api/v1/pods/{pod.pk}/").status_code == 404
    assert api("member").get("/api/v1/pods/").json()["results"] == []
    from apps.namespaces import services as ns_services

    ns_services.set_members(org.admin, lab, [org.outsider])  # data-lab's member, once opened
    assert api("outsider").get(f"/api/v1/pods/{pod.pk}/").json()["name"] == "web-0"
