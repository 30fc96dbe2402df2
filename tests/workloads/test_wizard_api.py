"""The wizard over the API: the same structured body the portal's forms make."""

import pytest
import yaml
from kubernetes import client as k8s

from apps.namespaces import services as ns_services
from apps.workloads import tasks
from apps.workloads.models import Workload


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.1)


def body(namespace, **extra):
    return {
        "namespace": namespace.pk,
        "kind": "Deployment",
        "name": "api-web",
        "replicas": 2,
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "requests_cpu": "100m",
                "readiness_type": "http",
                "readiness_port": "80",
                "readiness_period": 3,
            }
        ],
        "ports": [{"port": 80, "name": "http"}],
        "env": [{"name": "MODE", "value": "prod"}],
        "volumes": [{"name": "scratch", "type": "emptydir"}],
        "mounts": [{"volume": "scratch", "path": "/scratch"}],
        "preset": "spread",
        **extra,
    }


def test_preview_then_create_through_the_api(org, api, shop):
    client = api("member")
    preview = client.post("/api/v1/workloads/preview/", body(shop), format="json")
    assert preview.status_code == 200, preview.content
    answer = preview.json()
    assert answer["ok"] and answer["errors"] == {} and "kind: Deployment" in answer["yaml"]
    spec = answer["manifest"]["spec"]["template"]["spec"]
    assert spec["containers"][0]["readinessProbe"]["periodSeconds"] == 3
    assert not Workload.objects.filter(name="api-web").exists()

    created = client.post("/api/v1/workloads/", body(shop), format="json")
    assert created.status_code == 201, created.content
    web = Workload.objects.get(pk=created.json()["id"])
    assert web.kind == "Deployment" and web.desired == 2

    data = client.get(f"/api/v1/workloads/{web.pk}/form/").json()
    assert data["data"]["containers"][0]["image"] == "nginx:1.27" and data["resource_version"]
    edit = {**data["data"], "resource_version": data["resource_version"], "replicas": 3}
    preview = client.post(f"/api/v1/workloads/{web.pk}/preview/", edit, format="json").json()
    assert "+  replicas: 3" in preview["diff"]
    changed = client.put(f"/api/v1/workloads/{web.pk}/form/", edit, format="json")
    # the rollout of the new count is followed: 202 with the Operation
    assert changed.status_code == 202 and changed.json()["kind"] == "workload.update"
    assert Workload.objects.get(pk=web.pk).desired == 3
    apps = k8s.AppsV1Api(shop.cluster.kube().api_client)
    assert apps.read_namespaced_deployment("api-web", "shop").spec.replicas == 3
    stale = client.put(f"/api/v1/workloads/{web.pk}/form/", edit, format="json")
    assert stale.status_code == 400 and "Reload" in str(stale.json())


def test_an_edit_is_refused_only_when_someone_changed_what_it_shows(org, api, shop):
    client = api("member")
    created = client.post("/api/v1/workloads/", body(shop), format="json")
    web = Workload.objects.get(pk=created.json()["id"])
    apps = k8s.AppsV1Api(shop.cluster.kube().api_client)
    seen = client.get(f"/api/v1/workloads/{web.pk}/form/").json()
    # Kubernetes' own bookkeeping moves the resourceVersion: not a conflict.
    apps.patch_namespaced_deployment(
        "api-web", "shop", {"metadata": {"annotations": {"kubernetes.io/change-cause": "ci"}}}
    )
    edit = {**seen["data"], "resource_version": seen["resource_version"], "replicas": 3}
    assert client.put(f"/api/v1/workloads/{web.pk}/form/", edit, format="json").status_code == 202
    assert apps.read_namespaced_deployment("api-web", "shop").spec.replicas == 3
    # Someone else's change to what the form shows is one: the edit is refused, not merged.
    seen = client.get(f"/api/v1/workloads/{web.pk}/form/").json()
    apps.patch_namespaced_deployment("api-web", "shop", {"metadata": {"labels": {"team": "b"}}})
    edit = {**seen["data"], "resource_version": seen["resource_version"], "replicas": 4}
    refused = client.put(f"/api/v1/workloads/{web.pk}/form/", edit, format="json")
    assert refused.status_code == 400 and "Reload" in str(refused.json())
    live = apps.read_namespaced_deployment("api-web", "shop")
    assert (live.spec.replicas, live.metadata.labels["team"]) == (3, "b")


