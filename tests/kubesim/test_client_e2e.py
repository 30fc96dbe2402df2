"""The official Python client's end-to-end suite, scenario by scenario, against kubesim.

The suite (`kubernetes/e2e_test` in kubernetes-client/python, written by its maintainers
for real clusters) is not shipped in the `kubernetes` wheel or sdist, so it cannot be run
from the venv; these tests re-state what each of its tests does and checks, through the
same client calls (`stream`, `utils.create_from_yaml`, the typed APIs) and with the same
expectations, including the exact error strings. Simulated time is advanced where the
suite waits for a pod to run.

Not covered, with the reason: the port-forward tests (`test_portforward_raw`,
`test_portforward_http`) — kubesim answers pods/portforward 400, it runs no container
network to forward to — and `test_metrics_utilities_integration`, which sleeps for a
metrics-server scrape (the metrics API itself is covered by test_runtime_http).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import threading
import time

import kubernetes
import pytest
import yaml
from kubernetes import utils
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL

from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401


def _busybox(rt, name):  # noqa: F811
    """The suite's pod: busybox running `while true;do date;sleep 5; done`, Running."""
    rt.core.create_namespaced_pod(
        "default",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "containers": [
                    {
                        "image": "busybox",
                        "name": "sleep",
                        "args": ["/bin/sh", "-c", "while true;do date;sleep 5; done"],
                    }
                ]
            },
        },
    )
    rt.advance(10)
    assert rt.core.read_namespaced_pod(name, "default").status.phase == "Running"


def _exec(rt, name, command, **kwargs):  # noqa: F811
    options = {"stderr": False, "stdin": False, "stdout": True, "tty": False, **kwargs}
    return stream(
        rt.core.connect_get_namespaced_pod_exec, name, "default", command=command, **options
    )


def _error_channel(resp) -> dict:
    deadline = time.monotonic() + 10
    line = resp.read_channel(ERROR_CHANNEL)
    while not line and time.monotonic() < deadline:
        resp.update(timeout=1)
        line = resp.read_channel(ERROR_CHANNEL)
    return json.loads(line)


# -- test_client.py --------------------------------------------------------------------------


