"""Pages a role may not use: refused with the portal's 403 page, and not in that role's menu.

From the permission matrix (DESIGN.md): members have no infrastructure pages and
no audit page; department and project admins see, read-only, the clusters of their
projects and their projects' audit; some pages are for cloud admins only.
"""

import re

import pytest

from tests.portal.conftest import ROLES

ADMINS = {"admin", "deptadmin", "projadmin"}
CLOUD_ADMIN = {"admin"}
EVERYONE = set(ROLES)

PAGES = {
    "/clusters/": ADMINS,
    "/nodes/": ADMINS,
    "/storage/classes/": ADMINS,
    "/storage/volumes/": ADMINS,
    "/audit/": ADMINS,
    "/system/": CLOUD_ADMIN,
    "/namespaces/unassigned/": CLOUD_ADMIN,
    "/clusters/add/": CLOUD_ADMIN,
    "/clusters/add/sandbox/": CLOUD_ADMIN,
    "/storage/classes/add/": CLOUD_ADMIN,
    "/departments/add/": CLOUD_ADMIN,
    "/projects/add/": {"admin", "deptadmin"},  # whoever may add a project to a department
    "/configmaps/": EVERYONE,
    "/secrets/": EVERYONE,
    "/pods/": EVERYONE,
    "/storage/claims/": EVERYONE,
    "/operations/": EVERYONE,
    "/tokens/": EVERYONE,
}


def _menu(page: str) -> set[str]:
    nav = re.search(r'<nav class="sidebar".*?</nav>', page, re.S)
    return set(re.findall(r'href="([^"]+)"', nav.group(0))) if nav else set()


@pytest.mark.parametrize("url", PAGES)
def test_a_page_opens_for_the_roles_it_is_for_and_is_refused_to_the_others(portal, url):
    for username in ROLES:
        response = portal(username).get(url)
        page = response.content.decode()
        if username in PAGES[url]:
            assert response.status_code == 200, (username, url)
        else:
            # What /system/ does: a 403 page that says so, not an empty list.
            assert response.status_code == 403, (username, url, response.status_code)
            assert "Not allowed" in page, (username, url)
            assert "<table" not in page and "Nothing here yet" not in page, (username, url)


@pytest.mark.parametrize("username", ROLES)
def test_the_menu_shows_exactly_the_pages_the_role_may_open(portal, username):
    menu = _menu(portal(username).get("/").content.decode())
    for url, roles in PAGES.items():
        if url.endswith("/add/") or url.endswith("/sandbox/"):
            continue  # reached from their lists, not the menu
        assert (url in menu) == (username in roles), (username, url)


def test_a_refused_post_to_a_cloud_admin_page_is_audited(portal):
    from apps.core.models import AuditEvent

    response = portal("deptadmin").post("/departments/add/", {"name": "finance"})
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="department.create", result="failure")
    assert (event.result, event.actor_name, event.target_name) == (
        "failure",
        "deptadmin",
        "finance",
    )
    assert event.reason == "Only cloud administrators may do this."


def test_the_new_project_form_is_refused_to_a_member_as_its_post_is(org, portal):
    from apps.core.models import AuditEvent
    from apps.tenancy.models import Project

    member = portal("member")
    response = member.get("/projects/add/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "Not allowed" in page and 'name="department"' not in page
    response = member.post("/projects/add/", {"department": org.engineering.pk, "name": "mine"})
    assert response.status_code == 403
    assert not Project.objects.filter(name="mine").exists()
    event = AuditEvent.objects.get(action="project.create", result="failure")
    assert (event.actor_name, event.target_name, event.target_type) == (
        "member",
        "mine",
        "tenancy.project",
    )
    assert event.reason == "Your role does not include this page."

    # A department's admin gets the form, offering their department.
    response = portal("deptadmin").get(f"/projects/add/?department={org.engineering.pk}")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="department"' in page and f'value="{org.engineering.pk}" selected' in page


def test_pages_link_to_a_cluster_only_for_those_who_may_open_it(org, portal):
    from apps.clusters.models import Cluster
    from apps.namespaces import services as ns_services
    from apps.namespaces.models import Namespace

    cluster = Cluster.objects.create(name="demo", provider="sandbox", project=org.admin_project)
    namespace = Namespace.objects.create(cluster=cluster, name="web-shop", project=org.web)
    ns_services.set_members(org.admin, namespace, [org.member])
    link = f'href="{cluster.get_absolute_url()}"'
    for username, linked in (("projadmin", True), ("member", False)):
        client = portal(username)
        for url in ("/namespaces/", namespace.get_absolute_url()):
            page = client.get(url).content.decode()
            assert ">demo<" in page, (username, url)
            assert (link in page) == linked, (username, url)
        assert client.get(cluster.get_absolute_url()).status_code == (200 if linked else 404)
