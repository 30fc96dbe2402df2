"""Applications in the portal and the API, as a member and as others see them."""

import re

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.applications import services
from apps.applications.models import Application
from apps.core.models import AuditEvent, Operation
from apps.kube.sync import sync_cluster
from apps.workloads import services as workload_services
from apps.workloads.models import Workload
from tests.kube.conftest import eventually

from .manifests import SHOP
from .test_services import WORKER


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    from apps.applications import tasks

    monkeypatch.setattr(tasks, "POLL", 0.1)


def _ready(namespace, name):
    def ready():
        sync_cluster(namespace.cluster)
        app = Application.objects.filter(namespace=namespace, name=name).first()
        return app if app is not None and app.status == "ready" else None

    return eventually(ready, timeout=60)


def test_a_member_previews_then_imports_and_sees_the_topology(org, portal, shop, run_tasks):
    client = portal("member")
    form = {"namespace": shop.pk, "application": "shop", "yaml": SHOP}
    preview = client.post("/applications/import/", {**form, "preview": "1"})
    page = preview.content.decode()
    assert preview.status_code == 200 and 'data-testid="preview"' in page
    assert page.count('data-testid="preview-item"') == 9 and "will be created" in page
    assert 'data-testid="apply"' in page
    assert not Application.objects.exists() and not Workload.objects.exists()

    applied = run_tasks(client.post, "/applications/import/", {**form, "apply": "1"})
    assert applied.status_code == 302 and applied["Location"].startswith("/operations/")
    operation = Operation.objects.get(kind="application.import")
    assert operation.status == "succeeded", operation.error

    app = _ready(shop, "shop")
    detail = client.get(f"/applications/{app.pk}/").content.decode()
    assert 'data-testid="application-status"' in detail and "Ready" in detail
    nodes = set(
        re.findall(r'data-kind="([^"]+)" data-name="([^"]+)" data-health="([^"]+)"', detail)
    )
    assert {
        ("Ingress", "web"),
        ("Service", "web"),
        ("Deployment", "web"),
        ("StatefulSet", "db"),
        ("ConfigMap", "web-config"),
        ("Secret", "db-password"),
        ("PersistentVolumeClaim", "data-db-0"),
    } <= {(kind, name) for kind, name, _health in nodes}
    assert ("Deployment", "web", "ok") in nodes
    assert sum(1 for kind, _name, _h in nodes if kind == "Pod") == 3  # two of web, one of db
    listed = client.get("/applications/").content.decode()
    assert f"/applications/{app.pk}/" in listed and "Ready" in listed
    workloads = client.get("/workloads/").content.decode()
    assert "shop" in workloads  # the application column


def test_a_refused_import_shows_why_and_offers_no_apply(org, portal, shop, lab):
    client = portal("member")
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: lab}\n"
    page = client.post(
        "/applications/import/",
        {"namespace": shop.pk, "application": "bad", "yaml": text, "preview": "1"},
    ).content.decode()
    assert 'data-testid="refused"' in page and "namespace lab" in page
    assert 'data-testid="apply"' not in page
    forced = client.post(
        "/applications/import/",
        {"namespace": shop.pk, "application": "bad", "yaml": text, "apply": "1"},
    )
    assert forced.status_code == 200 and "namespace lab" in forced.content.decode()
    assert not Operation.objects.filter(kind="application.import").exists()
    # Another project's namespace is not even offered.
    page = client.post(
        "/applications/import/",
        {"namespace": lab.pk, "application": "bad", "yaml": SHOP, "preview": "1"},
    )
    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()


def test_stop_start_and_export_from_the_page(org, portal, shop, run_tasks):
    run_tasks(services.import_, org.member, shop, SHOP, "shop")
    app = _ready(shop, "shop")
    client = portal("member")
    stopped = run_tasks(client.post, f"/applications/{app.pk}/stop/")
    assert stopped.status_code == 302
    assert Operation.objects.get(kind="application.stop").status == "succeeded"
    exported = client.get(f"/applications/{app.pk}/export/")
    assert exported.status_code == 200 and exported["Cache-Control"] == "no-store"
    assert "attachment" in exported["Content-Disposition"]
    kinds = [d["kind"] for d in yaml.safe_load_all(exported.content.decode())]
    assert kinds[0] == "Application" and "StatefulSet" in kinds
    assert AuditEvent.objects.get(action="application.export").result == "success"


