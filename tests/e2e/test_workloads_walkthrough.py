"""Issue 11's demo, in Chromium: a member deploys nginx with 3 replicas, a readiness probe
and anti-affinity, sees it spread over the nodes, scales it, breaks it with a bad image and
sees why, rolls back (seeing who changed what), follows its logs with a filter and opens a
shell in a pod — and kubectl on the same cluster agrees at every step.

The portal runs as its ASGI application on uvicorn (the terminal is a WebSocket), with a
Celery worker for the rollouts and an informer for what kubectl changes.
"""

import json

import pytest
from playwright.sync_api import expect

from tests.kube.conftest import eventually

from .test_demo_walkthroughs import kubectl
from .test_live_inventory import WAIT, watched_shop
from .test_logs_terminal_browser import _signed_in, asgi_server  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_cluster(demo, worker, sandbox, tmp_path):
    """A cluster with three workers and web-shop's namespace "shop" opened to the member;
    an informer watching it; kubectl (returning parsed JSON for ``-o json``)."""
    from django.contrib.auth import get_user_model

    cluster, kubeconfig, informer = watched_shop("demo2", 3, tmp_path)

    def run(*args):
        out = kubectl(tmp_path, kubeconfig, *args)
        return json.loads(out) if args[-2:] == ("-o", "json") else out

    run.cluster = cluster
    run.member = get_user_model().objects.get(username="member")
    yield run
    informer.stop()


def _advance(sandbox, cluster, seconds):
    status, body = sandbox.admin("POST", f"/clusters/{cluster.name}/clock", {"advance": seconds})
    assert status == 200, body


def _pods(kube):
    return [
        pod
        for pod in kube("get", "pods", "-n", "shop", "-l", "app=nginx", "-o", "json")["items"]
        if not pod["metadata"].get("deletionTimestamp")
    ]


