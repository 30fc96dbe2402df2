"""A member creates a Deployment through the wizard in a real browser: makes the registry
Secret it pulls with in a dialog without leaving the wizard, previews it (YAML, Kubernetes'
dry run), creates it, and watches it become ready without a reload."""

import pytest
from kubernetes import client as k8s
from playwright.sync_api import expect

from .test_live_inventory import WAIT, live  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_member_creates_a_deployment_in_the_wizard_and_watches_it_become_ready(
    sign_in,
    live_server,
    live,  # noqa: F811
):
    from django.contrib.auth import get_user_model

    from apps.configs import services as config_services
    from apps.namespaces import services as ns_services
    from apps.namespaces.models import Namespace

    admin, member = (get_user_model().objects.get(username=u) for u in ("admin", "member"))
    config_services.create_registry_secret(
        admin,
        Namespace.objects.get(cluster__name="live", name="shop"),
        name="mirror",
        server="mirror.example.com",
        username="ci",
        password="mirror-pass",
    )
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

    # The registry credentials are not there yet: made in a dialog, the wizard kept as typed.
    page.locator("input[name=registry_secrets][value=mirror]").check()
    opener = page.get_by_test_id("new-registry-secret")
    opener.click()
    dialog = page.get_by_test_id("registry-secret-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("in the namespace shop (cluster live)")
    name = dialog.locator("input[name=name]")
    expect(name).to_be_focused()  # the keyboard is in the dialog
    expect(name).to_have_value("regcred")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()
    opener.press("Enter")
    dialog = page.get_by_test_id("registry-secret-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("input[name=name]").fill("harbor")
    dialog.locator("input[name=server]").fill("harbor.example.com")
    dialog.locator("input[name=username]").fill("ci")
    dialog.get_by_test_id("registry-secret-create").click()  # no password yet
    expect(page.locator("[data-error-for=password]")).to_be_visible()
    expect(page.get_by_test_id("registry-secret-dialog")).to_be_visible()
    expect(page.locator("#id_registry_secret_password")).to_be_focused()
    page.locator("#id_registry_secret_password").fill("s3cret-pull")
    # The namespace closed to the member meanwhile: a 404, said in the dialog.
    shop = Namespace.objects.get(cluster__name="live", name="shop")
    ns_services.set_members(admin, shop, [])
    page.get_by_test_id("registry-secret-create").click()
    expect(page.get_by_test_id("dialog-failed")).to_be_visible()
    expect(page.get_by_test_id("registry-secret-dialog")).to_be_visible()
    assert all("404" in e for e in errors), errors  # the browser and htmx log the refusal
    errors.clear()
    ns_services.set_members(admin, shop, [member])
    page.get_by_test_id("registry-secret-create").click()
    expect(page.get_by_test_id("registry-secret-dialog")).to_have_count(0)
    expect(page.get_by_test_id("registry-secret-created")).to_contain_text("harbor")
    box = page.locator("input[name=registry_secrets][value=harbor]")
    expect(box).to_be_checked()
    expect(box).to_be_focused()
    expect(page.locator("input[name=registry_secrets][value=mirror]")).to_be_checked()
    expect(page.locator("input[name=name]")).to_have_value("wizard-web")
    expect(page.locator("input[name=env-1-value]")).to_have_value("debug")

    page.get_by_test_id("preview-button").click()
    expect(page.get_by_test_id("dry-run-ok")).to_be_visible()
    yaml = page.get_by_test_id("preview-yaml")
    expect(yaml).to_contain_text("kind: Deployment")
    expect(yaml).to_contain_text("readinessProbe")
    expect(yaml).to_contain_text("podAntiAffinity")
    expect(yaml).to_contain_text("LEVEL")
    expect(yaml).to_contain_text("imagePullSecrets")

    page.screenshot(path="/tmp/wizard.png", full_page=True)
    page.get_by_test_id("apply").click()
    page.wait_for_url(f"{live_server.url}/workloads/*/")
    page.evaluate("window.stillTheSamePage = true")  # the page updates in place
    expect(page.get_by_test_id("workload-status")).to_have_text("Running")
    expect(page.get_by_test_id("workload-replicas")).to_contain_text("2/2")
    assert page.evaluate("window.stillTheSamePage") is True
    live("get", "deployment", "wizard-web", "-n", "shop")  # kubectl agrees it exists
    from apps.clusters.models import Cluster

    api = k8s.AppsV1Api(Cluster.objects.get(name="live").kube().api_client)
    spec = api.read_namespaced_deployment("wizard-web", "shop").spec.template.spec
    assert [s.name for s in spec.image_pull_secrets] == ["harbor", "mirror"]
    assert errors == [], errors
