"""Issue 9's demo: what kubectl does shows on the portal's pages without a reload."""

import re
import time

import pytest
from playwright.sync_api import expect

from apps.kube.informer import Informer

from .test_demo_walkthroughs import kubectl

pytestmark = pytest.mark.browser

# Generous for a loaded machine; changes show in about two seconds.
WAIT = 30_000

CLAIM = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: made-with-kubectl, namespace: shop}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
"""


def watched_shop(name: str, workers: int, tmp_path):
    """A running cluster like the demo's (``workers`` workers) with web-shop's namespace
    "shop" opened to the member, and an informer watching it: (cluster, kubeconfig
    path, informer), the informer to be stopped by the caller."""
    from django.contrib.auth import get_user_model

    from apps.clusters import services as cluster_services
    from apps.clusters.models import Cluster
    from apps.namespaces import services as ns_services
    from apps.tenancy.models import Project

    admin = get_user_model().objects.get(username="admin")
    member = get_user_model().objects.get(username="member")
    cluster, _operation = cluster_services.create_cluster(admin, name=name, workers=workers)
    deadline = time.monotonic() + 60
    while cluster.status != Cluster.Status.RUNNING and time.monotonic() < deadline:
        time.sleep(0.2)
        cluster.refresh_from_db()
    assert cluster.status == Cluster.Status.RUNNING, cluster.status_message
    shop = ns_services.create_namespace(
        admin,
        cluster=cluster,
        project=Project.objects.get(name="web-shop"),
        name="shop",
        quota={},
    )
    ns_services.set_members(admin, shop, [member])
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(cluster.kubeconfig)
    informer = Informer(clusters=lambda: [cluster], rescan=0.2).start()
    assert informer.synced(60)
    return cluster, kubeconfig, informer


@pytest.fixture
def live(demo, worker, tmp_path):
    """A cluster like the demo's (with workers) with web-shop's namespace, an informer
    watching it, and kubectl."""
    _cluster, kubeconfig, informer = watched_shop("live", 2, tmp_path)
    yield lambda *args: kubectl(tmp_path, kubeconfig, *args)
    informer.stop()


def test_kubectl_changes_show_on_open_pages_without_a_reload(sign_in, live_server, live, tmp_path):
    errors = []
    page = sign_in("member")
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(WAIT)
    page.goto(f"{live_server.url}/configmaps/")
    page.evaluate("window.stillTheSamePage = true")  # gone if the page were reloaded
    table = page.get_by_test_id("object-table")

    manifest = tmp_path / "cm.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-kubectl, namespace: shop}\n"
        "data: {mode: live}\n"
    )
    live("apply", "-f", str(manifest))
    expect(table.get_by_role("link", name="from-kubectl")).to_be_visible(timeout=WAIT)
    live("delete", "configmap", "from-kubectl", "-n", "shop")
    expect(table.get_by_role("link", name="from-kubectl")).to_have_count(0, timeout=WAIT)
    assert page.evaluate("window.stillTheSamePage") is True

    # A claim: it appears, then its own page follows it to Bound.
    page.goto(f"{live_server.url}/storage/claims/")
    page.evaluate("window.stillTheSamePage = true")
    claim = tmp_path / "claim.yaml"
    claim.write_text(CLAIM)
    live("apply", "-f", str(claim))
    row = page.get_by_test_id("object-table").locator("tr", has_text="made-with-kubectl")
    expect(row).to_contain_text("Bound", timeout=WAIT)
    row.get_by_role("link", name="made-with-kubectl").click()
    page.wait_for_url(re.compile(r"/storage/claims/\d+/$"))
    page.evaluate("window.stillTheSamePage = true")
    live("delete", "pvc", "made-with-kubectl", "-n", "shop")
    expect(page.get_by_test_id("gone")).to_be_visible(timeout=WAIT)
    assert page.evaluate("window.stillTheSamePage") is True

    # A Deployment's pods come up, and go with it.
    page.goto(f"{live_server.url}/pods/")
    page.evaluate("window.stillTheSamePage = true")
    deployment = tmp_path / "web.yaml"
    deployment.write_text(DEPLOYMENT)
    live("apply", "-f", str(deployment))
    pods = page.get_by_test_id("object-table").locator("tbody tr", has_text="web-")
    expect(pods).to_have_count(2, timeout=WAIT)
    expect(pods.filter(has_text="Running")).to_have_count(2, timeout=WAIT)
    names = set(live("get", "pods", "-n", "shop", "-o", "name").split())
    assert {f"pod/{text.split()[0]}" for text in pods.all_inner_texts()} == names
    live("delete", "deployment", "web", "-n", "shop")
    expect(pods).to_have_count(0, timeout=WAIT)  # graceful termination takes a moment
    assert page.evaluate("window.stillTheSamePage") is True
    assert errors == []