def test_a_member_deploys_scales_breaks_rolls_back_reads_logs_and_opens_a_shell(
    page,
    asgi_server,  # noqa: F811
    demo_cluster,
    sandbox,
):
    kube, cluster = demo_cluster, demo_cluster.cluster
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(WAIT)
    _signed_in(page, asgi_server, demo_cluster.member)

    # 1. Deploy nginx: 3 replicas, a readiness probe, spread over the nodes.
    page.goto(f"{asgi_server}/workloads/add/")
    page.get_by_test_id("kind-deployment").click()
    page.select_option("select[name=namespace]", label="demo2 / shop")
    page.fill("input[name=name]", "nginx")
    page.fill("input[name=replicas]", "3")
    page.fill("input[name=containers-0-name]", "nginx")
    page.fill("input[name=containers-0-image]", "nginx:1.27")
    page.fill("input[name=ports-0-port]", "80")
    page.get_by_test_id("probe").filter(has_text="Readiness probe").locator("summary").click()
    page.select_option("select[name=containers-0-readiness_type]", "http")
    page.fill("input[name=containers-0-readiness_path]", "/")
    page.fill("input[name=containers-0-readiness_port]", "80")
    page.select_option("select[name=preset]", "spread")
    page.get_by_test_id("preview-button").click()
    expect(page.get_by_test_id("dry-run-ok")).to_be_visible()
    page.get_by_test_id("apply").click()
    page.wait_for_url(f"{asgi_server}/workloads/*/")
    detail = page.url
    expect(page.get_by_test_id("workload-status")).to_have_text("Running")
    expect(page.get_by_test_id("workload-replicas")).to_contain_text("3/3")
    spec = kube("get", "deployment", "nginx", "-n", "shop", "-o", "json")["spec"]
    container = spec["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/"
    assert "podAntiAffinity" in spec["template"]["spec"]["affinity"]

    # 2. Spread: one pod per node, in the portal's pod list as kubectl says.
    nodes = {pod["spec"]["nodeName"] for pod in _pods(kube)}
    assert len(nodes) == 3
    pods = page.get_by_test_id("workload-pods")
    for node in nodes:
        expect(pods).to_contain_text(node)

    # 3. Scale with +: one request, the page updates in place.
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_test_id("scale").get_by_role("button", name="One more").click()
    expect(page.get_by_test_id("workload-replicas")).to_contain_text("4/4")
    assert page.evaluate("window.stillTheSamePage") is True
    assert kube("get", "deployment", "nginx", "-n", "shop", "-o", "json")["spec"]["replicas"] == 4

    # 4. Break it with an image that does not exist, and see why.
    page.get_by_test_id("edit").click()
    page.fill("input[name=containers-0-image]", "nginx:doesnotexist")
    page.get_by_test_id("preview-button").click()
    expect(page.get_by_test_id("diff")).to_contain_text("nginx:doesnotexist")
    page.get_by_test_id("apply").click()
    page.wait_for_load_state()
    eventually(
        lambda: any(
            (s.get("state", {}).get("waiting") or {}).get("reason") == "ImagePullBackOff"
            for pod in _pods(kube)
            for s in pod.get("status", {}).get("containerStatuses", [])
        )
    )
    page.goto(detail)
    expect(page.get_by_test_id("workload-reason")).to_contain_text("ImagePullBackOff")
    # A rolling update keeps the old pods running while the new ones cannot start.
    expect(page.get_by_test_id("workload-pods")).to_contain_text("ImagePullBackOff")

    # 5. Roll back to the first revision, seeing who changed what.
    revisions = page.get_by_test_id("revisions")
    broken = revisions.locator('[data-testid=revision][data-revision="2"]')
    expect(broken).to_contain_text("nginx:doesnotexist")
    expect(broken).to_contain_text("Edited")
    expect(broken).to_contain_text("member")
    first_revision = revisions.locator('[data-testid=revision][data-revision="1"]')
    expect(first_revision).to_contain_text("nginx:1.27")
    first_revision.get_by_role("button", name="Roll back to this").click()
    page.wait_for_load_state()
    page.goto(detail)
    expect(page.get_by_test_id("workload-status")).to_have_text("Running")
    expect(page.get_by_test_id("workload-replicas")).to_contain_text("4/4")
    deployment = kube("get", "deployment", "nginx", "-n", "shop", "-o", "json")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    history = kube("rollout", "history", "deployment/nginx", "-n", "shop")
    assert "rollback to revision 1" in history
    back = page.get_by_test_id("revisions").locator('[data-testid=revision][data-revision="3"]')
    expect(back).to_contain_text("rollback to revision 1")
    expect(back).to_contain_text("Rolled back")
    expect(back).to_contain_text("member")
    eventually(lambda: {p["spec"]["containers"][0]["image"] for p in _pods(kube)} == {"nginx:1.27"})

    # 6. Follow its logs, filtered.
    _advance(sandbox, cluster, 60)
    page.get_by_test_id("workload-logs").click()
    expect(page.get_by_test_id("log-status")).to_contain_text("Following live")
    expect(page.get_by_test_id("log-view").locator(".log-line").first).to_be_visible()
    page.get_by_test_id("log-filter").fill("kube-probe")
    expect(page.get_by_test_id("log-status")).to_contain_text("lines match")
    page.get_by_test_id("log-view").click()  # leave the filter: following resumes
    texts = page.get_by_test_id("log-view").locator(".log-line").all_inner_texts()
    assert texts and all("kube-probe" in text for text in texts)

    # 7. Open a shell in a pod (leaving the followed log closes its stream at once).
    page.goto(detail)
    first = sorted(pod["metadata"]["name"] for pod in _pods(kube))[0]
    page.get_by_test_id("workload-pods").get_by_role("link", name=first).click()
    page.get_by_test_id("pod-terminal").click()
    expect(page.get_by_test_id("terminal-status")).to_have_text("Connected")
    read = (
        "(() => { const b = window.kcsTerminal.buffer.active; let s = '';"
        " for (let i = 0; i < b.length; i++) s += b.getLine(i).translateToString(true) + '\\n';"
        " return s; })()"
    )
    eventually(lambda: "# " in page.evaluate(read), timeout=20)
    page.locator("#terminal").click()
    page.keyboard.type("echo hello-from-$HOSTNAME\n")
    eventually(lambda: f"hello-from-{first}" in page.evaluate(read), timeout=20)
    assert errors == [], errors
