"""EndpointSlices, load balancer settings (lb.kcs.io/ annotations) and the ingress class."""

from __future__ import annotations

import json

import pytest

from tests.kubesim.test_controllers_services import deployment, service
from tests.kubesim.workload_support import World


@pytest.fixture
def world(kubesim_server, sim):
    return World(kubesim_server, sim)


def slices(kubectl, name="web") -> list[dict]:
    listed = json.loads(
        kubectl(
            "get", "endpointslices", "-l", f"kubernetes.io/service-name={name}", "-o", "json"
        ).stdout
    )
    return listed["items"]


def events(kubectl, kind: str, name: str) -> list[dict]:
    listed = json.loads(kubectl("get", "events", "-o", "json").stdout)["items"]
    return [
        e
        for e in listed
        if e["involvedObject"]["kind"] == kind and e["involvedObject"]["name"] == name
    ]


def test_endpointslices_list_the_pods_with_their_readiness_and_node(world, apps, core, kubectl):
    apps.create_namespaced_deployment("default", deployment())
    core.create_namespaced_service("default", service(type_="ClusterIP"))

    def ready_endpoints():
        found = slices(kubectl)
        return [e for s in found for e in s["endpoints"] if e["conditions"]["ready"]]

    world.until(lambda: len(ready_endpoints()) == 2)
    (found,) = slices(kubectl)
    assert found["addressType"] == "IPv4"
    assert found["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert found["metadata"]["ownerReferences"][0]["name"] == "web"
    pods = {p.metadata.name: p for p in core.list_namespaced_pod("default").items}
    for endpoint in found["endpoints"]:
        pod = pods[endpoint["targetRef"]["name"]]
        assert endpoint["addresses"] == [pod.status.pod_ip]
        assert endpoint["nodeName"] == pod.spec.node_name
    row = kubectl("get", "endpointslices", found["metadata"]["name"]).stdout.splitlines()[1]
    assert "IPv4" in row and "8080" in row

    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 0}})
    world.until(lambda: not [e for s in slices(kubectl) for e in s["endpoints"]])
    core.delete_namespaced_service("web", "default")
    world.until(lambda: not slices(kubectl))


def test_load_balancer_settings_are_validated_and_backends_reported(world, apps, core, kubectl):
    apps.create_namespaced_deployment("default", deployment())
    svc = service()
    svc["metadata"]["annotations"] = {
        "lb.kcs.io/algorithm": "least-connections",
        "lb.kcs.io/session-persistence": "source-ip",
        "lb.kcs.io/health-check-protocol": "HTTP",
        "lb.kcs.io/health-check-path": "/healthz",
        "lb.kcs.io/health-check-interval": "5",
        "lb.kcs.io/healthy-threshold": "3",
    }
    core.create_namespaced_service("default", svc)

    def health():
        live = core.read_namespaced_service("web", "default")
        return json.loads((live.metadata.annotations or {}).get("lb.kcs.io/backend-health", "[]"))

    world.until(lambda: len(health()) == 2 and all(b["healthy"] for b in health()))
    assert {b["reason"] for b in health()} == {"HTTP /healthz check passing"}
    assert not [e for e in events(kubectl, "Service", "web") if e["type"] == "Warning"]

    kubectl("annotate", "service", "web", "lb.kcs.io/algorithm=fastest", "--overwrite")
    world.advance(1)
    warnings = [e for e in events(kubectl, "Service", "web") if e["type"] == "Warning"]
    assert [e["reason"] for e in warnings] == ["InvalidLoadBalancerSettings"]
    assert "lb.kcs.io/algorithm" in warnings[0]["message"]
    assert "least-connections" in warnings[0]["message"]

    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 0}})
    world.until(lambda: health() == [])


