"""The Kubernetes API through the official typed client: CRUD, selectors, errors, metadata."""

from __future__ import annotations

import json

import pytest
import requests
from kubernetes.client import ApiException

CM = "ConfigMap"


def configmap(name: str, labels: dict | None = None, **data: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": CM,
        "metadata": {"name": name, "labels": labels or {}},
        "data": data,
    }


def deployment(name: str, replicas: int = 1, app: str | None = None) -> dict:
    app = app or name
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def error_of(call, *args, **kwargs) -> tuple[int, dict]:
    with pytest.raises(ApiException) as info:
        call(*args, **kwargs)
    return info.value.status, json.loads(info.value.body)


def test_create_get_list_delete_configmap(core):
    created = core.create_namespaced_config_map("default", configmap("cfg", a="1"))
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    assert int(created.metadata.resource_version) > 0
    got = core.read_namespaced_config_map("cfg", "default")
    assert got.data == {"a": "1"}
    listed = core.list_namespaced_config_map("default")
    assert [c.metadata.name for c in listed.items] == ["cfg"]
    assert int(listed.metadata.resource_version) >= int(created.metadata.resource_version)
    status = core.delete_namespaced_config_map("cfg", "default")
    assert status["status"] == "Success"
    assert core.list_namespaced_config_map("default").items == []


def test_a_new_cluster_looks_like_an_empty_real_one(core):
    namespaces = [n.metadata.name for n in core.list_namespace().items]
    assert namespaces == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert core.read_namespace("default").status.phase == "Active"
    nodes = core.list_node().items
    assert [n.metadata.name for n in nodes] == ["master-1", "worker-1", "worker-2"]
    assert "node-role.kubernetes.io/control-plane" in nodes[0].metadata.labels
    service = core.read_namespaced_service("kubernetes", "default")
    assert service.spec.cluster_ip == "10.96.0.1"


def test_resource_versions_are_monotonic_per_cluster(core):
    rvs = [
        int(
            core.create_namespaced_config_map(
                "default", configmap(f"c{i}")
            ).metadata.resource_version
        )
        for i in range(5)
    ]
    assert rvs == sorted(rvs) and len(set(rvs)) == 5


def test_generate_name_and_dry_run(core):
    made = core.create_namespaced_config_map(
        "default", {"metadata": {"generateName": "job-"}, "data": {}}
    )
    assert made.metadata.name.startswith("job-") and len(made.metadata.name) == len("job-") + 5
    dry = core.create_namespaced_config_map("default", configmap("ghost"), dry_run="All")
    assert dry.metadata.name == "ghost"
    assert error_of(core.read_namespaced_config_map, "ghost", "default")[0] == 404


def test_label_selectors(core):
    for name, labels in [
        ("a", {"app": "web", "tier": "front"}),
        ("b", {"app": "web", "tier": "back"}),
        ("c", {"app": "db"}),
        ("d", {}),
    ]:
        core.create_namespaced_config_map("default", configmap(name, labels))

    def names(selector: str) -> list[str]:
        return [
            c.metadata.name
            for c in core.list_namespaced_config_map("default", label_selector=selector).items
        ]

    assert names("app=web") == ["a", "b"]
    assert names("app==web,tier=front") == ["a"]
    assert names("app!=web") == ["c", "d"]
    assert names("tier in (front,back)") == ["a", "b"]
    assert names("app notin (web)") == ["c", "d"]
    assert names("tier") == ["a", "b"]
    assert names("!tier") == ["c", "d"]
    status, body = error_of(core.list_namespaced_config_map, "default", label_selector="a b c")
    assert status == 400 and body["reason"] == "BadRequest"


