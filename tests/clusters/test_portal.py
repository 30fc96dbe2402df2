"""Clusters and nodes through the tenant portal and the admin site."""

import itertools
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from kubernetes import client as k8s

from apps.clusters import services
from apps.clusters.models import Cluster, Node
from apps.core.models import AuditEvent, Operation
from apps.namespaces.models import Namespace

_names = itertools.count()


@pytest.fixture
def cluster(org, run_tasks):
    """A running sandbox cluster (1 master, 2 workers) where web-shop has a namespace."""
    cluster, operation = run_tasks(
        services.create_cluster,
        org.admin,
        name=f"portal-{next(_names)}",
        workers=2,
        zones=["zone-a", "zone-b"],
    )
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    cluster.refresh_from_db()
    Namespace.objects.get_or_create(cluster=cluster, name="web", defaults={"project": org.web})
    Namespace.objects.filter(cluster=cluster, name="web").update(project=org.web)
    yield cluster
    Cluster.objects.filter(pk=cluster.pk).update(status="running")
    run_tasks(services.delete_cluster, org.admin, Cluster.objects.get(pk=cluster.pk))


def _worker(cluster) -> Node:
    return cluster.nodes.filter(role="worker").order_by("name").first()


def _live(cluster, node):
    kube = cluster.kube()
    return k8s.CoreV1Api(kube.api_client).read_node(node.name)


def _text(response) -> str:
    return response.content.decode()


# --- the permission matrix -----------------------------------------------------------

# What each role gets: the pages (view) and the actions (POST).
MATRIX = {
    "admin": {"view": 200},
    "deptadmin": {"view": 200, "act": 403},
    "projadmin": {"view": 200, "act": 403},
    "member": {"view": 404, "act": 404},
    "outsider": {"view": 404, "act": 404},
}


@pytest.mark.parametrize("username", list(MATRIX))
def test_cluster_and_node_permission_matrix(org, portal, cluster, username):
    client, expected = portal(username), MATRIX[username]
    node = _worker(cluster)

    listed = _text(client.get("/clusters/"))
    assert (cluster.name in listed) is (expected["view"] == 200)
    nodes = _text(client.get(f"/nodes/?cluster={cluster.pk}"))
    assert (node.name in nodes) is (expected["view"] == 200)
    for url in (f"/clusters/{cluster.pk}/", f"/nodes/{node.pk}/"):
        assert client.get(url).status_code == expected["view"], url
    # Action forms are not even shown to those who may not act.
    for url in (f"/clusters/{cluster.pk}/scale-out/", f"/nodes/{node.pk}/labels/"):
        assert client.get(url).status_code == expected.get("act", 200), url

    page = _text(client.get(f"/clusters/{cluster.pk}/"))
    node_page = _text(client.get(f"/nodes/{node.pk}/"))
    if username == "admin":
        for button in ("Scale out", "Download kubeconfig", f"/clusters/{cluster.pk}/delete/"):
            assert button in page
        assert "Cordon" in node_page and "Drain" in node_page
        assert 'data-testid="labels-form"' in node_page
        return
    if expected["view"] == 200:  # read-only: the same data, no buttons
        assert "Ready: 3" in page and "Scale out" not in page and "/delete/" not in page
        assert node.name in _text(client.get(f"/nodes/?cluster={cluster.pk}"))
        assert "Download kubeconfig" not in page
        assert "Cordon" not in node_page and "labels-form" not in node_page

    actions = {
        f"/clusters/{cluster.pk}/scale-out/": {"workers": 1, "zone": "zone-a", "arch": "amd64"},
        f"/clusters/{cluster.pk}/retry/": {},
        f"/clusters/{cluster.pk}/delete/": {"confirm_name": cluster.name},
        f"/nodes/{node.pk}/cordon/": {},
        f"/nodes/{node.pk}/uncordon/": {},
        f"/nodes/{node.pk}/drain/": {},
        f"/nodes/{node.pk}/labels/": _label_rows({"disk": "ssd"}),
        f"/nodes/{node.pk}/taints/": _taint_rows([("dedicated", "db", "NoSchedule")]),
    }
    for url, data in actions.items():
        assert client.post(url, data).status_code == expected["act"], url
    assert client.get(f"/clusters/{cluster.pk}/kubeconfig/").status_code == expected["act"]
    # Nothing changed or started.
    assert not Operation.objects.exclude(kind="cluster.create").exists()
    assert _live(cluster, node).spec.unschedulable is not True
    assert "disk" not in (_live(cluster, node).metadata.labels or {})
    assert client.post("/clusters/add/sandbox/", _wizard("nope")).status_code in (403, 404)
    assert not Cluster.objects.filter(name="nope").exists()


