"""Autoscaling a workload: an HPA through the services, the portal and the API, reacting to
simulated load in kubesim (whose clock the tests move), and who may touch it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from kubernetes import client as k8s

from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster
from apps.workloads import autoscaling, services
from apps.workloads.models import HorizontalPodAutoscaler, Workload

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources: {requests: {cpu: 100m, memory: 64Mi}}
"""


class Sim:
    """The workload's kubesim cluster with its clock frozen: time moves when a test says."""

    def __init__(self, kubesim, cluster):
        self.kubesim, self.cluster = kubesim, cluster
        self.admin("POST", "/clock", {"timeFactor": 0})

    def admin(self, method, path, body=None):
        status, answer = self.kubesim.admin(method, f"/clusters/{self.cluster.name}{path}", body)
        assert status == 200, answer
        return answer

    def advance(self, seconds: float, step: float = 15):
        """Simulated time passes (in HPA sync periods); the portal's rows catch up."""
        while seconds > 0:
            self.admin("POST", "/clock", {"advance": min(step, seconds)})
            seconds -= step
        sync_cluster(self.cluster)

    def load(self, workload, factor: float):
        body = {
            "namespace": workload.namespace_name,
            "kind": workload.kind,
            "name": workload.name,
            "factor": factor,
        }
        self.admin("PUT", "/load", body)

    def replicas(self, workload) -> int:
        apps = k8s.AppsV1Api(self.cluster.kube().api_client)
        return apps.read_namespaced_deployment(workload.name, workload.namespace_name).spec.replicas


@pytest.fixture
def sim(kubesim, cluster):
    return Sim(kubesim, cluster)


def _hpa(workload) -> HorizontalPodAutoscaler:
    return autoscaling.autoscaler_of(workload)


def test_the_autoscaler_scales_up_under_load_and_down_after_stabilising(org, shop, sim):
    web = services.create_from_yaml(org.member, shop, WEB)
    sim.advance(30)
    hpa = autoscaling.set_autoscaling(
        org.member, web, min_replicas=1, max_replicas=4, cpu_target=50
    )
    assert (hpa.name, hpa.target_kind, hpa.target_name) == ("web", "Deployment", "web")
    assert (hpa.min_replicas, hpa.max_replicas, hpa.cpu_target) == (1, 4, 50)
    event = AuditEvent.objects.get(action="autoscaler.create", result="success")
    assert event.detail["max"] == 4 and event.namespace == "shop"

    sim.advance(30)
    hpa = _hpa(web)
    assert 25 <= hpa.cpu_current <= 35  # 30% of the request at the normal load
    assert hpa.desired_replicas == 1 and sim.replicas(web) == 1

    sim.load(web, 4)  # each pod now uses 120% (±5%) of its CPU request
    sim.advance(15)
    assert sim.replicas(web) == 3  # ceil(1 x 120 / 50)
    sim.advance(60)
    hpa = _hpa(web)
    assert sim.replicas(web) == 4 and hpa.desired_replicas == 4  # held at the maximum
    limited = {c["type"]: c for c in hpa.conditions}["ScalingLimited"]
    assert (limited["status"], limited["reason"]) == ("True", "TooManyReplicas")
    decisions = [
        d["message"] for d in autoscaling.decisions(hpa) if d["reason"] == "SuccessfulRescale"
    ]
    assert decisions[:2] == [
        "New size: 4; reason: cpu resource utilization (percentage of request) above target",
        "New size: 3; reason: cpu resource utilization (percentage of request) above target",
    ]

    sim.load(web, 1)
    sim.advance(120)
    hpa = _hpa(web)
    assert sim.replicas(web) == 4  # the scale-down waits for 5 minutes of lower advice
    able = {c["type"]: c for c in hpa.conditions}["AbleToScale"]
    assert able["reason"] == "ScaleDownStabilized"
    sim.advance(240)
    assert sim.replicas(web) < 4
    assert Workload.objects.get(pk=web.pk).desired == sim.replicas(web)


def test_settings_are_checked_before_kubernetes_sees_them(org, shop, sim):
    web = services.create_from_yaml(org.member, shop, WEB)
    cases = [
        ({"min_replicas": 5, "max_replicas": 2, "cpu_target": 50}, "max_replicas"),
        ({"min_replicas": 0, "max_replicas": 2, "cpu_target": 50}, "min_replicas"),
        ({"min_replicas": 1, "max_replicas": 2}, "cpu_target"),
        ({"min_replicas": 1, "max_replicas": 2, "memory_target": 0}, "memory_target"),
        ({"min_replicas": 1, "max_replicas": 2, "cpu_target": 50, "scale_down_window": -1}, None),
    ]
    for values, field in cases:
        with pytest.raises(Exception) as refused:
            autoscaling.set_autoscaling(org.member, web, **values)
        if field:
            assert field in refused.value.message_dict
    assert not HorizontalPodAutoscaler.objects.exists()
    assert AuditEvent.objects.filter(action="autoscaler.create", result="failure").count() == 5

    cron = services.create_from_yaml(
        org.member,
        shop,
        """
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: task, image: busybox}]
""",
    )
    with pytest.raises(Exception, match="cannot be autoscaled"):
        autoscaling.set_autoscaling(org.member, cron, min_replicas=1, max_replicas=2, cpu_target=5)


