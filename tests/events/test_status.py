"""The cluster status page: the API server, node conditions (a node made NotReady in
kubesim), capacity against requests, the top namespaces and recent Warnings."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.clusters.models import Node
from apps.kube.sync import sync_cluster
from apps.workloads import services as workload_services
from apps.workloads.models import Pod, Workload
from tests.events.conftest import make_event
from tests.kube.conftest import eventually

API = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: nginx:1.27
        resources: {requests: {cpu: 250m, memory: 64Mi}}
"""


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


def _row(page: str, testid: str, node: str) -> str:
    table = page.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    return table.split(f'data-node="{node}"', 1)[1].split("</tr>", 1)[0]


def _node_ready(kubesim, cluster, node, status):
    code, body = kubesim.admin("PUT", f"/clusters/{cluster}/nodes/{node}/ready", {"status": status})
    assert code == 200, body


@pytest.fixture
def api_pods(org, shop):
    workload = workload_services.create_from_yaml(org.member, shop, API)

    def running():
        sync_cluster(shop.cluster)
        return Workload.objects.get(pk=workload.pk).ready == 2

    eventually(running)
    return workload


def test_status_page_shows_a_not_ready_node_and_the_requests(org, portal, kubesim, shop, api_pods):
    cluster = shop.cluster
    pods = Pod.objects.filter(cluster=cluster, namespace_name="shop", workload_name="api")
    assert {(p.cpu_request, p.memory_request) for p in pods} == {(250, 64 * 2**20)}
    node = pods.first().node_name
    make_event(
        cluster, shop, "api-x", type="Warning", reason="BackOff", message="Back-off restarting"
    )

    admin = portal("admin")
    assert f"/clusters/{cluster.pk}/status/" in _text(admin.get(f"/clusters/{cluster.pk}/"))
    page = _text(admin.get(f"/clusters/{cluster.pk}/status/"))
    api = page.split('data-testid="status-api"', 1)[1].split("</dl>", 1)[0]
    assert "Healthy" in api and "/readyz" in api and cluster.version.lstrip("v") in api
    assert "not ready" not in page
    assert 'data-condition="Ready">True' in _row(page, "status-conditions", node)
    # Both api pods request 250m (the sandbox's system pods request nothing).
    on_node = pods.filter(node_name=node).count()
    cpu = f"{Decimal(250 * on_node) / 1000:.2f}".rstrip("0").rstrip(".")
    assert f"{cpu} /" in _row(page, "status-resources", node)
    totals = page.split('data-testid="status-totals"', 1)[1].split("</table>", 1)[0]
    assert "0.5 (" in totals  # two pods of 250m requested in total
    namespaces = page.split('data-testid="status-namespaces"', 1)[1].split("</table>", 1)[0]
    assert "shop" in namespaces
    assert "Back-off restarting" in page.split('data-testid="status-warnings"', 1)[1]

    _node_ready(kubesim, cluster.name, node, "False")
    try:

        def not_ready():
            sync_cluster(cluster)
            return not Node.objects.get(cluster=cluster, name=node).ready

        eventually(not_ready)
        page = _text(admin.get(f"/clusters/{cluster.pk}/status/"))
        assert "1 node is not ready." in page
        assert 'data-condition="Ready">False' in _row(page, "status-conditions", node)
    finally:
        _node_ready(kubesim, cluster.name, node, "True")


def test_status_page_is_for_those_who_may_view_the_infrastructure(org, portal, rows):
    cluster, web, data = rows
    make_event(cluster, web, "web-1", type="Warning", message="web trouble")
    make_event(cluster, data, "lab-1", type="Warning", message="lab trouble")
    url = f"/clusters/{cluster.pk}/status/"
    assert portal("member").get(url).status_code == 404
    page = _text(portal("projadmin").get(url))
    assert "web trouble" in page and "lab trouble" not in page
    # Without a kubeconfig the API server's health says why, and the page still works.
    assert "Unhealthy" in page and "no kubeconfig" in page
    admin = _text(portal("admin").get(url))
    assert "web trouble" in admin and "lab trouble" in admin