def test_menu_shows_infrastructure_to_those_who_may_see_it(org, portal):
    assert 'href="/clusters/"' in _text(portal("admin").get("/"))
    assert 'href="/clusters/"' in _text(portal("projadmin").get("/"))
    assert 'href="/clusters/"' not in _text(portal("member").get("/"))


# --- the create wizard ---------------------------------------------------------------


def _wizard(name, **extra):
    return {
        "name": name,
        "version": "1.31.4",
        "control_plane_nodes": "1",
        "workers": "1",
        "zones": "zone-a, zone-b",
        "arch": "amd64",
        **extra,
    }


def test_wizard_lists_the_providers_that_can_create(org, portal):
    page = _text(portal("admin").get("/clusters/add/"))
    for name in ("sandbox", "kubeconfig"):
        assert f'href="/clusters/add/{name}/"' in page
    assert 'data-testid="provider-kind"' in page  # offered or not: see test_kind.py
    form = _text(portal("admin").get("/clusters/add/sandbox/"))
    assert "1.32.0" in form and "high availability" in form and "arm64" in form
    assert 'name="kubeconfig"' not in form
    imported = _text(portal("admin").get("/clusters/add/kubeconfig/"))
    assert 'name="kubeconfig"' in imported and 'name="workers"' not in imported
    assert portal("admin").get("/clusters/add/nothing/").status_code == 404


def test_wizard_creates_an_ha_cluster_and_redirects_to_its_progress(org, portal, run_tasks):
    name = f"wizard-{next(_names)}"
    response = run_tasks(
        portal("admin").post,
        "/clusters/add/sandbox/",
        _wizard(name, control_plane_nodes="3", workers="2", display_name="Wizard"),
    )
    assert response.status_code == 302, _text(response)
    operation = Operation.objects.get(kind="cluster.create", target_name="Wizard")
    assert response["Location"] == f"/operations/{operation.pk}/"
    operation.refresh_from_db()
    assert operation.status == "succeeded" and operation.progress == 100
    cluster = Cluster.objects.get(name=name)
    assert cluster.status == "running" and cluster.control_plane_nodes == 3
    assert cluster.zones == ["zone-a", "zone-b"] and cluster.version == "1.31.4"
    assert cluster.nodes.filter(role="master").count() == 3
    page = _text(portal("admin").get(f"/clusters/{cluster.pk}/"))
    assert "Create cluster" in page and "Succeeded" in page  # the recent operations
    run_tasks(services.delete_cluster, org.admin, cluster)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "Not_A_Name"}, "name", ""),
        ({"workers": "500"}, "workers", "less than or equal to 200"),
        ({"workers": "-1"}, "workers", "greater than or equal to 0"),
        ({"control_plane_nodes": "2"}, "control_plane_nodes", "Select a valid choice"),
        ({"version": "0.9"}, "version", "Select a valid choice"),
        ({"arch": "sparc"}, "arch", "Select a valid choice"),
    ],
)
def test_wizard_shows_each_error_inline_and_creates_nothing(org, portal, data, field, message):
    response = portal("admin").post("/clusters/add/sandbox/", _wizard(**{"name": "fine", **data}))
    assert response.status_code == 200
    html = _text(response)
    assert re.search(rf'class="field invalid"[^>]*data-field="{field}"', html), field
    assert message in html
    assert 'value="zone-a, zone-b"' in html  # the input is kept
    assert not Cluster.objects.exists() and not Operation.objects.exists()


