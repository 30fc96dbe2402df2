"""Services and Ingresses through the REST API: the permission matrix, refusals, the check,
query budgets, the OpenAPI schema and the admin site."""

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.models import AuditEvent
from apps.networking import services
from apps.networking.models import Ingress, Service
from tests.kube.conftest import eventually

MATRIX = {"admin": 200, "deptadmin": 200, "projadmin": 200, "member": 200, "outsider": 404}
PORTS = [{"name": "http", "port": 80, "target_port": "http"}]


def spec(**fields):
    return {"type": "ClusterIP", "selector": {"app": "nginx"}, "ports": PORTS, **fields}


@pytest.mark.parametrize("username", list(MATRIX))
def test_permission_matrix_api(org, api, shop, lab, username):
    client, expected = api(username), MATRIX[username]
    svc = services.create_service(org.admin, namespace=shop, name="web", spec=spec())
    ingress = services.create_ingress(
        org.admin,
        namespace=shop,
        name="web",
        spec={"rules": [{"host": "w.example.com", "path": "/", "service": "web", "port": 80}]},
    )
    other = services.create_service(org.admin, namespace=lab, name="lab", spec=spec())
    listed = [row["name"] for row in client.get("/api/v1/services/").json()["results"]]
    assert ("web" in listed) is (expected == 200) and ("lab" in listed) is (
        username in ("admin", "deptadmin")
    )
    assert client.get(f"/api/v1/services/{svc.pk}/").status_code == expected
    assert client.get(f"/api/v1/ingresses/{ingress.pk}/").status_code == expected
    assert client.get(f"/api/v1/services/{svc.pk}/check/").status_code == expected
    other_status = 200 if username in ("admin", "deptadmin") else 404
    assert client.get(f"/api/v1/services/{other.pk}/").status_code == other_status

    patched = client.patch(
        f"/api/v1/services/{svc.pk}/", {"session_affinity": "ClientIP"}, format="json"
    )
    assert patched.status_code == expected
    if expected == 200:
        assert patched.json()["session_affinity"] == "ClientIP"
    created = client.post(
        "/api/v1/services/",
        {
            "namespace": shop.pk,
            "name": f"new-{username}",
            "type": "NodePort",
            "ports": PORTS,
            "selector": {"app": "nginx"},
        },
        format="json",
    )
    assert created.status_code == (201 if expected == 200 else 400), created.content
    if expected == 200:
        assert created.json()["ports"][0]["node_port"] >= 30000
    elsewhere = client.post(
        "/api/v1/ingresses/",
        {"namespace": lab.pk, "name": "x", "default_backend": {"service": "a", "port": "80"}},
        format="json",
    )
    assert elsewhere.status_code == (201 if other_status == 200 else 400)
    deleted = client.delete(f"/api/v1/ingresses/{ingress.pk}/")
    assert deleted.status_code == (204 if expected == 200 else 404)


def test_tenant_refusals_over_the_api(org, api, shop):
    client = api("member")
    grab = client.post(
        "/api/v1/services/",
        {
            "namespace": shop.pk,
            "name": "grab",
            "type": "LoadBalancer",
            "ports": PORTS,
            "load_balancer_ip": "203.0.113.77",
        },
        format="json",
    )
    assert grab.status_code == 400 and "hijacking" in str(grab.json())
    ips = client.post(
        "/api/v1/services/",
        {"namespace": shop.pk, "name": "grab", "ports": PORTS, "external_ips": ["10.1.1.1"]},
        format="json",
    )
    assert ips.status_code == 400 and "hijacking" in str(ips.json())
    foreign = client.post(
        "/api/v1/ingresses/",
        {
            "namespace": shop.pk,
            "name": "tls",
            "tls": [{"hosts": ["a.b"], "secret": "lab/x"}],
            "default_backend": {"service": "web", "port": "80"},
        },
        format="json",
    )
    assert foreign.status_code == 400 and "another namespace" in str(foreign.json())
    bad_lb = client.post(
        "/api/v1/services/",
        {
            "namespace": shop.pk,
            "name": "lb",
            "type": "LoadBalancer",
            "ports": PORTS,
            "load_balancer": {"algorithm": "fastest"},
        },
        format="json",
    )
    assert bad_lb.status_code == 400 and "lb_algorithm" in bad_lb.json()
    assert not Service.objects.filter(namespace_name="shop").exists()
    assert AuditEvent.objects.filter(action="service.create", result="failure").count() == 3


