"""Chart data of a cluster, a node and a workload, the same tests against both backends:
the portal's sampler (metrics.k8s.io into its own table) and a real Prometheus scraping
kubesim's kubelets through the node proxy."""

import pytest

from apps.clusters.models import Cluster, Node
from apps.kube.sync import sync_cluster
from apps.monitoring import sampler
from apps.monitoring.models import Sample
from apps.workloads import services
from apps.workloads.models import Pod, Workload
from tests.kube.conftest import eventually

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources:
          requests: {cpu: 500m, memory: 256Mi}
          limits: {cpu: "1", memory: 512Mi}
"""
MI = 1024 * 1024
# kubesim's usage at load 1: 30% of the CPU request, 40% of the memory request, ±5%;
# network: 2000 bytes/s received per millicore used, 60% of that sent.
CPU = 2 * 0.150
MEMORY = 2 * 0.4 * 256 * MI
RX = 2 * 150 * 2000
TX = RX * 0.6


def _running(workload):
    def check():
        """the workload runs, its pods mirrored"""
        sync_cluster(workload.cluster)
        fresh = Workload.objects.get(pk=workload.pk)
        ready = Pod.objects.filter(namespace=workload.namespace, phase="Running").count()
        return fresh if fresh.status == "running" and ready == 2 else None

    return eventually(check)


def _near(value, expected, tolerance):
    return abs(value - expected) <= expected * tolerance


def _by_metric(data):
    return {chart["metric"]: chart for chart in data["charts"]}


def _last(chart):
    return chart["points"][-1][1] if chart["points"] else None


@pytest.fixture(params=["sampler", "prometheus"])
def backend(request, kubesim, cluster):
    """Makes the cluster's charts come from one backend; `fill()` gives it data."""
    if request.param == "prometheus":
        prom = request.getfixturevalue("prometheus")
        Cluster.objects.filter(pk=cluster.pk).update(prometheus_url=prom.url)

        def fill():
            eventually(prom.scraped_twice)

    else:

        def fill():
            # three samples a simulated minute apart, as beat takes them
            from django.utils import timezone

            now = timezone.now()
            for minutes_ago in (2, 1, 0):
                fresh = Cluster.objects.get(pk=cluster.pk)
                assert sampler.sample(fresh, now=now - timezone.timedelta(minutes=minutes_ago))
                if minutes_ago:
                    status, body = kubesim.admin(
                        "POST", f"/clusters/{cluster.name}/clock", {"advance": 60}
                    )
                    assert status == 200, body

    return request.param, fill


def _charts(client, url, ready):
    """The chart data once every chart has points (Prometheus scrapes on its own clock)."""

    def check():
        """every chart has data"""
        response = client.get(url)
        assert response.status_code == 200, response.content
        data = response.json()
        assert not data["error"], data["error"]
        return data if all(ready(c) for c in data["charts"]) else None

    return eventually(check, timeout=60, interval=0.5)


def test_workload_charts_show_usage_network_requests_and_limits(org, portal, api, shop, backend):
    name, fill = backend
    web = _running(services.create_from_yaml(org.member, shop, WEB))
    fill()
    data = _charts(
        portal("member"), f"/monitoring/workloads/{web.pk}/?range=1h", lambda c: _last(c)
    )
    assert data["backend"] == name and data["range"] == "1h" and data["step"] == 60
    charts = _by_metric(data)
    assert list(charts) == ["cpu", "memory", "rx", "tx"]
    assert _near(_last(charts["cpu"]), CPU, 0.1), charts["cpu"]
    assert _near(_last(charts["memory"]), MEMORY, 0.1), charts["memory"]
    assert _near(_last(charts["rx"]), RX, 0.15), charts["rx"]
    assert _near(_last(charts["tx"]), TX, 0.15), charts["tx"]
    assert charts["cpu"]["lines"] == [
        {"label": "requests", "value": 1.0},
        {"label": "limits", "value": 2.0},
    ]
    assert charts["memory"]["lines"] == [
        {"label": "requests", "value": 512 * MI},
        {"label": "limits", "value": 1024 * MI},
    ]
    # the API answers the same data for the same workload
    through_api = api("member").get(f"/api/v1/workloads/{web.pk}/metrics/?range=1h")
    assert through_api.status_code == 200
    assert _by_metric(through_api.json())["cpu"]["lines"] == charts["cpu"]["lines"]
    # and a pod's charts are that pod's share
    pod = Pod.objects.filter(namespace=shop, phase="Running").first()
    one = _charts(portal("member"), f"/monitoring/pods/{pod.pk}/?range=6h", lambda c: _last(c))
    assert one["step"] == 300
    assert _near(_last(_by_metric(one)["cpu"]), CPU / 2, 0.1)


