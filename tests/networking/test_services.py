"""Services and Ingresses through the services, against kubesim, with kubectl agreeing."""

import json
import subprocess

import pytest
import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from apps.configs import services as config_services
from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster
from apps.namespaces import services as ns_services
from apps.networking import lb, routes, services
from apps.networking.models import EndpointSlice, Ingress, Service
from apps.workloads import services as workload_services
from apps.workloads.models import Workload
from tests.configs.conftest import make_pair
from tests.kube.conftest import eventually
from tests.networking.conftest import advance


def kubectl(cluster, *args) -> str:
    path = f"/tmp/kubeconfig-{cluster.name}"
    with open(path, "w") as handle:
        handle.write(cluster.kubeconfig)
    result = subprocess.run(
        ["kubectl", "--kubeconfig", path, *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def kubectl_json(cluster, *args) -> dict:
    return json.loads(kubectl(cluster, *args, "-o", "json"))


def spec(**fields) -> dict:
    return {
        "type": "ClusterIP",
        "selector": {"app": "nginx"},
        "ports": [{"name": "http", "protocol": "TCP", "port": 80, "target_port": "http"}],
        **fields,
    }


def fresh(row):
    sync_cluster(row.cluster)
    return type(row).objects.get(pk=row.pk)


@pytest.mark.parametrize("kind", ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"])
def test_each_type_by_form_with_kubectl_agreeing(org, shop, nginx, kind):
    fields = {"type": kind}
    if kind == "ExternalName":
        fields.update(external_name="db.example.com", selector={}, ports=[])
    svc = services.create_service(org.member, namespace=shop, name="web", spec=spec(**fields))
    live = kubectl_json(shop.cluster, "-n", "shop", "get", "svc", "web")
    assert live["spec"]["type"] == kind == svc.type
    if kind == "ExternalName":
        assert live["spec"]["externalName"] == "db.example.com" == svc.external_address
        assert routes.service_answers(svc).ok
        return
    assert live["spec"]["clusterIP"] == svc.cluster_ip and svc.cluster_ip
    if kind in ("NodePort", "LoadBalancer"):
        assert svc.ports[0]["node_port"] == live["spec"]["ports"][0]["nodePort"] >= 30000

    def served():
        row = fresh(svc)
        slices = EndpointSlice.objects.filter(service_name="web", namespace_name="shop")
        ready = [e for s in slices for e in s.endpoints if e["ready"]]
        wanted = kind != "LoadBalancer" or row.external_address
        return len(ready) == 2 and wanted and row

    svc = eventually(served)
    listed = kubectl(shop.cluster, "-n", "shop", "get", "svc,endpointslices")
    assert "web" in listed and "IPv4" in listed
    if kind == "LoadBalancer":
        assert svc.external_address.startswith("203.0.113.")
        assert svc.external_address in listed
    answer = routes.service_answers(svc)
    assert answer.ok and len(answer.pods) == 2 and {p["port"] for p in answer.pods} == {80}
    event = AuditEvent.objects.get(action="service.create", result="success")
    assert event.namespace == "shop"


@pytest.mark.parametrize("kind", ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"])
def test_each_type_by_yaml_with_kubectl_agreeing(org, shop, kind):
    spec_text = (
        "externalName: db.example.com"
        if kind == "ExternalName"
        else "selector: {app: api}\n  ports: [{port: 8080, targetPort: 8080}]"
    )
    text = (
        f"apiVersion: v1\nkind: Service\nmetadata: {{name: api}}\n"
        f"spec:\n  type: {kind}\n  {spec_text}\n"
    )
    svc = services.create_service_from_yaml(org.member, shop, text)
    live = kubectl_json(shop.cluster, "-n", "shop", "get", "svc", "api")
    assert svc.type == live["spec"]["type"] == kind
    assert svc.cluster_ip == live["spec"].get("clusterIP", "")
    listed = kubectl(shop.cluster, "-n", "shop", "get", "svc,endpointslices")
    assert "service/api" in listed
    assert ("endpointslice.discovery.k8s.io/api-" in listed) is (kind != "ExternalName")


def test_yaml_edit_and_delete(org, shop):
    text = """
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  type: NodePort
  selector: {app: api}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
  ports: [{port: 8080, targetPort: 8080}]
"""
    svc = services.create_service_from_yaml(org.member, shop, text)
    assert svc.type == "NodePort" and svc.session_affinity == "ClientIP"
    live = kubectl_json(shop.cluster, "-n", "shop", "get", "svc", "api")
    assert live["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] == 600
    edited = yaml.safe_load(services.service_yaml(org.member, svc))
    edited["spec"]["type"] = "LoadBalancer"
    svc = services.replace_service_yaml(org.member, svc, yaml.safe_dump(edited))
    assert svc.type == "LoadBalancer"
    assert kubectl_json(shop.cluster, "-n", "shop", "get", "svc", "api")["spec"]["type"] == (
        "LoadBalancer"
    )
    services.delete_service(org.member, svc)
    assert not Service.objects.filter(pk=svc.pk).exists()


def test_session_affinity_and_headless(org, shop):
    svc = services.create_service(
        org.member,
        namespace=shop,
        name="sticky",
        spec=spec(session_affinity="ClientIP", affinity_timeout=900),
    )
    live = kubectl_json(shop.cluster, "-n", "shop", "get", "svc", "sticky")
    assert live["spec"]["sessionAffinity"] == "ClientIP"
    assert live["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] == 900
    svc = services.update_service(org.member, svc, spec=spec(session_affinity="None"))
    live = kubectl_json(shop.cluster, "-n", "shop", "get", "svc", "sticky")
    assert live["spec"]["sessionAffinity"] == "None" and svc.session_affinity == "None"
    headless = services.create_service(
        org.member, namespace=shop, name="peers", spec=spec(headless=True)
    )
    assert headless.cluster_ip == "None" and headless.headless
    with pytest.raises(ValidationError) as caught:
        services.create_service(
            org.member,
            namespace=shop,
            name="bad",
            spec=spec(session_affinity="ClientIP", affinity_timeout=0),
        )
    assert "affinity_timeout" in caught.value.error_dict


def test_lb_settings_round_trip_and_a_bad_one_is_a_warning_event(org, shop, nginx, kubesim):
    settings = {
        "listener-protocol": "HTTP",
        "algorithm": "least-connections",
        "session-persistence": "cookie",
        "session-timeout": "600",
        "health-check-protocol": "HTTP",
        "health-check-path": "/healthz",
        "health-check-interval": "5",
        "healthy-threshold": "2",
    }
    svc = services.create_service(
        org.member,
        namespace=shop,
        name="web",
        spec=spec(type="LoadBalancer", load_balancer=settings),
    )
    live = kubectl_json(shop.cluster, "-n", "shop", "get", "svc", "web")
    written = {k: v for k, v in live["metadata"]["annotations"].items() if k.startswith("lb.")}
    written.pop(lb.HEALTH, None)  # the controller's report
    assert written == {f"lb.kcs.io/{k}": v for k, v in settings.items()}
    assert lb.settings_of(fresh(svc).annotations) == settings

    advance(kubesim, shop.cluster, 30)

    def healthy():
        row = fresh(svc)
        backends = lb.backend_health(row.annotations)
        return len(backends) == 2 and all(b["healthy"] for b in backends) and row

    svc = eventually(healthy)
    assert {b["reason"] for b in lb.backend_health(svc.annotations)} == {
        "HTTP /healthz check passing"
    }

    with pytest.raises(ValidationError) as caught:
        services.set_load_balancer(org.member, svc, {**settings, "algorithm": "fastest"})
    assert "lb_algorithm" in caught.value.error_dict
    with pytest.raises(ValidationError) as caught:
        services.set_load_balancer(org.member, svc, {"listener-protocol": "HTTPS"})
    assert "lb_certificate_secret" in caught.value.error_dict

    # Written past the portal (kubectl): the cloud controller refuses it with an event.
    kubectl(
        shop.cluster,
        "-n",
        "shop",
        "annotate",
        "svc",
        "web",
        "lb.kcs.io/algorithm=fastest",
        "--overwrite",
    )

    def warned():
        return [
            e
            for e in services.events_of(fresh(svc))
            if e["type"] == "Warning" and e["reason"] == "InvalidLoadBalancerSettings"
        ]

    (event,) = eventually(warned)
    assert "lb.kcs.io/algorithm" in event["message"]


def test_tenants_may_not_take_addresses_nor_foreign_secrets(org, shop, lab):
    text = """
apiVersion: v1
kind: Service
metadata: {name: grab}
spec:
  type: LoadBalancer
  loadBalancerIP: 203.0.113.50
  ports: [{port: 80}]
"""
    with pytest.raises(ValidationError) as caught:
        services.create_service_from_yaml(org.member, shop, text)
    assert "hijacking" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        services.create_service(
            org.member, namespace=shop, name="grab", spec=spec(externalIPs=["10.0.0.9"])
        )
    assert "hijacking" in str(caught.value)
    refused = AuditEvent.objects.filter(action="service.create", result="failure")
    assert refused.count() == 2 and "hijacking" in refused.first().reason
    # A cloud admin may.
    svc = services.create_service_from_yaml(org.admin, shop, text)
    assert svc.manifest["spec"]["loadBalancerIP"] == "203.0.113.50"

    with pytest.raises(ValidationError) as caught:
        services.create_ingress(
            org.member,
            namespace=shop,
            name="steal",
            spec={
                "rules": [{"host": "a.example.com", "path": "/", "service": "web", "port": 80}],
                "tls": [{"hosts": ["a.example.com"], "secret": "lab/cert"}],
            },
        )
    assert "another namespace" in str(caught.value)
    steal = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: steal}
spec:
  tls: [{hosts: [a.example.com], secretName: lab/cert}]
  defaultBackend: {service: {name: web, port: {number: 80}}}
"""
    with pytest.raises(ValidationError) as caught:
        services.create_ingress_from_yaml(org.member, shop, steal)
    assert "another namespace" in str(caught.value)
    # Another project's namespace: not even there.
    with pytest.raises((Http404, PermissionDenied)):
        services.create_service(org.member, namespace=lab, name="web", spec=spec())


def test_ingress_with_tls_missing_backend_and_conflicts(org, shop, lab, nginx):
    cert, key = make_pair("shop.example.com")
    config_services.create_secret(
        org.member,
        namespace=shop,
        name="shop-tls",
        type="kubernetes.io/tls",
        data=config_services.tls_data(cert, key),
    )
    services.create_service(org.member, namespace=shop, name="web", spec=spec())
    rules = [
        {
            "host": "shop.example.com",
            "path": "/",
            "path_type": "Prefix",
            "service": "web",
            "port": 80,
        },
        {
            "host": "shop.example.com",
            "path": "/api",
            "path_type": "Prefix",
            "service": "api",
            "port": 8080,
        },
    ]
    ingress = services.create_ingress(
        org.member,
        namespace=shop,
        name="shop",
        spec={
            "ingress_class": "nginx",
            "rules": rules,
            "tls": [{"hosts": ["shop.example.com"], "secret": "shop-tls"}],
        },
    )
    live = kubectl_json(shop.cluster, "-n", "shop", "get", "ingress", "shop")
    assert live["spec"]["tls"] == [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]
    assert live["spec"]["ingressClassName"] == "nginx"

    ingress = eventually(lambda: (row := fresh(ingress)).address and row)
    assert ingress.address == "203.0.113.2"
    listed = kubectl(shop.cluster, "-n", "shop", "get", "svc,endpointslices,ingress")
    assert "203.0.113.2" in listed and "service/web" in listed
    assert "endpointslice.discovery.k8s.io/web-" in listed

    def missing():
        return [e for e in services.events_of(fresh(ingress)) if e["reason"] == "MissingBackend"]

    (event,) = eventually(missing)
    assert 'Service "shop/api" does not exist' in event["message"]
    rows = {r["service"]: r for r in routes.backends(ingress)}
    assert rows["web"]["exists"] and rows["web"]["has_port"]
    assert not rows["api"]["exists"]

    def answers():
        answer = routes.ingress_answers(fresh(ingress), "shop.example.com", "/cart")
        return answer.ok and answer

    answer = eventually(answers)
    assert answer.route == "shop.example.com/cart → web:80" and len(answer.pods) == 2
    answer = routes.ingress_answers(ingress, "shop.example.com", "/api/orders")
    assert not answer.ok and answer.reasons == ["The Service api does not exist."]

    # The same host and path in another namespace: warned before applying.
    ns_services.set_members(org.admin, lab, [org.outsider])
    clash = {"rules": [rules[0]]}
    with pytest.raises(ValidationError) as caught:
        services.create_ingress(org.outsider, namespace=lab, name="clash", spec=clash)
    text = " ".join(caught.value.error_dict["rules"][0].messages)
    assert "shop.example.com/ is already routed by an Ingress in another namespace" in text
    services.create_ingress(
        org.outsider, namespace=lab, name="clash", spec=clash, allow_conflicts=True
    )
    with pytest.raises(ValidationError) as caught:
        services.create_ingress(org.admin, namespace=lab, name="clash2", spec=clash)
    assert "Ingress shop/shop" in str(caught.value)


def test_the_check_explains_why_nothing_answers(org, shop, nginx):
    svc = services.create_service(org.member, namespace=shop, name="web", spec=spec())
    eventually(lambda: routes.service_answers(fresh(svc)).ok)
    wrong = services.create_service(
        org.member,
        namespace=shop,
        name="wrong-port",
        spec=spec(ports=[{"name": "", "protocol": "TCP", "port": 80, "target_port": 8080}]),
    )
    answer = routes.service_answers(wrong)
    assert not answer.ok and "8080 is not exposed" in answer.reasons[0]
    nobody = services.create_service(
        org.member, namespace=shop, name="nobody", spec=spec(selector={"app": "nope"})
    )
    assert routes.service_answers(nobody).reasons == [
        "The selector app=nope matches no pod in the namespace."
    ]
    workload_services.scale(org.member, Workload.objects.get(pk=nginx.pk), 0)

    def explained():
        answer = routes.service_answers(fresh(svc))
        return answer.reasons == ["The selector app=nginx matches no pod in the namespace."]

    eventually(explained)
    assert not routes.service_answers(svc).ok
    assert not Ingress.objects.exists()


def test_the_check_answers_for_every_port_of_the_service(org, shop, nginx):
    ports = [
        {"name": "http", "protocol": "TCP", "port": 80, "target_port": "http"},
        {"name": "metrics", "protocol": "TCP", "port": 9090, "target_port": 9090},
    ]
    svc = services.create_service(org.member, namespace=shop, name="web", spec=spec(ports=ports))

    def checked():
        answers = routes.service_port_answers(fresh(svc))
        return answers[0].ok and answers

    http, metrics = eventually(checked)
    assert (http.port, http.route, len(http.pods)) == ("http 80/TCP", "web:80", 2)
    assert {p["port"] for p in http.pods} == {80}
    assert metrics.port == "metrics 9090/TCP" and not metrics.ok and not metrics.pods
    assert "9090 is not exposed" in metrics.reasons[0]
    summary = routes.overall([http, metrics], svc)
    assert not summary.ok and summary.reasons[0].startswith("metrics 9090/TCP: ")
    assert routes.service_answers(svc, 9090).port == "metrics 9090/TCP"