@pytest.mark.parametrize(
    "bad",
    ["zone a", "-zone", "zone-", "zöne", "z" * 64, "a/b"],
)
def test_wizard_refuses_a_zone_kubernetes_would_refuse_naming_it(org, portal, bad):
    """Issue 9 (4): a bad zone was accepted and the cluster failed late on the label."""
    response = portal("admin").post(
        "/clusters/add/sandbox/", _wizard("zoned", zones=f"zone-ok, {bad}")
    )
    assert response.status_code == 200
    html = _text(response)
    assert re.search(r'class="field invalid"[^>]*data-field="zones"', html)
    assert f"{escape(bad)} is not a valid zone name" in html
    assert "zone-ok is not" not in html
    assert not Cluster.objects.exists() and not Operation.objects.exists()


def test_wizard_takes_zones_at_the_label_limits(org, portal, run_tasks):
    zones = ["a", "Z_9.x-y", "z" * 63]
    response = run_tasks(
        portal("admin").post,
        "/clusters/add/sandbox/",
        _wizard(f"limits-{next(_names)}", zones=", ".join(zones), workers="3"),
    )
    assert response.status_code == 302, _text(response)
    cluster = Cluster.objects.get(name__startswith="limits-")
    assert cluster.status == "running", cluster.status_message
    assert set(cluster.nodes.values_list("zone", flat=True)) == set(zones)
    run_tasks(services.delete_cluster, org.admin, cluster)


def test_scale_out_refuses_a_bad_new_zone_on_its_field(org, portal, cluster):
    response = portal("admin").post(
        f"/clusters/{cluster.pk}/scale-out/",
        {"workers": "1", "zone": "", "new_zone": "zone c!", "arch": "amd64"},
    )
    assert response.status_code == 200
    html = _text(response)
    field = re.search(r'class="field invalid">\s*<label for="id_new_zone".*?</div>', html, re.S)
    assert field and "zone c! is not a valid zone name" in field.group()
    assert not Operation.objects.filter(kind="cluster.scale_out").exists()
    assert cluster.nodes.count() == 3


def test_wizard_refuses_a_name_in_use(org, portal, cluster):
    response = portal("admin").post("/clusters/add/sandbox/", _wizard(cluster.name))
    assert "A cluster with this name already exists." in _text(response)
    assert Cluster.objects.count() == 1


def _two_contexts(cluster) -> str:
    config = json.loads(cluster.kubeconfig)
    context = config["contexts"][0]
    config["contexts"] = [context, {**context, "name": "second"}]
    config.pop("current-context", None)
    return json.dumps(config)


def test_wizard_imports_a_kubeconfig_choosing_its_context(org, portal, cluster, run_tasks, kubesim):
    admin = portal("admin")
    text = _two_contexts(cluster)
    # The context list follows the pasted kubeconfig (the HTMX partial).
    partial = _text(admin.post("/clusters/add/contexts/", {"kubeconfig": text}))
    assert 'value="second"' in partial and 'id="context-field"' in partial

    response = admin.post("/clusters/add/kubeconfig/", {"name": "imported", "kubeconfig": text})
    html = _text(response)
    assert "Choose a context; the kubeconfig has:" in html
    assert '<option value="second">second</option>' in html
    assert not Cluster.objects.filter(name="imported").exists()

    # This one is the fixture's cluster, already in the portal: refused, naming it.
    response = admin.post(
        "/clusters/add/kubeconfig/", {"name": "imported", "kubeconfig": text, "context": "second"}
    )
    html = _text(response)
    assert re.search(r'class="field invalid"[^>]*data-field="context"', html)
    assert f"is already in the portal as {cluster.name}." in html
    assert not Cluster.objects.filter(name="imported").exists()

    other = kubesim.create_cluster(f"portal-import-{next(_names)}", workers=1)
    try:
        config = json.loads(_two_contexts(cluster))
        config["clusters"] = other["kubeconfig"]["clusters"]
        config["users"] = other["kubeconfig"]["users"]
        config["contexts"] = [
            {**c, "context": other["kubeconfig"]["contexts"][0]["context"]}
            for c in config["contexts"]
        ]
        response = run_tasks(
            admin.post,
            "/clusters/add/kubeconfig/",
            {"name": "imported", "kubeconfig": json.dumps(config), "context": "second"},
        )
        assert response.status_code == 302, _text(response)
        imported = Cluster.objects.get(name="imported")
        assert imported.kubeconfig_context == "second" and imported.status == "running"
        assert imported.api_server == other["server"]
        Cluster.objects.filter(pk=imported.pk).update(status="deleted")
    finally:
        kubesim.admin("DELETE", f"/clusters/{other['name']}")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "kubeconfig", "Paste a kubeconfig or upload its file."),
        ({"kubeconfig": "{not yaml: ["}, "kubeconfig", "The kubeconfig cannot be read"),
    ],
)
def test_wizard_shows_import_errors_inline(org, portal, data, field, message):
    response = portal("admin").post("/clusters/add/kubeconfig/", {"name": "imp", **data})
    html = _text(response)
    assert re.search(rf'class="field invalid"[^>]*data-field="{field}"', html)
    assert message in html
    assert not Cluster.objects.exists()


