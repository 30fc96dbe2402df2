"""The wizard's "New registry Secret" dialog: made without leaving the wizard, ticked in the
picker drawn again, and then pulled with by the workload created."""

import base64
import json
import re

from kubernetes import client as k8s

from apps.configs.models import Secret
from apps.core.models import AuditEvent
from apps.namespaces import services as ns_services
from apps.workloads.models import Workload

from .test_wizard_portal import hidden, posted

PASSWORD = "pull-Me-7c1f9e"
URL = "/workloads/add/deployment/registry-secret/"


def credentials(**fields):
    return {
        "name": "harbor",
        "server": "harbor.example.com",
        "username": "ci",
        "password": PASSWORD,
        "email": "",
        **fields,
    }


def ticked(html: str) -> list[str]:
    return sorted(
        re.findall(
            r'<input type="checkbox" name="registry_secrets" value="([^"]+)"[^>]*checked', html
        )
    )


def make_registry_secret(org, namespace, name):
    from apps.configs import services

    return services.create_registry_secret(
        org.admin, namespace, name=name, server="r.example.com", username="u", password="p"
    )


def test_the_dialog_creates_the_secret_and_the_picker_comes_back_with_it_ticked(org, portal, shop):
    make_registry_secret(org, shop, "mirror")
    make_registry_secret(org, shop, "other")
    client = portal("member")
    wizard = client.get("/workloads/add/deployment/").content.decode()
    assert 'data-testid="new-registry-secret"' in wizard and f'hx-get="{URL}"' in wizard
    assert 'id="registry-secret-slot"' in wizard

    dialog = client.get(URL, {"namespace": shop.pk}, HTTP_HX_REQUEST="true")
    page = dialog.content.decode()
    assert dialog.status_code == 200 and "<dialog" in page
    assert f"in the namespace shop (cluster {shop.cluster.name})" in page
    assert 'name="name"' in page and 'value="regcred"' in page  # a free name, to keep or change
    assert 'type="password"' in page and 'name="email"' in page
    assert f'name="namespace" value="{shop.pk}"' in page
    assert 'id="id_name"' not in page  # ids apart from the wizard's own fields

    created = client.post(
        URL,
        {"namespace": shop.pk, "registry_secrets": ["mirror"], **credentials()},
        HTTP_HX_REQUEST="true",
    )
    page = created.content.decode()
    assert created.status_code == 200
    assert 'id="registry-picker"' in page and 'hx-swap-oob="true"' in page
    assert "<dialog" not in page  # the dialog goes
    assert ticked(page) == ["harbor", "mirror"]  # the new one and the one ticked before
    assert 'value="other"' in page and "The registry Secret harbor was created in shop" in page
    assert PASSWORD not in page
    live = k8s.CoreV1Api(shop.cluster.kube().api_client).read_namespaced_secret("harbor", "shop")
    config = json.loads(base64.b64decode(live.data[".dockerconfigjson"]))
    assert config["auths"]["harbor.example.com"]["password"] == PASSWORD
    event = AuditEvent.objects.get(action="secret.create", target_name="harbor")
    assert event.result == "success" and event.actor_name == "member"

    # The wizard then creates the Deployment pulling with it.
    body = posted(shop, registry_secrets=["harbor", "mirror"], preview="1")
    previewed = client.post("/workloads/add/deployment/", body).content.decode()
    assert "name: harbor" in previewed
    done = client.post(
        "/workloads/add/deployment/",
        {**body, "previewed": hidden(previewed, "previewed"), "apply": "1"},
    )
    assert done.status_code == 302
    web = Workload.objects.get(name="web", namespace=shop)
    live = k8s.AppsV1Api(shop.cluster.kube().api_client).read_namespaced_deployment("web", "shop")
    pulled = [s.name for s in live.spec.template.spec.image_pull_secrets]
    assert pulled == ["harbor", "mirror"]

    # On the edit, the dialog puts it in the workload's namespace.
    edit = client.get(f"/workloads/{web.pk}/edit/").content.decode()
    url = f"/workloads/{web.pk}/edit/registry-secret/"
    assert f'hx-get="{url}"' in edit
    again = client.post(
        url,
        {"registry_secrets": ["harbor"], **credentials(name="quay", server="quay.io")},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert ticked(again) == ["harbor", "quay"]
    assert Secret.objects.get(name="quay").namespace == shop


def test_errors_come_back_in_the_dialog_and_nothing_is_made(org, portal, shop):
    make_registry_secret(org, shop, "taken")
    client = portal("member")
    bad = client.post(
        URL,
        {"namespace": shop.pk, **credentials(name="Bad_Name", server="", password="")},
        HTTP_HX_REQUEST="true",
    )
    page = bad.content.decode()
    assert bad.status_code == 200 and "<dialog" in page and 'id="registry-picker"' not in page
    for field in ("name", "server", "password"):
        assert f'data-error-for="{field}"' in page, page
    assert 'value="Bad_Name"' in page  # what was typed stays, but never the password

    taken = client.post(
        URL, {"namespace": shop.pk, **credentials(name="taken")}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-error-for="name"' in taken and "already exists" in taken
    assert PASSWORD not in taken
    assert not Secret.objects.filter(name="Bad_Name").exists()
    failures = AuditEvent.objects.filter(action="secret.create", result="failure")
    assert failures.count() == 2 and all(PASSWORD not in e.reason for e in failures)

    # No namespace chosen in the wizard yet: the dialog says to choose one.
    none = client.get(URL, HTTP_HX_REQUEST="true").content.decode()
    assert "Choose the workload's namespace first" in none and 'name="server"' not in none


def test_another_projects_namespace_is_not_found(org, portal, shop, lab):
    client = portal("member")
    assert client.get(URL, {"namespace": lab.pk}).status_code == 404
    response = client.post(URL, {"namespace": lab.pk, **credentials()})
    assert response.status_code == 404
    assert not Secret.objects.filter(name="harbor").exists()
    refused = AuditEvent.objects.get(action="secret.create")
    assert (refused.result, refused.namespace, refused.target_name) == ("failure", "lab", "harbor")
    assert client.get("/workloads/add/nonsense/registry-secret/").status_code == 404

    # Nor is another project's workload, on an edit.
    from apps.workloads import wizard

    theirs = wizard.create(
        org.admin,
        lab,
        {"kind": "Deployment", "name": "theirs", "containers": [{"name": "c", "image": "nginx"}]},
    )
    assert client.get(f"/workloads/{theirs.pk}/edit/registry-secret/").status_code == 404
    assert (
        client.post(f"/workloads/{theirs.pk}/edit/registry-secret/", credentials()).status_code
        == 404
    )


def test_the_button_is_offered_only_where_a_secret_can_be_made(org, portal, cluster):
    # The member works in no namespace yet: nowhere to put a Secret, no button.
    page = portal("member").get("/workloads/add/deployment/").content.decode()
    assert 'data-testid="new-registry-secret"' not in page
    shop = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota={}
    )
    ns_services.set_members(org.projadmin, shop, [org.member])
    page = portal("member").get("/workloads/add/deployment/").content.decode()
    assert 'data-testid="new-registry-secret"' in page
