"""Kinds a real cluster serves that kubesim added: ReplicationControllers with their
controller, apiregistration.k8s.io APIServices, scheduling.k8s.io PriorityClasses and the
ServiceAccount token subresource."""

from __future__ import annotations

import base64
import json

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from kubesim.apiserver import protobuf
from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401


def _rc(name: str, replicas: int = 2) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"app": name},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
            },
        },
    }


def _pods(rt, name):  # noqa: F811
    items = rt.core.list_namespaced_pod("default", label_selector=f"app={name}").items
    return [p for p in items if not p.metadata.deletion_timestamp]


def test_replication_controller_keeps_its_pods_and_reports_status(rt):  # noqa: F811
    rc = rt.core.create_namespaced_replication_controller("default", _rc("web"))
    assert rc.spec.replicas == 2 and rc.metadata.labels == {"app": "web"}  # defaulted
    rt.advance(10)
    pods = _pods(rt, "web")
    assert len(pods) == 2
    ref = pods[0].metadata.owner_references[0]
    assert (ref.kind, ref.name, ref.controller, ref.api_version) == (
        "ReplicationController",
        "web",
        True,
        "v1",
    )
    status = rt.core.read_namespaced_replication_controller_status("web", "default").status
    assert (status.replicas, status.ready_replicas, status.available_replicas) == (2, 2, 2)
    assert status.observed_generation == 1
    reasons = {e.reason for e in rt.events("web")}
    assert "SuccessfulCreate" in reasons

    # a deleted pod is replaced
    rt.core.delete_namespaced_pod(pods[0].metadata.name, "default", grace_period_seconds=0)
    rt.advance(10)
    assert len(_pods(rt, "web")) == 2

    # kubectl scale rc goes through the scale subresource
    rt.kubectl("scale", "rc", "web", "--replicas=3")
    scale = rt.core.read_namespaced_replication_controller_scale("web", "default")
    assert scale.spec.replicas == 3 and scale.status.selector == "app=web"
    rt.advance(10)
    assert len(_pods(rt, "web")) == 3
    rt.core.patch_namespaced_replication_controller_scale(
        "web", "default", {"spec": {"replicas": 1}}
    )
    rt.advance(10)
    assert len(_pods(rt, "web")) == 1
    assert "SuccessfulDelete" in {e.reason for e in rt.events("web")}
    table = rt.kubectl("get", "rc", "web", "--no-headers").stdout.split()
    assert table[:4] == ["web", "1", "1", "1"]

    # deleting it takes its pods (garbage collection of the dependents)
    rt.core.delete_namespaced_replication_controller(
        "web", "default", propagation_policy="Background"
    )
    rt.advance(10)
    assert _pods(rt, "web") == []


def test_replication_controller_validation(rt):  # noqa: F811
    body = _rc("bad")
    body["spec"]["selector"] = {"app": "other"}
    with pytest.raises(ApiException) as caught:
        rt.core.create_namespaced_replication_controller("default", body)
    assert caught.value.status == 422
    message = json.loads(caught.value.body)["message"]
    assert "spec.template.metadata.labels" in message
    assert "selector does not match labels in spec.template" in message


