"""Collection end to end: preparing a cluster deploys fluent-bit; kubesim, emulating it,
posts its containers' lines to the portal's ingest endpoint, where they can be searched."""

import base64

import pytest
from django.utils import timezone

from apps.clusters import services as cluster_services
from apps.logs import services, shipper
from apps.logs.models import LogShipper, digest
from apps.logs.query import LogQuery, parse_keywords
from apps.logs.store import get_store
from apps.namespaces import services as ns_services
from kubesim.runtime.controllers.logshipper import shipper_stats
from tests.kube.conftest import eventually


def deployment(name):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27.3"}]},
            },
        },
    }


def wait_for(check, what, timeout=60.0):
    """Poll a condition (the shipper posts from its own thread), with a generous bound."""
    try:
        return eventually(check, timeout=timeout, interval=0.2)
    except AssertionError:
        raise AssertionError(f"timed out waiting for {what}") from None


@pytest.fixture
def shipping(org, run_tasks, kubesim, live_server, settings, request):
    settings.LOGS_INGEST_URL = f"{live_server.url}/logs/ingest/"
    name = f"logs-{abs(hash(request.node.nodeid)) % 10**6}"
    created, _operation = run_tasks(
        cluster_services.create_cluster, org.admin, name=name, workers=2
    )
    created.refresh_from_db()
    assert created.status == "running", created.status_message
    yield created
    cluster_services.providers.get("sandbox").delete(created, lambda *line, **params: None)


def test_preparing_a_cluster_deploys_fluent_bit_with_its_own_token(shipping, live_server):
    kube = shipping.kube()
    ds = kube.apps.read_namespaced_daemon_set(shipper.NAME, shipper.NAMESPACE)
    assert ds.spec.template.spec.containers[0].image.startswith("cr.fluentbit.io/fluent/")
    conf = kube.core.read_namespaced_config_map(shipper.NAME, shipper.NAMESPACE).data
    port = live_server.url.rsplit(":", 1)[1]
    assert "Name              http" in conf["fluent-bit.conf"]
    assert f"Port              {port}" in conf["fluent-bit.conf"]
    assert "URI               /logs/ingest/" in conf["fluent-bit.conf"]
    secret = kube.core.read_namespaced_secret(f"{shipper.NAME}-ingest", shipper.NAMESPACE)
    token = base64.b64decode(secret.data["token"]).decode()
    row = LogShipper.objects.get(cluster=shipping)
    assert row.active and row.token_digest == digest(token)
    assert token not in str(row.__dict__)  # only the digest is kept
    # fluent-bit runs on every node, masters included.
    nodes = {n.metadata.name for n in kube.core.list_node().items}
    wait_for(
        lambda: (
            {
                p.spec.node_name
                for p in kube.core.list_namespaced_pod(
                    shipper.NAMESPACE, label_selector="app.kubernetes.io/name=fluent-bit"
                ).items
                if p.status.phase == "Running"
            }
            == nodes
        ),
        "fluent-bit on every node",
    )


def _lines(cluster, q="", namespace=None):
    keywords, _terms = parse_keywords(q)
    query = LogQuery(
        start=timezone.now() - timezone.timedelta(days=2),
        end=timezone.now() + timezone.timedelta(days=2),
        clusters=[cluster.pk],
        keywords=keywords,
    )
    lines = get_store().search(query, limit=1000)
    return [line for line in lines if namespace is None or line.namespace == namespace]


def test_kubesim_ships_the_lines_its_containers_write(shipping, org, kubesim):
    ns = ns_services.create_namespace(
        org.admin, cluster=shipping, project=org.web, name="shop", quota={}
    )
    kube = shipping.kube()
    kube.apps.create_namespaced_deployment(ns.name, deployment("web"))
    sim = kubesim.cluster(shipping.name)
    # The pods run and write lines; fluent-bit flushes every 2 simulated seconds.
    for _ in range(10):
        kubesim.admin("POST", f"/clusters/{shipping.name}/clock", {"advance": 6})
    lines = wait_for(lambda: _lines(shipping, "GET", "shop"), "nginx lines from shop")
    pods = {p.metadata.name for p in kube.core.list_namespaced_pod("shop").items}
    assert {line.pod for line in lines} <= pods
    assert {line.workload for line in lines} == {"web"}
    assert {line.container for line in lines} == {"web"}
    # What was shipped is what kubectl logs shows for that pod.
    sample = lines[0]
    log = kube.core.read_namespaced_pod_log(sample.pod, "shop", container="web")
    assert sample.message in log.splitlines()
    stats = shipper_stats(sim)
    assert any(s["records"] > 0 and s["status"] == 201 for s in stats.values()), stats
    row = LogShipper.objects.get(cluster=shipping)
    row.refresh_from_db()
    assert row.lines_received > 0


def _idle(sim) -> bool:
    return all(s["pending"] == 0 for s in shipper_stats(sim).values())


def _refused(sim) -> int:
    return sum(s["refused"] for s in shipper_stats(sim).values())


def test_a_revoked_token_stops_the_lines(shipping, org, kubesim):
    sim = kubesim.cluster(shipping.name)
    kubesim.admin("POST", f"/clusters/{shipping.name}/clock", {"advance": 30})
    wait_for(lambda: _lines(shipping), "the first lines")
    services.revoke_token(org.admin, shipping)
    # A batch the portal accepted before the revocation may still be landing: count once
    # every batch flushed so far has had its answer.
    wait_for(lambda: _idle(sim), "the shippers to finish what they were sending")
    before = len(_lines(shipping))
    refused = _refused(sim)
    kubesim.admin("POST", f"/clusters/{shipping.name}/clock", {"advance": 30})
    wait_for(
        lambda: _refused(sim) > refused and _idle(sim), "the portal to refuse the revoked token"
    )
    assert len(_lines(shipping)) == before
    # Deploying again issues a new token; the lines flow again.
    services.redeploy_shipper(org.admin, shipping)
    for _ in range(5):
        kubesim.admin("POST", f"/clusters/{shipping.name}/clock", {"advance": 10})
    wait_for(lambda: len(_lines(shipping)) > before, "lines with the new token")


def test_cloud_admins_manage_the_shippers_in_the_portal(shipping, portal):
    from apps.core.models import AuditEvent

    admin = portal("admin")
    page = admin.get("/logs/shippers/").content.decode()
    row = LogShipper.objects.get(cluster=shipping)
    assert row.token_hint in page and shipping.name in page
    base = f"/logs/shippers/{shipping.pk}"
    assert portal("member").post(f"{base}/revoke/").status_code == 403
    assert admin.post(f"{base}/retention/", {"retention_days": "0"}).status_code == 302
    assert LogShipper.objects.get(pk=row.pk).retention_days == row.retention_days
    admin.post(f"{base}/retention/", {"retention_days": "14"})
    assert LogShipper.objects.get(pk=row.pk).retention_days == 14
    admin.post(f"{base}/revoke/")
    assert not LogShipper.objects.get(pk=row.pk).active
    assert "revoked" in admin.get("/logs/shippers/").content.decode()
    admin.post(f"{base}/deploy/")
    again = LogShipper.objects.get(pk=row.pk)
    assert again.active and again.token_digest != row.token_digest
    actions = set(AuditEvent.objects.values_list("action", "result"))
    assert {
        ("logs.token.revoke", "success"),
        ("logs.shipper.deploy", "success"),
        ("logs.retention", "success"),
    } <= actions
