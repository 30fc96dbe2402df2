"""The tenancy rows of the permission matrix, through the portal and through the API.

Each action is tried by every role. Allowed actions succeed and change what a
user would then see; forbidden ones fail without changing anything: a 403 for
a user who can see the object, a 404 for one who cannot.
"""

import pytest
from django.contrib.auth import get_user_model

from apps.core.models import AuditEvent
from apps.tenancy.models import Department, Membership, Project

OK, DENIED, HIDDEN = "ok", 403, 404


def _names(response):
    return sorted(item["name"] for item in response.json()["results"])


# --- what each role sees ---------------------------------------------------------

VISIBLE_PROJECTS = {
    "admin": ["admin", "data-lab", "web-shop"],
    "deptadmin": ["data-lab", "web-shop"],
    "projadmin": ["web-shop"],
    "member": ["web-shop"],
    "outsider": ["data-lab"],
}
VISIBLE_DEPARTMENTS = {
    "admin": ["default", "engineering"],
    "deptadmin": ["engineering"],
    "projadmin": ["engineering"],
    "member": ["engineering"],
    "outsider": ["engineering"],
}


@pytest.mark.parametrize("username", VISIBLE_PROJECTS)
def test_project_list_shows_exactly_the_users_projects(org, api, portal, username):
    assert _names(api(username).get("/api/v1/projects/")) == VISIBLE_PROJECTS[username]
    page = portal(username).get("/projects/").content.decode()
    for name in ["admin", "data-lab", "web-shop"]:
        shown = f">{name}</a>" in page
        assert shown == (name in VISIBLE_PROJECTS[username]), name


@pytest.mark.parametrize("username", VISIBLE_DEPARTMENTS)
def test_department_list_shows_exactly_the_users_departments(org, api, username):
    assert _names(api(username).get("/api/v1/departments/")) == VISIBLE_DEPARTMENTS[username]


@pytest.mark.parametrize(
    ("username", "expected"),
    [("admin", 200), ("deptadmin", 200), ("projadmin", 404), ("member", 404), ("outsider", 200)],
)
def test_other_projects_are_404_by_id(org, api, portal, username, expected):
    assert api(username).get(f"/api/v1/projects/{org.data.pk}/").status_code == expected
    assert portal(username).get(f"/projects/{org.data.pk}/").status_code == expected


def test_outsider_cannot_see_memberships_of_other_projects(org, api, portal):
    response = api("outsider").get("/api/v1/memberships/")
    assert {m["project"] for m in response.json()["results"]} == {org.data.pk}
    assert api("outsider").get(f"/api/v1/memberships/{org.member_of_web.pk}/").status_code == 404
    page = portal("outsider").get("/members/").content.decode()
    assert "web-shop" not in page


def test_project_filter_offers_only_visible_projects(org, portal):
    page = portal("member").get("/members/").content.decode()
    assert "data-lab" not in page and "Data lab" not in page


# --- actions ---------------------------------------------------------------------
# Each action: (through the API, through the portal, was it done?)


def _create_department(org):
    return (
        lambda c: c.post("/api/v1/departments/", {"name": "finance"}, format="json"),
        lambda c: c.post("/departments/add/", {"name": "finance"}),
        lambda: Department.objects.filter(name="finance").exists(),
    )


def _create_project(org):
    dept = org.engineering.pk
    return (
        lambda c: c.post(
            "/api/v1/projects/", {"name": "new-app", "department": dept}, format="json"
        ),
        lambda c: c.post("/projects/add/", {"name": "new-app", "department": dept}),
        lambda: Project.objects.filter(name="new-app").exists(),
    )


def _rename_project(org):
    pk = org.web.pk
    return (
        lambda c: c.patch(f"/api/v1/projects/{pk}/", {"display_name": "Renamed"}, format="json"),
        lambda c: c.post(f"/projects/{pk}/edit/", {"display_name": "Renamed", "description": ""}),
        lambda: Project.objects.get(pk=pk).display_name == "Renamed",
    )


def _delete_project(org):
    pk = org.data.pk
    return (
        lambda c: c.delete(f"/api/v1/projects/{pk}/"),
        lambda c: c.post(f"/projects/{pk}/delete/", {"confirm_name": "data-lab"}),
        lambda: not Project.objects.filter(pk=pk).exists(),
    )


def _add_member(org):
    get_user_model().objects.create_user("newbie")
    pk = org.web.pk
    return (
        lambda c: c.post(
            "/api/v1/memberships/",
            {"project": pk, "user": "newbie", "role": "member"},
            format="json",
        ),
        lambda c: c.post(f"/projects/{pk}/members/add/", {"user": "newbie", "role": "member"}),
        lambda: Membership.objects.filter(project_id=pk, user__username="newbie").exists(),
    )


def _promote_member(org):
    pk = org.member_of_web.pk
    return (
        lambda c: c.patch(f"/api/v1/memberships/{pk}/", {"role": "admin"}, format="json"),
        lambda c: c.post(f"/members/{pk}/role/", {"role": "admin"}),
        lambda: Membership.objects.get(pk=pk).role == "admin",
    )