def test_pod_apis(rt):  # noqa: F811
    assert rt.core.read_namespaced_service_account("default", "default").metadata.name == "default"
    _busybox(rt, "busybox-test")
    out = _exec(rt, "busybox-test", ["/bin/sh", "-c", "for i in $(seq 1 3); do date; done"])
    assert isinstance(out, str) and len(out.splitlines()) == 3

    binary = _exec(
        rt, "busybox-test", ["/bin/sh", "-c", 'echo -n "This is a test string" | gzip'], binary=True
    )
    assert isinstance(binary, bytes)
    assert gzip.decompress(binary).decode() == "This is a test string"

    uptime = stream(
        rt.core.connect_post_namespaced_pod_exec,
        "busybox-test",
        "default",
        command=["uptime"],
        stderr=False,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert len(uptime.splitlines()) == 1

    for binary_mode in (False, True):
        resp = stream(
            rt.core.connect_post_namespaced_pod_exec,
            "busybox-test",
            "default",
            command=["/bin/sh"],
            stderr=True,
            stdin=True,
            stdout=True,
            tty=False,
            binary=binary_mode,
            _preload_content=False,
        )

        def text(value: str):
            return value.encode() if binary_mode else value  # noqa: B023

        resp.write_stdin(text("echo test string 1\n"))
        assert resp.readline_stdout(timeout=5) == text("test string 1")
        assert not resp.peek_stderr()
        resp.write_stdin(text("echo test string 2 >&2\n"))
        assert resp.readline_stderr(timeout=5) == text("test string 2")
        assert not resp.peek_stdout()
        resp.write_stdin(text("exit\n"))
        resp.update(timeout=5)
        assert _error_channel(resp)["status"] == "Success"
        resp.update(timeout=5)
        assert not resp.is_open()

    assert len(rt.core.list_pod_for_all_namespaces().items) > 0
    rt.core.delete_namespaced_pod("busybox-test", "default", body={})


def test_pod_exec_close_channel(rt):  # noqa: F811
    _busybox(rt, "busybox-close")
    resp = stream(
        rt.core.connect_post_namespaced_pod_exec,
        "busybox-close",
        "default",
        command=["/bin/sh", "-c", "cat"],
        stderr=True,
        stdin=True,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    assert resp.subprotocol == "v5.channel.k8s.io"  # the suite skips itself otherwise
    try:
        resp.write_stdin("test-close\n")
        assert resp.readline_stdout(timeout=5) == "test-close"  # echoed before stdin closes
        resp.close_channel(0)
        resp.run_forever(timeout=15)
        assert not resp.is_open(), "Connection should close after cat exits"
        assert resp.returncode == 0
    finally:
        if resp.is_open():
            resp.close()


def test_exit_code(rt):  # noqa: F811
    _busybox(rt, "busybox-exit")
    for command, value in (
        (["false"], 1),
        (["/bin/sh", "-c", "sleep 1; exit 3"], 3),
        (["true"], 0),
        (["/bin/sh", "-c", "ls /"], 0),
    ):
        client = _exec(rt, "busybox-exit", command, stderr=True, _preload_content=False)
        assert client.returncode is None
        client.run_forever(timeout=10)
        assert client.returncode == value
        assert client.returncode == value  # idempotent


def test_exec_binary_through_tar_and_gzip_arrives_intact(rt):  # noqa: F811
    """What `kubectl cp` and the suite's gzip exec rely on: bytes out of the container are
    the bytes the command wrote, none replaced or re-encoded."""
    payload = bytes(range(256)) * 4
    rt.core.create_namespaced_config_map(
        "default",
        {"metadata": {"name": "blob"}, "binaryData": {"blob.bin": _b64(payload)}},
    )
    rt.core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "files"},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "busybox",
                        "volumeMounts": [{"name": "blob", "mountPath": "/data"}],
                    }
                ],
                "volumes": [{"name": "blob", "configMap": {"name": "blob"}}],
            },
        },
    )
    rt.advance(10)
    raw = _exec(rt, "files", ["cat", "/data/blob.bin"], binary=True)
    assert raw == payload
    zipped = _exec(rt, "files", ["/bin/sh", "-c", "cat /data/blob.bin | gzip -c"], binary=True)
    assert gzip.decompress(zipped) == payload
    archive = _exec(rt, "files", ["tar", "cf", "-", "-C", "/data", "blob.bin"], binary=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert tar.extractfile("blob.bin").read() == payload
    digest = _exec(rt, "files", ["/bin/sh", "-c", "tar cf - /data/blob.bin | tar xOf - | md5sum"])
    assert digest.split()[0] == hashlib.md5(payload).hexdigest()  # noqa: S324
    missing = _exec(
        rt, "files", ["/bin/sh", "-c", "xxd /data/blob.bin"], stderr=True, _preload_content=False
    )
    missing.run_forever(timeout=10)
    assert missing.returncode == 127
    assert missing.read_stderr() == "sh: xxd: not found\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_service_apis(rt):  # noqa: F811
    manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"labels": {"name": "frontend"}, "name": "frontend"},
        "spec": {
            "ports": [{"name": "port", "port": 80, "protocol": "TCP", "targetPort": 80}],
            "selector": {"name": "frontend"},
        },
    }
    resp = rt.core.create_namespaced_service(body=manifest, namespace="default")
    assert resp.metadata.name == "frontend" and resp.status
    assert rt.core.read_namespaced_service("frontend", "default").status
    manifest["spec"]["ports"] = [
        {"name": "new", "port": 8080, "protocol": "TCP", "targetPort": 8080}
    ]
    resp = rt.core.patch_namespaced_service(body=manifest, name="frontend", namespace="default")
    assert len(resp.spec.ports) == 2 and resp.status
    rt.core.delete_namespaced_service("frontend", "default", body={})


def test_replication_controller_apis(rt):  # noqa: F811
    manifest = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"labels": {"name": "frontend"}, "name": "frontend"},
        "spec": {
            "replicas": 2,
            "selector": {"name": "frontend"},
            "template": {
                "metadata": {"labels": {"name": "frontend"}},
                "spec": {
                    "containers": [
                        {
                            "image": "nginx",
                            "name": "nginx",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        }
                    ]
                },
            },
        },
    }
    resp = rt.core.create_namespaced_replication_controller(body=manifest, namespace="default")
    assert resp.metadata.name == "frontend" and resp.spec.replicas == 2
    resp = rt.core.read_namespaced_replication_controller("frontend", "default")
    assert resp.metadata.name == "frontend" and resp.spec.replicas == 2
    rt.core.delete_namespaced_replication_controller(
        "frontend", "default", propagation_policy="Background"
    )


