"""A request is refused for who makes it, not for what it asks (hole 5): an empty PATCH of
a namespace by a member, and the GET of a cloud admin's create form by a tenant."""

import pytest

from apps.core.models import AuditEvent
from apps.namespaces import services

TENANTS = ["deptadmin", "projadmin", "member", "outsider"]


@pytest.fixture
def shop(org, cluster):
    namespace = services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota={"pods": "10"}
    )
    services.set_members(org.projadmin, namespace, [org.member])
    return namespace


@pytest.mark.parametrize("body", [{}, {"name": "renamed"}, {"quota": {"pods": "20"}}])
def test_a_member_may_not_patch_a_namespace_even_with_nothing(org, api, shop, body):
    answer = api("member").patch(f"/api/v1/namespaces/{shop.pk}/", body, format="json")
    assert answer.status_code in (403, 404), answer.content
    shop.refresh_from_db()
    assert shop.name == "shop" and shop.quota_hard == {"pods": "10"}
    assert AuditEvent.objects.filter(
        action__startswith="namespace.", result="failure", actor_name="member"
    ).exists()
    # The outsider's is a 404 (it is not theirs to know about).
    answer = api("outsider").patch(f"/api/v1/namespaces/{shop.pk}/", body, format="json")
    assert answer.status_code == 404


def test_the_project_admin_may_send_an_empty_patch(org, api, shop):
    answer = api("projadmin").patch(f"/api/v1/namespaces/{shop.pk}/", {}, format="json")
    assert answer.status_code == 200 and answer.json()["quota"] == {"pods": "10"}


ADMIN_ONLY = [
    "/departments/add/",
    "/clusters/add/",
    "/clusters/add/sandbox/",
    "/clusters/add/kubeconfig/",
    "/clusters/add/contexts/",
]


@pytest.mark.parametrize("username", TENANTS)
def test_admin_only_create_forms_refuse_the_get(org, portal, cluster, username):
    client = portal(username)
    for url in ADMIN_ONLY:
        page = client.get(url)
        assert page.status_code == 403, (url, page.status_code)
        assert "<form" not in page.content.decode().split("<main", 1)[-1], url
    posted = client.post("/clusters/add/contexts/", {"kubeconfig": "apiVersion: v1\n"})
    assert posted.status_code == 403


def test_cloud_admin_still_opens_them(org, portal, cluster):
    client = portal("admin")
    for url in ADMIN_ONLY[:-1]:
        assert client.get(url).status_code == 200, url
    # The contexts helper answers the wizard's POST only.
    assert client.get("/clusters/add/contexts/").status_code == 405
