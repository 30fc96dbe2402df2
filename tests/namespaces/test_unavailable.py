"""While Kubernetes answers 500 or 429 or refuses connections, a quota change and the
YAML pages say "Kubernetes is unavailable, try again", in the portal and the API; never a
500 (hole 3)."""

import pytest

from apps.configs import services as config_services
from apps.namespaces import services
from apps.namespaces.models import Namespace
from tests.clusters.test_faults import _fast, faults  # noqa: F401

UNAVAILABLE = "Kubernetes is unavailable"
FAULTS = {
    "500": {"error_rate": 1.0, "error_code": 500},
    "429": {"error_rate": 1.0, "error_code": 429, "retry_after": 1},
    "refused": {"refuse": True},
}


@pytest.fixture
def shop(org, cluster):
    namespace = services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota={"pods": "10"}
    )
    services.set_members(org.projadmin, namespace, [org.member])
    return namespace


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_quota_change_and_yaml_pages_while_kubernetes_is_down(
    org,
    portal,
    api,
    cluster,
    shop,
    faults,  # noqa: F811
    fault,
):
    configmap = config_services.create_configmap(
        org.member, namespace=shop, name="settings", data={"a": "1"}
    )
    faults(cluster.name, **FAULTS[fault])
    admin = portal("projadmin")
    page = admin.post(f"/namespaces/{shop.pk}/quota/", {"pods": "20"})
    assert page.status_code == 200 and UNAVAILABLE in page.content.decode()
    answer = api("projadmin").patch(
        f"/api/v1/namespaces/{shop.pk}/", {"quota": {"pods": "20"}}, format="json"
    )
    assert answer.status_code in (400, 503), answer.content
    assert UNAVAILABLE in str(answer.json())
    assert Namespace.objects.get(pk=shop.pk).quota_hard["pods"] == "10"

    # The namespace's YAML is read live: the page says Kubernetes did not answer.
    page = admin.get(f"/namespaces/{shop.pk}/yaml/")
    assert page.status_code == 503 and UNAVAILABLE in page.content.decode()
    assert "Apply" not in page.content.decode()
    answer = api("projadmin").get(f"/api/v1/namespaces/{shop.pk}/yaml/")
    assert answer.status_code == 503 and UNAVAILABLE in answer.content.decode()
    # A mirrored object's YAML falls back to the last version seen.
    member = portal("member")
    page = member.get(f"/configmaps/{configmap.pk}/yaml/")
    assert page.status_code == 200 and "name: settings" in page.content.decode()
    answer = api("member").get(f"/api/v1/configmaps/{configmap.pk}/yaml/")
    assert answer.status_code == 200 and "name: settings" in answer.json()["yaml"]
    created = member.post(
        "/configmaps/add/yaml/",
        {
            "namespace": shop.pk,
            "yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: more}\ndata: {b: '2'}\n",
        },
    )
    assert created.status_code == 200 and UNAVAILABLE in created.content.decode()