def test_wizard_takes_an_uploaded_kubeconfig_and_keeps_it_on_error(org, portal, cluster):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("config", _two_contexts(cluster).encode())
    response = portal("admin").post(
        "/clusters/add/kubeconfig/", {"name": "up", "kubeconfig_file": upload}
    )
    html = _text(response)
    assert "Choose a context" in html and '<option value="second">' in html
    assert "second" in html.split('name="kubeconfig"', 1)[1]  # now in the text area


# --- cluster page, scale-out, retry, delete, kubeconfig --------------------------------


def test_cluster_page_shows_health_a_node_summary_capacity_and_operations(org, portal, cluster):
    admin = portal("admin")
    html = _text(admin.get(f"/clusters/{cluster.pk}/"))
    assert cluster.api_server in html and cluster.version in html
    assert "3 / 3" in html  # nodes ready
    assert 'data-testid="cluster-capacity"' in html and "GiB" in html
    assert "Create cluster" in html  # the operation that made it
    # Counts, each a link to the node list so filtered; never every node.
    summary = html[html.index('data-testid="cluster-nodes"') :]
    assert f"/nodes/?cluster={cluster.pk}&amp;ready=true" in summary and "Ready: 3" in summary
    assert "Master: 1" in summary and "Worker: 2" in summary
    assert "zone-a: " in summary and "See all 3 nodes" in html
    nodes = _text(admin.get(f"/nodes/?cluster={cluster.pk}"))
    for node in cluster.nodes.all():
        assert node.name in nodes and node.internal_ip in nodes
    # Taints are in the node table, so a tainted node stands out without opening it.
    assert "node-role.kubernetes.io/control-plane:NoSchedule" in nodes
    workers = _text(admin.get(f"/nodes/?cluster={cluster.pk}&role=worker"))
    assert "master-1" not in workers and "worker-1" in workers


def test_scale_out_form_redirects_to_the_operation(org, portal, cluster, run_tasks):
    admin = portal("admin")
    page = _text(admin.get(f"/clusters/{cluster.pk}/scale-out/"))
    assert '<option value="zone-b">' in page
    invalid = admin.post(f"/clusters/{cluster.pk}/scale-out/", {"workers": "0", "arch": "amd64"})
    assert "greater than or equal to 1" in _text(invalid)
    response = run_tasks(
        admin.post,
        f"/clusters/{cluster.pk}/scale-out/",
        {"workers": "2", "zone": "zone-a", "new_zone": "zone-c", "arch": "arm64"},
    )
    operation = Operation.objects.get(kind="cluster.scale_out")
    assert response["Location"] == f"/operations/{operation.pk}/"
    operation.refresh_from_db()
    assert operation.status == "succeeded", operation.error
    added = cluster.nodes.filter(zone="zone-c")
    assert added.count() == 2 and set(added.values_list("arch", flat=True)) == {"arm64"}


