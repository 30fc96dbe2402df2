"""Pages follow the rows: a poll answers 204 until what the page shows has changed."""

from kubernetes import client as k8s

from apps.configs.models import ConfigMap
from apps.namespaces import services as ns_services
from apps.workloads.models import Pod

from .conftest import WAIT, eventually

LIVE = "data-live"
ROOT_CA = "kube-root-ca.crt"


def _token(html: str) -> str:
    start = html.index('"X-KCS-Live": "') + len('"X-KCS-Live": "')
    return html[start : html.index('"', start)]


def _settled(client, url: str, informer, namespace) -> dict:
    """The poll headers of a page rendered once the informer is done with ``namespace``.

    A new namespace's own ConfigMap (its kube-root-ca.crt) arrives from the watch a
    moment after the namespace is made, and moves the kind's token: a page rendered
    before it is written rightly answers its next poll with fresh rows. So wait for the
    row, then for the informer to have written (and counted) everything it received.
    """
    eventually(lambda: ConfigMap.objects.filter(namespace=namespace, name=ROOT_CA).exists())
    assert informer.writer.drained(WAIT)

    def attempt():
        poll = {
            "HTTP_HX_REQUEST": "true",
            "HTTP_X_KCS_LIVE": _token(client.get(url).content.decode()),
        }
        return client.get(url, **poll).status_code == 204 and poll

    return eventually(attempt)


def test_a_list_is_re_rendered_only_when_its_rows_change(org, portal, cluster, informer):
    shop = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota={}
    )
    client = portal("projadmin")
    assert LIVE in client.get("/configmaps/").content.decode()
    poll = _settled(client, "/configmaps/", informer, shop)
    assert client.get("/configmaps/", **poll).status_code == 204  # still nothing new

    k8s.CoreV1Api(cluster.kube().api_client).create_namespaced_config_map(
        "shop", {"metadata": {"name": "made-with-kubectl"}, "data": {"a": "1"}}
    )
    eventually(lambda: ConfigMap.objects.filter(namespace=shop, name="made-with-kubectl").exists())
    response = eventually(
        lambda: (r := client.get("/configmaps/", **poll)).status_code == 200 and r
    )
    fresh = response.content.decode()
    assert "made-with-kubectl" in fresh and 'id="results"' in fresh
    assert _token(fresh) != poll["HTTP_X_KCS_LIVE"]


def test_a_detail_page_says_when_its_object_is_gone(org, portal, cluster, informer):
    shop = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota={}
    )
    core = k8s.CoreV1Api(cluster.kube().api_client)
    core.create_namespaced_config_map("shop", {"metadata": {"name": "short-lived"}})
    row = eventually(lambda: ConfigMap.objects.filter(namespace=shop, name="short-lived").first())
    client = portal("projadmin")
    page = client.get(f"/configmaps/{row.pk}/").content.decode()
    poll = {"HTTP_HX_REQUEST": "true", "HTTP_X_KCS_LIVE": _token(page)}
    core.delete_namespaced_config_map("short-lived", "shop")
    eventually(lambda: not ConfigMap.objects.filter(pk=row.pk).exists())
    # The informer bumps the change counter just after it commits the row's removal, so
    # a poll between the two still answers 204 (nothing changed yet, as far as the page
    # can tell); the next poll, as the browser sends one every second, says it is gone.
    gone = eventually(
        lambda: (r := client.get(f"/configmaps/{row.pk}/", **poll)).status_code != 204 and r
    )
    assert gone.status_code == 200
    assert "no longer exists in Kubernetes" in gone.content.decode()
    assert LIVE not in gone.content.decode()  # polling stops
    # Without the poll header it is the usual 404.
    assert client.get(f"/configmaps/{row.pk}/").status_code == 404


def test_pods_are_listed_for_those_who_work_in_their_namespace(org, portal, cluster, informer):
    shop = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota={}
    )
    ns_services.set_members(org.projadmin, shop, [org.member])
    core = k8s.CoreV1Api(cluster.kube().api_client)
    core.create_namespaced_pod(
        "shop",
        {"metadata": {"name": "solo"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    )
    pod = eventually(
        lambda: Pod.objects.filter(namespace=shop, name="solo", status="Running").first()
    )
    page = portal("member").get("/pods/").content.decode()
    assert "solo" in page and "Running" in page
    assert portal("member").get(f"/pods/{pod.pk}/").status_code == 200
    assert portal("outsider").get(f"/pods/{pod.pk}/").status_code == 404
    assert "solo" not in portal("outsider").get("/pods/").content.decode()