def test_builtin_api_services_and_a_registered_one(rt):  # noqa: F811
    reg = kubernetes.client.ApiregistrationV1Api(rt.api)
    names = {s.metadata.name: s for s in reg.list_api_service().items}
    for name in ("v1.", "v1.apps", "v1.batch", "v2.autoscaling", "v1.apiregistration.k8s.io"):
        assert name in names, name
        available = names[name].status.conditions[0]
        assert (available.type, available.status, available.reason) == (
            "Available",
            "True",
            "Local",
        )
    assert names["v1.apps"].spec.group_priority_minimum == 17800
    assert (
        names["v1.apps"].metadata.labels["kube-aggregator.kubernetes.io/automanaged"] == "onstart"
    )
    assert names["v1beta1.metrics.k8s.io"].spec.service.name == "metrics-server"

    body = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": "v1alpha1.wardle.example.com"},
        "spec": {
            "group": "wardle.example.com",
            "version": "v1alpha1",
            "service": {"namespace": "wardle", "name": "api"},
            "insecureSkipTLSVerify": True,
            "groupPriorityMinimum": 1000,
            "versionPriority": 15,
        },
    }
    created = reg.create_api_service(body)
    assert created.spec.service.port == 443
    rt.advance(1)
    status = reg.read_api_service_status("v1alpha1.wardle.example.com").status.conditions[0]
    assert (status.status, status.reason) == ("False", "ServiceNotFound")
    assert status.message == 'service/api in "wardle" is not present'
    with pytest.raises(ApiException) as caught:
        reg.create_api_service(body)
    assert caught.value.status == 409
    assert caught.value.body == (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        '"message":"apiservices.apiregistration.k8s.io \\"v1alpha1.wardle.example.com\\" '
        'already exists","reason":"AlreadyExists","details":{"name":'
        '"v1alpha1.wardle.example.com","group":"apiregistration.k8s.io","kind":"apiservices"},'
        '"code":409}\n'
    )
    bad = {**body, "metadata": {"name": "wardle"}}
    with pytest.raises(ApiException) as caught:
        reg.create_api_service(bad)
    assert caught.value.status == 422
    assert (
        'metadata.name: Invalid value: "wardle": must be v1alpha1.wardle.example.com'
        in (json.loads(caught.value.body)["message"])
    )
    reg.delete_api_service("v1alpha1.wardle.example.com")
    assert "v1alpha1.wardle.example.com" not in {
        s.metadata.name for s in reg.list_api_service().items
    }
    rows = [line.split() for line in rt.kubectl("get", "apiservices").stdout.splitlines()]
    assert rows[0] == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    assert ["v1.apps", "Local", "True"] in [row[:3] for row in rows]


def test_a_crd_registers_its_api_service(rt):  # noqa: F811
    ext = kubernetes.client.ApiextensionsV1Api(rt.api)
    ext.create_custom_resource_definition(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "scope": "Namespaced",
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": {"type": "object"}},
                    }
                ],
            },
        }
    )
    rt.advance(1)
    reg = kubernetes.client.ApiregistrationV1Api(rt.api)
    service = reg.read_api_service("v1.example.com")
    assert service.metadata.labels["kube-aggregator.kubernetes.io/automanaged"] == "true"
    assert service.status.conditions[0].reason == "Local"
    ext.delete_custom_resource_definition("widgets.example.com")
    rt.advance(1)
    with pytest.raises(ApiException) as caught:
        reg.read_api_service("v1.example.com")
    assert caught.value.status == 404


def test_priority_classes_give_pods_their_priority(rt):  # noqa: F811
    sched = kubernetes.client.SchedulingV1Api(rt.api)
    names = {pc.metadata.name: pc.value for pc in sched.list_priority_class().items}
    assert names == {"system-cluster-critical": 2000000000, "system-node-critical": 2000001000}

    pod = rt.create_pod("plain")
    assert pod.spec.priority == 0 and pod.spec.preemption_policy == "PreemptLowerPriority"
    critical = rt.create_pod("critical", priorityClassName="system-node-critical")
    assert critical.spec.priority == 2000001000

    with pytest.raises(ApiException) as caught:
        rt.create_pod("typo", priorityClassName="nope")
    assert caught.value.status == 403
    assert json.loads(caught.value.body)["message"] == (
        'pods "typo" is forbidden: no PriorityClass with name nope was found'
    )

    sched.create_priority_class(
        {
            "metadata": {"name": "batch-low"},
            "value": 100,
            "globalDefault": True,
            "preemptionPolicy": "Never",
        }
    )
    defaulted = rt.create_pod("defaulted")
    assert defaulted.spec.priority_class_name == "batch-low"
    assert (defaulted.spec.priority, defaulted.spec.preemption_policy) == (100, "Never")
    with pytest.raises(ApiException) as caught:
        sched.create_priority_class(
            {"metadata": {"name": "other"}, "value": 5, "globalDefault": True}
        )
    assert caught.value.status == 403
    assert "PriorityClass batch-low is already marked as default" in caught.value.body
    rows = [line.split() for line in rt.kubectl("get", "priorityclasses").stdout.splitlines()]
    assert rows[0] == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    assert [[r[0], r[1], r[2], r[4]] for r in rows[1:]] == [
        ["batch-low", "100", "true", "Never"],
        ["system-cluster-critical", "2000000000", "false", "PreemptLowerPriority"],
        ["system-node-critical", "2000001000", "false", "PreemptLowerPriority"],
    ]