def test_configmap_apis(rt):  # noqa: F811
    body = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "test-configmap", "labels": {"e2e-tests": "true"}},
        "data": {
            "config.json": '{"command":"/usr/bin/mysqld_safe"}',
            "frontend.cnf": "[mysqld]\nbind-address = 10.0.0.3\nport = 3306\n",
        },
    }
    assert rt.core.create_namespaced_config_map("default", body).metadata.name == "test-configmap"
    patch = [{"op": "replace", "path": "/data", "value": {"new_value": "json_patch_name"}}]
    resp = rt.core.patch_namespaced_config_map("test-configmap", "default", patch)
    assert resp.data == {"new_value": "json_patch_name"}
    resp = rt.core.patch_namespaced_config_map(
        "test-configmap", "default", {"data": {"new_value": "merge_patch_name"}}
    )
    assert resp.data == {"new_value": "merge_patch_name"}
    rt.core.delete_namespaced_config_map("test-configmap", "default", body={})
    assert (
        rt.core.list_namespaced_config_map("default", label_selector="e2e-tests=true").items == []
    )


def test_node_apis(rt):  # noqa: F811
    for item in rt.core.list_node().items:
        node = rt.core.read_node(item.metadata.name)
        assert isinstance(node.metadata.labels, dict) and node.metadata.labels


# -- test_utils.py: create_from_yaml ---------------------------------------------------------


def _write(tmp_path, name: str, *docs: dict):
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(docs))
    return str(path)


def _mock_service(name: str, port: int = 80) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"ports": [{"port": port, "targetPort": 9376}], "selector": {"app": name}},
    }


def _mock_rc(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"app": name},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "mock-container",
                            "image": "k8s.gcr.io/pause:2.0",
                            "ports": [{"containerPort": 9376}],
                        }
                    ]
                },
            },
        },
    }


def _conflict(kind: str, name: str, group: str = "") -> str:
    qualified = f"{kind}.{group}" if group else kind
    group_part = f'"group":"{group}",' if group else ""
    return (
        'Error from server (Conflict): {"kind":"Status","apiVersion":"v1","metadata":{},'
        f'"status":"Failure","message":"{qualified} \\"{name}\\" already exists",'
        f'"reason":"AlreadyExists","details":{{"name":"{name}",{group_part}"kind":"{kind}"}},'
        '"code":409}\n'
    )


def test_create_apiservice_from_yaml_with_conflict(rt, tmp_path):  # noqa: F811
    path = _write(
        tmp_path,
        "api-service.yaml",
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1alpha1.wardle.k8s.io"},
            "spec": {
                "insecureSkipTLSVerify": True,
                "group": "wardle.k8s.io",
                "groupPriorityMinimum": 1000,
                "versionPriority": 15,
                "service": {"name": "api", "namespace": "wardle"},
                "version": "v1alpha1",
            },
        },
    )
    utils.create_from_yaml(rt.api, path)
    reg = kubernetes.client.ApiregistrationV1Api(rt.api)
    svc = reg.read_api_service("v1alpha1.wardle.k8s.io")
    assert (svc.spec.group, svc.spec.version) == ("wardle.k8s.io", "v1alpha1")
    with pytest.raises(utils.FailToCreateError) as caught:
        utils.create_from_yaml(rt.api, path)
    assert str(caught.value) == _conflict(
        "apiservices", "v1alpha1.wardle.k8s.io", "apiregistration.k8s.io"
    )
    reg.delete_api_service("v1alpha1.wardle.k8s.io", body={})


def test_create_multi_resource_from_yaml_and_directory(rt, tmp_path):  # noqa: F811
    path = _write(tmp_path, "multi-resource.yaml", _mock_service("mock"), _mock_rc("mock"))
    utils.create_from_yaml(rt.api, path)
    svc = rt.core.read_namespaced_service("mock", "default")
    assert svc.metadata.labels["app"] == "mock" and svc.spec.selector["app"] == "mock"
    ctr = rt.core.read_namespaced_replication_controller("mock", "default")
    assert ctr.spec.template.metadata.labels["app"] == "mock"
    assert ctr.spec.selector["app"] == "mock" and ctr.spec.replicas == 1
    assert ctr.spec.template.spec.containers[0].image == "k8s.gcr.io/pause:2.0"
    assert ctr.spec.template.spec.containers[0].name == "mock-container"
    rt.core.delete_namespaced_replication_controller(
        "mock", "default", propagation_policy="Background"
    )
    rt.core.delete_namespaced_service("mock", "default", body={})

    directory = tmp_path / "multi-resource"
    directory.mkdir()
    _write(directory, "multi-resource-service.yaml", _mock_service("mock"))
    _write(directory, "multi-resource-replication-controller.yaml", _mock_rc("mock"))
    utils.create_from_directory(rt.api, str(directory))
    assert rt.core.read_namespaced_replication_controller("mock", "default").spec.replicas == 1
    assert rt.core.read_namespaced_service("mock", "default").metadata.name == "mock"


