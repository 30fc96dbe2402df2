"""Namespaces in the portal: who sees and changes what, quota bars, forms, budgets, CSP."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from kubernetes import client as k8s

from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster
from apps.namespaces import services
from apps.namespaces.models import Namespace

QUOTA = {"requests.cpu": "2", "limits.cpu": "4", "requests.memory": "4Gi", "pods": "10"}


@pytest.fixture
def shop(org, cluster):
    """web-shop's namespace "shop"."""
    return services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota=QUOTA
    )


@pytest.fixture
def lab(org, cluster):
    """data-lab's namespace "lab"."""
    return services.create_namespace(
        org.admin, cluster=cluster, project=org.data, name="lab", quota={"pods": "5"}
    )


def _quota(quota):
    return {f"quota_{key.replace('.', '_')}": value for key, value in quota.items()}


def _rows(page) -> list[str]:
    html = page.content.decode()
    table = html.split('data-testid="object-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/namespaces/\d+/">([^<]+)</a>', table)


# --- who sees what ----------------------------------------------------------------


@pytest.mark.parametrize(
    "username, visible",
    [
        ("admin", ["lab", "shop"]),
        ("deptadmin", ["lab", "shop"]),
        ("projadmin", ["shop"]),
        ("member", []),
        ("outsider", []),
    ],
)
def test_list_shows_only_namespaces_the_user_may_see(org, portal, shop, lab, username, visible):
    page = portal(username).get("/namespaces/")
    assert page.status_code == 200
    assert sorted(_rows(page)) == visible


def test_a_member_sees_the_namespace_once_it_is_opened_to_them(org, portal, shop, lab):
    services.set_members(org.projadmin, shop, [org.member])
    member = portal("member")
    assert _rows(member.get("/namespaces/")) == ["shop"]
    page = member.get(f"/namespaces/{shop.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    # No buttons to change what a member may not change.
    for url in ("quota", "delete", "members"):
        assert f"/namespaces/{shop.pk}/{url}/" not in html
    assert 'data-testid="members"' in html and "member" in html
    # Nor do hand-made requests change anything.
    assert member.post(f"/namespaces/{shop.pk}/quota/", _quota({"pods": "1"})).status_code == 403
    assert member.post(f"/namespaces/{shop.pk}/members/", {"users": []}).status_code == 403
    response = member.post(f"/namespaces/{shop.pk}/delete/", {"confirm_name": "shop"})
    assert response.status_code == 403
    assert member.get("/namespaces/add/").status_code == 403
    shop.refresh_from_db()
    assert shop.quota_hard["pods"] == "10" and shop.phase == "Active"
    assert services.members(shop) == [org.member]
    # Another project's namespace is not found at all.
    assert member.get(f"/namespaces/{lab.pk}/").status_code == 404


@pytest.mark.parametrize("username", ["member", "outsider"])
def test_a_namespace_the_user_may_not_see_is_not_found(org, portal, shop, username):
    client = portal(username)
    for suffix in ("", "quota/", "members/", "delete/", "yaml/", "assign/"):
        assert client.get(f"/namespaces/{shop.pk}/{suffix}").status_code == 404, suffix
    assert client.post(f"/namespaces/{shop.pk}/quota/", _quota({"pods": "1"})).status_code == 404
    response = client.post(f"/namespaces/{shop.pk}/delete/", {"confirm_name": "shop"})
    assert response.status_code == 404
    assert Namespace.objects.get(pk=shop.pk).phase == "Active"


# --- detail and quota ---------------------------------------------------------------


def test_detail_shows_quota_used_against_hard_as_bars(org, portal, cluster):
    ns = services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="bars", quota={"configmaps": "4"}
    )
    core = k8s.CoreV1Api(cluster.kube().api_client)
    core.create_namespaced_config_map("bars", {"metadata": {"name": "a"}})
    sync_cluster(cluster)  # the quota's status.used, as the beat schedule would see it
    html = portal("projadmin").get(f"/namespaces/{ns.pk}/").content.decode()
    row = html.split('data-quota-key="configmaps"', 1)[1].split("</tr>", 1)[0]
    # Kubernetes counts the root CA ConfigMap it puts in every namespace too.
    used = int(Namespace.objects.get(pk=ns.pk).quota_used["configmaps"])
    assert used >= 1
    assert f'<progress max="100" value="{used * 25}"' in row
    assert f"<td>{used}</td><td>4</td>" in row
    list_html = portal("projadmin").get("/namespaces/").content.decode()
    assert f'<progress max="100" value="{used * 25}"' not in list_html  # not a summary key


