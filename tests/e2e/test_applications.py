"""Issue 12's demo: a member imports a three-tier application from one YAML file and
watches it come up in its topology; kubectl agrees."""

import re

import pytest
from playwright.sync_api import expect

from tests.applications.manifests import SHOP

from .test_live_inventory import live  # noqa: F401

pytestmark = pytest.mark.browser

WAIT = 60_000


def test_a_member_imports_yaml_and_watches_the_topology_become_ready(
    sign_in,
    live_server,
    live,  # noqa: F811
):
    page = sign_in("member")
    page.set_default_timeout(WAIT)
    page.goto(f"{live_server.url}/applications/")
    page.get_by_test_id("import").click()
    from apps.namespaces.models import Namespace

    shop = Namespace.objects.get(name="shop", cluster__name="live")
    page.get_by_label("Namespace").select_option(value=str(shop.pk))
    page.get_by_label("Application").fill("shop")
    page.locator("textarea[name=yaml]").fill(SHOP)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("preview-item")).to_have_count(9)
    expect(page.get_by_test_id("preview")).to_contain_text("will be created")
    page.get_by_test_id("apply").click()
    page.wait_for_url(re.compile(r"/operations/\d+/$"))
    expect(page.locator("body")).to_contain_text("applied Ingress web", timeout=WAIT)

    page.goto(f"{live_server.url}/applications/")
    page.get_by_role("link", name="shop", exact=True).click()
    page.wait_for_url(re.compile(r"/applications/\d+/$"))
    expect(page.get_by_test_id("application-status")).to_have_text("Ready", timeout=WAIT)
    topology = page.get_by_test_id("topology")
    for kind, name in (("Ingress", "web"), ("Service", "web"), ("StatefulSet", "db")):
        node = topology.locator(f'g[data-kind="{kind}"][data-name="{name}"]')
        expect(node).to_have_count(1)
    web = topology.locator('g[data-kind="Deployment"][data-name="web"]')
    expect(web).to_have_attribute("data-health", "ok", timeout=WAIT)
    expect(topology.locator('g[data-kind="Pod"][data-health="ok"]')).to_have_count(3, timeout=WAIT)

    listed = live("get", "application,deployment,statefulset,service", "-n", "shop", "-o", "name")
    assert {
        "application.app.k8s.io/shop",
        "deployment.apps/web",
        "statefulset.apps/db",
        "service/web",
        "service/db",
    } <= set(listed.split())


def test_a_member_creates_an_application_with_two_workloads_one_with_a_service(
    sign_in,
    live_server,
    live,  # noqa: F811
):
    from apps.namespaces.models import Namespace

    shop = Namespace.objects.get(name="shop", cluster__name="live")
    page = sign_in("member")
    page.set_default_timeout(WAIT)
    page.goto(f"{live_server.url}/applications/add/")
    page.get_by_label("Namespace").select_option(value=str(shop.pk))
    page.fill("input[name=name]", "store")
    page.fill("input[name=version]", "1.0")
    page.get_by_test_id("compose").click()
    page.wait_for_url(re.compile(r"/applications/add/[^/]+/$"))
    draft = page.url

    for name, port in (("web", "80"), ("worker", "")):
        page.get_by_test_id("draft-add-workload").click()
        page.get_by_role("link", name="Deployment", exact=True).click()
        expect(page.get_by_role("heading", name="New Deployment for store")).to_be_visible()
        page.fill("input[name=name]", name)
        page.fill("input[name=containers-0-name]", name)
        page.fill("input[name=containers-0-image]", "nginx:1.27")
        if port:
            page.fill("input[name=ports-0-port]", port)
            page.fill("input[name=ports-0-name]", "http")
        page.get_by_test_id("preview-button").click()
        expect(page.get_by_test_id("dry-run-ok")).to_be_visible()
        page.get_by_test_id("apply").click()
        page.wait_for_url(draft)
    expect(page.get_by_test_id("draft-workload")).to_have_count(2)

    page.get_by_test_id("draft-workload").filter(has_text="web").get_by_test_id(
        "draft-add-service"
    ).click()
    expect(page.locator("input[name='ports-0-port']")).to_have_value("80")
    page.locator("#id_type").select_option("NodePort")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(draft)
    expect(page.get_by_test_id("draft-service")).to_have_text("NodePort 80/TCP")
    expect(page.get_by_test_id("preview-item")).to_have_count(4)
    expect(page.get_by_test_id("preview")).not_to_contain_text("refused")

    page.get_by_test_id("draft-create").click()
    page.wait_for_url(re.compile(r"/applications/\d+/$"))
    expect(page.locator("h1")).to_contain_text("store")
    expect(page.get_by_test_id("application-status")).to_have_text("Ready", timeout=WAIT)
    expect(page.locator("body")).to_contain_text("Import: 4 of 4 objects applied")
    topology = page.get_by_test_id("topology")
    expect(topology.locator('g[data-kind="Service"][data-name="web"]')).to_have_count(1)
    expect(topology.locator('g[data-kind="Deployment"]')).to_have_count(2)
    listed = live("get", "application,deployment,service", "-n", "shop", "-o", "name")
    assert {
        "application.app.k8s.io/store",
        "deployment.apps/web",
        "deployment.apps/worker",
        "service/web",
    } <= set(listed.split())
