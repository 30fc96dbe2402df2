"""Networking pages: what members and admins see, forms that expose, create and warn."""

import re

import pytest

from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster
from apps.networking import services
from apps.networking.models import Ingress, Service
from apps.networking.services import fingerprint
from tests.kube.conftest import eventually

PORTS = {
    "ports-TOTAL_FORMS": "3",
    "ports-INITIAL_FORMS": "0",
    "ports-0-name": "http",
    "ports-0-protocol": "TCP",
    "ports-0-port": "80",
    "ports-0-target_port": "http",
    "ports-1-protocol": "TCP",
    "ports-2-protocol": "TCP",
}


def python_errors(response) -> list[str]:
    """The errors a form page shows (for a failing assertion's message)."""
    import re

    html = response.content.decode()
    return re.findall(
        r'<p class="error">(.*?)</p>|<div class="errors"[^>]*>(.*?)</div>', html, re.S
    )


def rules(*rows) -> dict:
    data = {
        "rules-TOTAL_FORMS": str(len(rows) + 1),
        "rules-INITIAL_FORMS": "0",
        "tls-TOTAL_FORMS": "1",
        "tls-INITIAL_FORMS": "0",
    }
    for i, (host, path, service, port) in enumerate(rows):
        data.update(
            {
                f"rules-{i}-host": host,
                f"rules-{i}-path": path,
                f"rules-{i}-path_type": "Prefix",
                f"rules-{i}-service": service,
                f"rules-{i}-port": port,
            }
        )
    data[f"rules-{len(rows)}-path_type"] = "Prefix"
    return data


def test_expose_from_the_workload_page_prefills_the_form(portal, org, shop, nginx):
    client = portal("member")
    page = client.get(nginx.get_absolute_url()).content.decode()
    assert f"/services/add/?workload={nginx.pk}" in page
    form = client.get(f"/services/add/?workload={nginx.pk}").content.decode()
    assert "Expose nginx" in form
    assert 'value="nginx"' in form and "app=nginx" in form
    assert 'name="ports-0-port" value="80"' in form and 'value="http"' in form

    response = client.post(
        f"/services/add/?workload={nginx.pk}",
        {
            "namespace": shop.pk,
            "name": "nginx",
            "type": "LoadBalancer",
            "workload": nginx.pk,
            "selector": "",
            "session_affinity": "None",
            "lb_algorithm": "least-connections",
            "lb_session_persistence": "source-ip",
            "lb_health_check_protocol": "HTTP",
            "lb_health_check_path": "/",
            **PORTS,
        },
    )
    assert response.status_code == 302
    svc = Service.objects.get(name="nginx")
    assert svc.selector == {"app": "nginx"} and svc.type == "LoadBalancer"
    assert svc.annotations["lb.kcs.io/algorithm"] == "least-connections"

    def shown():
        sync_cluster(shop.cluster)
        page = client.get(svc.get_absolute_url()).content.decode()
        return "203.0.113." in page and 'data-ok="true"' in page and page

    page = eventually(shown)
    assert "least-connections" in page  # the settings in force
    assert "Deployment/nginx" in page  # the workloads it reaches
    assert page.count("Ready</td>") >= 2


def test_a_bad_setting_is_a_form_error_and_nothing_is_written(portal, org, shop):
    response = portal("member").post(
        "/services/add/",
        {
            "namespace": shop.pk,
            "name": "web",
            "type": "LoadBalancer",
            "selector": "app=web",
            "session_affinity": "None",
            "lb_listener_protocol": "HTTPS",
            **PORTS,
        },
    )
    assert response.status_code == 200
    assert "An HTTPS listener needs a certificate" in response.content.decode()
    assert not Service.objects.filter(name="web").exists()
    assert AuditEvent.objects.filter(action="service.create", result="failure").exists()


