"""A cloud admin gives a project a namespace with a quota, then a ConfigMap in it, in a
real browser."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from kubernetes import client as k8s
from playwright.sync_api import expect

from apps.clusters import providers
from apps.clusters import services as cluster_services
from apps.clusters.models import Cluster
from apps.kube.sync import sync_cluster
from apps.namespaces.models import Namespace
from apps.tenancy.models import Project

pytestmark = pytest.mark.browser


@pytest.fixture
def running_cluster(demo, worker):
    """A sandbox cluster created by the worker, as the cluster wizard would."""
    admin = get_user_model().objects.get(username="admin")
    cluster, _operation = cluster_services.create_cluster(admin, name="tenants", workers=1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        cluster.refresh_from_db()
        if cluster.status in (Cluster.Status.RUNNING, Cluster.Status.ERROR):
            break
        time.sleep(0.2)
    assert cluster.status == Cluster.Status.RUNNING, cluster.status_message
    yield cluster
    providers.get("sandbox").delete(cluster, lambda *line, **params: None)


def test_admin_creates_a_namespace_with_a_quota_and_a_configmap_in_it(
    sign_in, live_server, running_cluster
):
    errors = []
    page = sign_in("admin")
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    web = Project.objects.get(name="web-shop")

    page.get_by_role("link", name="Namespaces", exact=True).click()
    page.get_by_role("link", name="Add").click()
    page.select_option("#id_cluster", str(running_cluster.pk))
    page.select_option("#id_project", str(web.pk))
    page.fill("#id_name", "shop")
    page.get_by_label("CPU requests").fill("2")
    page.get_by_label("CPU limits").fill("4")
    page.get_by_label("Memory requests").fill("4Gi")
    page.get_by_label("Memory limits").fill("8Gi")
    page.get_by_label("Pods").fill("10")
    page.get_by_label("ConfigMaps").fill("5")
    page.get_by_role("button", name="Create").click()

    page.wait_for_url(re.compile(r"/namespaces/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("shop")
    expect(page.get_by_test_id("namespace-phase")).to_have_text("Active")
    bars = page.get_by_test_id("quota").locator("progress")
    expect(bars).to_have_count(6)
    cpu = page.get_by_test_id("quota").locator("tr[data-quota-key='requests.cpu']")
    expect(cpu).to_contain_text("CPU requests")
    expect(cpu).to_contain_text("2")

    # What Kubernetes holds is exactly what was asked for.
    core = k8s.CoreV1Api(running_cluster.kube().api_client)
    hard = core.read_namespaced_resource_quota("kcs-quota", "shop").spec.hard
    assert hard == {
        "requests.cpu": "2",
        "limits.cpu": "4",
        "requests.memory": "4Gi",
        "limits.memory": "8Gi",
        "pods": "10",
        "configmaps": "5",
    }
    assert Namespace.objects.get(cluster=running_cluster, name="shop").project == web

    # The list shows it with its project and a usage summary.
    page.goto(f"{live_server.url}/namespaces/")
    row = page.get_by_test_id("object-table").locator("tbody tr", has_text="shop")
    expect(row).to_contain_text("Web shop")
    expect(row.locator("progress")).to_have_count(3)

    # A ConfigMap in the new namespace, through the configuration centre's form.
    shop = Namespace.objects.get(cluster=running_cluster, name="shop")
    sync_cluster(running_cluster)  # the quota's status as the beat schedule brings it in
    before = int(Namespace.objects.get(pk=shop.pk).quota_used.get("configmaps", "0"))
    page.goto(f"{live_server.url}/configmaps/add/")
    page.select_option("#id_namespace", str(shop.pk))
    page.fill("#id_name", "shop-settings")
    page.fill("input[name=data-0-key]", "GREETING")
    page.fill("textarea[name=data-0-value]", "hello world")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/configmaps/\d+/$"))
    expect(page.get_by_test_id("configmap-values")).to_contain_text("GREETING")
    live = core.read_namespaced_config_map("shop-settings", "shop")
    assert live.data == {"GREETING": "hello world"}

    # The namespace's quota usage moved by exactly that ConfigMap, at once.
    page.goto(f"{live_server.url}/namespaces/{shop.pk}/")
    configmaps = page.get_by_test_id("quota").locator("tr[data-quota-key='configmaps']")
    expect(configmaps).to_contain_text(f"{before + 1}")
    expect(configmaps.locator("progress")).to_have_attribute("value", str((before + 1) * 20))
    assert errors == []
