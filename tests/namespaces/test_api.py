"""The namespaces API: Kubernetes' quota keys, members, assign, delete, the permission matrix."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from kubernetes import client as k8s

from apps.kube.sync import sync_cluster
from apps.namespaces import services
from apps.namespaces.models import Namespace

QUOTA = {
    "requests.cpu": "2",
    "limits.cpu": "4",
    "requests.memory": "4Gi",
    "limits.memory": "8Gi",
    "requests.storage": "20Gi",
    "pods": "10",
}


@pytest.fixture
def shop(org, cluster):
    return services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota=QUOTA
    )


@pytest.fixture
def lab(org, cluster):
    return services.create_namespace(
        org.admin, cluster=cluster, project=org.data, name="lab", quota={"pods": "5"}
    )


def _names(response):
    assert response.status_code == 200, response.content
    return sorted(item["name"] for item in response.json()["results"])


def test_create_with_kubernetes_quota_keys(org, api, cluster):
    body = {"cluster": cluster.pk, "project": org.web.pk, "name": "api-ns", "quota": QUOTA}
    response = api("admin").post("/api/v1/namespaces/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "api-ns" and data["project"] == org.web.pk
    assert data["cluster"] == cluster.pk and data["status"] == "Active"
    assert data["quota"] == QUOTA
    assert isinstance(data["quota_used"], dict)
    core = k8s.CoreV1Api(cluster.kube().api_client)
    assert core.read_namespaced_resource_quota("kcs-quota", "api-ns").spec.hard == QUOTA

    sync_cluster(cluster)  # the quota's status, as the beat schedule brings it in
    detail = api("projadmin").get(f"/api/v1/namespaces/{data['id']}/").json()
    assert detail["quota"] == QUOTA
    assert detail["quota_used"]["pods"] == "0" and detail["quota_used"]["limits.cpu"] == "0"


def test_bad_quota_and_names_are_400_with_the_reason(org, api, cluster):
    body = {
        "cluster": cluster.pk,
        "project": org.web.pk,
        "name": "kube-mine",
        "quota": {"pods": "lots", "cpu.shares": "2"},
    }
    response = api("admin").post("/api/v1/namespaces/", body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "reserved" in str(errors["name"])
    assert "'lots' is not a quantity" in str(errors["quota"])
    assert "cpu.shares is not a quota this portal sets" in str(errors["quota"])


def test_quota_kubernetes_cannot_hold_is_a_400_saying_the_maximum(org, api, cluster):
    body = {"cluster": cluster.pk, "project": org.web.pk, "name": "huge", "quota": {}}
    body["quota"] = {"pods": "1e23", "requests.cpu": "1e16"}
    response = api("admin").post("/api/v1/namespaces/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "quota": [
            "pods: 1e23 is more than Kubernetes can hold; the most is 9223372036854775807.",
            "requests.cpu: 1e16 is more than Kubernetes can hold; "
            "the most is 9223372036854775807m.",
        ]
    }
    assert not Namespace.objects.filter(name="huge").exists()


def test_quota_beyond_the_cluster_is_saved_and_answered_with_warnings(org, api, cluster):
    body = {"cluster": cluster.pk, "project": org.web.pk, "name": "big"}
    body["quota"] = {"requests.memory": "100Gi", "pods": "10"}
    client = api("admin")
    response = client.post("/api/v1/namespaces/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["warnings"] == [
        "requests.memory: 100Gi is more than the cluster's nodes can allocate in all (48Gi)."
    ]
    assert response.json()["quota"] == body["quota"]
    url = f"/api/v1/namespaces/{response.json()['id']}/"
    response = client.patch(url, {"quota": {"pods": "500"}}, format="json")
    assert response.status_code == 200
    assert response.json()["warnings"] == [
        "requests.memory: 100Gi is more than the cluster's nodes can allocate in all (48Gi).",
        "pods: 500 is more than the cluster's nodes can allocate in all (330).",
    ]
    assert response.json()["quota"] == {"requests.memory": "100Gi", "pods": "500"}
    assert client.get(url).json()["warnings"] == []  # a read saves nothing, warns of nothing


@pytest.mark.parametrize(
    "username, visible",
    [
        ("admin", ["lab", "shop"]),
        ("deptadmin", ["lab", "shop"]),
        ("projadmin", ["shop"]),
        ("member", []),
        ("outsider", []),
    ],
)
def test_list_by_role(org, api, shop, lab, username, visible):
    names = _names(api(username).get("/api/v1/namespaces/"))
    # Cloud admins also see the cluster's own namespaces (unassigned).
    assert [n for n in names if n in ("lab", "shop")] == visible
    if username != "admin":
        assert names == visible


def test_filter_by_cluster_project_and_unassigned(org, api, shop, lab, cluster):
    client = api("admin")
    assert _names(client.get(f"/api/v1/namespaces/?project={org.web.pk}")) == ["shop"]
    on_cluster = _names(client.get(f"/api/v1/namespaces/?cluster={cluster.pk}"))
    assert {"shop", "lab", "kube-system"} <= set(on_cluster)
    unassigned = _names(client.get("/api/v1/namespaces/?unassigned=true"))
    assert "kube-system" in unassigned and "shop" not in unassigned


def test_patch_quota_merges_and_refuses_going_below_use(org, api, cluster):
    ns = services.create_namespace(
        org.admin,
        cluster=cluster,
        project=org.web,
        name="busy",
        quota={"configmaps": "6", "pods": "4"},
    )
    core = k8s.CoreV1Api(cluster.kube().api_client)
    for i in range(3):
        core.create_namespaced_config_map("busy", {"metadata": {"name": f"c{i}"}})
    client = api("projadmin")
    url = f"/api/v1/namespaces/{ns.pk}/"
    response = client.patch(url, {"quota": {"configmaps": "2"}}, format="json")
    assert response.status_code == 400
    errors = response.json()["quota"]
    assert errors[0] == "The quota cannot be lower than what is in use."
    assert any(e.startswith("configmaps: ") and "more than 2" in e for e in errors)

    response = client.patch(url, {"quota": {"configmaps": "9", "pods": None}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["quota"] == {"configmaps": "9"}
    assert core.read_namespaced_resource_quota("kcs-quota", "busy").spec.hard == {"configmaps": "9"}
    # Name, cluster and project do not change.
    response = client.patch(url, {"name": "other", "project": org.data.pk}, format="json")
    assert response.status_code == 200
    assert Namespace.objects.get(pk=ns.pk).name == "busy"
    assert Namespace.objects.get(pk=ns.pk).project == org.web


def test_members_are_set_by_username_from_the_project_only(org, api, shop):
    client = api("projadmin")
    url = f"/api/v1/namespaces/{shop.pk}/members/"
    assert client.get(url).json() == {"users": []}
    response = client.post(url, {"users": ["outsider"]}, format="json")
    assert response.status_code == 400
    assert "Not members of the project: outsider" in str(response.json())
    response = client.post(url, {"users": ["nobody-by-this-name"]}, format="json")
    assert response.status_code == 400
    response = client.post(url, {"users": ["member"]}, format="json")
    assert response.status_code == 200 and response.json() == {"users": ["member"]}
    assert _names(api("member").get("/api/v1/namespaces/")) == ["shop"]


def test_member_sees_an_opened_namespace_but_changes_nothing(org, api, shop, lab):
    services.set_members(org.projadmin, shop, [org.member])
    member = api("member")
    url = f"/api/v1/namespaces/{shop.pk}/"
    assert member.get(url).status_code == 200
    assert member.patch(url, {"quota": {"pods": "1"}}, format="json").status_code == 403
    assert member.delete(url).status_code == 403
    assert member.post(url + "members/", {"users": []}, format="json").status_code == 403
    assert member.post(url + "assign/", {"project": org.web.pk}, format="json").status_code == 403
    body = {"cluster": shop.cluster_id, "project": org.web.pk, "name": "mine", "quota": {}}
    response = member.post("/api/v1/namespaces/", body, format="json")
    assert response.status_code == 400 and "project" in response.json()
    shop.refresh_from_db()
    assert shop.quota_hard["pods"] == "10" and shop.phase == "Active"
    assert not Namespace.objects.filter(name="mine").exists()
    assert member.get(f"/api/v1/namespaces/{lab.pk}/").status_code == 404


def test_outsider_gets_404_for_another_projects_namespace(org, api, shop):
    outsider = api("outsider")
    url = f"/api/v1/namespaces/{shop.pk}/"
    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, {"quota": {"pods": "1"}}, format="json").status_code == 404
    assert outsider.delete(url).status_code == 404
    assert outsider.get(url + "members/").status_code == 404
    assert outsider.post(url + "members/", {"users": []}, format="json").status_code == 404
    assert outsider.get(url + "yaml/").status_code == 404
    assert Namespace.objects.get(pk=shop.pk).phase == "Active"


def test_another_projects_id_in_the_body_is_refused_like_a_missing_one(org, api, shop, cluster):
    body = {"cluster": cluster.pk, "project": org.data.pk, "name": "sneaky", "quota": {}}
    response = api("projadmin").post("/api/v1/namespaces/", body, format="json")
    assert response.status_code == 400
    assert response.json()["project"] == [f'Invalid pk "{org.data.pk}" - object does not exist.']
    # A cluster the outsider cannot see: the same answer as an id that does not exist.
    body = {"cluster": cluster.pk, "project": org.data.pk, "name": "sneaky", "quota": {}}
    response = api("outsider").post("/api/v1/namespaces/", body, format="json")
    assert response.status_code == 400
    assert response.json()["cluster"] == [f'Invalid pk "{cluster.pk}" - object does not exist.']
    assert not Namespace.objects.filter(name="sneaky").exists()


def test_delete_answers_202_with_terminating(org, api, shop):
    response = api("deptadmin").delete(f"/api/v1/namespaces/{shop.pk}/")
    assert response.status_code in (202, 204)
    if response.status_code == 202:
        assert response.json()["status"] == "Terminating"
        assert Namespace.objects.get(pk=shop.pk).phase == "Terminating"
    else:
        assert not Namespace.objects.filter(pk=shop.pk).exists()


def test_cloud_admin_assigns_an_unassigned_namespace(org, api, cluster):
    k8s.CoreV1Api(cluster.kube().api_client).create_namespace({"metadata": {"name": "legacy"}})
    sync_cluster(cluster)
    legacy = Namespace.objects.get(cluster=cluster, name="legacy")
    system = Namespace.objects.get(cluster=cluster, name="default")
    # Tenants do not see unassigned namespaces at all.
    url = f"/api/v1/namespaces/{legacy.pk}/assign/"
    assert api("deptadmin").post(url, {"project": org.data.pk}, format="json").status_code == 404
    response = api("admin").post(url, {"project": org.data.pk}, format="json")
    assert response.status_code == 200 and response.json()["project"] == org.data.pk
    assert _names(api("outsider").get("/api/v1/namespaces/")) == []
    assert "legacy" in _names(api("deptadmin").get("/api/v1/namespaces/"))
    response = api("admin").post(
        f"/api/v1/namespaces/{system.pk}/assign/", {"project": org.data.pk}, format="json"
    )
    assert response.status_code == 400
    assert "cannot be given to a project" in str(response.json())


def test_yaml_is_the_live_namespace(org, api, shop):
    response = api("projadmin").get(f"/api/v1/namespaces/{shop.pk}/yaml/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "kind: Namespace" in text and "name: shop" in text
    assert "managedFields" not in text and "resourceVersion" not in text


def test_openapi_documents_the_quota_keys(org, api):
    schema = api("admin").get("/api/schema/?format=json").json()
    assert "/api/v1/namespaces/" in schema["paths"]
    assert "/api/v1/namespaces/{id}/members/" in schema["paths"]
    assert "/api/v1/namespaces/{id}/assign/" in schema["paths"]
    components = schema["components"]["schemas"]
    quota = components["NamespaceRequest"]["properties"]["quota"]
    assert {"requests.cpu", "limits.memory", "requests.storage", "pods"} <= set(quota["properties"])
    assert "get" in schema["paths"]["/api/v1/namespaces/"]
    parameters = {p["name"] for p in schema["paths"]["/api/v1/namespaces/"]["get"]["parameters"]}
    assert {"cluster", "project"} <= parameters


@pytest.mark.parametrize("username", ["admin", "deptadmin"])
def test_list_endpoint_query_count_does_not_grow_with_rows(org, api, cluster, username):
    client = api(username)

    def grow(n):
        Namespace.objects.bulk_create(
            Namespace(cluster=cluster, project=org.web, name=f"g-{n}-{i}", phase="Active")
            for i in range(n)
        )

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/namespaces/?limit=1000")
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["results"])

    grow(3)
    small, few = count()
    grow(300)
    large, many = count()
    assert many >= few + 300
    assert small == large, f"{small} queries for few rows, {large} for many"
