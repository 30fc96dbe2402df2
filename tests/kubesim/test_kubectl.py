"""kubectl (the real v1.32 binary) against a kubesim cluster, as a user would drive it."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import yaml

from tests.kubesim.conftest import kubectl_json

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
"""

CONFIGMAPS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: front, labels: {tier: front}}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: back, labels: {tier: back}}
data: {b: "2"}
"""


def test_version_and_cluster_basics(kubectl):
    out = kubectl("version").stdout
    assert "Server Version: v1.32.0" in out
    nodes = kubectl("get", "nodes").stdout.splitlines()
    assert nodes[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert nodes[1].split()[:3] == ["master-1", "Ready", "control-plane"]
    assert [line.split()[0] for line in nodes[2:]] == ["worker-1", "worker-2"]


def test_create_get_and_output_formats(kubectl):
    assert kubectl("create", "-f", "-", stdin=CONFIGMAPS).stdout.split("\n")[:2] == [
        "configmap/front created",
        "configmap/back created",
    ]
    listed = kubectl("get", "configmaps").stdout.splitlines()
    assert listed[0].split() == ["NAME", "DATA", "AGE"]
    assert [line.split()[:2] for line in listed[1:]] == [["back", "1"], ["front", "1"]]
    assert kubectl("get", "cm", "-l", "tier=front", "-o", "name").stdout == "configmap/front\n"
    as_json = kubectl_json(kubectl, "get", "cm", "front")
    assert as_json["data"] == {"a": "1"} and as_json["metadata"]["uid"]
    as_yaml = yaml.safe_load(kubectl("get", "cm", "back", "-o", "yaml").stdout)
    assert as_yaml["metadata"]["labels"] == {"tier": "back"}
    everywhere = kubectl("get", "cm", "-A").stdout.splitlines()
    assert everywhere[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert ["default", "front"] in [line.split()[:2] for line in everywhere]


def test_get_wide_shows_extra_columns(kubectl):
    kubectl("create", "-f", "-", stdin=DEPLOYMENT)
    wide = kubectl("get", "deploy", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]
    assert wide[1].split()[0] == "web"
    assert wide[1].split()[-3:] == ["nginx", "nginx:1.27", "app=web"]


def test_get_missing_object_prints_the_api_error(kubectl):
    result = kubectl("get", "deploy", "nope", check=False)
    assert result.returncode == 1
    assert (
        result.stderr.strip() == 'Error from server (NotFound): deployments.apps "nope" not found'
    )
    kubectl("create", "-f", "-", stdin=CONFIGMAPS)
    again = kubectl("create", "-f", "-", stdin=CONFIGMAPS, check=False)
    assert (
        'Error from server (AlreadyExists): error when creating "STDIN": '
        'configmaps "front" already exists' in again.stderr
    )


def test_apply_client_side_then_reapply(kubectl):
    assert kubectl("apply", "-f", "-", stdin=DEPLOYMENT).stdout == "deployment.apps/web created\n"
    assert kubectl("apply", "-f", "-", stdin=DEPLOYMENT).stdout == "deployment.apps/web unchanged\n"
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 4")
    assert kubectl("apply", "-f", "-", stdin=changed).stdout == "deployment.apps/web configured\n"
    live = kubectl_json(kubectl, "get", "deploy", "web")
    assert live["spec"]["replicas"] == 4
    assert live["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in live["metadata"]["annotations"]


def test_apply_server_side_and_conflicts(kubectl):
    out = kubectl("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT)
    assert out.stdout == "deployment.apps/web serverside-applied\n"
    live = kubectl_json(kubectl, "get", "deploy", "web", "--show-managed-fields")
    assert {m["manager"] for m in live["metadata"]["managedFields"]} >= {"kubectl"}
    kubectl("scale", "deploy", "web", "--replicas=3")
    conflict = kubectl("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT, check=False)
    assert conflict.returncode == 1
    assert "Apply failed with 1 conflict" in conflict.stderr
    assert ".spec.replicas" in conflict.stderr
    forced = kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=DEPLOYMENT)
    assert forced.returncode == 0
    assert kubectl_json(kubectl, "get", "deploy", "web")["spec"]["replicas"] == 2


def test_scale_label_annotate(kubectl):
    kubectl("create", "-f", "-", stdin=DEPLOYMENT)
    assert (
        kubectl("scale", "deploy", "web", "--replicas=5").stdout == "deployment.apps/web scaled\n"
    )
    assert kubectl("label", "deploy", "web", "tier=front").stdout == "deployment.apps/web labeled\n"
    assert (
        kubectl("annotate", "deploy", "web", "note=hi").stdout == "deployment.apps/web annotated\n"
    )
    live = kubectl_json(kubectl, "get", "deploy", "web")
    assert live["spec"]["replicas"] == 5
    assert live["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert live["metadata"]["annotations"]["note"] == "hi"
    shown = kubectl("get", "deploy", "-l", "tier=front", "--show-labels").stdout.splitlines()
    assert shown[1].split()[-1] == "app=web,tier=front"
    kubectl("label", "deploy", "web", "tier-")
    assert "tier" not in kubectl_json(kubectl, "get", "deploy", "web")["metadata"]["labels"]


def test_patch_merge_strategic_and_json(kubectl):
    kubectl("create", "-f", "-", stdin=DEPLOYMENT)
    kubectl("patch", "deploy", "web", "--type", "merge", "-p", '{"spec":{"replicas":3}}')
    kubectl(
        "patch",
        "deploy",
        "web",
        "--type",
        "json",
        "-p",
        '[{"op":"add","path":"/metadata/labels/env","value":"prod"}]',
    )
    # strategic merge: the container list is merged by name, not replaced
    kubectl(
        "patch",
        "deploy",
        "web",
        "--type",
        "strategic",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}',
    )
    live = kubectl_json(kubectl, "get", "deploy", "web")
    assert live["spec"]["replicas"] == 3
    assert live["metadata"]["labels"]["env"] == "prod"
    containers = live["spec"]["template"]["spec"]["containers"]
    assert sorted(c["name"] for c in containers) == ["nginx", "sidecar"]
    bad = kubectl(
        "patch",
        "deploy",
        "web",
        "--type",
        "json",
        "-p",
        '[{"op":"remove","path":"/nope"}]',
        check=False,
    )
    assert bad.returncode == 1
    assert "Unable to remove nonexistent key: nope" in bad.stderr


def test_delete(kubectl):
    kubectl("create", "-f", "-", stdin=CONFIGMAPS)
    assert kubectl("delete", "cm", "front").stdout == 'configmap "front" deleted\n'
    assert kubectl("delete", "cm", "-l", "tier=back").stdout == 'configmap "back" deleted\n'
    assert (
        kubectl("get", "cm", "-l", "tier").stderr.strip()
        == "No resources found in default namespace."
    )


def test_namespace_lifecycle(kubectl):
    # (`kubectl create namespace` sends protobuf, which kubesim does not decode)
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n"
    assert kubectl("create", "-f", "-", stdin=namespace).stdout == "namespace/team-a created\n"
    kubectl("create", "-n", "team-a", "-f", "-", stdin=CONFIGMAPS)
    assert kubectl("delete", "namespace", "team-a").stdout == 'namespace "team-a" deleted\n'
    gone = kubectl("get", "namespace", "team-a", check=False)
    assert 'namespaces "team-a" not found' in gone.stderr


def test_get_watch_until_request_timeout(kubectl, core, sim):
    kubectl("create", "-f", "-", stdin=CONFIGMAPS)

    def change_once_watching() -> None:
        deadline = time.monotonic() + 30
        while not sim.watch_expirers and time.monotonic() < deadline:
            time.sleep(0.05)  # kubectl lists first, then opens its watch
        core.patch_namespaced_config_map("front", "default", {"data": {"a": "2", "c": "3"}})
        core.delete_namespaced_config_map("back", "default")

    # kubectl prints the initial list, then one object per event, and exits 0 at the timeout
    changer = threading.Thread(target=change_once_watching)
    changer.start()
    watched = kubectl("get", "cm", "--watch", "--request-timeout=3s", "-o", "json")
    changer.join()
    # -o json prints one object per event, concatenated
    decoder, text, objects = json.JSONDecoder(), watched.stdout.strip(), []
    while text:
        obj, end = decoder.raw_decode(text)
        objects.append(obj)
        text = text[end:].strip()
    names = [o["metadata"]["name"] for o in objects]
    assert names[:2] == ["back", "front"]
    assert "front" in names[2:] and "back" in names[2:]
    assert any(o["metadata"]["name"] == "front" and o["data"].get("c") == "3" for o in objects)


def test_kubectl_sends_its_token_only_over_tls(kubesim_cluster):
    assert kubesim_cluster["kubeconfig"]["clusters"][0]["cluster"]["server"].startswith("https://")


def test_kubectl_without_a_token_is_unauthorized(kubesim_cluster, tmp_path):
    config = dict(kubesim_cluster["kubeconfig"])
    config["users"] = [{"name": config["users"][0]["name"], "user": {"token": "wrong"}}]
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(path), "get", "cm"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "You must be logged in to the server" in result.stderr


def test_auth_can_i_and_whoami(kubectl):
    assert kubectl("auth", "can-i", "delete", "deployments").stdout == "yes\n"
    assert "kubesim-admin" in kubectl("auth", "whoami").stdout


def test_get_raw_reaches_the_cluster_named_by_the_token(kubectl):
    # kubectl --raw drops the server URL's /clusters/{name} path
    raw = json.loads(kubectl("get", "--raw", "/api/v1/namespaces/default").stdout)
    assert raw["kind"] == "Namespace" and raw["metadata"]["name"] == "default"


def test_unknown_fields_fail_strict_validation(kubectl):
    bad = DEPLOYMENT.replace("replicas: 2", "replicas: 2\n  replica: 3")
    result = kubectl("create", "-f", "-", stdin=bad, check=False)
    assert result.returncode == 1
    assert (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'unknown field "spec.replica"' in result.stderr
    )
    warned = kubectl("create", "--validate=warn", "-f", "-", stdin=bad)
    assert 'unknown field "spec.replica"' in warned.stderr
    assert "replica" not in kubectl_json(kubectl, "get", "deploy", "web")["spec"]


def test_port_forward_is_refused_plainly(kubectl):
    # No kubelet runs here: the pod is marked Running, as kubectl checks before it upgrades.
    kubectl("run", "web", "--image=nginx:1.27", "--port=80")
    kubectl(
        "patch", "pod", "web", "--subresource=status", "--type=merge",
        "-p", '{"status": {"phase": "Running"}}',
    )  # fmt: skip
    result = kubectl("port-forward", "pod/web", "18080:80", check=False, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: error upgrading connection: kubesim forwards no ports"
    # Without an upgrade, the answer kube-apiserver gives a client that cannot stream.
    plain = kubectl(
        "create", "--raw", "/api/v1/namespaces/default/pods/web/portforward?ports=80",
        "-f", "-", stdin="{}", check=False,
    )  # fmt: skip
    assert plain.returncode == 1
    assert plain.stderr.strip() == "Error from server (BadRequest): Upgrade request required"