def test_ingress_form_warns_of_a_conflict_before_applying(portal, org, shop, nginx):
    services.create_ingress(
        org.member,
        namespace=shop,
        name="first",
        spec={"rules": [{"host": "shop.example.com", "path": "/", "service": "nginx", "port": 80}]},
    )
    client = portal("member")
    data = {
        "namespace": shop.pk,
        "name": "second",
        "ingress_class": "nginx",
        **rules(("shop.example.com", "/", "nginx", "80")),
    }
    response = client.post("/ingresses/add/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "shop.example.com/ is already routed by Ingress shop/first" in page
    assert "Apply despite conflicts" in page
    assert not Ingress.objects.filter(name="second").exists()
    response = client.post("/ingresses/add/", {**data, "allow_conflicts": "on"})
    assert response.status_code == 302
    ingress = Ingress.objects.get(name="second")
    page = client.get(ingress.get_absolute_url()).content.decode()
    assert "No TLS: served over HTTP only." in page
    assert "Does not exist" in page  # nginx Service not created: its backend is missing


@pytest.mark.parametrize("url", ["/services/", "/ingresses/"])
def test_lists_are_menus_for_members_and_hide_other_projects(portal, org, shop, lab, url):
    services.create_service(
        org.admin,
        namespace=lab,
        name="secret-svc",
        spec={
            "type": "ClusterIP",
            "selector": {"a": "b"},
            "ports": [{"name": "", "protocol": "TCP", "port": 80, "target_port": 80}],
        },
    )
    page = portal("member").get(url).content.decode()
    assert "Networking" in page and "secret-svc" not in page
    assert "secret-svc" in portal("admin").get("/services/").content.decode()
    other = Service.objects.get(name="secret-svc")
    assert portal("member").get(other.get_absolute_url()).status_code == 404


MATRIX = {"admin": 200, "deptadmin": 200, "projadmin": 200, "member": 200, "outsider": 404}


@pytest.mark.parametrize("username", list(MATRIX))
def test_permission_matrix_portal(portal, org, shop, username):
    svc = services.create_service(
        org.admin,
        namespace=shop,
        name="web",
        spec={
            "type": "ClusterIP",
            "selector": {"app": "web"},
            "ports": [{"name": "", "protocol": "TCP", "port": 80, "target_port": 80}],
        },
    )
    ingress = services.create_ingress(
        org.admin,
        namespace=shop,
        name="web",
        spec={"rules": [{"host": "w.example.com", "path": "/", "service": "web", "port": 80}]},
    )
    client, expected = portal(username), MATRIX[username]
    for obj, kind in ((svc, "services"), (ingress, "ingresses")):
        assert client.get(obj.get_absolute_url()).status_code == expected
        assert client.get(f"/{kind}/{obj.pk}/edit/").status_code == expected
        assert client.get(f"/{kind}/{obj.pk}/yaml/").status_code == expected
        assert client.get(f"/{kind}/{obj.pk}/delete/").status_code == expected
    listed = client.get("/services/").content.decode()
    assert (svc.get_absolute_url() in listed) is (expected == 200)
    deleted = client.post(f"/ingresses/{ingress.pk}/delete/", {})
    assert deleted.status_code == (302 if expected == 200 else 404)
    assert Ingress.objects.filter(pk=ingress.pk).exists() is (expected != 200)
    if expected == 404:
        assert AuditEvent.objects.filter(action="ingress.delete", result="failure").exists()


def test_edit_forms_keep_what_they_do_not_show(portal, org, shop):
    svc = services.create_service(
        org.member,
        namespace=shop,
        name="web",
        spec={
            "type": "LoadBalancer",
            "selector": {"app": "web"},
            "ports": [{"name": "http", "protocol": "TCP", "port": 80, "target_port": "http"}],
            "load_balancer": {"algorithm": "source-ip"},
        },
    )
    client = portal("member")
    form = client.get(f"/services/{svc.pk}/edit/").content.decode()
    assert 'value="source-ip" selected' in form and 'name="ports-0-port" value="80"' in form
    response = client.post(
        f"/services/{svc.pk}/edit/",
        {
            "type": "LoadBalancer",
            "selector": "app=web",
            "session_affinity": "ClientIP",
            "affinity_timeout": "120",
            "lb_algorithm": "round-robin",
            "resource_version": svc.resource_version,
            "seen": fingerprint(svc.manifest),
            "ports-TOTAL_FORMS": "2",
            "ports-INITIAL_FORMS": "1",
            "ports-0-name": "http",
            "ports-0-protocol": "TCP",
            "ports-0-port": "8080",
            "ports-0-target_port": "http",
            "ports-1-protocol": "TCP",
        },
    )
    assert response.status_code == 302, python_errors(response)
    svc.refresh_from_db()
    live = svc.manifest["spec"]
    assert live["ports"][0]["port"] == 8080 and live["sessionAffinity"] == "ClientIP"
    assert svc.annotations["lb.kcs.io/algorithm"] == "round-robin"
    assert svc.cluster_ip and live["clusterIP"] == svc.cluster_ip
    # A stale version: changed by someone else, nothing written.
    stale = client.post(
        f"/services/{svc.pk}/edit/",
        {
            "type": "ClusterIP",
            "selector": "app=web",
            "session_affinity": "None",
            "resource_version": "1",
            "ports-TOTAL_FORMS": "1",
            "ports-INITIAL_FORMS": "0",
            "ports-0-protocol": "TCP",
            "ports-0-port": "80",
        },
    )
    assert stale.status_code == 200
    assert Service.objects.get(pk=svc.pk).type == "LoadBalancer"

    ingress = services.create_ingress(
        org.member,
        namespace=shop,
        name="web",
        spec={
            "rules": [{"host": "w.example.com", "path": "/", "service": "web", "port": 80}],
            "tls": [{"hosts": ["w.example.com"], "secret": ""}],
        },
    )
    page = client.get(ingress.get_absolute_url()).content.decode()
    assert "No certificate yet" in page
    form = client.get(f"/ingresses/{ingress.pk}/edit/").content.decode()
    assert 'value="w.example.com"' in form
    data = {
        "ingress_class": "nginx",
        "resource_version": ingress.resource_version,
        "seen": fingerprint(ingress.manifest),
        **rules(("w.example.com", "/shop", "web", "80")),
    }
    response = client.post(f"/ingresses/{ingress.pk}/edit/", data)
    assert response.status_code == 302, python_errors(response)
    ingress.refresh_from_db()
    assert [r["path"] for r in ingress.rules] == ["/shop"] and ingress.ingress_class == "nginx"


def test_a_bad_setting_written_past_the_portal_shows_as_a_warning(portal, org, shop, nginx):
    from tests.networking.test_services import kubectl

    svc = services.create_service(
        org.member,
        namespace=shop,
        name="nginx",
        spec={
            "type": "LoadBalancer",
            "selector": {"app": "nginx"},
            "ports": [{"name": "http", "protocol": "TCP", "port": 80, "target_port": "http"}],
        },
    )
    kubectl(
        shop.cluster,
        "-n",
        "shop",
        "annotate",
        "svc",
        "nginx",
        "lb.kcs.io/health-check-interval=often",
    )
    client = portal("member")

    def warned():
        page = client.get(svc.get_absolute_url()).content.decode()
        return 'data-testid="service-warning"' in page and page

    page = eventually(warned)
    assert "InvalidLoadBalancerSettings: lb.kcs.io/health-check-interval" in page
    assert "whole number from 1 to 300" in page


def test_the_service_page_and_the_api_check_every_port(portal, api, org, shop, nginx):
    import re

    svc = services.create_service(
        org.member,
        namespace=shop,
        name="web",
        spec={
            "type": "ClusterIP",
            "selector": {"app": "nginx"},
            "ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "target_port": "http"},
                {"name": "admin", "protocol": "TCP", "port": 8081, "target_port": 8081},
            ],
        },
    )
    client = portal("member")

    def shown():
        sync_cluster(shop.cluster)
        page = client.get(svc.get_absolute_url()).content.decode()
        return 'data-port="http 80/TCP"' in page and 'data-ok="true"' in page and page

    page = eventually(shown)
    blocks = re.findall(r'data-ok="(true|false)" data-port="([^"]+)"', page)
    assert blocks == [("true", "http 80/TCP"), ("false", "admin 8081/TCP")]
    assert "The target port 8081 is not exposed" in page
    check = api("member").get(f"/api/v1/services/{svc.pk}/check/").json()
    assert check["ok"] is False and [p["ok"] for p in check["ports"]] == [True, False]
    assert check["reasons"][0].startswith("admin 8081/TCP: The target port 8081")
    one = api("member").get(f"/api/v1/services/{svc.pk}/check/?port=http").json()
    assert one["ok"] is True and one["port"] == "http 80/TCP" and "ports" not in one


