"""Refused and failed actions are in the audit trail, with their reason, in every surface."""

import pytest
from kubernetes import client as k8s

from apps.clusters import services as cluster_services
from apps.configs import services
from apps.configs.models import ConfigMap
from apps.core.models import AuditEvent
from apps.kube import bootstrap
from apps.kube.errors import KubeError
from apps.namespaces import services as ns_services
from tests.clusters.helpers import unique_name
from tests.kube.conftest import eventually


def failures(action):
    return list(AuditEvent.objects.filter(action=action, result="failure").order_by("pk"))


def test_a_refused_permission_is_one_failed_event(org, portal, shop, lab):
    configmap = services.create_configmap(org.admin, namespace=lab, name="lab-cfg", data={"a": "1"})
    # The member of web-shop does not work in data-lab's namespace: refused, as not found.
    response = portal("member").post(f"/configmaps/{configmap.pk}/delete/", {})
    assert response.status_code == 404
    [event] = failures("configmap.delete")
    assert (event.actor_name, event.target_name, event.namespace) == ("member", "lab-cfg", "lab")
    assert event.reason == "Not found, or not visible to this user."
    assert event.project == org.data  # data-lab's admins see who tried


CREATE_PAGES = {
    "/configmaps/add/": ("configmap.create", "configs.configmap"),
    "/configmaps/add/yaml/": ("configmap.create", "configs.configmap"),
    "/secrets/add/opaque/": ("secret.create", "configs.secret"),
    "/secrets/add/tls/": ("secret.create", "configs.secret"),
    "/secrets/add/yaml/": ("secret.create", "configs.secret"),
}


def test_a_create_refused_for_the_role_is_audited_on_every_create_page(org, portal, shop):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("nobody")  # in no project: no configuration centre
    org.users["nobody"] = get_user_model().objects.get(username="nobody")
    client = portal("nobody")
    assert client.get("/secrets/add/").status_code == 403
    seen = []
    for url, (action, target_type) in CREATE_PAGES.items():
        assert client.get(url).status_code == 403, url
        response = client.post(url, {"namespace": shop.pk, "name": "leak", "yaml": ""})
        assert response.status_code == 403, url
        [event] = [e for e in failures(action) if e.pk not in seen]
        assert (event.actor_name, event.target_type, event.reason) == (
            "nobody",
            target_type,
            "Your role does not include this page.",
        ), url
        if "yaml" not in url:
            assert event.target_name == "leak", url
        seen.append(event.pk)
    assert not ConfigMap.objects.filter(name="leak").exists()