def test_delete_asks_for_the_name_then_tears_down(org, portal, run_tasks):
    cluster, _op = run_tasks(services.create_cluster, org.admin, name=f"gone-{next(_names)}")
    admin = portal("admin")
    wrong = admin.post(f"/clusters/{cluster.pk}/delete/", {"confirm_name": "other"})
    assert "The name does not match." in _text(wrong)
    response = run_tasks(
        admin.post, f"/clusters/{cluster.pk}/delete/", {"confirm_name": cluster.name}
    )
    operation = Operation.objects.get(kind="cluster.delete")
    assert response["Location"] == f"/operations/{operation.pk}/"
    cluster.refresh_from_db()
    assert cluster.status == "deleted"
    row = f">{cluster.name}</a>"
    assert row not in _text(admin.get("/clusters/")), "deleted clusters are hidden"
    assert row in _text(admin.get("/clusters/?status=deleted"))


def test_retry_resumes_a_failed_creation(org, portal, run_tasks):
    cluster, _op = run_tasks(services.create_cluster, org.admin, name=f"again-{next(_names)}")
    Cluster.objects.filter(pk=cluster.pk).update(status="error", last_sync=None)
    page = _text(portal("admin").get(f"/clusters/{cluster.pk}/"))
    assert f"/clusters/{cluster.pk}/retry/" in page
    response = run_tasks(portal("admin").post, f"/clusters/{cluster.pk}/retry/")
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.status == "running"
    run_tasks(services.delete_cluster, org.admin, cluster)


def test_kubeconfig_download_is_an_audited_attachment(org, portal, cluster):
    response = portal("admin").get(f"/clusters/{cluster.pk}/kubeconfig/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{cluster.name}.kubeconfig"'
    assert json.loads(response.content) == json.loads(cluster.kubeconfig)
    assert AuditEvent.objects.filter(action="cluster.kubeconfig.download").count() == 1
    # The page never shows it.
    token = json.loads(cluster.kubeconfig)["users"][0]["user"].get("token", "")
    assert not token or token not in _text(portal("admin").get(f"/clusters/{cluster.pk}/"))


# --- node operations -----------------------------------------------------------------


def _label_rows(labels: dict, extra: int = 1) -> dict:
    rows = [*labels.items(), *[("", "")] * extra]
    data = {"labels-TOTAL_FORMS": len(rows), "labels-INITIAL_FORMS": 0}
    for i, (key, value) in enumerate(rows):
        data.update({f"labels-{i}-key": key, f"labels-{i}-value": value})
    return data


def _taint_rows(taints: list[tuple]) -> dict:
    data = {"taints-TOTAL_FORMS": len(taints), "taints-INITIAL_FORMS": 0}
    for i, (key, value, effect) in enumerate(taints):
        data.update(
            {f"taints-{i}-key": key, f"taints-{i}-value": value, f"taints-{i}-effect": effect}
        )
    return data


def test_node_labels_taints_and_cordon_reach_kubernetes(org, portal, cluster, run_tasks):
    admin, node = portal("admin"), _worker(cluster)
    page = _text(admin.get(f"/nodes/{node.pk}/"))
    assert "kubernetes.io/hostname" in page  # protected: shown read-only
    assert 'value="kubernetes.io/hostname"' not in page  # and not in the editor

    response = admin.post(f"/nodes/{node.pk}/labels/", _label_rows({"disk": "ssd", "tier": "1"}))
    assert response.status_code == 302 and response["Location"] == f"/nodes/{node.pk}/"
    labels = _live(cluster, node).metadata.labels
    assert labels["disk"] == "ssd" and labels["tier"] == "1"
    assert "kubernetes.io/hostname" in labels
    assert 'value="disk"' in _text(admin.get(f"/nodes/{node.pk}/"))

    # Removing one row removes that label; the protected ones stay.
    response = admin.post(f"/nodes/{node.pk}/labels/", _label_rows({"disk": "hdd"}))
    labels = _live(cluster, node).metadata.labels
    assert labels["disk"] == "hdd" and "tier" not in labels and "kubernetes.io/hostname" in labels

    response = admin.post(
        f"/nodes/{node.pk}/taints/",
        _taint_rows([("dedicated", "db", "NoSchedule"), ("", "", "")]),
    )
    assert response.status_code == 302
    live = _live(cluster, node)
    assert [(t.key, t.value, t.effect) for t in live.spec.taints] == [
        ("dedicated", "db", "NoSchedule")
    ]

    assert admin.post(f"/nodes/{node.pk}/cordon/").status_code == 302
    assert _live(cluster, node).spec.unschedulable is True
    assert "SchedulingDisabled" in _text(admin.get(f"/nodes/?cluster={cluster.pk}"))
    assert "Cordoned: 1" in _text(admin.get(f"/clusters/{cluster.pk}/"))
    assert admin.post(f"/nodes/{node.pk}/uncordon/").status_code == 302
    assert not _live(cluster, node).spec.unschedulable

    response = run_tasks(admin.post, f"/nodes/{node.pk}/drain/")
    operation = Operation.objects.get(kind="node.drain")
    assert response["Location"] == f"/operations/{operation.pk}/"
    operation.refresh_from_db()
    assert operation.status == "succeeded", operation.error
    assert _live(cluster, node).spec.unschedulable is True
    assert "Drain node" in _text(admin.get(f"/clusters/{cluster.pk}/"))  # recent operations


def _bare_pod(name, node, **spec):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "main", "image": "nginx:1.27"}],
            **spec,
        },
    }


