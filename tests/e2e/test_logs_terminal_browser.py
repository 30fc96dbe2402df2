"""A member follows a workload's logs (filtered) and types into a pod's terminal, in
Chromium, against the portal's ASGI application on a real uvicorn server (WebSockets)."""

import socket
import threading

import pytest
import uvicorn
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.test import Client
from playwright.sync_api import expect

from apps.kube.sync import sync_cluster
from apps.workloads import services
from apps.workloads.models import Pod
from kcsportal.asgi import application
from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.configs.conftest import shop  # noqa: F401
from tests.kube.conftest import eventually
from tests.namespaces.conftest import cluster  # noqa: F401
from tests.portal.conftest import org  # noqa: F401

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
"""


@pytest.fixture
def asgi_server(transactional_db):
    """The portal's ASGI application (HTTP and WebSockets) on uvicorn, in a thread."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        ASGIStaticFilesHandler(application),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, timeout=30)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _signed_in(page, base, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def _advance(server, where, seconds):
    server.admin("POST", f"/clusters/{where.name}/clock", {"advance": seconds})


def test_a_member_follows_a_workloads_logs_and_types_into_a_terminal(
    page,
    org,  # noqa: F811
    shop,  # noqa: F811
    kubesim,  # noqa: F811
    asgi_server,
):
    web = services.create_from_yaml(org.member, shop, DEPLOYMENT)

    def running():
        sync_cluster(shop.cluster)
        pods = Pod.objects.filter(namespace=shop, workload_name="web", status="Running")
        return pods.count() == 2 and list(pods.order_by("name"))

    pods = eventually(running)
    _advance(kubesim, shop.cluster, 120)
    _signed_in(page, asgi_server, org.member)

    page.goto(f"{asgi_server}/workloads/{web.pk}/")
    page.get_by_test_id("workload-logs").click()
    view = page.get_by_test_id("log-view")
    lines = view.locator(".log-line")
    expect(lines.first).to_be_visible()
    # Every pod's lines, each labelled with its pod.
    for pod in pods:
        expect(view.locator(".log-pod", has_text=f"[{pod.name}]").first).to_be_attached()
    status = page.get_by_test_id("log-status")
    expect(status).to_contain_text("Following live")
    before = page.evaluate("document.querySelector('#log-status').textContent")
    _advance(kubesim, shop.cluster, 60)  # the containers write more: it shows up live
    expect(status).not_to_have_text(before)
    # The filter keeps only the matching lines.
    page.get_by_test_id("log-filter").fill("kube-probe")
    expect(status).to_contain_text("lines match")
    page.get_by_test_id("log-view").click()  # leave the filter: following resumes
    texts = lines.all_inner_texts()
    assert texts and all("kube-probe" in text for text in texts)
    assert page.evaluate("document.querySelectorAll('#log-view .log-line').length") < 200

    page.goto(f"{asgi_server}/pods/{pods[0].pk}/")
    page.get_by_test_id("pod-terminal").click()
    expect(page.get_by_test_id("terminal-status")).to_have_text("Connected")
    buffer = "window.kcsTerminal.buffer.active"
    read = (
        f"(() => {{ const b = {buffer}; let s = ''; for (let i = 0; i < b.length; i++)"
        " s += b.getLine(i).translateToString(true) + '\\n'; return s; })()"
    )
    # (polled from here: the page's CSP forbids the eval wait_for_function needs)
    eventually(lambda: "# " in page.evaluate(read), timeout=20)
    page.locator("#terminal").click()
    page.keyboard.type("echo typed-in-$HOSTNAME\n")
    shown = eventually(lambda: f"typed-in-{pods[0].name}" in page.evaluate(read), timeout=20)
    assert shown
    assert "echo typed-in-$HOSTNAME" in page.evaluate(read)  # the shell echoed what was typed
    # The link drops: the terminal reconnects (a new shell) and keeps what it showed.
    page.evaluate("window.kcsTerminalSocket().close()")
    expect(page.get_by_test_id("terminal-status")).to_contain_text("reconnecting")
    expect(page.get_by_test_id("terminal-status")).to_have_text("Connected")
    page.keyboard.type("echo second-$HOSTNAME\n")
    eventually(lambda: f"second-{pods[0].name}" in page.evaluate(read), timeout=20)
    assert f"typed-in-{pods[0].name}" in page.evaluate(read)