def test_cluster_and_node_charts_against_capacity_and_allocatable(org, portal, shop, backend):
    _name, fill = backend
    web = _running(services.create_from_yaml(org.member, shop, WEB))
    fill()
    cluster = web.cluster
    data = _charts(portal("admin"), f"/monitoring/clusters/{cluster.pk}/", lambda c: _last(c))
    charts = _by_metric(data)
    assert list(charts) == ["cpu", "memory", "pods"]
    nodes = Node.objects.filter(cluster=cluster).count()
    # the pods plus each node's own overhead (60m, 700Mi)
    assert _near(_last(charts["cpu"]), CPU + nodes * 0.060, 0.1), charts["cpu"]
    assert _last(charts["memory"]) >= MEMORY + nodes * 700 * MI * 0.99
    assert _last(charts["pods"]) >= 2
    labels = [line["label"] for line in charts["cpu"]["lines"]]
    assert labels == ["capacity", "allocatable"]
    assert charts["pods"]["lines"][0]["value"] >= 110
    pod = Pod.objects.filter(namespace=shop, phase="Running").first()
    node = Node.objects.get(cluster=cluster, name=pod.node_name)
    per_node = _charts(portal("admin"), f"/monitoring/nodes/{node.pk}/", lambda c: _last(c))
    node_charts = _by_metric(per_node)
    assert 0.060 < _last(node_charts["cpu"]) < _last(charts["cpu"])
    assert node_charts["cpu"]["lines"][0]["value"] == float(node.capacity["cpu"])


def test_a_member_cannot_read_another_projects_workload_metrics(org, portal, api, shop, lab):
    theirs = services.create_from_yaml(org.admin, lab, WEB)
    assert portal("member").get(f"/monitoring/workloads/{theirs.pk}/").status_code == 404
    assert api("member").get(f"/api/v1/workloads/{theirs.pk}/metrics/").status_code == 404
    # nor the cluster's (members do not see clusters), while the admin does
    cluster = theirs.cluster
    assert portal("member").get(f"/monitoring/clusters/{cluster.pk}/").status_code == 404
    assert api("member").get(f"/api/v1/clusters/{cluster.pk}/metrics/").status_code == 404
    assert portal("admin").get(f"/monitoring/workloads/{theirs.pk}/").status_code == 200
    mine = services.create_from_yaml(org.member, shop, WEB)
    assert portal("member").get(f"/monitoring/workloads/{mine.pk}/").status_code == 200
    bad = api("member").get(f"/api/v1/workloads/{mine.pk}/metrics/?range=2y")
    assert bad.status_code == 400 and "range" in bad.json()
    assert portal("member").get(f"/monitoring/workloads/{mine.pk}/?range=2y").status_code == 400


def test_an_unreachable_prometheus_is_an_error_in_the_data_not_a_500(org, portal, api, cluster):
    Cluster.objects.filter(pk=cluster.pk).update(prometheus_url="http://127.0.0.1:9/")
    data = portal("admin").get(f"/monitoring/clusters/{cluster.pk}/?range=7d").json()
    assert data["backend"] == "prometheus" and data["step"] == 3600
    assert data["error"].startswith("Prometheus did not answer")
    assert all(chart["points"] == [] for chart in data["charts"])
    assert api("admin").get(f"/api/v1/clusters/{cluster.pk}/metrics/").json()["error"]
    assert not Sample.objects.exists()


