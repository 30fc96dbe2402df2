"""A cloud admin creates a cluster in the wizard and watches it come up in a real browser."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_admin_creates_a_sandbox_cluster_and_watches_the_progress(
    sign_in, live_server, worker, sandbox
):
    errors = []
    page = sign_in("admin")
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.get_by_role("link", name="Clusters").click()
    page.get_by_role("link", name="Add").click()
    page.get_by_test_id("provider-sandbox").click()
    page.fill("input[name=name]", "browser")
    page.fill("input[name=display_name]", "Browser cluster")
    page.get_by_label("3 (high availability)").check()
    page.fill("input[name=workers]", "2")
    page.fill("input[name=zones]", "zone-a, zone-b")
    page.select_option("select[name=version]", "1.31.4")
    page.get_by_role("button", name="Create cluster").click()

    page.wait_for_url(re.compile(r"/operations/\d+/$"))
    page.evaluate("window.stillTheSamePage = true")  # HTMX updates it in place
    status = page.get_by_test_id("operation-status")
    expect(status).to_have_text("Succeeded", timeout=60_000)
    expect(page.get_by_test_id("operation-bar")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("operation-log")).to_contain_text("Application CRD")
    assert page.evaluate("window.stillTheSamePage") is True

    page.goto(f"{live_server.url}/clusters/")
    row = page.get_by_test_id("object-table").locator("tbody tr", has_text="browser")
    expect(row).to_contain_text("Running")
    expect(row).to_contain_text("5 / 5")
    row.get_by_role("link").first.click()
    expect(page.get_by_test_id("cluster-nodes")).to_contain_text("Ready: 5")
    cluster_page = page.url
    page.get_by_test_id("cluster-nodes-all").click()
    expect(page.get_by_test_id("object-table").locator("tbody tr")).to_have_count(5)
    # Not go_back(): the node list polls every second (live rows), and a poll in flight
    # can abort a history navigation; the test is about the pages, not the back button.
    page.goto(cluster_page)
    expect(page.get_by_test_id("cluster-health")).to_contain_text("1.31.4")
    assert errors == []


KUBECONFIG = """
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {server: "https://lab.example.com:6443"}
users:
- name: lab-admin
  user: {token: secret}
contexts:
- name: lab-admin@lab
  context: {cluster: lab, user: lab-admin}
- name: lab-readonly@lab
  context: {cluster: lab, user: lab-admin}
"""


def test_the_context_choice_follows_the_pasted_kubeconfig(sign_in, live_server):
    page = sign_in("admin")
    page.goto(f"{live_server.url}/clusters/add/")
    page.get_by_test_id("provider-kubeconfig").click()
    context = page.locator("select[name=context]")
    expect(context.locator("option")).to_have_count(1)
    page.fill("textarea[name=kubeconfig]", KUBECONFIG)  # HTMX re-renders the field
    expect(context.locator("option")).to_have_count(3)
    context.select_option("lab-readonly@lab")
    expect(context).to_have_value("lab-readonly@lab")
