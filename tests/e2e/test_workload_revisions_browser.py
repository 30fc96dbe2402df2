"""A workload's revisions in a real browser: who made each, and a revision compared with
the running one, the comparison staying open while the page updates itself."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from .test_live_inventory import WAIT, live  # noqa: F401

pytestmark = pytest.mark.browser

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
"""


def test_a_revision_is_compared_with_the_running_one_while_the_page_updates(
    sign_in,
    live_server,
    live,  # noqa: F811
):
    from apps.namespaces.models import Namespace
    from apps.workloads import services

    users = {u.username: u for u in get_user_model().objects.all()}
    shop = Namespace.objects.get(name="shop")
    web = services.create_from_yaml(users["member"], shop, DEPLOYMENT)
    services.set_image(users["projadmin"], web, container="web", image="nginx:1.28")

    errors = []
    page = sign_in("member")
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(WAIT)
    page.goto(f"{live_server.url}/workloads/{web.pk}/")
    revisions = page.get_by_test_id("revision")
    expect(revisions).to_have_count(2)
    expect(revisions.nth(0)).to_contain_text("Image set")
    expect(revisions.nth(0)).to_contain_text("projadmin")
    expect(revisions.nth(1)).to_contain_text("Created")
    expect(revisions.nth(1)).to_contain_text("member")
    page.evaluate("window.stillTheSamePage = true")

    diff = page.get_by_test_id("revision-diff")
    expect(diff).to_be_hidden()
    page.get_by_text("Compare revision 1 with the running one (2)").click()
    expect(diff.locator("tr.changed td.old")).to_contain_text("nginx:1.27")
    expect(diff.locator("tr.changed td.new")).to_contain_text("nginx:1.28")

    # kubectl scales it: the page shows the new pods, and the comparison stays open
    live("scale", "deployment", "web", "-n", "shop", "--replicas=3")
    expect(page.get_by_test_id("workload-replicas")).to_contain_text("3/3")
    expect(diff.locator("tr.changed td.new")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True
    assert errors == [], errors
