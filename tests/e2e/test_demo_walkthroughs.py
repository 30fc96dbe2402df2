"""The demo walkthroughs of issues 5 and 6, done as a person would in a real browser,
then checked with the real ``kubectl`` against the same sandbox cluster."""

import base64
import json
import os
import re
import subprocess
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

KUBECTL = "/usr/bin/kubectl"
SHOTS = "/tmp/kcs-walkthrough"


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def kubectl(tmp_path, kubeconfig, *args):
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        env={"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def kubectl_json(tmp_path, kubeconfig, *args):
    return json.loads(kubectl(tmp_path, kubeconfig, *args, "-o", "json"))


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login/"))


def wait_for_operation(page):
    """On an operation's page: its live progress reaches Succeeded."""
    page.wait_for_url(re.compile(r"/operations/\d+/$"))
    expect(page.get_by_test_id("operation-status")).to_have_text("Succeeded", timeout=30_000)
    expect(page.get_by_test_id("operation-bar")).to_have_attribute("value", "100")
    # Once finished, nothing is left to cancel (the button lived outside the live part).
    expect(page.get_by_role("button", name="Cancel operation")).to_have_count(0)


def download_kubeconfig(page, tmp_path):
    with page.expect_download() as download:
        page.get_by_role("link", name="Download kubeconfig").click()
    path = tmp_path / "kubeconfig"
    download.value.save_as(path)
    return path


def open_nodes(page, cluster_url):
    """From the cluster's page, through its node summary, to the list of its nodes."""
    page.goto(cluster_url)
    page.get_by_test_id("cluster-nodes-all").click()
    page.wait_for_url(re.compile(r"/nodes/\?cluster=\d+"))
    return page.get_by_test_id("object-table")


def node_rows(page):
    """The node list as {name: status cell text} (name first, status sixth)."""
    rows = page.get_by_test_id("object-table").locator("tbody tr")
    table = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        table[cells.nth(0).inner_text().strip()] = cells.nth(5).inner_text().strip()
    return table


def node_page_labels_and_taints(page):
    """A node's page as a person reads it: its labels and taints, Kubernetes' own and the
    editable ones."""
    labels = set(page.get_by_test_id("protected-labels").locator("code").all_inner_texts())
    for row in page.get_by_test_id("labels-form").locator("tbody tr").all():
        key = row.locator("input[name$='-key']").input_value()
        if key:
            value = row.locator("input[name$='-value']").input_value()
            labels.add(f"{key}={value}")
    section = page.locator("section", has=page.get_by_role("heading", name="Taints"))
    taints = set(section.locator("ul.tags code").all_inner_texts())
    for row in page.get_by_test_id("taints-form").locator("tbody tr").all():
        key = row.locator("input[name$='-key']").input_value()
        if key:
            value = row.locator("input[name$='-value']").input_value()
            effect = row.locator("select[name$='-effect']").input_value()
            taints.add(f"{key}={value}:{effect}" if value else f"{key}:{effect}")
    return labels, taints


def test_issue_5_cloud_admin_runs_an_ha_cluster_and_its_nodes(
    sign_in, live_server, worker, sandbox, tmp_path
):
    errors = []
    page = sign_in("admin")
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # Create an HA sandbox cluster in the wizard and watch it come up.
    page.get_by_role("link", name="Clusters").click()
    page.get_by_role("link", name="Add").click()
    page.get_by_test_id("provider-sandbox").click()
    page.fill("input[name=name]", "walk")
    page.fill("input[name=display_name]", "Walkthrough")
    page.get_by_label("3 (high availability)").check()
    page.fill("input[name=workers]", "2")
    page.fill("input[name=zones]", "zone-a, zone-b")
    page.get_by_role("button", name="Create cluster").click()
    wait_for_operation(page)
    shot(page, "5-1-created")

    page.get_by_test_id("operation-target").click()  # back to the cluster
    page.wait_for_url(re.compile(r"/clusters/\d+/$"))
    expect(page.get_by_test_id("cluster-status")).to_have_text("Running")
    expect(page.get_by_test_id("cluster-nodes")).to_contain_text("Ready: 5")
    cluster_url = page.url

    # Scale out by one worker in zone-b.
    page.get_by_role("link", name="Scale out").click()
    page.get_by_label("Workers to add").fill("1")
    page.get_by_label("Zone", exact=True).select_option("zone-b")
    page.get_by_role("button", name="Save").click()
    wait_for_operation(page)
    page.goto(cluster_url)
    expect(page.get_by_test_id("cluster-nodes")).to_contain_text("Ready: 6")
    expect(open_nodes(page, cluster_url).locator("tbody tr")).to_have_count(6)
    shot(page, "5-2-scaled")
    page.goto(cluster_url)

    kubeconfig = download_kubeconfig(page, tmp_path)
    nodes = kubectl_json(tmp_path, kubeconfig, "get", "nodes")["items"]
    assert len(nodes) == 6
    workers = sorted(
        n["metadata"]["name"]
        for n in nodes
        if "node-role.kubernetes.io/control-plane" not in n["metadata"]["labels"]
    )
    drained, tainted = workers[0], workers[1]

    # Something to drain: a Deployment with pods on the workers.
    deployment = tmp_path / "web.yaml"
    deployment.write_text(DEPLOYMENT)
    kubectl(tmp_path, kubeconfig, "apply", "-f", str(deployment))

    # Cordon, then drain, one worker.
    open_nodes(page, cluster_url).get_by_role("link", name=drained, exact=True).click()
    page.get_by_role("button", name="Cordon").click()
    expect(page.locator("h1")).to_contain_text("SchedulingDisabled")
    page.get_by_role("link", name="Drain…").click()  # a confirmation first, listing the pods
    expect(page.get_by_test_id("drain-evict")).to_be_visible()
    page.get_by_role("button", name="Drain").click()
    wait_for_operation(page)
    shot(page, "5-3-drained")

    # Label and taint another.
    open_nodes(page, cluster_url).get_by_role("link", name=tainted, exact=True).click()
    labels = page.get_by_test_id("labels-form")
    labels.locator("input[name$='-key']").last.fill("tier")
    labels.locator("input[name$='-value']").last.fill("frontend")
    page.get_by_role("button", name="Save labels").click()
    expect(page.get_by_text("The node's labels were saved.")).to_be_visible()
    taints = page.get_by_test_id("taints-form")
    taints.locator("input[name$='-key']").last.fill("dedicated")
    taints.locator("input[name$='-value']").last.fill("web")
    taints.locator("select[name$='-effect']").last.select_option("NoSchedule")
    page.get_by_role("button", name="Save taints").click()
    expect(page.get_by_text("The node's taints were saved.")).to_be_visible()
    shot(page, "5-4-tainted")

    # The portal's node list matches kubectl get nodes.
    open_nodes(page, cluster_url)
    shot(page, "5-5-nodes")
    portal = node_rows(page)
    nodes = kubectl_json(tmp_path, kubeconfig, "get", "nodes")["items"]
    assert sorted(portal) == sorted(n["metadata"]["name"] for n in nodes)
    for node in nodes:
        name = node["metadata"]["name"]
        ready = any(
            c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"]
        )
        assert ("NotReady" not in portal[name]) == ready, name
        assert ("SchedulingDisabled" in portal[name]) == bool(node["spec"].get("unschedulable")), (
            name
        )
    by_name = {n["metadata"]["name"]: n for n in nodes}
    assert by_name[drained]["spec"]["unschedulable"] is True
    assert by_name[tainted]["metadata"]["labels"]["tier"] == "frontend"
    assert {"key": "dedicated", "value": "web", "effect": "NoSchedule"} in by_name[tainted]["spec"][
        "taints"
    ]
    # Each node's page shows the labels and taints kubectl shows.
    for node in nodes:
        name = node["metadata"]["name"]
        open_nodes(page, cluster_url).get_by_role("link", name=name, exact=True).click()
        # Read the node's page, not the list still on screen while it loads.
        expect(page.locator("h1")).to_contain_text(name)
        expect(page.get_by_test_id("protected-labels")).to_be_visible()
        labels, taints = node_page_labels_and_taints(page)
        assert labels == {f"{k}={v}" for k, v in node["metadata"]["labels"].items()}, name
        assert taints == {
            f"{t['key']}={t['value']}:{t['effect']}"
            if t.get("value")
            else f"{t['key']}:{t['effect']}"
            for t in node["spec"].get("taints") or []
        }, name
    pods = kubectl_json(tmp_path, kubeconfig, "get", "pods", "-n", "default")["items"]
    assert pods and all(p["spec"].get("nodeName") != drained for p in pods)
    assert errors == []


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"""


@pytest.fixture
def running_cluster(demo, worker):
    """The demo's running sandbox cluster, created by the worker as `make demo` does."""
    from django.contrib.auth import get_user_model

    from apps.clusters import services
    from apps.clusters.models import Cluster

    admin = get_user_model().objects.get(username="admin")
    cluster, _operation = services.create_cluster(admin, name="demo", display_name="Demo")
    deadline = time.monotonic() + 30
    while cluster.status != Cluster.Status.RUNNING and time.monotonic() < deadline:
        time.sleep(0.2)
        cluster.refresh_from_db()
    assert cluster.status == Cluster.Status.RUNNING, cluster.status_message
    return cluster


def field(form, label):
    """A form field by its label as shown (required ones carry a " *")."""
    return form.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def quota_used(page):
    rows = page.get_by_test_id("quota").locator("tbody tr")
    used = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        key = row.get_attribute("data-quota-key")
        used[key] = (
            row.locator("td").nth(0).inner_text().strip(),
            row.locator("progress").get_attribute("value"),
        )
    return used


def test_issue_6_a_project_member_works_in_a_namespace_with_a_quota(
    sign_in, live_server, running_cluster, tmp_path
):
    errors = []
    page = sign_in("admin")
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    main = page.locator("main")
    page.set_default_timeout(10_000)

    # The cloud admin gives web-shop a namespace with a quota.
    page.get_by_role("link", name="Namespaces", exact=True).click()
    page.get_by_role("link", name="Add").click()
    field(main, "Cluster").select_option(label="Demo")
    field(main, "Project").select_option(label="Web shop")
    field(main, "Name").fill("shop")
    field(main, "CPU requests").fill("2")
    field(main, "Memory requests").fill("4Gi")
    field(main, "Storage requested").fill("10Gi")
    field(main, "Volume claims").fill("4")
    field(main, "ConfigMaps").fill("5")
    field(main, "Secrets").fill("5")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/namespaces/\d+/$"))
    namespace_url = page.url
    page.get_by_role("link", name="Demo").click()
    kubeconfig = download_kubeconfig(page, tmp_path)
    sign_out(page)

    # The project admin opens it to the member.
    sign_in("projadmin")
    page.get_by_role("link", name="Namespaces", exact=True).click()
    page.get_by_test_id("object-table").get_by_role("link", name="shop", exact=True).click()
    page.get_by_test_id("members-form").get_by_label("member", exact=True).check()
    page.get_by_role("button", name="Save members").click()
    expect(page.get_by_test_id("members-form").get_by_label("member", exact=True)).to_be_checked()
    shot(page, "6-1-members")
    sign_out(page)

    # The member sees the namespace and its quota ...
    sign_in("member")
    page.get_by_role("link", name="Namespaces", exact=True).click()
    page.get_by_test_id("object-table").get_by_role("link", name="shop", exact=True).click()
    before = quota_used(page)
    shot(page, "6-2-quota-before")

    # ... creates a PVC,
    page.get_by_role("link", name="Volume claims").click()
    page.get_by_role("link", name="Add").click()
    field(main, "Namespace").select_option(label="Demo / shop")
    field(main, "Name").fill("data")
    field(main, "Size").fill("2Gi")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/storage/claims/\d+/$"))
    shot(page, "6-3-pvc")

    # a ConfigMap,
    page.get_by_role("link", name="ConfigMaps").click()
    page.get_by_role("link", name="Add").click()
    field(main, "Namespace").select_option(label="Demo / shop")
    field(main, "Name").fill("settings")
    page.fill("input[name=data-0-key]", "GREETING")
    page.fill("textarea[name=data-0-value]", "hello")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/configmaps/\d+/$"))

    # and a registry Secret,
    page.get_by_role("link", name="Secrets").click()
    page.get_by_role("link", name="Add").click()
    page.get_by_role("link", name="Registry credentials").click()
    field(main, "Namespace").select_option(label="Demo / shop")
    field(main, "Name").fill("registry")
    field(main, "Registry server").fill("registry.example.com")
    field(main, "User name").fill("ci")
    field(main, "Password").fill("s3cret-pass")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/secrets/\d+/$"))
    shot(page, "6-4-secret")

    # and sees the quota use move.
    page.goto(namespace_url)
    after = quota_used(page)
    shot(page, "6-5-quota-after")
    for key in ("requests.storage", "persistentvolumeclaims", "configmaps", "secrets"):
        assert after[key] != before[key], (key, before[key], after[key])
    assert after["requests.storage"] == ("2Gi", "20")
    assert after["persistentvolumeclaims"] == ("1", "25")

    # kubectl on the same cluster shows exactly those objects, beside the cluster's CA
    # that Kubernetes keeps in every namespace.
    live = kubectl_json(tmp_path, kubeconfig, "get", "pvc,configmap,secret", "-n", "shop")
    live["items"] = [o for o in live["items"] if o["metadata"]["name"] != "kube-root-ca.crt"]
    assert sorted((o["kind"], o["metadata"]["name"]) for o in live["items"]) == [
        ("ConfigMap", "settings"),
        ("PersistentVolumeClaim", "data"),
        ("Secret", "registry"),
    ]
    by_kind = {o["kind"]: o for o in live["items"]}
    assert by_kind["ConfigMap"]["data"] == {"GREETING": "hello"}
    assert by_kind["Secret"]["type"] == "kubernetes.io/dockerconfigjson"
    registry = json.loads(base64.b64decode(by_kind["Secret"]["data"][".dockerconfigjson"]))
    assert registry["auths"]["registry.example.com"]["username"] == "ci"
    claim = by_kind["PersistentVolumeClaim"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert claim["status"]["phase"] == "Bound"

    # The quota Kubernetes keeps is what the bars show.
    quota = kubectl_json(tmp_path, kubeconfig, "get", "resourcequota", "-n", "shop")["items"]
    used = quota[0]["status"]["used"]
    for key in ("requests.storage", "persistentvolumeclaims", "configmaps", "secrets"):
        assert after[key][0] == used[key], (key, after[key], used)

    # The claim's own page shows it as kubectl does: Bound, to its volume.
    page.get_by_role("link", name="Volume claims").click()
    page.get_by_test_id("object-table").get_by_role("link", name="data", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Bound")
    expect(page.get_by_test_id("bound-volume")).to_have_text(claim["spec"]["volumeName"])
    shot(page, "6-6-claim-bound")
    assert errors == []
