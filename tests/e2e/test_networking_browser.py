"""Issue 13's demo: a member exposes nginx through a LoadBalancer Service and an Ingress with
TLS, sees the addresses and the "does it answer?" check turn green, then scales nginx to
zero and reads why nothing answers."""

import re

import pytest
from playwright.sync_api import expect

from tests.configs.conftest import make_pair

from .test_live_inventory import live  # noqa: F401

pytestmark = pytest.mark.browser

WAIT = 30_000

NGINX = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, namespace: shop, labels: {app: nginx}}
spec:
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{name: http, containerPort: 80}]
"""


def test_expose_nginx_with_a_load_balancer_and_an_ingress(sign_in, live_server, live, tmp_path):  # noqa: F811
    from django.contrib.auth import get_user_model

    from apps.configs import services as config_services
    from apps.namespaces.models import Namespace

    manifest = tmp_path / "nginx.yaml"
    manifest.write_text(NGINX)
    live("apply", "-f", str(manifest))
    cert, key = make_pair("shop.example.com")
    config_services.create_secret(
        get_user_model().objects.get(username="member"),
        namespace=Namespace.objects.get(name="shop"),
        name="shop-tls",
        type="kubernetes.io/tls",
        data=config_services.tls_data(cert, key),
    )

    page = sign_in("member")
    page.set_default_timeout(WAIT)
    page.goto(f"{live_server.url}/workloads/")
    page.get_by_test_id("object-table").get_by_role("link", name="nginx").click()
    expect(page.get_by_test_id("workload-replicas")).to_have_text(re.compile(r"^2/2"))
    page.get_by_test_id("expose").click()
    expect(page.get_by_role("heading", name="Expose nginx")).to_be_visible()
    expect(page.locator("#id_name")).to_have_value("nginx")
    expect(page.locator("#id_selector")).to_have_value("app=nginx")
    page.locator("#id_type").select_option("LoadBalancer")
    page.locator("#id_lb_algorithm").select_option("least-connections")
    page.locator("#id_lb_session_persistence").select_option("source-ip")
    page.locator("#id_lb_health_check_protocol").select_option("HTTP")
    page.locator("#id_lb_health_check_path").fill("/")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/services/\d+/$"))
    service_url = page.url

    expect(page.get_by_test_id("external-address")).to_have_text(re.compile(r"203\.0\.113\."))
    answer = page.get_by_test_id("answer")
    expect(answer).to_have_attribute("data-ok", "true")
    expect(page.get_by_test_id("answer-pods").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("lb-properties")).to_contain_text("least-connections")
    backends = page.get_by_test_id("lb-backends")
    expect(backends.locator("tbody tr", has_text="Healthy")).to_have_count(2)
    expect(page.get_by_test_id("workloads-reached")).to_contain_text("Deployment/nginx")

    page.goto(f"{live_server.url}/ingresses/add/")
    page.locator("#id_namespace").select_option(str(Namespace.objects.get(name="shop").pk))
    page.locator("#id_name").fill("shop")
    rules = page.get_by_test_id("rules")
    rules.locator("input[name='rules-0-host']").fill("shop.example.com")
    rules.locator("input[name='rules-0-service']").fill("nginx")
    rules.locator("input[name='rules-0-port']").fill("80")
    tls = page.get_by_test_id("tls")
    tls.locator("input[name='tls-0-hosts']").fill("shop.example.com")
    tls.locator("input[name='tls-0-secret']").fill("shop-tls")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/ingresses/\d+/$"))
    ingress_url = page.url
    expect(page.get_by_test_id("ingress-address")).to_have_text("203.0.113.2")
    expect(page.get_by_test_id("ingress-tls")).to_contain_text("shop-tls")
    expect(page.get_by_test_id("ingress-rules")).to_contain_text("Exists")
    expect(page.get_by_test_id("answer")).to_have_attribute("data-ok", "true")
    expect(page.get_by_test_id("answer")).to_contain_text("shop.example.com/ → nginx:80")

    live("scale", "deployment", "nginx", "-n", "shop", "--replicas=0")
    page.goto(service_url)
    expect(page.get_by_test_id("answer")).to_have_attribute("data-ok", "false")
    expect(page.get_by_test_id("answer-reason")).to_contain_text(
        "The selector app=nginx matches no pod in the namespace."
    )
    page.goto(ingress_url)
    expect(page.get_by_test_id("answer")).to_have_attribute("data-ok", "false")


def test_add_and_remove_port_and_rule_rows_in_place(sign_in, live_server, live, tmp_path):  # noqa: F811
    from apps.namespaces.models import Namespace

    manifest = tmp_path / "nginx.yaml"
    manifest.write_text(NGINX)
    live("apply", "-f", str(manifest))
    shop = str(Namespace.objects.get(name="shop").pk)
    page = sign_in("member")
    page.set_default_timeout(WAIT)
    page.goto(f"{live_server.url}/services/add/")
    page.locator("#id_namespace").select_option(shop)
    page.locator("#id_name").fill("web")
    page.locator("#id_selector").fill("app=nginx")
    ports = page.get_by_test_id("ports")
    expect(ports.locator("tbody tr")).to_have_count(1)
    ports.locator("input[name='ports-0-name']").fill("http")
    ports.locator("input[name='ports-0-port']").fill("80")
    ports.locator("input[name='ports-0-target_port']").fill("http")
    page.get_by_test_id("ports-add").click()
    page.get_by_test_id("ports-add").click()
    expect(ports.locator("tbody tr")).to_have_count(3)
    expect(ports.locator("input[name='ports-2-name']")).to_be_focused()
    ports.locator("input[name='ports-1-name']").fill("spare")
    ports.locator("input[name='ports-1-port']").fill("81")
    ports.locator("tbody tr").nth(1).get_by_role("button", name="Remove").click()
    expect(ports.locator("tbody tr:visible")).to_have_count(2)
    ports.locator("input[name='ports-2-name']").fill("admin")
    ports.locator("input[name='ports-2-port']").fill("8081")
    ports.locator("input[name='ports-2-target_port']").fill("8081")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/services/\d+/$"))
    table = page.get_by_test_id("service-ports")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("admin")
    expect(table).not_to_contain_text("spare")
    expect(page.locator("[data-testid=answer][data-port='http 80/TCP']")).to_have_attribute(
        "data-ok", "true"
    )
    expect(page.locator("[data-testid=answer][data-port='admin 8081/TCP']")).to_have_attribute(
        "data-ok", "false"
    )

    page.goto(f"{live_server.url}/ingresses/add/")
    page.locator("#id_namespace").select_option(shop)
    page.locator("#id_name").fill("shop")
    rules = page.get_by_test_id("rules")
    rules.locator("input[name='rules-0-host']").fill("shop.example.com")
    rules.locator("input[name='rules-0-service']").fill("web")
    rules.locator("input[name='rules-0-port']").fill("80")
    page.get_by_test_id("rules-add").click()
    rules.locator("input[name='rules-1-host']").fill("admin.example.com")
    rules.locator("input[name='rules-1-service']").fill("web")
    rules.locator("input[name='rules-1-port']").fill("admin")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/ingresses/\d+/$"))
    expect(page.get_by_test_id("ingress-rules")).to_contain_text("admin.example.com")
    expect(page.get_by_test_id("ingress-rules")).to_contain_text("shop.example.com")