def test_lb_settings_and_check_over_the_api(org, api, shop, nginx):
    client = api("member")
    created = client.post(
        "/api/v1/services/",
        {
            "namespace": shop.pk,
            "name": "nginx",
            "type": "LoadBalancer",
            "ports": PORTS,
            "selector": {"app": "nginx"},
            "load_balancer": {
                "algorithm": "least-connections",
                "session-persistence": "source-ip",
                "health-check-protocol": "HTTP",
                "health-check-path": "/",
            },
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["load_balancer"] == {
        "algorithm": "least-connections",
        "session-persistence": "source-ip",
        "health-check-protocol": "HTTP",
        "health-check-path": "/",
    }

    def answers():
        from apps.kube.sync import sync_cluster

        sync_cluster(shop.cluster)
        check = client.get(f"/api/v1/services/{body['id']}/check/").json()
        return check["ok"] and check

    check = eventually(answers)
    assert len(check["pods"]) == 2 and check["route"] == "nginx:80"
    text = client.get(f"/api/v1/services/{body['id']}/yaml/").json()["yaml"]
    assert "lb.kcs.io/algorithm: least-connections" in text
    conflict = {
        "namespace": shop.pk,
        "name": "a",
        "rules": [{"host": "x.example.com", "service": "nginx", "port": "80"}],
    }
    assert client.post("/api/v1/ingresses/", conflict, format="json").status_code == 201
    again = client.post("/api/v1/ingresses/", {**conflict, "name": "b"}, format="json")
    assert again.status_code == 400 and "already routed by Ingress shop/a" in str(again.json())
    forced = client.post(
        "/api/v1/ingresses/", {**conflict, "name": "b", "allow_conflicts": True}, format="json"
    )
    assert forced.status_code == 201
    check = client.get(
        f"/api/v1/ingresses/{forced.json()['id']}/check/?host=x.example.com&path=/"
    ).json()
    assert check["route"] == "x.example.com/ → nginx:80"


@pytest.mark.parametrize("username", ["admin", "member"])
@pytest.mark.parametrize(
    "url",
    ["/services/", "/ingresses/", "/api/v1/services/?limit=1000", "/api/v1/ingresses/?limit=1000"],
)
def test_lists_run_constant_queries(org, portal, api, shop, username, url):
    client = api(username) if url.startswith("/api/") else portal(username)

    def grow(start, n):
        Service.objects.bulk_create(
            Service(
                cluster=shop.cluster,
                namespace=shop,
                namespace_name="shop",
                name=f"s-{start + i}",
                type="ClusterIP",
                ports=[{"port": 80, "protocol": "TCP"}],
            )
            for i in range(n)
        )
        Ingress.objects.bulk_create(
            Ingress(
                cluster=shop.cluster,
                namespace=shop,
                namespace_name="shop",
                name=f"i-{start + i}",
                hosts=["a.example.com"],
            )
            for i in range(n)
        )

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    grow(0, 3)
    small = queries()
    grow(3, 300)
    assert queries() == small


def test_openapi_documents_both_endpoints(org, api):
    schema = yaml.safe_load(api("admin").get("/api/schema/").content)
    paths = schema["paths"]
    assert "/api/v1/services/" in paths and "/api/v1/ingresses/{id}/check/" in paths
    assert "/api/v1/services/{id}/yaml/" in paths
    assert "load_balancer" in schema["components"]["schemas"]["Service"]["properties"]


def test_admin_site_lists_and_deletes_through_the_service(org, portal, shop):
    svc = services.create_service(org.member, namespace=shop, name="web", spec=spec())
    client = portal("admin")
    for path in ("service", "ingress", "endpointslice"):
        assert client.get(f"/admin/networking/{path}/").status_code == 200
    assert "web" in client.get("/admin/networking/service/").content.decode()
    client.post(f"/admin/networking/service/{svc.pk}/delete/", {"post": "yes"})
    assert not Service.objects.filter(pk=svc.pk).exists()
    assert AuditEvent.objects.filter(action="service.delete", actor_name="admin").exists()
