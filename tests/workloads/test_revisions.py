"""A workload's revisions name who made each one in the portal (from the audit trail) and
compare each with the running one, side by side; what kubectl made is "outside the portal".

Against kubesim, the changes outside the portal made with the official client."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from kubernetes import client as k8s

from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster
from apps.workloads import services, tasks
from apps.workloads.models import Workload
from tests.kube.conftest import eventually

from .test_services import DEPLOYMENT


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.1)


def _apps(cluster):
    return k8s.AppsV1Api(cluster.kube().api_client)


def _fresh(workload) -> Workload:
    sync_cluster(workload.cluster)
    return Workload.objects.get(pk=workload.pk)


def _running(workload) -> Workload:
    return eventually(lambda: (fresh := _fresh(workload)).status == "running" and fresh)


def _listed(actor, workload, numbers: list[int]) -> list[dict]:
    """The revision list once Kubernetes has numbered the revisions ``numbers``."""

    def check():
        found = services.revisions(actor, _fresh(workload))
        return found if [r["revision"] for r in found] == numbers else None

    return eventually(check)


def _succeeded(operation):
    operation.refresh_from_db()
    assert operation.status == "succeeded", operation.error
    return operation


def _rows(page: str) -> dict[int, str]:
    """The revisions table's rows by revision number: their text, tags dropped."""
    found = re.findall(r'<tr data-testid="revision" data-revision="(\d+)">(.*?)</tr>', page, re.S)
    return {
        int(n): " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for n, row in found
    }


def _diff_rows(page: str, revision: int) -> list[tuple[str, str, str]]:
    """A revision's side-by-side diff on the page: (row kind, left text, right text)."""
    start = page.index(f'data-revision="{revision}"')
    table = page[start:].split('data-testid="revision-diff"', 1)[1].split("</table>", 1)[0]
    return [
        (kind, html.unescape(left), html.unescape(right))
        for kind, left, right in re.findall(
            r'<tr class="(changed|removed|added|same)">.*?<td class="old"><pre>(.*?)</pre></td>'
            r'.*?<td class="new"><pre>(.*?)</pre></td>',
            table,
            re.S,
        )
    ]


def test_each_revision_names_who_made_it_what_they_did_and_compares(
    org, shop, portal, api, run_tasks
):
    # member creates it, projadmin sets an image, member rolls back to the first revision
    web = _running(services.create_from_yaml(org.member, shop, DEPLOYMENT))
    _succeeded(
        run_tasks(services.set_image, org.projadmin, web, container="web", image="nginx:1.28")
    )
    listed = _listed(org.member, web, [2, 1])
    assert [(r["changed_by"], str(r["change"])) for r in listed] == [
        ("projadmin", "Image set"),
        ("member", "Created"),
    ]
    _succeeded(run_tasks(services.rollback, org.member, _fresh(web), 1))
    # an edit that leaves the pod template as it was (more replicas) makes no revision
    text = services.workload_yaml(org.projadmin, _fresh(web)).replace(
        "replicas: 2", "replicas: 3", 1
    )
    run_tasks(services.replace_yaml, org.projadmin, _fresh(web), text)
    assert _apps(shop.cluster).read_namespaced_deployment("web", shop.name).spec.replicas == 3

    # the first ReplicaSet is back as revision 3, its creation time unchanged
    listed = _listed(org.member, web, [3, 2])
    rolled_back = AuditEvent.objects.get(action="workload.rollback", result="success")
    image_set = AuditEvent.objects.get(action="workload.set_image", result="success")
    assert [
        (r["revision"], r["images"], r["changed_by"], str(r["change"]), r["action"]) for r in listed
    ] == [
        (3, ["nginx:1.27"], "member", "Rolled back", "workload.rollback"),
        (2, ["nginx:1.28"], "projadmin", "Image set", "workload.set_image"),
    ]
    assert [r["changed_at"] for r in listed] == [rolled_back.created, image_set.created]
    assert [r["cause"] for r in listed] == ["rollback to revision 1", "image web=nginx:1.28"]

    # the page
    page = portal("member").get(f"/workloads/{web.pk}/").content.decode()
    rows = _rows(page)
    assert set(rows) == {2, 3}
    assert "member" in rows[3] and "Rolled back" in rows[3] and "projadmin" not in rows[3]
    assert "projadmin" in rows[2] and "Image set" in rows[2] and "set_image" not in page
    assert "outside the portal" not in page
    # revision 2 compared with the running one: its image on the left, the running on the right
    assert "Compare revision 2 with the running one (3)" in page
    changed = [(left, right) for kind, left, right in _diff_rows(page, 2) if kind == "changed"]
    assert any("nginx:1.28" in left and "nginx:1.27" in right for left, right in changed)
    assert all("nginx:1.27" not in left and "nginx:1.28" not in right for left, right in changed)
    assert "pod-template-hash" not in page.split('data-testid="revisions"', 1)[1]

    # the API, to the member and to someone of another project
    answer = api("member").get(f"/api/v1/workloads/{web.pk}/revisions/")
    assert answer.status_code == 200
    assert [(r["revision"], r["changed_by"], r["change"], r["action"]) for r in answer.json()] == [
        (3, "member", "Rolled back", "workload.rollback"),
        (2, "projadmin", "Image set", "workload.set_image"),
    ]
    assert answer.json()[0]["changed_at"].startswith(rolled_back.created.isoformat()[:19])
    assert api("outsider").get(f"/api/v1/workloads/{web.pk}/revisions/").status_code == 404