def test_refusals_are_400_by_field_path(org, api, cluster):
    small = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="tiny", quota={"limits.cpu": "1"}
    )
    ns_services.set_members(org.projadmin, small, [org.member])
    client = api("member")
    big = body(small)
    big["containers"][0]["limits_cpu"] = "2"
    preview = client.post("/api/v1/workloads/preview/", big, format="json").json()
    assert not preview["ok"] and "exceeded quota" in " ".join(
        preview["errors"]["containers.0.limits_cpu"]
    )
    refused = client.post("/api/v1/workloads/", big, format="json")
    assert refused.status_code == 400 and "containers.0.limits_cpu" in refused.json()
    bad = client.post("/api/v1/workloads/", {**body(small), "containers": []}, format="json")
    assert bad.status_code == 400
    typed = client.post(
        "/api/v1/workloads/", {**body(small), "ports": [{"port": "eighty"}]}, format="json"
    )
    assert typed.status_code == 400 and "ports" in typed.json()
    assert not Workload.objects.filter(namespace=small).exists()


def test_another_projects_namespace_is_refused(org, api, lab):
    client = api("member")
    refused = client.post("/api/v1/workloads/", body(lab), format="json")
    assert refused.status_code == 400 and "namespace" in refused.json()
    assert client.post("/api/v1/workloads/preview/", body(lab), format="json").status_code == 400


def test_a_yaml_edit_is_refused_only_when_someone_changed_what_it_shows(org, api, shop):
    client = api("member")
    created = client.post("/api/v1/workloads/", body(shop), format="json")
    web = Workload.objects.get(pk=created.json()["id"])
    apps = k8s.AppsV1Api(shop.cluster.kube().api_client)
    url = f"/api/v1/workloads/{web.pk}/yaml/"
    text = client.get(url).json()["yaml"]
    # Only its status moves meanwhile (the pods come up): the edit goes in.
    apps.patch_namespaced_deployment_status("api-web", "shop", {"status": {"collisionCount": 7}})
    loaded = yaml.safe_load(text)["metadata"]["resourceVersion"]
    assert apps.read_namespaced_deployment("api-web", "shop").metadata.resource_version != loaded
    edited = text.replace("replicas: 2", "replicas: 3", 1)
    answer = client.put(url, {"yaml": edited}, format="json")
    # A new replica count rolls out: followed like a wizard edit, 202 with the Operation.
    assert answer.status_code == 202, answer.content
    assert answer.json()["kind"] == "workload.update"
    assert apps.read_namespaced_deployment("api-web", "shop").spec.replicas == 3
    # Someone else's change to what the editor showed is a conflict, and nothing is lost.
    text = client.get(url).json()["yaml"]
    apps.patch_namespaced_deployment("api-web", "shop", {"metadata": {"labels": {"team": "b"}}})
    refused = client.put(
        url, {"yaml": text.replace("replicas: 3", "replicas: 4", 1)}, format="json"
    )
    assert refused.status_code == 400 and "changed by someone else" in str(refused.json())
    live = apps.read_namespaced_deployment("api-web", "shop")
    assert (live.spec.replicas, live.metadata.labels["team"]) == (3, "b")


def test_a_yaml_edit_of_metadata_alone_answers_the_yaml(org, api, shop):
    client = api("member")
    created = client.post("/api/v1/workloads/", body(shop), format="json")
    url = f"/api/v1/workloads/{created.json()['id']}/yaml/"
    text = client.get(url).json()["yaml"]
    edited = text.replace("labels:\n", "labels:\n    team: web\n", 1)
    answer = client.put(url, {"yaml": edited}, format="json")
    assert answer.status_code == 200, answer.content
    assert "team: web" in answer.json()["yaml"]