def test_status_page_costs_the_same_whatever_the_nodes_and_pods(org, portal, rows):
    cluster, web, _data = rows
    client = portal("admin")

    def grow(n: int):
        start = Node.objects.filter(cluster=cluster).count()
        Node.objects.bulk_create(
            Node(
                cluster=cluster,
                name=f"node-{i}",
                capacity={"cpu": "4", "memory": "16Gi", "pods": "110"},
                allocatable={"cpu": "3900m", "memory": "15Gi", "pods": "110"},
                manifest={"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
            )
            for i in range(start, start + n)
        )
        Pod.objects.bulk_create(
            Pod(
                cluster=cluster,
                namespace=web,
                namespace_name="web",
                name=f"pod-{start}-{i}",
                phase="Running",
                node_name=f"node-{start + i % n}",
                cpu_request=100,
                memory_request=2**20,
            )
            for i in range(3 * n)
        )
        for i in range(n):
            make_event(cluster, web, f"ev-{start}-{i}", type="Warning")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/clusters/{cluster.pk}/status/").status_code == 200
        return len(ctx.captured_queries)

    grow(2)
    few = count()
    grow(20)
    assert count() == few
    page = _text(client.get(f"/clusters/{cluster.pk}/status/"))
    assert "node-21" in page
    assert "6.6 (" in page  # 66 pods of 100m each


BIG = API.replace("name: api", "name: big").replace("app: api", "app: big")
BIG = BIG.replace("replicas: 2", "replicas: 1").replace(
    "cpu: 250m, memory: 64Mi", "cpu: 100m, memory: 512Mi"
)


def _top(page: str, testid: str) -> list[str]:
    table = page.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'data-(?:workload|namespace)="([^"]+)"', table)


def _cells(page: str, workload: str) -> list[str]:
    table = page.split('data-testid="status-workloads"', 1)[1].split("</table>", 1)[0]
    row = table.split(f'data-workload="{workload}"', 1)[1].split("</tr>", 1)[0]
    return re.findall(r"<td>([^<]*)</td>", row)


def test_status_page_shows_the_top_consumers_by_requests_and_usage(
    org, portal, shop, lab, api_pods
):
    from apps.clusters.sync import record_usage

    cluster = shop.cluster
    big = workload_services.create_from_yaml(org.member, shop, BIG)
    lab_job = workload_services.create_from_yaml(
        org.admin,
        lab,
        API.replace("name: api", "name: lab-api").replace("replicas: 2", "replicas: 1"),
    )

    def running():
        sync_cluster(cluster)
        return all(Workload.objects.get(pk=w.pk).ready >= 1 for w in (big, lab_job))

    eventually(running)
    record_usage(cluster, cluster.kube())  # (what beat's health check keeps on the nodes)
    admin = portal("admin")
    page = _text(admin.get(f"/clusters/{cluster.pk}/status/"))
    # By CPU requested (the default): api's 2 of 250m, lab-api's 250m, big's 100m.
    assert _top(page, "status-workloads")[:3] == ["api", "lab-api", "big"]
    namespace, pods, cpu, cpu_used, memory, memory_used = _cells(page, "api")
    assert (namespace, pods, cpu, memory) == ("shop", "2", "500m", "128 Mi")
    # Usage as metrics.k8s.io says (kubesim: 30% of the CPU request, 40% of the memory).
    assert cpu_used.endswith("m") and 100 <= int(cpu_used[:-1]) <= 200, cpu_used
    assert memory_used.endswith(" Mi") and 40 <= int(memory_used[:-3]) <= 62, memory_used
    assert "used " in _row(
        page, "status-resources", Pod.objects.filter(workload_name="api")[0].node_name
    )
    totals = page.split('data-testid="status-totals"', 1)[1].split("</table>", 1)[0]
    assert "%)</td><td>—" not in totals.split("</tr>", 2)[1]  # CPU: requested and used
    assert _top(page, "status-namespaces")[:2] == ["shop", "lab"]

    by_memory = _text(admin.get(f"/clusters/{cluster.pk}/status/?top=memory"))
    assert _top(by_memory, "status-workloads")[0] == "big"
    by_memory_use = _text(admin.get(f"/clusters/{cluster.pk}/status/?top=memory_usage"))
    assert _top(by_memory_use, "status-workloads")[0] == "big"
    by_cpu_use = _text(admin.get(f"/clusters/{cluster.pk}/status/?top=cpu_usage"))
    assert _top(by_cpu_use, "status-workloads")[0] in ("api", "lab-api")
    assert _text(admin.get(f"/clusters/{cluster.pk}/status/?top=nonsense"))  # the default

    # A project admin sees their own namespaces' consumers only.
    mine = _text(portal("projadmin").get(f"/clusters/{cluster.pk}/status/"))
    assert _top(mine, "status-workloads") == ["api", "big"]
    assert _top(mine, "status-namespaces") == ["shop"]