def test_group_workloads_from_the_list(org, portal, shop):
    worker = workload_services.create_from_yaml(org.member, shop, WORKER)
    client = portal("member")
    page = client.get(f"/applications/group/?namespace={shop.pk}&workload={worker.pk}")
    assert page.status_code == 200 and "worker" in page.content.decode()
    done = client.post(
        "/applications/group/", {"namespace": shop.pk, "name": "batch", "workloads": [worker.pk]}
    )
    app = Application.objects.get(name="batch")
    assert done.status_code == 302 and done["Location"] == f"/applications/{app.pk}/"
    assert Workload.objects.get(pk=worker.pk).application_name == "batch"


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
def test_application_permission_matrix(org, portal, api, shop, run_tasks, username, view, act):
    app = services.create(org.admin, shop, name="tools")
    client = portal(username)
    assert client.get(f"/applications/{app.pk}/").status_code == view
    assert client.get(f"/applications/{app.pk}/yaml/").status_code == view
    assert client.get(f"/applications/{app.pk}/export/").status_code == (
        200 if view == 200 else 404
    )
    assert run_tasks(client.post, f"/applications/{app.pk}/redeploy/").status_code == act
    answer = run_tasks(api(username).post, f"/api/v1/applications/{app.pk}/stop/")
    assert answer.status_code == (202 if act == 302 else 404)
    listed = api(username).get("/api/v1/applications/").json()["results"]
    assert [a["name"] for a in listed] == (["tools"] if view == 200 else [])
    if username == "outsider":
        event = AuditEvent.objects.filter(action="application.stop", result="failure").first()
        assert event is not None


def test_the_api_previews_applies_and_operates(org, api, shop, run_tasks):
    client = api("member")
    body = {"namespace": shop.pk, "application": "shop", "yaml": SHOP}
    preview = client.post("/api/v1/applications/import/", body, format="json")
    assert preview.status_code == 200 and preview.json()["ok"] is True
    assert [i["kind"] for i in preview.json()["items"]][:2] == ["Application", "ConfigMap"]
    applied = run_tasks(
        client.post, "/api/v1/applications/import/", {**body, "dry_run": False}, format="json"
    )
    assert applied.status_code == 202 and applied.json()["kind"] == "application.import"
    app = _ready(shop, "shop")

    exported = client.get(f"/api/v1/applications/{app.pk}/export/")
    assert exported.status_code == 200 and exported["Cache-Control"] == "no-store"
    assert "kind: Application" in exported.json()["yaml"]
    whole = client.get(f"/api/v1/applications/export-namespace/?namespace={shop.pk}")
    assert whole.status_code == 200 and "kind: Deployment" in whole.json()["yaml"]

    worker = workload_services.create_from_yaml(org.member, shop, WORKER)
    associated = client.post(
        f"/api/v1/applications/{app.pk}/associate/", {"workloads": [worker.pk]}, format="json"
    )
    assert associated.status_code == 200 and associated.json()["workload_count"] == 4
    redeploy = run_tasks(client.post, f"/api/v1/applications/{app.pk}/redeploy/")
    assert redeploy.status_code == 202
    bad = client.post("/api/v1/applications/import/", {**body, "yaml": "a: [b"}, format="json")
    assert bad.status_code == 400
    gone = run_tasks(client.delete, f"/api/v1/applications/{app.pk}/?components=true")
    assert gone.status_code == 202
    assert not Workload.objects.filter(namespace=shop, name="web").exists()