def test_field_selectors(core):
    core.create_namespaced_config_map("default", configmap("one"))
    core.create_namespaced_config_map("kube-system", configmap("two"))
    by_name = core.list_config_map_for_all_namespaces(field_selector="metadata.name=two")
    assert [(c.metadata.namespace, c.metadata.name) for c in by_name.items] == [
        ("kube-system", "two")
    ]
    by_ns = core.list_config_map_for_all_namespaces(field_selector="metadata.namespace!=default")
    assert [c.metadata.name for c in by_ns.items] == ["two"]
    secret = {
        "metadata": {"name": "tls"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "", "tls.key": ""},
    }
    core.create_namespaced_secret("default", secret)
    core.create_namespaced_secret(
        "default", {"metadata": {"name": "plain"}, "stringData": {"a": "b"}}
    )
    typed = core.list_namespaced_secret("default", field_selector="type=kubernetes.io/tls")
    assert [s.metadata.name for s in typed.items] == ["tls"]
    status, body = error_of(core.list_namespaced_config_map, "default", field_selector="spec.x=1")
    assert status == 400
    assert body["message"] == "field label not supported: spec.x"


def test_pod_field_selectors(core):
    for name, node in [("p1", "worker-1"), ("p2", "worker-2"), ("p3", None)]:
        spec = {"containers": [{"name": "c", "image": "busybox"}]}
        if node:
            spec["nodeName"] = node
        core.create_namespaced_pod("default", {"metadata": {"name": name}, "spec": spec})
    on_node = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=worker-1")
    assert [p.metadata.name for p in on_node.items] == ["p1"]
    unscheduled = core.list_namespaced_pod("default", field_selector="spec.nodeName=")
    assert [p.metadata.name for p in unscheduled.items] == ["p3"]
    pending = core.list_namespaced_pod("default", field_selector="status.phase=Pending")
    assert len(pending.items) == 3


def test_limit_and_continue(core):
    for i in range(7):
        core.create_namespaced_config_map("default", configmap(f"cm-{i}"))
    page = core.list_namespaced_config_map("default", limit=3)
    seen = [c.metadata.name for c in page.items]
    assert len(seen) == 3 and page.metadata._continue
    assert page.metadata.remaining_item_count == 4
    while page.metadata._continue:
        page = core.list_namespaced_config_map(
            "default", limit=3, _continue=page.metadata._continue
        )
        seen += [c.metadata.name for c in page.items]
    assert seen == [f"cm-{i}" for i in range(7)]


def test_replace_with_stale_resource_version_conflicts(apps):
    created = apps.create_namespaced_deployment("default", deployment("web"))
    created.spec.replicas = 3
    apps.replace_namespaced_deployment("web", "default", created)
    created.spec.replicas = 4  # still carries the old resourceVersion
    status, body = error_of(apps.replace_namespaced_deployment, "web", "default", created)
    assert status == 409
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert body["details"] == {"name": "web", "group": "apps", "kind": "deployments"}


def test_not_found_and_already_exists_errors(apps, core):
    status, body = error_of(apps.read_namespaced_deployment, "x", "default")
    assert (status, body["reason"], body["message"]) == (
        404,
        "NotFound",
        'deployments.apps "x" not found',
    )
    assert body["details"] == {"name": "x", "group": "apps", "kind": "deployments"}
    core.create_namespaced_config_map("default", configmap("dup"))
    status, body = error_of(core.create_namespaced_config_map, "default", configmap("dup"))
    assert (status, body["reason"], body["message"]) == (
        409,
        "AlreadyExists",
        'configmaps "dup" already exists',
    )


def test_missing_namespace_is_not_found(core):
    status, body = error_of(core.create_namespaced_config_map, "nowhere", configmap("x"))
    assert (status, body["message"]) == (404, 'namespaces "nowhere" not found')


def test_invalid_object_is_422_with_causes(core):
    status, body = error_of(
        core.create_namespaced_config_map, "default", {"metadata": {}, "data": {}}
    )
    assert status == 422 and body["reason"] == "Invalid"
    assert body["message"] == (
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    )
    assert body["details"]["causes"][0]["field"] == "metadata.name"


def test_invalid_name_is_422(core):
    status, body = error_of(core.create_namespaced_config_map, "default", configmap("Bad_Name"))
    assert status == 422 and body["reason"] == "Invalid"
    assert "metadata.name" in body["message"]


