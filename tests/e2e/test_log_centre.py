"""Issue 14's demo: a member finds a line a pod just wrote, by keyword, across their
namespace, and opens the lines around it; the line came through the cluster's fluent-bit
(kubesim's emulation) to the ingest endpoint, not from the pod on demand."""

import re

import pytest
from playwright.sync_api import expect

from tests.kube.conftest import eventually

pytestmark = pytest.mark.browser

WAIT = 30_000

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27.3"}]},
        },
    },
}


@pytest.fixture
def shipping(demo, worker, live_server, settings):
    """A cluster whose shipper sends to this live server, with web-shop's namespace."""
    from django.contrib.auth import get_user_model

    from apps.clusters import services as cluster_services
    from apps.clusters.models import Cluster
    from apps.namespaces import services as ns_services
    from apps.tenancy.models import Project

    settings.LOGS_INGEST_URL = f"{live_server.url}/logs/ingest/"
    admin = get_user_model().objects.get(username="admin")
    member = get_user_model().objects.get(username="member")
    cluster, _operation = cluster_services.create_cluster(admin, name="logs", workers=2)

    def running():
        """the cluster running"""
        cluster.refresh_from_db()
        return cluster.status == Cluster.Status.RUNNING

    eventually(running, timeout=60, interval=0.2)
    shop = ns_services.create_namespace(
        admin,
        cluster=cluster,
        project=Project.objects.get(name="web-shop"),
        name="shop",
        quota={},
    )
    ns_services.set_members(admin, shop, [member])
    yield cluster
    # The lines' tables are not Django models: the test database's flush leaves them.
    from tests.logs.conftest import clear_store

    clear_store()


def _written_and_shipped(cluster, sandbox):
    """A line a pod of the shop namespace just wrote, once the portal has it."""
    from django.utils import timezone

    from apps.logs.query import LogQuery, Match
    from apps.logs.store import get_store

    kube = cluster.kube()
    kube.apps.create_namespaced_deployment("shop", DEPLOYMENT)

    # Real time: the pods write a line every few seconds, fluent-bit flushes every two.
    def shipped():
        """an nginx line of shop in the log centre"""
        query = LogQuery(
            start=timezone.now() - timezone.timedelta(days=1),
            end=timezone.now() + timezone.timedelta(days=1),
            namespace=Match("shop"),
        )
        lines = [line for line in get_store().search(query, limit=50) if "HTTP/1.1" in line.message]
        return lines[0] if lines else None

    return eventually(shipped, timeout=90, interval=0.5)


def test_a_member_finds_a_line_a_pod_just_wrote_and_its_context(
    sign_in, live_server, shipping, sandbox
):
    line = _written_and_shipped(shipping, sandbox)
    # The nginx access line's timestamp, e.g. 02/Dec/2026:00:20:11, is the keyword.
    stamp = re.search(r"\[([^\]]+) \+0000\]", line.message).group(1)
    page = sign_in("member")
    page.set_default_timeout(WAIT)
    page.goto(f"{live_server.url}/logs/")
    form = page.get_by_test_id("log-search")
    form.get_by_label("Keywords").fill(f'"{stamp}"')
    form.get_by_label("Namespace").fill("shop")
    form.get_by_label("Time range").select_option("7d")
    form.get_by_role("button", name="Search").click()
    hit = page.get_by_test_id("log-lines").locator("li", has_text=line.message).first
    expect(hit).to_be_visible(timeout=WAIT)
    expect(hit.locator("mark").first).to_have_text(stamp, timeout=WAIT)
    expect(page.get_by_test_id("histogram")).to_be_visible(timeout=WAIT)
    hit.get_by_role("link", name="Context").click()
    context = page.get_by_test_id("context")
    expect(context).to_be_visible(timeout=WAIT)
    expect(context.locator("li.hit")).to_contain_text(line.message, timeout=WAIT)