def test_quota_below_use_is_refused_with_the_explanation(org, portal, cluster):
    ns = services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="busy", quota={"configmaps": "6"}
    )
    core = k8s.CoreV1Api(cluster.kube().api_client)
    for i in range(3):
        core.create_namespaced_config_map("busy", {"metadata": {"name": f"c{i}"}})
    client = portal("projadmin")
    response = client.post(f"/namespaces/{ns.pk}/quota/", _quota({"configmaps": "2"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The quota cannot be lower than what is in use." in html
    assert re.search(r"configmaps: \d+ is in use, more than 2", html)
    assert 'role="alert"' in html
    assert Namespace.objects.get(pk=ns.pk).quota_hard == {"configmaps": "6"}

    response = client.post(f"/namespaces/{ns.pk}/quota/", _quota({"configmaps": "8", "pods": "9"}))
    assert response.status_code == 302
    assert response["Location"] == f"/namespaces/{ns.pk}/"
    hard = core.read_namespaced_resource_quota("kcs-quota", "busy").spec.hard
    assert hard == {"configmaps": "8", "pods": "9"}
    assert Namespace.objects.get(pk=ns.pk).quota_hard == hard


def test_bad_quantities_are_shown_on_the_form(org, portal, shop):
    response = portal("projadmin").post(
        f"/namespaces/{shop.pk}/quota/", _quota({"pods": "many", "requests.cpu": "1"})
    )
    assert response.status_code == 200
    assert "&#x27;many&#x27; is not a quantity" in response.content.decode()


def test_quota_kubernetes_cannot_hold_is_refused_on_the_form(org, portal, shop):
    response = portal("projadmin").post(f"/namespaces/{shop.pk}/quota/", _quota({"pods": "1e23"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "pods: 1e23 is more than Kubernetes can hold; the most is 9223372036854775807." in html
    assert Namespace.objects.get(pk=shop.pk).quota_hard == QUOTA
    hard = k8s.CoreV1Api(shop.cluster.kube().api_client).read_namespaced_resource_quota(
        "kcs-quota", "shop"
    )
    assert hard.spec.hard["pods"] == "10"


def test_quota_beyond_the_cluster_is_saved_with_a_warning_shown(org, portal, shop, cluster):
    client = portal("projadmin")
    response = client.post(
        f"/namespaces/{shop.pk}/quota/",
        _quota({**QUOTA, "requests.cpu": "64", "limits.cpu": "64"}),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/namespaces/{shop.pk}/"
    html = response.content.decode()
    assert (
        "requests.cpu: 64 is more than the cluster&#x27;s nodes can allocate in all (12)." in html
    )
    assert "The quota was changed." in html
    assert "limits.cpu: 64 is more than" in html
    assert Namespace.objects.get(pk=shop.pk).quota_hard["requests.cpu"] == "64"
    # A new namespace the same way.
    data = {"cluster": cluster.pk, "project": org.web.pk, "name": "roomy"}
    response = client.post("/namespaces/add/", {**data, **_quota({"pods": "400"})}, follow=True)
    html = response.content.decode()
    assert "pods: 400 is more than the cluster&#x27;s nodes can allocate in all (330)." in html
    assert Namespace.objects.get(cluster=cluster, name="roomy").quota_hard == {"pods": "400"}


# --- create --------------------------------------------------------------------------


def test_project_admin_creates_a_namespace_with_a_quota(org, portal, shop, cluster):
    client = portal("projadmin")
    form = client.get("/namespaces/add/").content.decode()
    # Only the projects where they may manage namespaces, and clusters they see.
    assert f'<option value="{org.web.pk}">' in form
    assert f'<option value="{org.data.pk}">' not in form
    assert f'<option value="{cluster.pk}">' in form
    data = {"cluster": cluster.pk, "project": org.web.pk, "name": "shop-two"}
    response = client.post("/namespaces/add/", {**data, **_quota({"pods": "3", "limits.cpu": "1"})})
    assert response.status_code == 302, response.content.decode()
    ns = Namespace.objects.get(cluster=cluster, name="shop-two")
    assert response["Location"] == f"/namespaces/{ns.pk}/"
    assert ns.project == org.web and ns.quota_hard == {"pods": "3", "limits.cpu": "1"}
    core = k8s.CoreV1Api(cluster.kube().api_client)
    assert core.read_namespaced_resource_quota("kcs-quota", "shop-two").spec.hard["pods"] == "3"


def test_create_refuses_another_projects_id_and_invisible_clusters(org, portal, shop, cluster):
    client = portal("projadmin")
    # data-lab is not theirs: refused like an id that does not exist.
    data = {"cluster": cluster.pk, "project": org.data.pk, "name": "sneaky"}
    response = client.post("/namespaces/add/", data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    # A cluster they cannot see is refused the same way.
    response = portal("deptadmin").post(
        "/namespaces/add/", {"cluster": 999999, "project": org.data.pk, "name": "x"}
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Namespace.objects.filter(name__in=["sneaky", "x"]).exists()


def test_create_shows_the_services_errors_next_to_the_fields(org, portal, shop, cluster):
    data = {"cluster": cluster.pk, "project": org.web.pk, "name": "shop"}
    response = portal("admin").post("/namespaces/add/", {**data, **_quota({"pods": "x"})})
    html = response.content.decode()
    assert response.status_code == 200
    assert "This name is not available in this cluster; choose another." in html
    assert "&#x27;x&#x27; is not a quantity" in html


# --- members -------------------------------------------------------------------------


def test_project_admin_opens_the_namespace_to_project_members_only(org, portal, shop):
    client = portal("projadmin")
    html = client.get(f"/namespaces/{shop.pk}/").content.decode()
    assert 'data-testid="members-form"' in html
    # Only the project's members are offered.
    assert f'value="{org.member.pk}"' in html
    assert f'value="{org.outsider.pk}"' not in html
    response = client.post(f"/namespaces/{shop.pk}/members/", {"users": [org.outsider.pk]})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert services.members(shop) == []
    response = client.post(f"/namespaces/{shop.pk}/members/", {"users": [org.member.pk]})
    assert response.status_code == 302
    assert services.members(shop) == [org.member]
    assert Namespace.objects.restrict(org.member).filter(pk=shop.pk).exists()
    page = client.get(f"/namespaces/{shop.pk}/").content.decode()
    assert re.search(rf'value="{org.member.pk}"[^>]*checked', page)
    response = client.post(f"/namespaces/{shop.pk}/members/", {})
    assert response.status_code == 302 and services.members(shop) == []


# --- delete --------------------------------------------------------------------------


def test_delete_needs_the_name_and_then_shows_terminating(org, portal, shop):
    client = portal("projadmin")
    page = client.get(f"/namespaces/{shop.pk}/delete/")
    assert "Type shop to confirm." in page.content.decode()
    response = client.post(f"/namespaces/{shop.pk}/delete/", {"confirm_name": "shpo"})
    assert response.status_code == 200
    assert "The name does not match." in response.content.decode()
    assert Namespace.objects.get(pk=shop.pk).phase == "Active"

    response = client.post(f"/namespaces/{shop.pk}/delete/", {"confirm_name": "shop"}, follow=True)
    assert response.status_code == 200
    row = Namespace.objects.filter(pk=shop.pk).first()
    html = response.content.decode()
    if row is not None:  # Kubernetes is still emptying it
        assert row.phase == "Terminating"
        assert 'data-testid="terminating"' in html and "Terminating" in html
        assert f"/namespaces/{shop.pk}/quota/" not in html
    assert "it shows Terminating until it is gone" in html


# --- unassigned namespaces -------------------------------------------------------------


def test_cloud_admin_assigns_unassigned_namespaces_but_never_system_ones(org, portal, cluster):
    k8s.CoreV1Api(cluster.kube().api_client).create_namespace({"metadata": {"name": "legacy"}})
    sync_cluster(cluster)
    legacy = Namespace.objects.get(cluster=cluster, name="legacy")
    system = Namespace.objects.get(cluster=cluster, name="kube-system")
    admin = portal("admin")
    html = admin.get("/namespaces/unassigned/").content.decode()
    assert f"/namespaces/{legacy.pk}/assign/" in html
    assert "kube-system" not in html
    assert "legacy" not in str(_rows(admin.get("/namespaces/")))  # not among projects' ones

    response = admin.post(f"/namespaces/{legacy.pk}/assign/", {"project": org.data.pk})
    assert response.status_code == 302
    assert Namespace.objects.get(pk=legacy.pk).project == org.data
    response = admin.post(f"/namespaces/{system.pk}/assign/", {"project": org.data.pk})
    assert response.status_code == 200
    assert "cannot be given to a project" in response.content.decode()
    assert Namespace.objects.get(pk=system.pk).project is None

    assert portal("projadmin").get("/namespaces/unassigned/").status_code == 403
    assert portal("deptadmin").get(f"/namespaces/{system.pk}/assign/").status_code == 404


# --- query budget and CSP ----------------------------------------------------------------


def _grow(cluster, project, n):
    Namespace.objects.bulk_create(
        Namespace(
            cluster=cluster,
            project=project,
            name=f"grow-{n}-{i}",
            phase="Active",
            quota_hard={"pods": "10", "requests.cpu": "2"},
            quota_used={"pods": "3"},
        )
        for i in range(n)
    )


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("username", ["admin", "deptadmin"])
def test_list_query_count_does_not_grow_with_rows(org, portal, cluster, username, settings):
    client = portal(username)
    url = "/namespaces/"  # a page holds 50 rows: 3 rows vs a full page of 303
    _grow(cluster, org.web, 3)
    small = _count(client, url)
    _grow(cluster, org.web, 300)
    large = _count(client, url)
    assert small == large, f"{small} queries for few rows, {large} for many"


PAGES = [
    "/namespaces/",
    "/namespaces/add/",
    "/namespaces/unassigned/",
    "/namespaces/{pk}/",
    "/namespaces/{pk}/quota/",
    "/namespaces/{pk}/delete/",
    "/namespaces/{pk}/yaml/",
]


@pytest.mark.parametrize("url", PAGES)
def test_namespace_pages_satisfy_the_content_security_policy(org, portal, shop, url):
    response = portal("admin").get(url.format(pk=shop.pk))
    assert response.status_code == 200
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    html = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert "<style" not in html
    assert "javascript:" not in html


def test_navigation_offers_namespaces(org, portal):
    assert 'href="/namespaces/"' in portal("member").get("/").content.decode()
    assert 'href="/namespaces/unassigned/"' not in portal("projadmin").get("/").content.decode()
    assert 'href="/namespaces/unassigned/"' in portal("admin").get("/").content.decode()


# --- admin site ------------------------------------------------------------------------


def test_admin_site_lists_assigns_and_deletes_through_the_services(org, portal, shop, cluster):
    k8s.CoreV1Api(cluster.kube().api_client).create_namespace({"metadata": {"name": "legacy"}})
    sync_cluster(cluster)
    legacy = Namespace.objects.get(cluster=cluster, name="legacy")
    admin = portal("admin")
    page = admin.get("/admin/namespaces/namespace/?assigned=no")
    assert page.status_code == 200
    html = page.content.decode()
    assert "legacy" in html and ">shop<" not in html
    # Only an unassigned namespace's project can be set, and that assigns it (audited).
    form = admin.get(f"/admin/namespaces/namespace/{legacy.pk}/change/").content.decode()
    assert 'name="project"' in form
    form = admin.get(f"/admin/namespaces/namespace/{shop.pk}/change/").content.decode()
    assert 'name="project"' not in form
    response = admin.post(
        f"/admin/namespaces/namespace/{legacy.pk}/change/", {"project": org.data.pk}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Namespace.objects.get(pk=legacy.pk).project == org.data
    assert AuditEvent.objects.filter(action="namespace.assign", target_name="legacy").exists()
    response = admin.post(f"/admin/namespaces/namespace/{shop.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    row = Namespace.objects.filter(pk=shop.pk).first()
    assert row is None or row.phase == "Terminating"
    assert portal("deptadmin").get("/admin/namespaces/namespace/").status_code == 302