def test_generation_moves_on_spec_changes_only(apps, sim):
    d = apps.create_namespaced_deployment("default", deployment("gen"))
    assert d.metadata.generation == 1
    apps.patch_namespaced_deployment("gen", "default", {"metadata": {"labels": {"x": "y"}}})
    assert apps.read_namespaced_deployment("gen", "default").metadata.generation == 1
    apps.patch_namespaced_deployment_status("gen", "default", {"status": {"replicas": 1}})
    after_status = apps.read_namespaced_deployment("gen", "default")
    assert after_status.metadata.generation == 1
    assert after_status.status.replicas == 1
    apps.patch_namespaced_deployment("gen", "default", {"spec": {"replicas": 2}})
    moved = apps.read_namespaced_deployment("gen", "default")
    assert moved.metadata.generation == 2
    assert moved.status.replicas == 1  # the main resource does not write status
    # A replace with the spec as first sent (its defaults left out) changes nothing in it:
    # the generation is judged after defaulting, as the apiserver judges it.
    again = deployment("gen", replicas=2)
    again["metadata"]["resourceVersion"] = moved.metadata.resource_version
    apps.replace_namespaced_deployment("gen", "default", again)
    assert apps.read_namespaced_deployment("gen", "default").metadata.generation == 2


def test_defaults_a_client_relies_on(apps, core):
    d = apps.create_namespaced_deployment("default", deployment("defaults"))
    assert d.spec.strategy.type == "RollingUpdate"
    assert d.spec.revision_history_limit == 10
    svc = core.create_namespaced_service(
        "default",
        {"metadata": {"name": "svc"}, "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]}},
    )
    assert svc.spec.cluster_ip.startswith("10.")
    assert svc.spec.ports[0].protocol == "TCP"
    assert svc.spec.type == "ClusterIP"


def test_scale_subresource(apps):
    apps.create_namespaced_deployment("default", deployment("sc", replicas=2))
    scale = apps.read_namespaced_deployment_scale("sc", "default")
    assert scale.spec.replicas == 2
    assert scale.status.selector == "app=sc"
    apps.patch_namespaced_deployment_scale("sc", "default", {"spec": {"replicas": 5}})
    assert apps.read_namespaced_deployment("sc", "default").spec.replicas == 5


def test_no_op_update_keeps_the_resource_version(core):
    made = core.create_namespaced_config_map("default", configmap("same", a="1"))
    again = core.patch_namespaced_config_map("same", "default", {"data": {"a": "1"}})
    assert again.metadata.resource_version == made.metadata.resource_version


def test_finalizers_hold_deletion_until_removed(core):
    cm = configmap("held")
    cm["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map("default", cm)
    core.delete_namespaced_config_map("held", "default")
    held = core.read_namespaced_config_map("held", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}})
    status, _ = error_of(core.read_namespaced_config_map, "held", "default")
    assert status == 404


def test_delete_collection(core):
    for i in range(3):
        core.create_namespaced_config_map("default", configmap(f"x{i}", {"batch": "1"}))
    core.create_namespaced_config_map("default", configmap("keep"))
    core.delete_collection_namespaced_config_map("default", label_selector="batch=1")
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == ["keep"]


# -- raw HTTP for what the typed client cannot send ---------------------------------------


@pytest.fixture
def http(kubesim_server, kubesim_cluster):
    """(base URL over plain HTTP, auth headers) for raw requests."""
    token = kubesim_cluster["kubeconfig"]["users"][0]["user"]["token"]
    base = f"{kubesim_server.url}/clusters/{kubesim_cluster['name']}"
    return base, {"Authorization": f"Bearer {token}"}


def test_missing_or_wrong_token_is_401(http):
    base, _ = http
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = requests.get(f"{base}/api/v1/namespaces", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json() == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        }


