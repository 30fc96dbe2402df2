"""Live logs and resource usage, through the portal's views and the API, against kubesim.

kubesim writes deterministic container logs as simulated time passes (kubesim/runtime/logs.py);
the tests move its clock forward rather than waiting.
"""

import json
import threading
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.core.signals import request_finished
from kubernetes import client as k8s

from apps.core.models import AuditEvent
from apps.kube import containers as kube_containers
from apps.kube.sync import sync_cluster
from apps.workloads import containers, services
from apps.workloads.models import Pod, Workload
from tests.kube.conftest import WAIT, eventually

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
      initContainers:
      - {name: setup, image: busybox, command: [sh, -c, "echo ready"]}
      containers:
      - name: web
        image: nginx:1.27
        resources:
          requests: {cpu: 200m, memory: 64Mi}
          limits: {cpu: 500m, memory: 128Mi}
"""


def advance(kubesim, cluster, seconds):
    status, body = kubesim.admin("POST", f"/clusters/{cluster.name}/clock", {"advance": seconds})
    assert status == 200, body


@pytest.fixture
def web(org, shop, kubesim):
    workload = services.create_from_yaml(org.member, shop, DEPLOYMENT)

    def running():
        sync_cluster(shop.cluster)
        pods = Pod.objects.filter(namespace=shop, workload_name="web", status="Running")
        return pods.count() == 2 and Workload.objects.get(pk=workload.pk)

    workload = eventually(running)
    advance(kubesim, shop.cluster, 120)
    # Time then stands still unless a test moves it: a log read twice is the same log,
    # however slow the machine between the reads.
    status, body = kubesim.admin("POST", f"/clusters/{shop.cluster.name}/clock", {"timeFactor": 0})
    assert status == 200, body
    return workload


def stop(response) -> None:
    """Close a followed stream as a browser going away does (the test client would close
    the test database's connection with it otherwise)."""
    with mock.patch.object(request_finished, "send"):
        response.close()


def _lines(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines() if line]


def test_a_pods_log_tails_filters_and_downloads_in_the_portal(org, portal, web, kubesim):
    pod = Pod.objects.filter(workload_name="web").order_by("name").first()
    page = portal("member").get(f"/pods/{pod.pk}/logs/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'value="setup"' in text and "(init)" in text  # init containers can be picked
    lines = _lines(portal("member").get(f"/pods/{pod.pk}/logs/stream/?tail_lines=5"))
    assert len(lines) == 5 and all(line["pod"] == pod.name for line in lines)
    assert lines[0]["time"].endswith("Z") and lines[0]["container"] == "web"
    everything = _lines(portal("member").get(f"/pods/{pod.pk}/logs/stream/?tail_lines=100000"))
    assert "/docker-entrypoint.sh" in everything[0]["text"]  # nginx's banner comes first
    # A filter shows only the matching lines, plain or as a regex.
    probes = _lines(
        portal("member").get(f"/pods/{pod.pk}/logs/stream/?tail_lines=100000&filter=KUBE-PROBE")
    )
    assert probes and all("kube-probe" in line["text"] for line in probes)
    assert len(probes) < len(everything)
    regex = _lines(
        portal("member").get(
            f"/pods/{pod.pk}/logs/stream/?tail_lines=100000&regex=1&filter=%22(GET|POST) /api"
        )
    )
    assert regex and all(('"GET /api' in x["text"] or '"POST /api' in x["text"]) for x in regex)
    bad = portal("member").get(f"/pods/{pod.pk}/logs/stream/?regex=1&filter=(unclosed")
    assert bad.status_code == 400 and "regular expression" in bad.json()["errors"]["__all__"][0]
    # A pattern that backtracks without end answers all the same: lines or a clear error.
    slow = portal("member").get(
        f"/pods/{pod.pk}/logs/stream/?tail_lines=100000&regex=1&filter=%28a%2B%29%2B%24"
    )
    if slow.status_code == 400:
        assert "takes too long" in slow.json()["errors"]["filter"][0]
    else:
        assert slow.status_code == 200
        assert all(x["text"].endswith("a") for x in _lines(slow))
    # The init container's log, and the download of the last lines as a file.
    setup = _lines(portal("member").get(f"/pods/{pod.pk}/logs/stream/?container=setup"))
    assert setup and setup[0]["container"] == "setup"
    download = portal("member").get(f"/pods/{pod.pk}/logs/stream/?download=1&tail_lines=3")
    assert download["Content-Disposition"] == f'attachment; filename="{pod.name}.log"'
    body = b"".join(download.streaming_content).decode().splitlines()
    assert [b.split(" ", 1)[1] for b in body] == [x["text"] for x in everything[-3:]]
    missing = portal("member").get(f"/pods/{pod.pk}/logs/stream/?container=nope")
    assert missing.status_code == 400
    event = AuditEvent.objects.filter(action="pod.logs", result="success").last()
    assert event.detail["pods"] == [pod.name]


def test_following_a_pods_log_streams_new_lines(org, portal, web, kubesim):
    pod = Pod.objects.filter(workload_name="web").order_by("name").first()
    response = portal("member").get(f"/pods/{pod.pk}/logs/stream/?tail_lines=2&follow=1")
    assert response["Content-Type"] == "application/x-ndjson"
    chunks = iter(response.streaming_content)
    first = [json.loads(next(chunks)) for _ in range(2)]
    assert [line["pod"] for line in first] == [pod.name, pod.name]
    advance(kubesim, web.cluster, 60)  # a minute later: the container wrote more
    fresh = []
    while len(fresh) < 3:
        item = json.loads(next(chunks))
        if item:  # {} is a heartbeat
            fresh.append(item)
    assert all(item["time"] > first[-1]["time"] for item in fresh)
    stop(response)
    event = AuditEvent.objects.filter(action="pod.logs").last()
    assert event.detail["verb"] == "follow"


def test_a_workloads_log_merges_its_pods_in_time_order(org, portal, api, web, kubesim):
    pods = sorted(Pod.objects.filter(workload_name="web").values_list("name", flat=True))
    page = portal("member").get(f"/workloads/{web.pk}/logs/")
    assert page.status_code == 200 and "All pods of the workload" in page.content.decode()
    lines = _lines(portal("member").get(f"/workloads/{web.pk}/logs/stream/?tail_lines=400"))
    assert {line["pod"] for line in lines} == set(pods)
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)
    one = _lines(
        portal("member").get(f"/workloads/{web.pk}/logs/stream/?tail_lines=50&pod={pods[1]}")
    )
    assert {line["pod"] for line in one} == {pods[1]}
    # A workload's download names each line's pod, even when its last lines are one pod's.
    for tail in (1, 4):
        url = f"/workloads/{web.pk}/logs/stream/?download=1&tail_lines={tail}"
        rows = b"".join(portal("member").get(url).streaming_content).decode().splitlines()
        assert len(rows) == tail
        assert all(row.startswith((f"[{pods[0]}] ", f"[{pods[1]}] ")) for row in rows)
    # The API: the same merged read, a page at a time, and followed.
    answer = api("member").get(f"/api/v1/workloads/{web.pk}/logs/?tail_lines=10")
    assert answer.status_code == 200
    assert len(answer.json()["lines"]) == 10
    following = api("member").get(f"/api/v1/workloads/{web.pk}/logs/?tail_lines=1&follow=1")
    chunks = iter(following.streaming_content)
    seen = set()
    advance(kubesim, web.cluster, 60)
    while seen != set(pods):
        item = json.loads(next(chunks))
        if item:
            seen.add(item["pod"])
    stop(following)


def test_the_api_pages_through_a_log_and_follows_it(org, api, web, kubesim):
    pod = Pod.objects.filter(workload_name="web").order_by("name").first()
    client = api("member")
    first = client.get(f"/api/v1/pods/{pod.pk}/logs/?since_seconds=100000&limit=5").json()
    assert len(first["lines"]) == 5 and "/docker-entrypoint.sh" in first["lines"][0]["text"]
    second = client.get(first["next"]).json()
    assert second["lines"][0]["time"] > first["lines"][-1]["time"]
    whole = client.get(f"/api/v1/pods/{pod.pk}/logs/?tail_lines=100000").json()["lines"]
    assert [x["text"] for x in whole[5:10]] == [x["text"] for x in second["lines"]]
    middle = whole[len(whole) // 2]["time"]
    since = client.get(f"/api/v1/pods/{pod.pk}/logs/", {"since_time": middle[:19] + "Z"})
    assert since.status_code == 200
    assert since.json()["lines"][0]["time"][:19] == middle[:19]
    filtered = client.get(f"/api/v1/pods/{pod.pk}/logs/?tail_lines=100000&filter=kube-probe")
    assert all("kube-probe" in x["text"] for x in filtered.json()["lines"])
    assert client.get(f"/api/v1/pods/{pod.pk}/logs/?tail_lines=-1").status_code == 400
    previous = client.get(f"/api/v1/pods/{pod.pk}/logs/?previous=1")
    assert previous.status_code == 400 and "previous terminated container" in str(previous.json())
    stream = client.get(f"/api/v1/pods/{pod.pk}/logs/?tail_lines=1&follow=1&filter=GET")
    chunks = iter(stream.streaming_content)
    assert "GET" in json.loads(next(chunks))["text"]
    stop(stream)


def test_a_regex_too_slow_for_the_lines_is_refused_on_each_surface(
    org, portal, api, web, kubesim, monkeypatch
):
    # The access lines end in '"': the pattern tries every way of splitting each of them
    # into one and two characters before it fails. The read's one budget runs out and the
    # answer says so; a shorter budget keeps the test quick.
    monkeypatch.setattr(containers, "REGEX_SECONDS", 0.3)
    pod = Pod.objects.filter(workload_name="web").order_by("name").first()
    slow = urlencode({"tail_lines": 100000, "regex": 1, "filter": r"^(.|..)+\d$"})
    for answer in (
        portal("member").get(f"/workloads/{web.pk}/logs/stream/?{slow}"),
        portal("member").get(f"/pods/{pod.pk}/logs/stream/?{slow}&follow=1"),
        api("member").get(f"/api/v1/pods/{pod.pk}/logs/?{slow}"),
    ):
        assert answer.status_code == 400
        errors = answer.json().get("errors", answer.json())
        assert "takes too long" in errors["filter"][0]


def test_another_projects_pod_logs_and_terminal_are_404(org, portal, api, web, kubesim):
    pod = Pod.objects.filter(workload_name="web").first()
    for url in (
        f"/pods/{pod.pk}/logs/",
        f"/pods/{pod.pk}/logs/stream/",
        f"/pods/{pod.pk}/logs/stream/?follow=1",
        f"/pods/{pod.pk}/terminal/",
        f"/workloads/{web.pk}/logs/",
        f"/workloads/{web.pk}/logs/stream/",
    ):
        assert portal("outsider").get(url).status_code == 404, url
    for url in (f"/api/v1/pods/{pod.pk}/logs/", f"/api/v1/workloads/{web.pk}/logs/"):
        assert api("outsider").get(url).status_code == 404, url
    assert api("outsider").get(f"/api/v1/pods/{pod.pk}/usage/").status_code == 404
    # The member sees the terminal page (the socket itself is tested in test_terminal.py).
    assert portal("member").get(f"/pods/{pod.pk}/terminal/").status_code == 200


def test_usage_shows_next_to_requests_and_limits(org, portal, api, web, kubesim):
    pod = Pod.objects.filter(workload_name="web").order_by("name").first()
    rows = api("member").get(f"/api/v1/pods/{pod.pk}/usage/").json()
    assert rows[0]["pod"] == pod.name
    assert rows[0]["cpu_requests"] == 200 and rows[0]["cpu_limits"] == 500
    assert rows[0]["memory_requests"] == 64 * 1024**2
    live = k8s.CustomObjectsApi(web.cluster.kube().api_client).get_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", "shop", "pods", pod.name
    )
    assert rows[0]["cpu"] is not None and rows[0]["cpu"] > 0
    assert live["containers"][0]["name"] == "web"
    both = api("member").get(f"/api/v1/workloads/{web.pk}/usage/").json()
    assert len(both) == 2
    page = portal("member").get(f"/workloads/{web.pk}/").content.decode()
    assert "Resource usage" in page and "200m" in page and "128Mi" in page
    detail = portal("member").get(f"/pods/{pod.pk}/").content.decode()
    assert "500m" in detail and "64Mi" in detail


def test_a_followed_log_ends_after_logs_follow_seconds(org, api, web, settings):
    # A follow holds a server thread while it lasts, so it is bounded; the client goes on
    # from its last line with ``after``.
    settings.LOGS_FOLLOW_SECONDS = 0
    answer = api("member").get(f"/api/v1/workloads/{web.pk}/logs/?tail_lines=2&follow=1")
    items = [json.loads(chunk) for chunk in answer.streaming_content]
    assert items[-1] == {"end": True}
    assert {item["pod"] for item in items if item.get("text")}  # the backlog came first
    stop(answer)


def test_closing_a_followed_log_does_not_wait_for_the_containers_next_line(web):
    """A browser leaving a followed log closes its stream from the event loop, while a
    reader thread waits for the next line: the close must not wait with it."""
    pod = Pod.objects.filter(workload_name="web").order_by("name").first()
    stream = kube_containers.follow_log(
        web.cluster.kube(), pod.namespace_name, pod.name, "web", tail_lines=1
    )
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(stream), daemon=True)
    reader.start()
    eventually(lambda: seen)  # the last line so far; the reader now waits for more
    closing = threading.Thread(target=stream.close, daemon=True)
    closing.start()
    # Time stands still (the fixture), so no line comes: before the fix, close waited here.
    closing.join(WAIT)
    reader.join(WAIT)
    assert not closing.is_alive() and not reader.is_alive()
    assert len(seen) == 1