def test_a_member_autoscales_edits_and_stops_in_the_portal(org, portal, shop, sim):
    web = services.create_from_yaml(org.member, shop, WEB)
    client = portal("member")
    page = client.get(f"/workloads/{web.pk}/").content.decode()
    assert "Not autoscaled" in page and f"/workloads/{web.pk}/autoscaling/" in page
    form = {
        "min_replicas": "2",
        "max_replicas": "6",
        "cpu_target": "60",
        "memory_target": "",
        "scale_up_window": "0",
        "scale_down_window": "120",
        "scale_up_pods": "2",
        "scale_down_pods": "",
    }
    bad = client.post(f"/workloads/{web.pk}/autoscaling/", {**form, "max_replicas": "1"})
    assert (
        bad.status_code == 200
        and "The maximum must be at least the minimum" in bad.content.decode()
    )

    done = client.post(f"/workloads/{web.pk}/autoscaling/", form)
    assert done.status_code == 302 and done["Location"] == f"/workloads/{web.pk}/#autoscaling"
    live = k8s.AutoscalingV2Api(
        shop.cluster.kube().api_client
    ).read_namespaced_horizontal_pod_autoscaler("web", "shop")
    assert (live.spec.min_replicas, live.spec.max_replicas) == (2, 6)
    assert live.spec.metrics[0].resource.target.average_utilization == 60
    assert live.spec.behavior.scale_down.stabilization_window_seconds == 120
    assert live.spec.behavior.scale_up.policies[0].value == 2

    sim.advance(30)  # the controller raises it to the minimum and reports
    page = client.get(f"/workloads/{web.pk}/").content.decode()
    assert 'data-testid="autoscaler"' in page and "2 to 6" in page
    assert "autoscaled between 2 and 6" in page  # next to the scale buttons
    assert "SuccessfulRescale" in page and "New size: 2" in page
    assert "ValidMetricFound" in page and "60%" in page
    edit = client.get(f"/workloads/{web.pk}/autoscaling/").content.decode()
    assert 'value="6"' in edit and 'value="120"' in edit

    # Someone else changed it meanwhile: the edit made from the old version is refused.
    seen = autoscaling.settings_of(_hpa(web))["spec_hash"]
    assert f'name="spec_hash" value="{seen}"' in edit
    autoscaling.set_autoscaling(org.admin, web, min_replicas=1, max_replicas=3, cpu_target=70)
    refused = client.post(f"/workloads/{web.pk}/autoscaling/", {**form, "spec_hash": seen})
    assert refused.status_code == 200 and "reload" in refused.content.decode().lower()
    assert _hpa(web).max_replicas == 3

    stop = client.post(f"/workloads/{web.pk}/autoscaling/delete/")
    assert stop.status_code == 302 and _hpa(web) is None
    assert AuditEvent.objects.filter(action="autoscaler.delete", result="success").exists()
    assert "Not autoscaled" in client.get(f"/workloads/{web.pk}/").content.decode()