def test_method_not_allowed_and_unsupported_media_type(http):
    base, auth = http
    response = requests.put(
        f"{base}/api/v1/namespaces/default/configmaps", headers=auth, json={}, timeout=5
    )
    assert response.status_code == 405 and response.json()["reason"] == "MethodNotAllowed"
    requests.post(
        f"{base}/api/v1/namespaces/default/configmaps",
        headers=auth,
        json={"metadata": {"name": "m"}},
        timeout=5,
    )
    response = requests.patch(
        f"{base}/api/v1/namespaces/default/configmaps/m",
        headers={**auth, "Content-Type": "text/csv"},
        data="a,b",
        timeout=5,
    )
    assert response.status_code == 415
    assert response.json()["reason"] == "UnsupportedMediaType"


def test_bad_request_on_undecodable_body(http):
    base, auth = http
    response = requests.post(
        f"{base}/api/v1/namespaces/default/configmaps",
        headers={**auth, "Content-Type": "application/json"},
        data="{not json",
        timeout=5,
    )
    assert response.status_code == 400 and response.json()["reason"] == "BadRequest"


def test_unknown_resource_is_404(http):
    base, auth = http
    response = requests.get(
        f"{base}/apis/apps/v1/namespaces/default/widgets", headers=auth, timeout=5
    )
    assert response.status_code == 404
    assert response.json()["message"] == "the server could not find the requested resource"


def test_discovery_lists_resources_with_subresources(http):
    base, auth = http
    core = requests.get(f"{base}/api/v1", headers=auth, timeout=5).json()
    names = {r["name"] for r in core["resources"]}
    assert {
        "pods",
        "pods/status",
        "pods/log",
        "pods/exec",
        "pods/eviction",
        "pods/binding",
    } <= names
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert pods["shortNames"] == ["po"] and pods["namespaced"] and "watch" in pods["verbs"]
    apps = requests.get(f"{base}/apis/apps/v1", headers=auth, timeout=5).json()
    scale = next(r for r in apps["resources"] if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    groups = requests.get(f"{base}/apis", headers=auth, timeout=5).json()
    assert {g["name"] for g in groups["groups"]} >= {
        "apps",
        "batch",
        "networking.k8s.io",
        "storage.k8s.io",
        "autoscaling",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
    }
    version = requests.get(f"{base}/version", headers=auth, timeout=5).json()
    assert version["gitVersion"] == "v1.32.0"


def test_dynamic_client_on_built_in_kinds(dynamic):
    deployments = dynamic.resources.get(api_version="apps/v1", kind="Deployment")
    applied = deployments.server_side_apply(
        body=deployment("dyn", replicas=2), namespace="default", field_manager="portal"
    )
    assert applied.spec.replicas == 2
    assert [m.manager for m in applied.metadata.managedFields] == ["portal"]
    listed = deployments.get(namespace="default", label_selector="")
    assert [d.metadata.name for d in listed.items] == ["dyn"]
    scale = dynamic.resources.get(api_version="apps/v1", kind="Deployment").subresources["scale"]
    assert scale.get(name="dyn", namespace="default").spec.replicas == 2
    pods = dynamic.resources.get(api_version="v1", kind="Pod")
    assert pods.namespaced and "pods/log" in [f"pods/{s}" for s in pods.subresources]


def test_secret_data_that_is_not_base64_is_refused_as_the_decoder_refuses_it(core):
    body = {"metadata": {"name": "s"}, "data": {"password": "hunter2!"}}
    code, status = error_of(core.create_namespaced_secret, "default", body)
    assert (code, status["reason"]) == (400, "BadRequest")
    assert status["message"] == (
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 7'
    )
    assert error_of(core.read_namespaced_secret, "s", "default")[0] == 404  # nothing stored

    core.create_namespaced_secret("default", {"metadata": {"name": "s"}, "data": {"k": "MQ=="}})
    code, status = error_of(
        core.patch_namespaced_secret, "s", "default", {"data": {"k": "not base64"}}
    )
    assert (code, status["reason"]) == (400, "BadRequest")
    assert status["message"].endswith("illegal base64 data at input byte 3")
    assert core.read_namespaced_secret("s", "default").data == {"k": "MQ=="}