@pytest.mark.parametrize("username", ["admin", "member"])
@pytest.mark.parametrize("url", ["/applications/", "/api/v1/applications/?limit=1000"])
def test_application_lists_run_constant_queries(org, portal, api, shop, username, url):
    client = api(username) if url.startswith("/api/") else portal(username)

    def grow(start, n):
        Application.objects.bulk_create(
            Application(
                cluster=shop.cluster,
                namespace=shop,
                namespace_name="shop",
                name=f"a-{start + i}",
                status="ready",
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


def test_the_wizard_started_from_an_application_makes_one_of_its_components(org, portal, shop):
    app = services.create(org.member, shop, name="tools")
    page = portal("member").get(f"/applications/{app.pk}/").content.decode()
    assert f"/workloads/add/deployment/?application={app.pk}" in page
    form = portal("member").get(f"/workloads/add/deployment/?application={app.pk}")
    html = form.content.decode()
    assert form.status_code == 200 and "app.kubernetes.io/name=tools" in html
    assert re.search(rf'<option value="{shop.pk}"[^>]*selected', html)
    # Someone who may not change it gets the plain wizard.
    other = portal("outsider").get(f"/workloads/add/deployment/?application={app.pk}")
    assert "app.kubernetes.io/name=tools" not in other.content.decode()


def test_the_api_creates_an_application_with_its_workloads_in_one_post(org, api, shop, run_tasks):
    from .test_services import composed

    client = api("member")
    body = {"namespace": shop.pk, "name": "store", "version": "2", "workloads": composed()}
    preview = client.post("/api/v1/applications/", {**body, "dry_run": True}, format="json")
    assert preview.status_code == 200, preview.json()
    assert [(i["kind"], i["name"]) for i in preview.json()["items"]] == [
        ("Application", "store"),
        ("Deployment", "web"),
        ("Deployment", "worker"),
        ("Service", "web"),
    ]
    assert not Application.objects.filter(name="store").exists()
    bad = [dict(entry) for entry in composed()]
    bad[0] = {**bad[0], "service": {"type": "NodePort", "ports": [{"port": 80, "node_port": 80}]}}
    refused = client.post("/api/v1/applications/", {**body, "workloads": bad}, format="json")
    assert refused.status_code == 400
    assert any(key.startswith("workloads") for key in refused.json()), refused.json()
    made = run_tasks(client.post, "/api/v1/applications/", body, format="json")
    assert made.status_code == 202, made.json()
    answer = made.json()
    assert answer["application"]["name"] == "store" and answer["application"]["version"] == "2"
    assert answer["operation"]["kind"] == "application.create"
    assert Operation.objects.get(pk=answer["operation"]["id"]).status == "succeeded"
    app = _ready(shop, "store")
    assert app.workload_count == 2
    plain = client.post("/api/v1/applications/", {"namespace": shop.pk, "name": "empty"})
    assert plain.status_code == 201 and plain.json()["name"] == "empty"


def test_a_member_creates_an_application_with_two_workloads_and_a_service(
    org, portal, shop, run_tasks
):
    from tests.workloads.test_wizard_portal import hidden, management, posted

    client = portal("member")
    started = client.post(
        "/applications/add/",
        {"namespace": shop.pk, "name": "store", "description": "The store", "compose": "1"},
    )
    assert started.status_code == 302, started.content.decode()
    draft = started["Location"]
    assert "No workloads yet" in client.get(draft).content.decode()
    assert portal("admin").get(draft).status_code == 404  # a draft is its author's

    def wizard(name, **fields):
        url = f"{draft}workload/deployment/"
        body = posted(shop, name=name, preview="1", **fields)
        page = client.post(url, body).content.decode()
        assert 'data-testid="dry-run-ok"' in page and "Add to the application" in page
        added = client.post(url, {**body, "apply": "1", "previewed": hidden(page, "previewed")})
        assert added.status_code == 302 and added["Location"] == draft

    wizard(
        "web",
        **management("ports", 1),
        **{"ports-0-port": "80", "ports-0-name": "http", "ports-0-protocol": "TCP"},
    )
    wizard("worker")
    again = client.post(f"{draft}workload/deployment/", posted(shop, name="web", preview="1"))
    page = again.content.decode()
    refused = client.post(
        f"{draft}workload/deployment/",
        {**posted(shop, name="web"), "apply": "1", "previewed": hidden(page, "previewed")},
    )
    assert "The application has a workload named web." in refused.content.decode()
    assert not Workload.objects.filter(name__in=["web", "worker"]).exists()

    form = client.get(f"{draft}service/0/").content.decode()
    assert 'name="ports-0-target_port" value="http"' in form  # from the workload's ports
    bad = client.post(
        f"{draft}service/0/",
        {"type": "NodePort", "session_affinity": "None", **management("ports", 1)}
        | {"ports-0-protocol": "TCP", "ports-0-port": "80", "ports-0-node_port": "80"},
    )
    assert bad.status_code == 200  # a node port below 30000 is refused on the form
    saved = client.post(
        f"{draft}service/0/",
        {"type": "ClusterIP", "session_affinity": "None", **management("ports", 1)}
        | {"ports-0-name": "http", "ports-0-protocol": "TCP", "ports-0-port": "80"}
        | {"ports-0-target_port": "http"},
    )
    assert saved.status_code == 302 and saved["Location"] == draft
    review = client.get(draft).content.decode()
    assert review.count('data-testid="preview-item"') == 4
    assert review.count("will be created") == 4 and 'data-testid="draft-create"' in review
    assert 'data-testid="draft-service">ClusterIP 80/TCP' in review

    created = run_tasks(client.post, draft, {"create": "1"})
    assert created.status_code == 302
    app = Application.objects.get(name="store")
    assert created["Location"] == app.get_absolute_url()
    page = client.get(app.get_absolute_url()).content.decode()
    assert "Import: 4 of 4 objects applied" in page
    assert _ready(shop, "store").workload_count == 2
    assert client.get(draft).status_code == 404  # the draft is gone