def test_service_account_token_is_a_bearer_token_until_its_account_goes(rt):  # noqa: F811
    rt.core.create_namespaced_service_account("default", {"metadata": {"name": "robot"}})
    answer = rt.core.create_namespaced_service_account_token(
        "robot", "default", {"spec": {"expirationSeconds": 3600}}
    )
    token = answer.status.token
    assert answer.spec.expiration_seconds == 3600 and answer.status.expiration_timestamp
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["sub"] == "system:serviceaccount:default:robot"
    assert claims["kubernetes.io"]["serviceaccount"]["name"] == "robot"
    assert claims["exp"] - claims["iat"] == 3600

    config = kubernetes.client.Configuration()
    config.host = rt.api.configuration.host
    config.ssl_ca_cert = rt.api.configuration.ssl_ca_cert
    config.verify_ssl = rt.api.configuration.verify_ssl
    config.api_key = {"authorization": f"Bearer {token}"}
    with kubernetes.client.ApiClient(config) as robot:
        core = kubernetes.client.CoreV1Api(robot)
        # the token is the account: known to the cluster (403, not 401) and given no rights
        with pytest.raises(ApiException) as caught:
            core.read_namespaced_service_account("robot", "default")
        assert caught.value.status == 403
        assert 'User \\"system:serviceaccount:default:robot\\" cannot get' in caught.value.body
        rt.core.delete_namespaced_service_account("robot", "default")
        with pytest.raises(ApiException) as caught:
            core.list_namespaced_pod("default")
        assert caught.value.status == 401  # the account is gone: its token is revoked

    with pytest.raises(ApiException) as caught:
        rt.core.create_namespaced_service_account_token(
            "nobody", "default", {"spec": {"expirationSeconds": 3600}}
        )
    assert caught.value.status == 404
    rt.core.create_namespaced_service_account("default", {"metadata": {"name": "short"}})
    with pytest.raises(ApiException) as caught:
        rt.core.create_namespaced_service_account_token(
            "short", "default", {"spec": {"expirationSeconds": 60}}
        )
    assert caught.value.status == 422
    assert "may not specify a duration less than 10 minutes" in caught.value.body
    assert rt.kubectl("create", "token", "short", "--duration=1h").stdout.count(".") == 2


def _raw(rt, path):  # noqa: F811
    return json.loads(rt.kubectl("get", "--raw", path).stdout)


def test_new_kinds_in_discovery_openapi_and_protobuf(rt):  # noqa: F811
    core = {r["name"] for r in _raw(rt, "/api/v1")["resources"]}
    assert {"replicationcontrollers", "replicationcontrollers/scale"} <= core
    assert "serviceaccounts/token" in core
    groups = {g["name"] for g in _raw(rt, "/apis")["groups"]}
    assert {"apiregistration.k8s.io", "scheduling.k8s.io"} <= groups
    paths = _raw(rt, "/openapi/v3")["paths"]
    assert {"apis/apiregistration.k8s.io/v1", "apis/scheduling.k8s.io/v1"} <= set(paths)
    for api_version, kind in (
        ("v1", "ReplicationController"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("apiregistration.k8s.io/v1", "APIService"),
        ("authentication.k8s.io/v1", "TokenRequest"),
    ):
        assert protobuf.message_name(api_version, kind) is not None, kind
    # kubectl reads it back in protobuf (its Accept lists protobuf first)
    assert (
        "replicationcontroller/made created"
        in rt.kubectl("create", "-f", "-", stdin=json.dumps(_rc("made", 0))).stdout
    )
    assert rt.kubectl_json("get", "rc", "made")["spec"]["replicas"] == 0