def test_rows_are_added_and_removed_without_javascript(portal, org, shop):
    client = portal("member")
    form = client.get("/services/add/").content.decode()
    assert form.count("data-remove-row") == 2  # one row, and the template of a new one
    base = {
        "namespace": shop.pk,
        "name": "web",
        "type": "ClusterIP",
        "selector": "app=web",
        "session_affinity": "None",
        "ports-TOTAL_FORMS": "1",
        "ports-INITIAL_FORMS": "0",
        "ports-0-name": "http",
        "ports-0-protocol": "TCP",
        "ports-0-port": "80",
    }
    added = client.post("/services/add/", {**base, "add_row": "ports"})
    page = added.content.decode()
    assert added.status_code == 200 and 'name="ports-TOTAL_FORMS" value="2"' in page
    assert 'name="ports-1-port"' in page and 'value="80"' in page
    assert not Service.objects.filter(name="web").exists()
    two = {**base, "ports-TOTAL_FORMS": "2", "ports-1-protocol": "TCP", "ports-1-port": "81"}
    removed = client.post("/services/add/", {**two, "remove_row": "ports-0"})
    assert removed.status_code == 200 and not Service.objects.filter(name="web").exists()
    assert re.search(r'<tr data-row hidden>.*?name="ports-0-port"', removed.content.decode(), re.S)
    saved = client.post("/services/add/", {**two, "ports-0-DELETE": "on"})
    assert saved.status_code == 302, python_errors(saved)
    assert [p["port"] for p in Service.objects.get(name="web").ports] == [81]


