"""A member opens a workload's page and its CPU chart is drawn from the sampler's data,
in Chromium against a live server; the range buttons fetch again."""

from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from apps.kube.sync import sync_cluster
from apps.monitoring import sampler
from apps.workloads import services
from apps.workloads.models import Pod
from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.configs.conftest import shop  # noqa: F401
from tests.kube.conftest import eventually
from tests.monitoring.test_charts import WEB
from tests.namespaces.conftest import cluster  # noqa: F401
from tests.portal.conftest import org  # noqa: F401


def test_a_member_sees_the_cpu_chart_of_a_workload(
    page,
    live_server,
    org,  # noqa: F811
    shop,  # noqa: F811
    kubesim,  # noqa: F811
):
    web = services.create_from_yaml(org.member, shop, WEB)

    def running():
        """both pods run and are mirrored"""
        sync_cluster(shop.cluster)
        return Pod.objects.filter(namespace=shop, status="Running").count() == 2

    eventually(running)
    now = timezone.now()
    for minutes_ago in (2, 1, 0):
        assert sampler.sample(shop.cluster, now=now - timezone.timedelta(minutes=minutes_ago))
        kubesim.admin("POST", f"/clusters/{shop.cluster.name}/clock", {"advance": 60})

    client = Client()
    client.force_login(org.member)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    errors = []  # a CSP refusal of the chart library would show here
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    with page.expect_response(lambda r: f"/monitoring/workloads/{web.pk}/" in r.url) as answer:
        page.goto(f"{live_server.url}/workloads/{web.pk}/")
    data = answer.value.json()
    cpu = next(chart for chart in data["charts"] if chart["metric"] == "cpu")
    assert len(cpu["points"]) > 0

    chart = page.get_by_test_id("chart-cpu")
    expect(chart.locator("canvas")).to_be_visible()
    expect(chart).to_have_attribute("data-points", str(len(cpu["points"])))
    expect(chart).to_contain_text("CPU")
    expect(chart).to_contain_text("requests")  # the requests line is in the legend
    for metric in ("memory", "rx", "tx"):
        expect(page.get_by_test_id(f"chart-{metric}").locator("canvas")).to_be_visible()

    with page.expect_response(lambda r: "range=7d" in r.url) as week:
        page.get_by_role("button", name="7 d").click()
    assert week.value.json()["range"] == "7d"
    expect(page.get_by_role("button", name="7 d")).to_have_attribute("aria-pressed", "true")
    page.screenshot(path="/tmp/mon-shot.png", full_page=True)
    assert errors == []
