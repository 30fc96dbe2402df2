"""Within a request, authz reads the user's grants once and filters by their ids.

The answers must be exactly those of the subquery form used outside a request, stay
right when a grant or a namespace changes during the request, and ``can`` must then
answer from the object at hand without a query.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.clusters.models import Cluster
from apps.configs.models import ConfigMap
from apps.core import authz
from apps.namespaces import services as ns_services
from apps.namespaces.models import Namespace
from apps.tenancy.models import Membership
from apps.tenancy.services import ensure_admin_project, sync_grants

ACTIONS = ["view", "work", "change", "delete", "manage_members", "reveal"]


@pytest.fixture
def place(org):
    cluster = Cluster.objects.create(
        name="c1", provider="kubeconfig", status="running", project=ensure_admin_project()
    )
    namespaces = {
        name: Namespace.objects.create(cluster=cluster, name=name, project=project)
        for name, project in (
            ("shop", org.web),
            ("shop-dev", org.web),
            ("lab", org.data),
            ("loose", None),
        )
    }
    ns_services.set_members(org.admin, namespaces["shop"], [org.member])
    for ns in namespaces.values():
        for i in range(2):
            ConfigMap.objects.create(
                cluster=cluster, namespace=ns, namespace_name=ns.name, name=f"cm-{i}"
            )
    return cluster, namespaces


def _answers(user):
    """What the user may do, per model and action: ids from restrict, and can() per row."""
    found = {}
    for model in (Namespace, ConfigMap):
        rows = list(model.objects.all())
        for action in ACTIONS if model is Namespace else ["view", "change", "delete", "reveal"]:
            try:
                ids = set(model.objects.restrict(user, action).values_list("pk", flat=True))
            except LookupError:
                continue
            found[model.__name__, action] = ids
            found[model.__name__, action, "can"] = {
                row.pk for row in rows if authz.can(user, action, row)
            }
    return found


@pytest.mark.parametrize("username", ["member", "projadmin", "deptadmin", "outsider"])
def test_same_answers_inside_a_request_as_outside(org, place, username):
    outside = _answers(org.users[username])
    with authz.request_scope():
        inside = _answers(org.users[username])
    assert inside == outside
    # and the answers are not trivially empty for those with a role
    if username != "outsider":
        assert outside["Namespace", "view"]


def test_a_grant_made_during_the_request_counts_at_once(org, place):
    _cluster, namespaces = place
    member = org.member
    with authz.request_scope():
        visible = set(Namespace.objects.restrict(member, "view").values_list("name", flat=True))
        assert visible == {"shop"}
        # Opened to the member (bulk_create of grants) ...
        ns_services.set_members(org.projadmin, namespaces["shop-dev"], [member])
        visible = set(Namespace.objects.restrict(member, "view").values_list("name", flat=True))
        assert visible == {"shop", "shop-dev"}
        assert authz.can(
            member, "view", ConfigMap.objects.get(namespace__name="shop-dev", name="cm-0")
        )
        # ... closed again (a delete of grants) ...
        ns_services.set_members(org.projadmin, namespaces["shop"], [])
        visible = set(Namespace.objects.restrict(member, "view").values_list("name", flat=True))
        assert visible == {"shop-dev"}
        assert not authz.can(
            member, "view", ConfigMap.objects.get(namespace__name="shop", name="cm-0")
        )
        # ... and out of the project altogether: nothing, though the namespace grant remains.
        Membership.objects.filter(user=member, project=org.web).delete()
        sync_grants()
        assert not Namespace.objects.restrict(member, "view").exists()
        assert not ConfigMap.objects.restrict(member, "view").exists()


def test_a_namespace_made_during_the_request_is_its_project_admins_at_once(org, place):
    cluster, _namespaces = place
    with authz.request_scope():
        assert not Namespace.objects.restrict(org.projadmin, "view").filter(name="new").exists()
        new = Namespace.objects.create(cluster=cluster, name="new", project=org.web)
        assert Namespace.objects.restrict(org.projadmin, "view").filter(pk=new.pk).exists()
        assert authz.can(org.projadmin, "change", new)
        new.project = org.data
        new.save()
        assert not authz.can(org.projadmin, "view", new)


def test_inside_a_request_checks_on_objects_at_hand_need_no_query(org, place):
    _cluster, namespaces = place
    member = org.member
    shop_cm = ConfigMap.objects.get(namespace=namespaces["shop"], name="cm-0")
    lab_cm = ConfigMap.objects.get(namespace=namespaces["lab"], name="cm-0")
    with authz.request_scope():
        with CaptureQueriesContext(connection) as first:
            rows = list(ConfigMap.objects.restrict(member, "view"))
        # the grants (one query) and the rows, filtered by namespace ids: no subquery
        assert len(first.captured_queries) == 2
        assert first.captured_queries[-1]["sql"].count("SELECT") == 1
        assert {row.name for row in rows} == {"cm-0", "cm-1"}
        with CaptureQueriesContext(connection) as later:
            assert authz.can(member, "view", shop_cm)
            assert authz.can(member, "change", shop_cm)
            assert not authz.can(member, "view", lab_cm)
            assert not authz.can(member, "delete", namespaces["shop"])  # a project admin's
        assert later.captured_queries == []
    # Outside a request the same checks ask the database.
    with CaptureQueriesContext(connection) as outside:
        assert authz.can(member, "view", shop_cm)
    assert len(outside.captured_queries) == 1


@pytest.mark.parametrize("url", ["/configmaps/", "/api/v1/configmaps/", "/namespaces/"])
def test_a_members_list_reads_the_grants_once(org, place, portal, api, url):
    client = api("projadmin") if url.startswith("/api/") else portal("projadmin")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert "cm-1" in response.content.decode() or url == "/namespaces/"
    grant_reads = [q["sql"] for q in ctx.captured_queries if "userobjectpermission" in q["sql"]]
    # one query reads the grants; the list's own queries (count, rows, filter choices)
    # compare ids instead of running the grants' subqueries again
    assert len(grant_reads) == 1, grant_reads


def test_the_grants_of_one_request_are_not_reused_by_the_next(org, place):
    # A user object can outlive a request (the API's force_authenticate in tests, a
    # service called twice with the same user): each request reads the grants again,
    # even after writes that send no signal (bulk_create).
    cluster, _namespaces = place
    with authz.request_scope():
        assert not Namespace.objects.restrict(org.projadmin, "view").filter(name="bulk").exists()
    Namespace.objects.bulk_create([Namespace(cluster=cluster, name="bulk", project=org.web)])
    with authz.request_scope():
        assert Namespace.objects.restrict(org.projadmin, "view").filter(name="bulk").exists()
