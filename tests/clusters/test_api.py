"""The clusters and nodes API, as an integration would use it."""

import yaml
from kubernetes import client as k8s

from apps.clusters.models import Cluster, Node
from apps.core.models import AuditEvent
from apps.namespaces.models import Namespace


def _create(api, run_tasks, **body):
    response = run_tasks(api("admin").post, "/api/v1/clusters/", body, format="json")
    return response


def test_create_answers_202_with_the_operation_then_runs(org, api, run_tasks):
    response = _create(
        api,
        run_tasks,
        name="api-made",
        provider="sandbox",
        version="1.32.0",
        control_plane_nodes=1,
        workers=2,
        zones=["z1", "z2"],
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["name"] == "api-made" and body["status"] == "provisioning"
    operation = api("admin").get(f"/api/v1/operations/{body['operation']['id']}/").json()
    assert (operation["status"], operation["progress"], operation["error"]) == (
        "succeeded",
        100,
        "",
    )
    cluster = api("admin").get(f"/api/v1/clusters/{body['id']}/").json()
    assert cluster["status"] == "running" and cluster["nodes_total"] == 3
    assert "kubeconfig" not in cluster
    nodes = api("admin").get(f"/api/v1/nodes/?cluster={body['id']}").json()["results"]
    assert sorted(n["role"] for n in nodes) == ["master", "worker", "worker"]


def test_bad_input_is_a_400_and_creates_nothing(org, api, run_tasks):
    response = _create(api, run_tasks, name="Bad_Name", control_plane_nodes=2, arch="sparc")
    assert response.status_code == 400
    errors = response.json()
    assert {"name", "control_plane_nodes", "arch"} <= set(errors)
    assert not Cluster.objects.exists()


def test_a_bad_zone_is_a_400_naming_it(org, api, run_tasks):
    response = _create(api, run_tasks, name="zoned", zones=["zone-a", "-zone-b"])
    assert response.status_code == 400
    assert list(response.json()) == ["zones"]
    assert "-zone-b is not a valid zone name" in response.json()["zones"][0]
    assert not Cluster.objects.exists()


def test_scale_out_node_actions_labels_taints(org, api, run_tasks):
    cluster_id = _create(api, run_tasks, name="ops", workers=1).json()["id"]
    admin = api("admin")
    response = run_tasks(
        admin.post, f"/api/v1/clusters/{cluster_id}/scale-out/", {"workers": 2}, format="json"
    )
    assert response.status_code == 202
    assert admin.get(f"/api/v1/operations/{response.json()['id']}/").json()["status"] == "succeeded"
    assert admin.get(f"/api/v1/clusters/{cluster_id}/").json()["nodes_total"] == 4
    refused = admin.post(
        f"/api/v1/clusters/{cluster_id}/scale-out/",
        {"workers": 1, "zone": "x" * 64},
        format="json",
    )
    assert refused.status_code == 400
    assert f"{'x' * 64} is not a valid zone name" in refused.json()["zone"][0]

    node = Node.objects.filter(cluster_id=cluster_id, role="worker").first()
    assert admin.post(f"/api/v1/nodes/{node.pk}/cordon/").json()["schedulable"] is False
    assert admin.post(f"/api/v1/nodes/{node.pk}/uncordon/").json()["schedulable"] is True
    patched = admin.patch(
        f"/api/v1/nodes/{node.pk}/",
        {"labels": {"disk": "ssd"}, "taints": [{"key": "gpu", "effect": "NoSchedule"}]},
        format="json",
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["labels"]["disk"] == "ssd"
    assert patched.json()["labels"]["kubernetes.io/hostname"] == node.name  # system label kept
    live = k8s.CoreV1Api(Cluster.objects.get(pk=cluster_id).kube().api_client).read_node(node.name)
    assert [(t.key, t.effect) for t in live.spec.taints] == [("gpu", "NoSchedule")]

    refused = admin.patch(
        f"/api/v1/nodes/{node.pk}/", {"labels": {"kubernetes.io/os": "windows"}}, format="json"
    )
    assert refused.status_code == 400
    assert "managed by Kubernetes" in str(refused.json())

    # A pod no controller manages: refused as kubectl drain does, unless forced.
    core = k8s.CoreV1Api(Cluster.objects.get(pk=cluster_id).kube().api_client)
    pod = {
        "metadata": {"name": "loner"},
        "spec": {
            "nodeName": node.name,
            "containers": [{"name": "c", "image": "nginx:1.27"}],
            "tolerations": [{"operator": "Exists"}],
        },
    }
    core.create_namespaced_pod("default", pod)
    refused = admin.post(f"/api/v1/nodes/{node.pk}/drain/", {}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["force"]
    assert "default/loner" in refused.json()["force"][0]
    assert not core.read_node(node.name).spec.unschedulable
    drained = run_tasks(
        admin.post, f"/api/v1/nodes/{node.pk}/drain/", {"force": True}, format="json"
    )
    assert drained.status_code == 202
    assert admin.get(f"/api/v1/operations/{drained.json()['id']}/").json()["status"] == "succeeded"


def test_kubeconfig_download_is_for_cloud_admins_and_audited(org, api, portal, run_tasks):
    cluster_id = _create(api, run_tasks, name="secret").json()["id"]
    response = api("admin").get(f"/api/v1/clusters/{cluster_id}/kubeconfig/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["kind"] == "Config"
    assert response["Cache-Control"] == "no-store"  # credentials stay out of caches
    page = portal("admin").get(f"/clusters/{cluster_id}/kubeconfig/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="cluster.kubeconfig.download").count() == 2

    Namespace.objects.create(cluster_id=cluster_id, name="shop", project=org.web)
    assert api("projadmin").get(f"/api/v1/clusters/{cluster_id}/").status_code == 200
    assert api("projadmin").get(f"/api/v1/clusters/{cluster_id}/kubeconfig/").status_code == 403
    assert api("member").get(f"/api/v1/clusters/{cluster_id}/kubeconfig/").status_code == 404


def test_cluster_permission_matrix(org, api, run_tasks):
    cluster_id = _create(api, run_tasks, name="shared", workers=1).json()["id"]
    Namespace.objects.create(cluster_id=cluster_id, name="shop", project=org.web)
    node = Node.objects.filter(cluster_id=cluster_id).first()
    expected_view = {
        "admin": 200,
        "deptadmin": 200,
        "projadmin": 200,
        "member": 404,
        "outsider": 404,
    }
    for username, code in expected_view.items():
        client = api(username)
        assert client.get(f"/api/v1/clusters/{cluster_id}/").status_code == code, username
        assert client.get(f"/api/v1/nodes/{node.pk}/").status_code == code, username
        listed = [c["id"] for c in client.get("/api/v1/clusters/").json()["results"]]
        assert (cluster_id in listed) == (code == 200), username
        if username == "admin":
            continue
        forbidden = 403 if code == 200 else 404
        assert client.post(f"/api/v1/nodes/{node.pk}/cordon/").status_code == forbidden
        assert (
            client.post(
                f"/api/v1/clusters/{cluster_id}/scale-out/", {"workers": 1}, format="json"
            ).status_code
            == forbidden
        )
        assert client.delete(f"/api/v1/clusters/{cluster_id}/").status_code == forbidden
        assert client.post("/api/v1/clusters/", {"name": "mine"}, format="json").status_code == 403
    assert Node.objects.get(pk=node.pk).schedulable
    assert not Cluster.objects.filter(name="mine").exists()


def test_cloud_admins_rename_and_describe_a_cluster(org, api, portal, run_tasks):
    cluster_id = _create(api, run_tasks, name="named").json()["id"]
    Namespace.objects.create(cluster_id=cluster_id, name="shop", project=org.web)
    response = api("admin").patch(
        f"/api/v1/clusters/{cluster_id}/",
        {"display_name": "Production", "description": "Shop traffic"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["display_name"] == "Production"
    assert AuditEvent.objects.filter(action="cluster.update").exists()
    refused = api("projadmin").patch(
        f"/api/v1/clusters/{cluster_id}/", {"display_name": "Mine"}, format="json"
    )
    assert refused.status_code == 403
    assert (
        api("admin")
        .patch(f"/api/v1/clusters/{cluster_id}/", {"name": "renamed"}, format="json")
        .json()["name"]
        == "named"
    )  # the name is fixed

    page = portal("admin").post(
        f"/clusters/{cluster_id}/edit/", {"display_name": "Prod", "description": ""}
    )
    assert page.status_code == 302
    assert Cluster.objects.get(pk=cluster_id).display_name == "Prod"
    assert portal("projadmin").get(f"/clusters/{cluster_id}/edit/").status_code == 403