def test_drain_asks_first_listing_the_pods_and_the_options_they_need(
    org, portal, cluster, run_tasks
):
    """Issue 9 (7): drain ran on one click and evicted unmanaged and emptyDir pods."""
    admin, node = portal("admin"), _worker(cluster)
    core = k8s.CoreV1Api(cluster.kube().api_client)
    core.create_namespaced_pod("default", _bare_pod("loner", node.name))
    scratch = [{"name": "scratch", "emptyDir": {}}]
    core.create_namespaced_pod("default", _bare_pod("scratchy", node.name, volumes=scratch))

    page = _text(admin.get(f"/nodes/{node.pk}/"))
    assert f'href="/nodes/{node.pk}/drain/"' in page  # a link to the confirmation
    assert f'action="/nodes/{node.pk}/drain/"' not in page  # not a one-click form
    confirm = _text(admin.get(f"/nodes/{node.pk}/drain/"))
    evict = confirm.split('data-testid="drain-evict"', 1)[1].split("</table>", 1)[0]
    assert "default/loner" in evict and "default/scratchy" in evict
    assert "no controller: needs “force”" in evict
    assert "emptyDir data: needs “delete emptyDir data”" in evict
    assert 'name="force"' in confirm and 'name="delete_emptydir_data"' in confirm

    refused = admin.post(f"/nodes/{node.pk}/drain/", {})
    assert refused.status_code == 200
    html = _text(refused)
    assert "not managed by a controller" in html and "default/loner, default/scratchy" in html
    assert "emptyDir volumes" in html
    assert _live(cluster, node).spec.unschedulable is not True
    refused = admin.post(f"/nodes/{node.pk}/drain/", {"force": "on"})
    assert "emptyDir volumes" in _text(refused) and "not managed by" not in _text(refused)
    assert not Operation.objects.filter(kind="node.drain").exists()

    response = run_tasks(
        admin.post, f"/nodes/{node.pk}/drain/", {"force": "on", "delete_emptydir_data": "on"}
    )
    operation = Operation.objects.get(kind="node.drain")
    assert response["Location"] == f"/operations/{operation.pk}/"
    operation.refresh_from_db()
    assert operation.status == "succeeded", operation.error
    left = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node.name}").items
    assert not {"loner", "scratchy"} & {p.metadata.name for p in left}
    assert _live(cluster, node).spec.unschedulable is True


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_label_rows({"kubernetes.io/os": "plan9"}), "is managed by Kubernetes"),
        (_label_rows({"bad key!": "x"}), "a name of at most 63"),
        (_label_rows({"ok": "bad value!"}), "the value must be at most 63"),
        (
            {**_label_rows({"a": "1", "b": "2"}), "labels-1-key": "a"},
            "a appears twice.",
        ),
    ],
)
def test_label_errors_are_shown_and_the_input_kept(org, portal, cluster, data, message):
    node = _worker(cluster)
    response = portal("admin").post(f"/nodes/{node.pk}/labels/", data)
    assert response.status_code == 200
    html = _text(response)
    assert message in html
    assert f'value="{data["labels-0-key"]}"' in html
    assert "x" not in (_live(cluster, node).metadata.labels or {}).values()


