"""How lists read: their titles, how a cluster is named, what their filters offer."""

import re

import pytest

from apps.clusters.models import Cluster, Node
from apps.configs.models import ConfigMap, Secret
from apps.namespaces import services as ns_services
from apps.namespaces.models import Namespace


@pytest.fixture
def demo(org):
    """A cluster named like the demo's (name "demo", display name "Demo") with web-shop's
    namespace, a node, a ConfigMap and a Secret in it."""
    cluster = Cluster.objects.create(
        name="demo", display_name="Demo", provider="sandbox", project=org.admin_project
    )
    namespace = Namespace.objects.create(cluster=cluster, name="web-shop", project=org.web)
    ns_services.set_members(org.admin, namespace, [org.member])
    Node.objects.create(cluster=cluster, name="worker-1", ready=True)
    where = {"cluster": cluster, "namespace": namespace, "namespace_name": "web-shop"}
    configmap = ConfigMap.objects.create(name="app-config", keys=["mode"], **where)
    secret = Secret.objects.create(name="app-secret", keys=["token"], **where)
    return cluster, configmap, secret


def _h1(response) -> str:
    assert response.status_code == 200
    return re.search(r"<h1>(.*?)</h1>", response.content.decode(), re.S).group(1).strip()


def _filters(response) -> str:
    html = response.content.decode()
    return re.search(r'<form method="get" class="filters".*?</form>', html, re.S).group(0)


def test_list_titles_keep_the_capitals_of_their_names(portal):
    client = portal("member")
    assert _h1(client.get("/configmaps/")) == "ConfigMaps"
    assert _h1(client.get("/tokens/")) == "API tokens"
    assert _h1(client.get("/secrets/")) == "Secrets"


def test_a_cluster_is_named_the_same_way_on_every_page(org, portal, demo):
    cluster, configmap, secret = demo
    pages = {
        "admin": [
            "/clusters/",
            f"/clusters/{cluster.pk}/",
            "/nodes/",
            "/namespaces/",
            "/storage/claims/add/",
            "/configmaps/",
            configmap.get_absolute_url(),
            "/secrets/",
            secret.get_absolute_url(),
        ],
        "member": [
            "/configmaps/",
            configmap.get_absolute_url(),
            "/secrets/",
            secret.get_absolute_url(),
            "/configmaps/add/",
        ],
    }
    for username, urls in pages.items():
        client = portal(username)
        for url in urls:
            page = client.get(url).content.decode()
            assert "Demo" in page, (username, url)
            # "demo" only where the page says what the cluster's name is
            shown = re.sub(r"<dt>Name</dt><dd>demo</dd>", "", page)
            assert not re.search(r">\s*demo\b", shown), (username, url)


LISTS = [
    "/clusters/",
    "/nodes/",
    "/namespaces/",
    "/storage/classes/",
    "/storage/volumes/",
    "/storage/claims/",
    "/configmaps/",
    "/secrets/",
    "/operations/",
    "/audit/",
    "/projects/",
    "/members/",
]


@pytest.mark.parametrize("url", LISTS)
def test_filters_say_any_rather_than_dashes_or_unknown(portal, demo, url):
    form = _filters(portal("admin").get(url))
    assert "---------" not in form and "Unknown" not in form
    for select in re.findall(r'<select name="(\w+)".*?</select>', form, re.S):
        first = re.search(
            rf'<select name="{select}".*?<option value=""[^>]*>([^<]*)</option>', form, re.S
        )
        assert first and first.group(1).startswith("Any"), (url, select)


def test_yes_or_no_filters_offer_any_yes_no(portal, demo):
    form = _filters(portal("admin").get("/nodes/"))
    ready = re.search(r'<select name="ready".*?</select>', form, re.S).group(0)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", ready) == ["Any", "Yes", "No"]
    assert "Any cluster" in form and "Any role" in form
    rows = portal("admin").get("/nodes/?ready=true").content.decode()
    assert "worker-1" in rows
    assert "worker-1" not in portal("admin").get("/nodes/?ready=false").content.decode()


@pytest.mark.parametrize("url", ["/storage/classes/", "/storage/volumes/"])
def test_cluster_scoped_storage_is_not_filtered_by_project_or_namespace(portal, url):
    form = _filters(portal("admin").get(url))
    assert 'name="cluster"' in form
    assert 'name="project"' not in form and 'name="namespace"' not in form


def test_filters_stay_translated_and_restricted_after_the_api_schema_was_served(portal, demo):
    # Generating the schema builds form fields on the filter classes themselves; the
    # portal must still build its own per request, for the reader and in their language.
    assert portal("admin").get("/api/schema/").status_code == 200
    assert "Demo" in _filters(portal("deptadmin").get("/configmaps/"))  # their cluster
    member = portal("member")
    assert ">web-shop</option>" in _filters(member.get("/configmaps/"))  # their namespace
    member.cookies["django_language"] = "zh-hans"
    form = _filters(member.get("/operations/"))
    assert "Status" not in form and "状态" in form


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("admin", "/namespaces/add/"),
        ("member", "/configmaps/add/"),
        ("member", "/workloads/add/deployment/"),
        ("member", "/services/add/"),
        ("member", "/ingresses/add/"),
        ("member", "/storage/claims/add/"),
        ("member", "/secrets/add/opaque/"),
    ],
)
def test_a_fields_help_is_the_description_its_input_names(portal, demo, who, url):
    """Django names each input's help text in aria-describedby; the forms draw the text
    with that id, so a screen reader reads it with the field."""
    response = portal(who).get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    described = set(re.findall(r'aria-describedby="([^"]+)"', html))
    assert described, url
    for ids in described:
        for id_ in ids.split():
            assert f'id="{id_}"' in html, (url, id_)