def test_weighted_round_robin_weighs_each_backend_and_refuses_a_bad_weight(
    world, apps, core, kubectl
):
    apps.create_namespaced_deployment("default", deployment())
    svc = service()
    svc["metadata"]["annotations"] = {"lb.kcs.io/algorithm": "weighted-round-robin"}
    core.create_namespaced_service("default", svc)

    def health():
        live = core.read_namespaced_service("web", "default")
        reported = (live.metadata.annotations or {}).get("lb.kcs.io/backend-health", "[]")
        return {b["pod"]: b for b in json.loads(reported)}

    world.until(lambda: len(health()) == 2)
    assert {b["weight"] for b in health().values()} == {1}
    first, second = sorted(health())
    weights = f"{first}:5, app=web:2"
    kubectl("annotate", "service", "web", f"lb.kcs.io/backend-weights={weights}")
    world.until(lambda: health()[first].get("weight") == 5)
    assert health()[second]["weight"] == 2
    assert not [e for e in events(kubectl, "Service", "web") if e["type"] == "Warning"]

    kubectl("annotate", "service", "web", "lb.kcs.io/backend-weights=app=web:heavy", "--overwrite")
    world.until(lambda: {b["weight"] for b in health().values()} == {1})
    (warning,) = [e for e in events(kubectl, "Service", "web") if e["type"] == "Warning"]
    assert warning["reason"] == "InvalidLoadBalancerSettings"
    assert warning["message"] == (
        'lb.kcs.io/backend-weights: "app=web:heavy": the weight must be a whole number '
        "from 0 to 100"
    )

    kubectl("annotate", "service", "web", "lb.kcs.io/backend-weights=app=web:3", "--overwrite")
    kubectl("annotate", "service", "web", "lb.kcs.io/algorithm=round-robin", "--overwrite")
    world.until(lambda: all("weight" not in b for b in health().values()))
    messages = [e["message"] for e in events(kubectl, "Service", "web") if e["type"] == "Warning"]
    assert (
        "lb.kcs.io/backend-weights: weights are only used by the weighted-round-robin algorithm"
        in messages
    )


def test_the_ingress_controller_serves_its_class_and_reports_missing_backends(world, kubectl):
    classes = json.loads(kubectl("get", "ingressclass", "-o", "json").stdout)["items"]
    world.advance(1)
    classes = json.loads(kubectl("get", "ingressclass", "-o", "json").stdout)["items"]
    assert [(c["metadata"]["name"], c["spec"]["controller"]) for c in classes] == [
        ("nginx", "k8s.io/ingress-nginx")
    ]

    def ingress(name, klass=None):
        spec = {
            "rules": [
                {
                    "host": f"{name}.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "nope", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
            "tls": [{"hosts": [f"{name}.example.com"], "secretName": "no-cert"}],
        }
        if klass:
            spec["ingressClassName"] = klass
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name},
            "spec": spec,
        }

    kubectl("apply", "-f", "-", stdin=json.dumps(ingress("ours")))
    kubectl("apply", "-f", "-", stdin=json.dumps(ingress("theirs", "traefik")))
    world.advance(1)
    ours = json.loads(kubectl("get", "ingress", "ours", "-o", "json").stdout)
    theirs = json.loads(kubectl("get", "ingress", "theirs", "-o", "json").stdout)
    assert ours["status"]["loadBalancer"]["ingress"] == [{"ip": "203.0.113.2"}]
    assert not theirs["status"].get("loadBalancer")
    reasons = {(e["reason"], e["message"]) for e in events(kubectl, "Ingress", "ours")}
    assert ("MissingBackend", 'Service "default/nope" does not exist') in reasons
    assert any(r == "MissingCertificate" for r, _m in reasons)
    assert not events(kubectl, "Ingress", "theirs")


def test_the_kubernetes_service_has_the_apiserver_slice(world, kubectl, sim):
    world.advance(1)
    [slice_] = slices(kubectl, "kubernetes")
    assert slice_["metadata"]["labels"] == {"kubernetes.io/service-name": "kubernetes"}
    masters = [
        a["address"]
        for n in sim.list("v1", "Node")
        if "node-role.kubernetes.io/control-plane" in n["metadata"]["labels"]
        for a in n["status"]["addresses"]
        if a["type"] == "InternalIP"
    ]
    assert [e["addresses"][0] for e in slice_["endpoints"]] == masters
    assert slice_["ports"] == [{"name": "https", "port": 6443, "protocol": "TCP"}]
    assert "ownerReferences" not in slice_["metadata"]
