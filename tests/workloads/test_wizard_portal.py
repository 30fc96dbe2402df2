"""The wizard in the portal: preview (YAML, dry-run errors next to the fields), apply only
what was previewed, edit with a diff; and its HTMX partials."""

import re

import pytest
from kubernetes import client as k8s

from apps.kube.sync import sync_cluster
from apps.namespaces import services as ns_services
from apps.workloads import tasks
from apps.workloads.models import Workload
from tests.kube.conftest import eventually


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.1)


def management(prefix, total):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def posted(namespace, **fields):
    body = {"namespace": str(namespace.pk), "name": "web", "replicas": "2"}
    for prefix in (
        "containers",
        "ports",
        "env",
        "env_from",
        "volumes",
        "mounts",
        "affinity",
        "tolerations",
        "claims",
    ):
        body.update(management(prefix, 0))
    body.update(management("containers", 1))
    body.update({"containers-0-name": "web", "containers-0-image": "nginx:1.27"})
    body.update(fields)
    return body


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return match.group(1) if match else ""


def test_a_member_previews_then_creates_a_deployment(org, portal, shop):
    client = portal("member")
    kinds = client.get("/workloads/add/").content.decode()
    assert "/workloads/add/deployment/" in kinds and "/workloads/add/cronjob/" in kinds
    page = client.get("/workloads/add/deployment/")
    assert page.status_code == 200 and 'data-testid="rows-containers"' in page.content.decode()

    body = posted(
        shop,
        **management("ports", 1),
        **{"ports-0-port": "80", "ports-0-name": "http", "ports-0-protocol": "TCP"},
        **{"containers-0-readiness_type": "http", "containers-0-readiness_port": "80"},
        preset="spread",
        topology="hostname",
        preview="1",
    )
    page = client.post("/workloads/add/deployment/", body).content.decode()
    assert 'data-testid="dry-run-ok"' in page and 'data-testid="apply"' in page
    assert "kind: Deployment" in page and "containerPort: 80" in page and "podAntiAffinity" in page
    assert not Workload.objects.filter(name="web").exists()  # nothing until confirmed

    # Applying something other than what was previewed shows the new preview first.
    seen = hidden(page, "previewed")
    changed = client.post(
        "/workloads/add/deployment/", {**body, "replicas": "3", "previewed": seen, "apply": "1"}
    )
    assert changed.status_code == 200 and not Workload.objects.filter(name="web").exists()
    assert "The form changed since the last preview" in changed.content.decode()

    done = client.post("/workloads/add/deployment/", {**body, "previewed": seen, "apply": "1"})
    web = Workload.objects.get(name="web", namespace=shop)
    assert done.status_code == 302 and done["Location"] == f"/workloads/{web.pk}/"
    assert web.desired == 2


def test_errors_are_shown_next_to_their_fields(org, portal, cluster):
    small = ns_services.create_namespace(
        org.admin,
        cluster=cluster,
        project=org.web,
        name="small",
        quota={"limits.cpu": "1", "requests.cpu": "1"},
    )
    ns_services.set_members(org.projadmin, small, [org.member])
    client = portal("member")
    body = posted(
        small, **{"containers-0-limits_cpu": "3", "containers-0-requests_cpu": "100m"}, preview="1"
    )
    page = client.post("/workloads/add/deployment/", body).content.decode()
    assert 'data-testid="dry-run-errors"' in page and 'data-testid="apply"' not in page
    errors = re.findall(r'data-error-for="([^"]+)">([^<]+)<', page)
    assert any(f == "containers-0-limits_cpu" and "exceeded quota" in m for f, m in errors), errors
    # The quota panel, as the fields change (HTMX), says what remains and what does not fit.
    panel = client.post("/workloads/add/deployment/quota/", body).content.decode()
    assert 'data-quota="limits.cpu"' in panel and "does not fit" in panel

    body = posted(
        small,
        **{"containers-0-image": "", "ports-TOTAL_FORMS": "1", "ports-0-port": "99999"},
        preview="1",
    )
    page = client.post("/workloads/add/deployment/", body).content.decode()
    errors = dict(re.findall(r'data-error-for="([^"]+)">([^<]+)<', page))
    assert "ports-0-port" in errors and "containers-0-image" in errors
    assert not Workload.objects.filter(namespace=small).exists()


def test_a_cronjob_previews_its_next_runs(org, portal, shop):
    client = portal("member")
    page = client.get("/workloads/add/cronjob/").content.decode()
    assert 'data-testid="section-cronjob"' in page and 'name="replicas"' not in page
    runs = client.get(
        "/workloads/wizard/cron/", {"schedule": "0 3 * * *", "time_zone": "Asia/Shanghai"}
    )
    text = runs.content.decode()
    assert text.count("<li>") == 5 and "03:00" in text and "CST" in text
    bad = client.get("/workloads/wizard/cron/", {"schedule": "whenever"}).content.decode()
    assert 'class="error"' in bad