def test_the_api_sets_reads_and_deletes_the_autoscaler(org, api, shop, sim):
    web = services.create_from_yaml(org.member, shop, WEB)
    client = api("member")
    url = f"/api/v1/workloads/{web.pk}/autoscaling/"
    assert client.get(url).status_code == 404
    bad = client.put(url, {"min_replicas": 3, "max_replicas": 2, "cpu_target": 50}, format="json")
    assert bad.status_code == 400 and "max_replicas" in bad.json()
    made = client.put(
        url, {"min_replicas": 1, "max_replicas": 3, "memory_target": 70}, format="json"
    )
    assert made.status_code == 200, made.json()
    body = made.json()
    assert (body["target_name"], body["memory_target"], body["cpu_target"]) == ("web", 70, None)
    sim.advance(30)
    detail = client.get(url).json()
    assert detail["desired_replicas"] == 1 and detail["memory_current"] is not None
    assert {c["type"] for c in detail["conditions"]} >= {"AbleToScale", "ScalingActive"}
    listed = client.get("/api/v1/autoscalers/").json()["results"]
    assert [row["name"] for row in listed] == ["web"]
    one = client.get(f"/api/v1/autoscalers/{listed[0]['id']}/").json()
    assert one["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert client.delete(url).status_code == 204 and _hpa(web) is None


@pytest.mark.parametrize(
    ("username", "view", "act"),
    [
        ("admin", 200, 302),
        ("deptadmin", 200, 302),
        ("projadmin", 200, 302),
        ("member", 200, 302),  # the namespace is opened to them
        ("outsider", 404, 404),  # a member of another project
    ],
)
def test_autoscaling_permission_matrix(org, portal, api, shop, username, view, act):
    web = services.create_from_yaml(org.admin, shop, WEB)
    hpa = autoscaling.set_autoscaling(org.admin, web, min_replicas=1, max_replicas=2, cpu_target=80)
    client, rest = portal(username), api(username)
    assert client.get(f"/workloads/{web.pk}/autoscaling/").status_code == view
    form = {"min_replicas": 1, "max_replicas": 3, "cpu_target": 80}
    form.update(scale_up_window=0, scale_down_window=300)
    assert client.post(f"/workloads/{web.pk}/autoscaling/", form).status_code == act
    assert rest.get(f"/api/v1/workloads/{web.pk}/autoscaling/").status_code == view
    assert rest.get(f"/api/v1/autoscalers/{hpa.pk}/").status_code == view
    listed = rest.get("/api/v1/autoscalers/").json()["results"]
    assert [row["id"] for row in listed] == ([hpa.pk] if view == 200 else [])
    put = rest.put(f"/api/v1/workloads/{web.pk}/autoscaling/", form, format="json")
    assert put.status_code == (200 if act == 302 else 404)
    deleted = rest.delete(f"/api/v1/autoscalers/{hpa.pk}/")
    assert deleted.status_code == (204 if act == 302 else 404)
    if act == 404:
        assert HorizontalPodAutoscaler.objects.filter(pk=hpa.pk).exists()
        assert AuditEvent.objects.filter(actor_name=username, result="failure").exists()


@pytest.mark.parametrize("username", ["admin", "member"])
def test_the_autoscaler_list_runs_constant_queries(org, api, shop, username):
    client = api(username)

    def grow(start, n):
        HorizontalPodAutoscaler.objects.bulk_create(
            HorizontalPodAutoscaler(
                cluster=shop.cluster,
                namespace=shop,
                namespace_name="shop",
                name=f"h-{start + i}",
                target_kind="Deployment",
                target_name=f"w-{start + i}",
                min_replicas=1,
                max_replicas=3,
                cpu_target=80,
            )
            for i in range(n)
        )

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/autoscalers/?limit=1000").status_code == 200
        return len(ctx.captured_queries)

    grow(0, 3)
    small = queries()
    grow(3, 300)
    assert queries() == small


def test_an_autoscaler_made_with_the_client_shows_and_can_be_edited(org, portal, shop, sim):
    web = services.create_from_yaml(org.member, shop, WEB)
    body = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web-hpa", "labels": {"team": "shop"}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 3,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 75},
                    },
                }
            ],
        },
    }
    hpas = k8s.AutoscalingV2Api(shop.cluster.kube().api_client)
    hpas.create_namespaced_horizontal_pod_autoscaler("shop", body)
    sim.advance(30)
    page = portal("member").get(f"/workloads/{web.pk}/").content.decode()
    assert "web-hpa" in page and "1 to 3" in page and "75%" in page
    row = autoscaling.set_autoscaling(
        org.member, web, min_replicas=2, max_replicas=3, cpu_target=75
    )
    assert row.name == "web-hpa" and row.labels == {"team": "shop"}
    live = hpas.read_namespaced_horizontal_pod_autoscaler("web-hpa", "shop")
    assert live.spec.min_replicas == 2
    assert AuditEvent.objects.filter(action="autoscaler.update", result="success").exists()


def test_the_admin_site_lists_and_deletes_autoscalers_through_the_service(org, portal, shop):
    web = services.create_from_yaml(org.admin, shop, WEB)
    hpa = autoscaling.set_autoscaling(org.admin, web, min_replicas=1, max_replicas=2, cpu_target=80)
    admin = portal("admin")
    page = admin.get("/admin/workloads/horizontalpodautoscaler/")
    assert page.status_code == 200 and "web" in page.content.decode()
    done = admin.post(f"/admin/workloads/horizontalpodautoscaler/{hpa.pk}/delete/", {"post": "yes"})
    assert done.status_code == 302 and _hpa(web) is None
    hpas = k8s.AutoscalingV2Api(shop.cluster.kube().api_client)
    assert hpas.list_namespaced_horizontal_pod_autoscaler("shop").items == []
    assert AuditEvent.objects.filter(action="autoscaler.delete", actor_name="admin").exists()
