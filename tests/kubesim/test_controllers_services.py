"""Endpoints, LoadBalancer Services and Ingress status."""

from __future__ import annotations

import json

import kubernetes
import pytest

from tests.kubesim.workload_support import World


@pytest.fixture
def world(kubesim_server, sim):
    return World(kubesim_server, sim)


def deployment(name="web", replicas=2) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx:1.25",
                            "ports": [{"name": "http", "containerPort": 8080}],
                        }
                    ]
                },
            },
        },
    }


def service(name="web", type_="LoadBalancer", **spec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "type": type_,
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            **spec,
        },
    }


def addresses(core, name="web"):
    try:
        ep = core.read_namespaced_endpoints(name, "default")
    except kubernetes.client.exceptions.ApiException as exc:
        if exc.status == 404:
            return [], []
        raise
    ready = [a.ip for s in ep.subsets or [] for a in s.addresses or []]
    not_ready = [a.ip for s in ep.subsets or [] for a in s.not_ready_addresses or []]
    return ready, not_ready


def test_load_balancer_gets_external_ip_and_endpoints_list_ready_pods(world, apps, core, kubectl):
    apps.create_namespaced_deployment("default", deployment())
    core.create_namespaced_service("default", service())

    def served() -> bool:
        try:
            return len(addresses(core)[0]) == 2
        except Exception:
            return False

    world.until(served)
    svc = core.read_namespaced_service("web", "default")
    ip = svc.status.load_balancer.ingress[0].ip
    assert ip.startswith("203.0.113.")
    assert svc.spec.ports[0].node_port >= 30000

    ep = core.read_namespaced_endpoints("web", "default")
    pods = {p.metadata.name: p for p in core.list_namespaced_pod("default").items}
    subset = ep.subsets[0]
    assert [(p.name, p.port, p.protocol) for p in subset.ports] == [("http", 8080, "TCP")]
    for address in subset.addresses:
        pod = pods[address.target_ref.name]
        assert address.ip == pod.status.pod_ip
        assert address.node_name == pod.spec.node_name
        assert address.target_ref.kind == "Pod"

    out = kubectl("get", "service", "web").stdout.splitlines()[1].split()
    assert out[1] == "LoadBalancer" and out[3] == ip
    reasons = {e.reason for e in core.list_namespaced_event("default").items}
    assert {"EnsuringLoadBalancer", "EnsuredLoadBalancer"} <= reasons

    # pods that are not ready yet (readiness probe delay) are notReadyAddresses
    slow = deployment("slow", replicas=1)
    slow["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
        "httpGet": {"path": "/", "port": 8080},
        "initialDelaySeconds": 60,
    }
    apps.create_namespaced_deployment("default", slow)
    core.create_namespaced_service("default", service("slow", "ClusterIP"))

    def endpoint(kind: int):
        return addresses(core, "slow")[kind]

    world.until(lambda: endpoint(1))
    assert endpoint(0) == []
    world.until(lambda: endpoint(0), limit=120)
    assert endpoint(1) == []

    # a second LoadBalancer gets another address; ClusterIP services get none
    core.create_namespaced_service("default", service("other"))
    core.create_namespaced_service("default", service("plain", "ClusterIP"))
    world.advance(1)
    other = core.read_namespaced_service("other", "default").status.load_balancer.ingress[0].ip
    assert other != ip
    assert core.read_namespaced_service("plain", "default").status.load_balancer.ingress is None

    # deleting the Service removes its Endpoints
    core.delete_namespaced_service("web", "default")
    world.advance(1)
    names = {e.metadata.name for e in core.list_namespaced_endpoints("default").items}
    assert "web" not in names and "plain" in names


def test_endpoints_follow_scaling_and_external_name_has_none(world, apps, core, kubectl):
    apps.create_namespaced_deployment("default", deployment(replicas=1))
    core.create_namespaced_service("default", service(type_="ClusterIP"))
    world.until(lambda: len(addresses(core)[0]) == 1)
    kubectl("scale", "deployment/web", "--replicas=3")
    world.until(lambda: len(addresses(core)[0]) == 3)
    out = kubectl("get", "endpoints", "web").stdout.splitlines()[1]
    assert out.count(":8080") == 3

    kubectl(
        "apply",
        "-f",
        "-",
        stdin=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "db"},
                "spec": {"type": "ExternalName", "externalName": "db.example.com"},
            }
        ),
    )
    world.advance(2)
    names = {e.metadata.name for e in core.list_namespaced_endpoints("default").items}
    assert "db" not in names

    # the kubernetes Service lists the control plane
    ep = core.read_namespaced_endpoints("kubernetes", "default")
    assert ep.subsets[0].ports[0].port == 6443


def test_ingress_gets_the_ingress_controller_address(world, kubectl):
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {
            "rules": [
                {
                    "host": "web.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    }
    kubectl("apply", "-f", "-", stdin=json.dumps(ingress))
    world.advance(1)
    obj = json.loads(kubectl("get", "ingress", "web", "-o", "json").stdout)
    assert obj["status"]["loadBalancer"]["ingress"][0]["ip"].startswith("203.0.113.")
    out = kubectl("get", "ingress", "web").stdout.splitlines()[1]
    assert "203.0.113." in out