def test_a_create_form_refused_before_the_service_is_audited(org, portal, shop, lab):
    client = portal("member")  # not in data-lab's namespace
    response = client.post(
        "/secrets/add/opaque/",
        {
            "namespace": lab.pk,
            "name": "leak",
            "data-TOTAL_FORMS": "1",
            "data-INITIAL_FORMS": "0",
            "data-0-key": "k",
            "data-0-value": "v",
        },
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    [event] = failures("secret.create")
    assert (event.actor_name, event.target_name, event.target_type) == (
        "member",
        "leak",
        "configs.secret",
    )
    assert event.reason.startswith("namespace: Select a valid choice")
    # Refused for its rows alone: their errors are the reason (keys, never values).
    rows = {"data-TOTAL_FORMS": "2", "data-INITIAL_FORMS": "0"}
    rows.update({"data-0-key": "k", "data-0-value": "one", "data-1-key": "k", "data-1-value": "2"})
    response = client.post("/configmaps/add/", {"namespace": shop.pk, "name": "cfg", **rows})
    assert response.status_code == 200 and "The key k is used twice." in response.content.decode()
    [event] = failures("configmap.create")
    assert (event.target_name, event.reason) == ("cfg", "The key k is used twice.")
    assert not ConfigMap.objects.filter(name="cfg").exists()


def test_api_refusals_before_the_service_are_audited(org, api, shop, lab):
    configmap = services.create_configmap(org.admin, namespace=lab, name="lab-cfg", data={})
    client = api("member")
    assert (
        client.patch(f"/api/v1/configmaps/{configmap.pk}/", {"data": {}}, format="json").status_code
        == 404
    )
    assert client.delete("/api/v1/configmaps/999999/").status_code == 404
    response = client.post(
        "/api/v1/configmaps/", {"namespace": lab.pk, "name": "mine"}, format="json"
    )
    assert response.status_code == 400  # a namespace they may not work in
    update, gone, create = (
        failures("configmap.update") + failures("configmap.delete") + failures("configmap.create")
    )
    assert (update.target_name, update.project, update.actor_name) == (
        "lab-cfg",
        org.data,
        "member",
    )
    assert (gone.target_name, gone.project) == ("#999999", None)
    assert create.target_name == "mine" and create.reason.startswith("namespace:")


def test_a_validation_refusal_in_the_api_is_audited_with_the_fields(org, api, shop):
    response = api("member").post(
        "/api/v1/configmaps/",
        {"namespace": shop.pk, "name": "Bad_Name", "data": {"a": "1"}},
        format="json",
    )
    assert response.status_code == 400
    [event] = failures("configmap.create")
    assert event.actor_name == "member"
    assert event.target_name == "Bad_Name" and event.target_type == "configs.configmap"
    assert event.reason.startswith("name: Use lowercase letters")
    assert (event.cluster, event.namespace) == (shop.cluster.name, "shop")


def _configmaps(namespace) -> set[str]:
    """the ConfigMaps in the namespace, as Kubernetes has them"""
    core = k8s.CoreV1Api(namespace.cluster.kube().api_client)
    return {c.metadata.name for c in core.list_namespaced_config_map(namespace.name).items}


def test_a_quota_refusal_carries_kubernetes_words(org, shop):
    # Kubernetes keeps kube-root-ca.crt in every namespace, and it counts, as on a real
    # cluster: with room for two, the first one fits, the second does not.
    eventually(lambda: "kube-root-ca.crt" in _configmaps(shop))
    ns_services.update_quota(org.admin, shop, {"configmaps": "2"})
    services.create_configmap(org.member, namespace=shop, name="one", data={})
    with pytest.raises(Exception):  # noqa: B017  (the form error is what the user sees)
        services.create_configmap(org.member, namespace=shop, name="two", data={})
    [event] = failures("configmap.create")
    assert "exceeded quota" in event.reason
    assert not ConfigMap.objects.filter(name="two").exists()


def test_a_conflict_is_audited_and_the_edit_is_not_applied(org, shop):
    configmap = services.create_configmap(org.member, namespace=shop, name="c", data={"a": "1"})
    core = k8s.CoreV1Api(shop.cluster.kube().api_client)
    core.patch_namespaced_config_map("c", "shop", {"data": {"a": "2"}})
    with pytest.raises(Exception):  # noqa: B017
        services.update_configmap(org.member, configmap, data={"a": "3"})
    [event] = failures("configmap.update")
    assert "changed by someone else" in event.reason
    assert core.read_namespaced_config_map("c", "shop").data == {"a": "2"}


def test_a_kubernetes_outage_is_audited(org, shop, kubesim):
    kubesim.admin("PUT", f"/clusters/{shop.cluster.name}/faults", {"refuse": True})
    try:
        with pytest.raises(Exception):  # noqa: B017
            services.create_configmap(org.member, namespace=shop, name="c", data={})
    finally:
        kubesim.admin("PUT", f"/clusters/{shop.cluster.name}/faults", {})
    [event] = failures("configmap.create")
    assert "Kubernetes is unavailable" in event.reason


def test_nested_services_record_one_failure(org, cluster):
    """create_storage_class calls set_default: a refusal is one event, of the outer action."""
    from apps.storage import services as storage

    with pytest.raises(Exception):  # noqa: B017
        storage.create_storage_class(org.member, cluster=cluster, name="x", provisioner="a/b")
    assert [e.action for e in AuditEvent.objects.filter(result="failure")] == [
        "storageclass.create"
    ]


def test_a_failed_operation_fails_the_event_that_started_it(org, run_tasks, monkeypatch):
    def forbidden(kube):
        raise KubeError("customresourcedefinitions is forbidden", status=403, reason="Forbidden")

    monkeypatch.setattr(bootstrap, "ensure_application_crd", forbidden)
    cluster, operation = run_tasks(
        cluster_services.create_cluster, org.admin, name=unique_name(), workers=0
    )
    operation.refresh_from_db()
    assert operation.status == "failed"
    event = AuditEvent.objects.get(action="cluster.create", target_id=str(cluster.pk))
    assert event.result == "failure"
    assert event.reason == "customresourcedefinitions is forbidden"
    assert event.operation == operation


def test_failures_are_found_with_result_failure(org, api, portal, shop):
    services.create_configmap(org.member, namespace=shop, name="ok", data={})
    api("member").post("/api/v1/configmaps/", {"namespace": shop.pk, "name": "-"}, format="json")
    listed = api("projadmin").get("/api/v1/audit-events/?result=failure").json()["results"]
    assert [(e["action"], e["result"]) for e in listed] == [("configmap.create", "failure")]
    assert listed[0]["reason"].startswith("name:")
    page = portal("projadmin").get("/audit/?result=failure").content.decode()
    page = page.replace("<wbr>", "")  # line-break opportunities in technical names
    assert "configmap.create" in page and "Use lowercase letters" in page
    assert ">ok<" not in page