def _remove_member(org):
    pk = org.member_of_web.pk
    return (
        lambda c: c.delete(f"/api/v1/memberships/{pk}/"),
        lambda c: c.post(f"/members/{pk}/remove/", {}),
        lambda: not Membership.objects.filter(pk=pk).exists(),
    )


MATRIX = {
    # action: {role: expected}
    _create_department: {
        "admin": OK,
        "deptadmin": DENIED,
        "projadmin": DENIED,
        "member": DENIED,
        "outsider": DENIED,
    },
    _create_project: {
        "admin": OK,
        "deptadmin": OK,
        "projadmin": DENIED,
        "member": DENIED,
        "outsider": DENIED,
    },
    _rename_project: {
        "admin": OK,
        "deptadmin": OK,
        "projadmin": DENIED,
        "member": DENIED,
        "outsider": HIDDEN,
    },
    _delete_project: {
        "admin": OK,
        "deptadmin": OK,
        "projadmin": HIDDEN,
        "member": HIDDEN,
        "outsider": DENIED,
    },
    _add_member: {
        "admin": OK,
        "deptadmin": OK,
        "projadmin": OK,
        "member": DENIED,
        "outsider": HIDDEN,
    },
    _promote_member: {
        "admin": OK,
        "deptadmin": OK,
        "projadmin": OK,
        "member": DENIED,
        "outsider": HIDDEN,
    },
    _remove_member: {
        "admin": OK,
        "deptadmin": OK,
        "projadmin": OK,
        "member": DENIED,
        "outsider": HIDDEN,
    },
}

CASES = [
    pytest.param(action, username, expected, id=f"{action.__name__[1:]}-{username}")
    for action, row in MATRIX.items()
    for username, expected in row.items()
]

# Where the API names the target in the request body (create), a target the
# user may not see is an unknown id (400), never a confirmation that it exists.
API_HIDDEN_IN_BODY = {_add_member, _create_project}


@pytest.mark.parametrize(("action", "username", "expected"), CASES)
def test_matrix_through_api(org, api, action, username, expected):
    through_api, _portal, done = action(org)
    response = through_api(api(username))
    if expected == OK:
        assert response.status_code in (200, 201, 204), response.content
        assert done()
    else:
        code = 400 if expected == HIDDEN and action in API_HIDDEN_IN_BODY else expected
        assert response.status_code == code, response.content
        assert not done()


@pytest.mark.parametrize(("action", "username", "expected"), CASES)
def test_matrix_through_portal(org, portal, action, username, expected):
    _api, through_portal, done = action(org)
    response = through_portal(portal(username))
    if expected == OK:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert done()
    else:
        assert response.status_code == expected
        assert not done()


def test_allowed_actions_are_audited_with_actor_and_project(org, api):
    api("projadmin").patch(
        f"/api/v1/memberships/{org.member_of_web.pk}/", {"role": "admin"}, format="json"
    )
    event = AuditEvent.objects.filter(action="project.member.change").get()
    assert (event.actor_name, event.project, event.detail) == (
        "projadmin",
        org.web,
        {"user": "member", "role": "admin"},
    )


def test_builtin_admin_project_cannot_be_deleted(org, api):
    response = api("admin").delete(f"/api/v1/projects/{org.admin_project.pk}/")
    assert response.status_code == 400
    assert "built-in admin project" in str(response.json())
    assert Project.objects.filter(pk=org.admin_project.pk).exists()


def test_project_admin_cannot_demote_themselves(org, api):
    mine = Membership.objects.get(project=org.web, user=org.projadmin)
    response = api("projadmin").patch(
        f"/api/v1/memberships/{mine.pk}/", {"role": "member"}, format="json"
    )
    assert response.status_code == 403
    assert Membership.objects.get(pk=mine.pk).role == "admin"


def test_department_admin_gains_and_loses_access_with_the_role(org, api):
    from apps.tenancy import services
    from apps.tenancy.models import DepartmentAdmin

    assert _names(api("deptadmin").get("/api/v1/projects/")) == ["data-lab", "web-shop"]
    services.remove_department_admin(
        org.admin, DepartmentAdmin.objects.get(user=org.deptadmin, department=org.engineering)
    )
    assert _names(api("deptadmin").get("/api/v1/projects/")) == []
    assert api("deptadmin").get(f"/api/v1/projects/{org.web.pk}/").status_code == 404


def test_project_switcher_answers_404_for_ids_that_are_not_the_users(org, portal):
    client = portal("member")
    assert client.post("/projects/switch/", {"project": "abc"}).status_code == 404
    assert client.post("/projects/switch/", {"project": org.data.pk}).status_code == 404
    response = client.post("/projects/switch/", {"project": org.web.pk, "next": "/projects/"})
    assert response.status_code == 302 and response["Location"] == "/projects/"