def test_taint_errors_are_shown(org, portal, cluster):
    node = _worker(cluster)
    response = portal("admin").post(
        f"/nodes/{node.pk}/taints/", _taint_rows([("dedicated", "db", "")])
    )
    assert "the effect must be one of" in _text(response)
    assert 'value="dedicated"' in _text(response)
    assert not _live(cluster, node).spec.taints


# --- pages: content security policy and query budgets ---------------------------------


def test_cluster_pages_satisfy_the_content_security_policy(org, portal, cluster):
    node = _worker(cluster)
    pages = [
        "/clusters/",
        "/clusters/add/",
        "/clusters/add/sandbox/",
        "/clusters/add/kubeconfig/",
        f"/clusters/{cluster.pk}/",
        f"/clusters/{cluster.pk}/scale-out/",
        f"/clusters/{cluster.pk}/delete/",
        "/nodes/",
        f"/nodes/{node.pk}/",
        f"/nodes/{node.pk}/labels/",
        f"/nodes/{node.pk}/taints/",
        f"/nodes/{node.pk}/drain/",
    ]
    for url in pages:
        response = portal("admin").get(url)
        assert response.status_code == 200, url
        html = _text(response)
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], url
        assert not re.search(r"\son[a-z]+\s*=", html), url
        assert not re.search(r"\sstyle\s*=", html), url
        assert "<style" not in html and "javascript:" not in html, url


def _grow(org, n):
    clusters = Cluster.objects.bulk_create(
        Cluster(
            name=f"grown-{n}-{i}",
            provider="sandbox",
            status="running",
            project=org.admin_project,
            zones=["a", "b"],
        )
        for i in range(n)
    )
    Namespace.objects.bulk_create(
        Namespace(cluster=c, name="web", project=org.web) for c in clusters
    )
    Node.objects.bulk_create(
        Node(
            cluster=c,
            name=f"node-{i}",
            capacity={"cpu": "4", "memory": "16Gi"},
            allocatable={"cpu": "3900m", "memory": "15Gi"},
        )
        for c in clusters
        for i in range(2)
    )


@pytest.mark.parametrize("username", ["admin", "deptadmin"])
@pytest.mark.parametrize("url", ["/clusters/", "/nodes/"])
def test_list_query_count_does_not_grow_with_rows(org, portal, username, url):
    client = portal(username)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _grow(org, 2)
    small = count()
    _grow(org, 20)
    large = count()
    assert "grown-20-19" in _text(client.get(url))
    assert small == large, f"{url}: {small} queries for few rows, {large} for many"


# --- the admin site ------------------------------------------------------------------


def test_admin_site_lists_and_acts_through_the_services(org, portal, cluster, run_tasks):
    admin = portal("admin")
    assert cluster.name in _text(admin.get("/admin/clusters/cluster/?q=" + cluster.name))
    change = _text(admin.get(f"/admin/clusters/cluster/{cluster.pk}/change/"))
    assert cluster.api_server in change
    assert "kubeconfig" not in change.lower().replace("download", "")
    node = _worker(cluster)
    assert node.name in _text(admin.get(f"/admin/clusters/node/?cluster__id__exact={cluster.pk}"))

    response = admin.post(
        "/admin/clusters/node/",
        {"action": "cordon", "_selected_action": [node.pk], "index": 0},
    )
    assert response.status_code == 302
    assert _live(cluster, node).spec.unschedulable is True
    assert AuditEvent.objects.filter(action="node.cordon", target_name=node.name).exists()

    response = admin.post(
        "/admin/clusters/cluster/",
        {"action": "check_health", "_selected_action": [cluster.pk], "index": 0},
    )
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.last_health_check is not None
    assert AuditEvent.objects.filter(action="cluster.sync", target_name=str(cluster)).exists()
    assert portal("projadmin").get("/admin/clusters/cluster/").status_code == 302