def test_editing_is_prefilled_and_shows_the_diff(org, portal, shop):
    client = portal("member")
    body = posted(shop, preview="1")
    page = client.post("/workloads/add/deployment/", body).content.decode()
    client.post(
        "/workloads/add/deployment/", {**body, "previewed": hidden(page, "previewed"), "apply": "1"}
    )
    web = Workload.objects.get(name="web", namespace=shop)

    def available():
        sync_cluster(web.cluster)
        return Workload.objects.get(pk=web.pk).available == 2

    # Opened while its pods start: the Deployment's status, and so its resourceVersion,
    # moves before the edit is applied, yet nobody changed what the form shows.
    form = client.get(f"/workloads/{web.pk}/edit/").content.decode()
    assert 'value="nginx:1.27"' in form and hidden(form, "resource_version")
    eventually(available)
    apps = k8s.AppsV1Api(web.cluster.kube().api_client)
    live = apps.read_namespaced_deployment("web", "shop")
    assert live.metadata.resource_version != hidden(form, "resource_version")
    edit = {
        **posted(shop, **{"containers-0-image": "nginx:1.28"}),
        "resource_version": hidden(form, "resource_version"),
        "preview": "1",
    }
    edit.pop("namespace")
    page = client.post(f"/workloads/{web.pk}/edit/", edit).content.decode()
    assert 'data-testid="diff"' in page
    assert re.search(r'class="removed">-\s+.*image: nginx:1.27', page)
    assert re.search(r'class="added">\+\s+.*image: nginx:1.28', page)
    done = client.post(
        f"/workloads/{web.pk}/edit/", {**edit, "previewed": hidden(page, "previewed"), "apply": "1"}
    )
    assert done.status_code == 302

    def rolled():
        sync_cluster(web.cluster)
        return Workload.objects.get(pk=web.pk).images == ["nginx:1.28"]

    eventually(rolled)


def test_another_projects_member_gets_404(org, portal, shop, lab):
    client = portal("member")
    body = posted(lab, preview="1")
    page = client.post("/workloads/add/deployment/", body)
    assert page.status_code == 200 and "namespace" in page.content.decode()
    assert not Workload.objects.filter(namespace=lab).exists()
    outsider = portal("outsider")
    from apps.workloads import wizard

    web = wizard.create(
        org.member,
        shop,
        {"kind": "Deployment", "name": "web", "containers": [{"name": "web", "image": "nginx"}]},
    )
    assert outsider.get(f"/workloads/{web.pk}/edit/").status_code == 404
    assert outsider.post(f"/workloads/{web.pk}/edit/quota/", {}).status_code == 404


def test_the_node_selector_offers_the_labels_of_nodes_the_user_may_see(org, portal, shop):
    page = portal("admin").get("/workloads/add/deployment/").content.decode()
    assert 'data-testid="node-labels"' in page and "kubernetes.io/hostname=" in page
    member = portal("member").get("/workloads/add/deployment/").content.decode()
    assert "kubernetes.io/hostname=" not in member  # members see no nodes


def test_the_registry_secret_picker_offers_the_namespaces_registry_credentials(
    org, portal, shop, lab
):
    from apps.configs import services as config_services
    from apps.configs.models import Secret

    def registry_secret(namespace, name):
        return config_services.create_secret(
            org.admin,
            namespace=namespace,
            name=name,
            type=Secret.Type.DOCKERCONFIGJSON,
            data=config_services.dockerconfig_data(
                server="registry.example.com", username="ci", password="s3cret-pass", email=""
            ),
        )

    registry_secret(shop, "shop-registry")
    registry_secret(lab, "lab-registry")
    config_services.create_secret(
        org.admin, namespace=shop, name="not-a-registry", data={"token": "x"}
    )
    client = portal("member")
    page = client.get("/workloads/add/deployment/").content.decode()
    picker = page.split('data-field="registry_secrets"', 1)[1].split("</div>", 1)[0]
    assert (
        'value="shop-registry"' in picker and f"shop-registry ({shop.cluster.name}/shop)" in picker
    )
    assert "lab-registry" not in page  # another project's
    assert "not-a-registry" not in picker  # not registry credentials
    assert 'data-testid="new-registry-secret"' in page and "/secrets/add/registry/" in page

    # Picked (and one typed by hand): both become the pods' imagePullSecrets.
    body = posted(shop, registry_secrets="shop-registry", image_pull_secrets="mirror", preview="1")
    previewed = client.post("/workloads/add/deployment/", body).content.decode()
    assert "imagePullSecrets" in previewed
    assert "name: shop-registry" in previewed and "name: mirror" in previewed
    done = client.post(
        "/workloads/add/deployment/",
        {**body, "previewed": hidden(previewed, "previewed"), "apply": "1"},
    )
    assert done.status_code == 302
    web = Workload.objects.get(name="web", namespace=shop)
    pod_spec = web.manifest["spec"]["template"]["spec"]
    assert pod_spec["imagePullSecrets"] == [{"name": "shop-registry"}, {"name": "mirror"}]
    # The edit ticks it again.
    edit = client.get(f"/workloads/{web.pk}/edit/").content.decode()
    picker = edit.split('data-field="registry_secrets"', 1)[1].split("</div>", 1)[0]
    assert re.search(r'value="shop-registry"[^>]*checked', picker)
    assert 'value="mirror"' in edit  # the typed one stays in its field


def test_a_registry_secret_of_another_namespace_is_refused_next_to_the_picker(
    org, portal, shop, cluster
):
    from apps.configs import services as config_services
    from apps.configs.models import Secret

    other = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="other", quota={}
    )
    ns_services.set_members(org.projadmin, other, [org.member])
    config_services.create_secret(
        org.admin,
        namespace=other,
        name="other-registry",
        type=Secret.Type.DOCKERCONFIGJSON,
        data=config_services.dockerconfig_data(
            server="registry.example.com", username="ci", password="pw", email=""
        ),
    )
    body = posted(shop, registry_secrets="other-registry", preview="1")
    page = portal("member").post("/workloads/add/deployment/", body).content.decode()
    assert 'data-error-for="registry_secrets"' in page
    assert "Not in the namespace shop: other-registry" in page
    assert 'value="other-registry" checked' in page or re.search(
        r'value="other-registry"[^>]*checked', page
    )
