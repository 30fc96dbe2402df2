"""A member creates a Deployment through the wizard in a real browser: previews it (YAML,
Kubernetes' dry run), creates it, and watches it become ready without a reload."""

import pytest
from playwright.sync_api import expect

from .test_live_inventory import WAIT, live  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_member_creates_a_deployment_in_the_wizard_and_watches_it_become_ready(
    sign_in,
    live_server,
    live,  # noqa: F811
):
    errors = []
    page = sign_in("member")
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(WAIT)

    page.goto(f"{live_server.url}/workloads/")
    page.get_by_role("link", name="Add").click()
    page.get_by_test_id("kind-deployment").click()
    page.select_option("select[name=namespace]", label="live / shop")
    # The remaining quota beside the resources follows the namespace chosen (HTMX).
    expect(page.get_by_test_id("quota")).to_contain_text("no CPU, memory or pod quota")
    page.fill("input[name=name]", "wizard-web")
    page.fill("input[name=replicas]", "2")
    page.fill("input[name=containers-0-name]", "web")
    page.fill("input[name=containers-0-image]", "nginx:1.27")
    page.fill("input[name=ports-0-port]", "80")
    page.fill("input[name=ports-0-name]", "http")
    probe = page.get_by_test_id("probe").filter(has_text="Readiness probe")
    probe.locator("summary").click()
    page.select_option("select[name=containers-0-readiness_type]", "http")
    page.fill("input[name=containers-0-readiness_path]", "/")
    page.fill("input[name=containers-0-readiness_port]", "80")
    page.select_option("select[name=preset]", "spread")
    # A second env row, added in place.
    page.get_by_test_id("rows-env").get_by_role("button", name="Add row").click()
    page.fill("input[name=env-0-name]", "MODE")
    page.fill("input[name=env-0-value]", "prod")
    page.fill("input[name=env-1-name]", "LEVEL")
    page.fill("input[name=env-1-value]", "debug")

    page.get_by_test_id("preview-button").click()
    expect(page.get_by_test_id("dry-run-ok")).to_be_visible()
    yaml = page.get_by_test_id("preview-yaml")
    expect(yaml).to_contain_text("kind: Deployment")
    expect(yaml).to_contain_text("readinessProbe")
    expect(yaml).to_contain_text("podAntiAffinity")
    expect(yaml).to_contain_text("LEVEL")

    page.screenshot(path="/tmp/wizard.png", full_page=True)
    page.get_by_test_id("apply").click()
    page.wait_for_url(f"{live_server.url}/workloads/*/")
    page.evaluate("window.stillTheSamePage = true")  # the page updates in place
    expect(page.get_by_test_id("workload-status")).to_have_text("Running")
    expect(page.get_by_test_id("workload-replicas")).to_contain_text("2/2")
    assert page.evaluate("window.stillTheSamePage") is True
    live("get", "deployment", "wizard-web", "-n", "shop")  # kubectl agrees it exists
    assert errors == [], errors