def test_weighted_round_robin_weights_by_form_shown_per_backend(portal, org, shop, nginx):
    from apps.workloads.models import Pod

    client = portal("member")
    form = {
        "namespace": shop.pk,
        "name": "nginx",
        "type": "LoadBalancer",
        "selector": "app=nginx",
        "session_affinity": "None",
        **PORTS,
    }
    refused = client.post("/services/add/", {**form, "lb_backend_weights": "app=nginx:3"})
    assert "Weights are only used by the weighted round robin algorithm" in (
        refused.content.decode()
    )
    wrr = {**form, "lb_algorithm": "weighted-round-robin"}
    heavy = client.post("/services/add/", {**wrr, "lb_backend_weights": "app=nginx:heavy"})
    assert "app=nginx:heavy: the weight must be a whole number from 0 to 100." in (
        heavy.content.decode()
    )
    assert not Service.objects.filter(name="nginx").exists()
    first, second = sorted(Pod.objects.filter(namespace_name="shop").values_list("name", flat=True))
    saved = client.post("/services/add/", {**wrr, "lb_backend_weights": f"{first}:4, app=nginx:0"})
    assert saved.status_code == 302, python_errors(saved)
    svc = Service.objects.get(name="nginx")
    assert svc.annotations["lb.kcs.io/backend-weights"] == f"{first}:4, app=nginx:0"

    def weighed():
        sync_cluster(shop.cluster)
        page = client.get(svc.get_absolute_url()).content.decode()
        return page.count('data-testid="backend-weight"') == 2 and page

    page = eventually(weighed)
    weights = re.findall(
        r"<td>([\w-]+)</td><td>[\d.]+</td>.*?data-testid=\"backend-weight\">(\d+)<", page
    )
    assert dict(weights) == {first: "4", second: "0"}
    edit = client.get(f"/services/{svc.pk}/edit/").content.decode()
    assert f'value="{first}:4, app=nginx:0"' in edit