def test_create_from_multi_resource_yaml_with_conflict(rt, tmp_path):  # noqa: F811
    utils.create_from_yaml(rt.api, _write(tmp_path, "first.yaml", _mock_service("mock-2", 99)))
    assert rt.core.read_namespaced_service("mock-2", "default").spec.ports[0].port == 99
    multi = _write(tmp_path, "multi.yaml", _mock_service("mock-2", 99), _mock_rc("mock-2"))
    with pytest.raises(utils.FailToCreateError) as caught:
        utils.create_from_yaml(rt.api, multi)
    assert str(caught.value) == _conflict("services", "mock-2")
    assert rt.core.read_namespaced_replication_controller("mock-2", "default")


def test_create_from_multi_resource_yaml_with_multi_conflicts(rt, tmp_path):  # noqa: F811
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "triple-nginx"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.15.4"}]},
            },
        },
    }
    path = _write(tmp_path, "triple-nginx.yaml", deployment, deployment, deployment)
    with pytest.raises(utils.FailToCreateError) as caught:
        utils.create_from_yaml(rt.api, path)
    assert str(caught.value) == _conflict("deployments", "triple-nginx", "apps") * 2
    assert rt.apps.read_namespaced_deployment("triple-nginx", "default")


def test_create_apps_deployment_from_yaml_with_apply_is_idempotent(rt, tmp_path):  # noqa: F811
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx-app", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": "nginx:1.15.4", "ports": [{"containerPort": 80}]}
                    ]
                },
            },
        },
    }
    path = _write(tmp_path, "apps-deployment.yaml", deployment)
    utils.create_from_yaml(rt.api, path)
    utils.create_from_yaml(rt.api, path, apply=True)
    dep = rt.apps.read_namespaced_deployment("nginx-app", "default")
    assert dep.spec.replicas == 3
    assert dep.spec.template.spec.containers[0].ports[0].container_port == 80


# -- test_informer.py: kubernetes.informer.SharedInformer ------------------------------------


def test_shared_informer_follows_adds_changes_and_deletes(rt):  # noqa: F811
    from kubernetes.informer import ADDED, DELETED, MODIFIED, SharedInformer

    def cm(name, value="v"):
        return {"metadata": {"name": name, "labels": {"inf-e2e": "1"}}, "data": {"k": value}}

    rt.core.create_namespaced_config_map("default", cm("inf-pre"))
    seen = {kind: threading.Event() for kind in (ADDED, MODIFIED, DELETED)}
    informer = SharedInformer(
        list_func=rt.core.list_namespaced_config_map,
        namespace="default",
        label_selector="inf-e2e=1",
    )
    for kind, event in seen.items():
        informer.add_event_handler(
            kind,
            lambda obj, event=event: event.set() if obj.metadata.name == "inf-new" else None,
        )
    informer.start()
    try:
        deadline = time.monotonic() + 30
        while informer.cache.get_by_key("default/inf-pre") is None:
            assert time.monotonic() < deadline, "the initial list never reached the cache"
            time.sleep(0.05)
        assert informer.cache.get_by_key("default/inf-pre").data == {"k": "v"}
        listed_at = int(informer._resource_version)
        rt.core.create_namespaced_config_map("default", cm("inf-new"))
        assert seen[ADDED].wait(30)
        assert int(informer._resource_version) > listed_at
        rt.core.patch_namespaced_config_map("inf-new", "default", {"data": {"k": "updated"}})
        assert seen[MODIFIED].wait(30)
        assert informer.cache.get_by_key("default/inf-new").data == {"k": "updated"}
        rt.core.delete_namespaced_config_map("inf-new", "default")
        assert seen[DELETED].wait(30)
        assert informer.cache.get_by_key("default/inf-new") is None
    finally:
        informer.stop()