def test_revisions_made_with_kubectl_are_outside_the_portal(org, shop, portal, api):
    web = services.create_from_yaml(org.member, shop, DEPLOYMENT)
    apps = _apps(shop.cluster)

    def kubectl_set_image(image):
        body = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}
        apps.patch_namespaced_deployment("web", shop.name, body)

    kubectl_set_image("nginx:1.29")
    listed = _listed(org.member, web, [2, 1])
    assert [(r["images"], r["changed_by"], str(r["change"])) for r in listed] == [
        (["nginx:1.29"], "", ""),
        (["nginx:1.27"], "member", "Created"),
    ]
    # outside the portal, the time is when Kubernetes made it
    assert listed[0]["changed_at"].isoformat().replace("+00:00", "Z") == listed[0]["created"]

    # kubectl brings the first template back: the same ReplicaSet, now revision 3, is not
    # the member's creation
    kubectl_set_image("nginx:1.27")
    listed = _listed(org.member, web, [3, 2])
    assert [(r["images"], r["changed_by"]) for r in listed] == [
        (["nginx:1.27"], ""),
        (["nginx:1.29"], ""),
    ]
    page = portal("member").get(f"/workloads/{web.pk}/").content.decode()
    rows = _rows(page)
    assert "outside the portal" in rows[3] and "outside the portal" in rows[2]
    assert "member" not in rows[3] + rows[2]
    revisions = api("member").get(f"/api/v1/workloads/{web.pk}/revisions/").json()
    assert [(r["changed_by"], r["change"], r["action"]) for r in revisions] == [("", "", "")] * 2

    # a change in the portal after them is named again
    services.set_image(org.projadmin, _fresh(web), container="web", image="nginx:1.28")
    listed = _listed(org.member, web, [4, 3, 2])
    assert [r["changed_by"] for r in listed] == ["projadmin", "", ""]


def test_the_revisions_page_runs_the_same_queries_however_many_revisions(org, shop, portal):
    web = services.create_from_yaml(org.member, shop, DEPLOYMENT)
    # the rollouts are not followed here (no worker): each change makes a revision all the same
    services.set_image(org.member, _fresh(web), container="web", image="nginx:1.28")
    _listed(org.member, web, [2, 1])
    client = portal("member")

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(f"/workloads/{web.pk}/")
        assert page.status_code == 200
        return len(ctx.captured_queries), len(_rows(page.content.decode()))

    few, shown = queries()
    assert shown == 2
    for tag in ("1.29", "1.30", "1.31"):
        services.set_image(org.projadmin, _fresh(web), container="web", image=f"nginx:{tag}")
    _listed(org.member, web, [5, 4, 3, 2, 1])
    assert queries() == (few, 5)


def test_a_deployment_made_with_kubectl_is_in_the_portal_and_scaled_from_it(
    org, shop, portal, run_tasks
):
    apps = _apps(shop.cluster)
    labels = {"app": "api"}
    apps.create_namespaced_deployment(
        shop.name,
        {
            "metadata": {"name": "api"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "api", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    sync_cluster(shop.cluster)
    api_ = Workload.objects.get(cluster=shop.cluster, namespace_name=shop.name, name="api")
    assert api_.namespace == shop and api_.images == ["nginx:1.27"]
    assert f"/workloads/{api_.pk}/" in portal("member").get("/workloads/").content.decode()
    api_ = _running(api_)

    _succeeded(run_tasks(services.scale, org.member, api_, 3))
    live = apps.read_namespaced_deployment("api", shop.name)
    assert live.spec.replicas == 3
    assert apps.read_namespaced_deployment_status("api", shop.name).status.ready_replicas == 3
    assert _fresh(api_).desired == 3
    # its one revision was made outside the portal
    [revision] = services.revisions(org.member, _fresh(api_))
    assert (revision["revision"], revision["changed_by"]) == (1, "")