def test_the_dashboard_charts_the_clusters_the_user_may_see(org, portal, shop):
    cluster = shop.cluster
    url = f"/monitoring/clusters/{cluster.pk}/"
    assert f'data-charts-url="{url}"' in portal("admin").get("/").content.decode()
    assert f'data-charts-url="{url}"' in portal("projadmin").get("/").content.decode()
    assert "data-charts-url" not in portal("member").get("/").content.decode()
    # and each object's own page has its charts, fetched from its own endpoint
    node = Node.objects.filter(cluster=cluster).first()
    web = services.create_from_yaml(org.member, shop, WEB)
    for client, page, endpoint in (
        (portal("admin"), f"/clusters/{cluster.pk}/", url),
        (portal("admin"), f"/nodes/{node.pk}/", f"/monitoring/nodes/{node.pk}/"),
        (portal("member"), f"/workloads/{web.pk}/", f"/monitoring/workloads/{web.pk}/"),
    ):
        html = client.get(page).content.decode()
        assert f'data-charts-url="{endpoint}"' in html and "uPlot.iife.min.js" in html, page


def test_the_prometheus_secret_is_kept_encrypted_and_never_returned(org, api, cluster, db):
    from django.db import connection

    changed = api("admin").patch(
        f"/api/v1/clusters/{cluster.pk}/",
        {"prometheus_url": "https://prom.example.com/", "prometheus_secret": "s3cr3t-token"},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    shown = api("admin").get(f"/api/v1/clusters/{cluster.pk}/").json()
    assert shown["prometheus_url"] == "https://prom.example.com/"
    assert shown["prometheus_secret_set"] is True
    assert "s3cr3t-token" not in str(shown)
    with connection.cursor() as cursor:
        cursor.execute("SELECT prometheus_secret FROM clusters_cluster WHERE id = %s", [cluster.pk])
        stored = cursor.fetchone()[0]
    assert stored and "s3cr3t-token" not in stored
    assert Cluster.objects.get(pk=cluster.pk).prometheus_secret == "s3cr3t-token"
    refused = api("projadmin").patch(
        f"/api/v1/clusters/{cluster.pk}/", {"prometheus_url": "http://x/"}, format="json"
    )
    assert refused.status_code in (403, 404)


def test_the_cluster_list_runs_constant_queries_with_the_prometheus_fields(
    org, api, cluster, django_assert_max_num_queries
):
    client = api("admin")
    with django_assert_max_num_queries(20) as few:
        client.get("/api/v1/clusters/")
    for n in range(30):
        Cluster.objects.create(name=f"extra-{n}", provider="sandbox", project=org.admin_project)
    with django_assert_max_num_queries(len(few.captured_queries)):
        listed = client.get("/api/v1/clusters/?limit=100").json()
    assert {"prometheus_url", "prometheus_secret_set"} <= set(listed["results"][0])


def test_an_admin_sets_the_clusters_prometheus_in_the_portal_and_the_secret_stays_hidden(
    org, portal, cluster
):
    client = portal("admin")
    url = f"/clusters/{cluster.pk}/edit/"
    form = {
        "display_name": "Prod",
        "description": "",
        "prometheus_url": "https://prom.example.com/",
        "prometheus_username": "reader",
        "prometheus_secret": "pa55word",
    }
    assert client.post(url, form).status_code == 302
    stored = Cluster.objects.get(pk=cluster.pk)
    assert (stored.prometheus_url, stored.prometheus_secret) == (
        "https://prom.example.com/",
        "pa55word",
    )
    page = client.get(url).content.decode()
    assert "https://prom.example.com/" in page and "pa55word" not in page
    # saved again without typing it: the secret is kept; "remove" clears it
    assert client.post(url, {**form, "prometheus_secret": ""}).status_code == 302
    assert Cluster.objects.get(pk=cluster.pk).prometheus_secret == "pa55word"
    assert client.post(url, {**form, "clear_prometheus_secret": "on"}).status_code == 302
    assert Cluster.objects.get(pk=cluster.pk).prometheus_secret == ""
    bad = client.post(url, {**form, "prometheus_url": "not a url"})
    assert bad.status_code == 200 and "Enter a valid URL" in bad.content.decode()
