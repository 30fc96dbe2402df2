"""The create/edit wizard's services against kubesim through the official client: each kind
runs, what the wizard asked for is in the cluster, the dry run's refusals are next to
their fields before anything is applied, and an edit shows its diff."""

import pytest
import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from kubernetes import client as k8s

from apps.core.models import AuditEvent
from apps.kube.sync import sync_cluster
from apps.namespaces import services as ns_services
from apps.workloads import tasks, wizard
from apps.workloads.models import Pod, Workload
from tests.kube.conftest import eventually


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.1)


def container(**extra):
    return {"name": "main", "image": "nginx:1.27", **extra}


def data(kind="Deployment", name="web", **extra):
    return {"kind": kind, "name": name, "containers": [container()], **extra}


def _status(workload, wanted):
    def check():
        sync_cluster(workload.cluster)
        fresh = Workload.objects.get(pk=workload.pk)
        return fresh if fresh.status in wanted else None

    return eventually(check)


def _core(cluster):
    return k8s.CoreV1Api(cluster.kube().api_client)


def _apps(cluster):
    return k8s.AppsV1Api(cluster.kube().api_client)


@pytest.mark.parametrize(
    "kind,extra,state",
    [
        ("Deployment", {"replicas": 2}, "running"),
        (
            "StatefulSet",
            {
                "replicas": 2,
                "service_name": "db",
                "strategy": "RollingUpdate",
                "partition": 0,
                "progress_deadline_seconds": 120,
                "claims": [{"name": "data", "size": "1Gi"}],
                "mounts": [{"volume": "data", "path": "/var/lib/data"}],
            },
            "running",
        ),
        ("DaemonSet", {"progress_deadline_seconds": 120}, "running"),
        ("Job", {"completions": 1, "backoff_limit": 1}, "completed"),
        ("CronJob", {"schedule": "*/5 * * * *", "concurrency_policy": "Forbid"}, "running"),
    ],
)
def test_each_kind_made_by_the_wizard_reaches_its_state(org, shop, kind, extra, state):
    body = data(kind, name=kind.lower(), **extra)
    if kind in ("Job", "CronJob"):
        body["containers"] = [container(image="busybox", command=["sh", "-c", "echo done"])]
    preview = wizard.preview(org.member, shop, body)
    assert preview.ok, preview.errors
    assert f"kind: {kind}" in preview.yaml
    assert not Workload.objects.filter(name=kind.lower()).exists()  # a preview changes nothing
    made = wizard.create(org.member, shop, body)
    assert made.kind == kind and made.images == [body["containers"][0]["image"]]
    if kind == "CronJob":
        assert made.schedule == "*/5 * * * *"
        # Five simulated minutes on, the schedule has run a Job, which completes.
        clock = f"{settings.KUBESIM_URL.rstrip('/')}/kubesim/v1/clusters/{shop.cluster.name}/clock"
        assert requests.post(clock, json={"advance": 330}, timeout=10).status_code == 200

        def job_completed():
            sync_cluster(shop.cluster)
            return Workload.objects.filter(
                kind="Job", owner_kind="CronJob", owner_name=made.name, status="completed"
            ).first()

        eventually(job_completed)
    _status(made, {state})
    if kind == "StatefulSet":
        # Each pod has its own claim from the template, bound, and mounted.
        core = _core(shop.cluster)
        claims = {
            c.metadata.name: c for c in core.list_namespaced_persistent_volume_claim("shop").items
        }
        assert {"data-statefulset-0", "data-statefulset-1"} <= set(claims)
        pod = core.read_namespaced_pod("statefulset-0", "shop")
        assert pod.spec.containers[0].volume_mounts[0].mount_path == "/var/lib/data"
    if kind in ("StatefulSet", "DaemonSet"):  # no spec field for it: the portal's annotation
        annotations = made.manifest["metadata"]["annotations"]
        assert annotations["kcs.io/progress-deadline-seconds"] == "120"
    event = AuditEvent.objects.filter(action="workload.create", result="success").latest("id")
    assert event.detail["source"] == "wizard" and event.target_name == kind.lower()


def test_probes_env_volumes_and_anti_affinity_reach_the_cluster(org, shop):
    core = _core(shop.cluster)
    core.create_namespaced_config_map(
        "shop", {"metadata": {"name": "settings"}, "data": {"colour": "blue", "site": "a"}}
    )
    core.create_namespaced_secret(
        "shop", {"metadata": {"name": "creds"}, "stringData": {"token": "s3cret"}}
    )
    body = data(
        replicas=2,
        preset="spread",
        topology="hostname",
        containers=[
            container(
                readiness_type="http",
                readiness_path="/",
                readiness_port="80",
                readiness_period=2,
                liveness_type="tcp",
                liveness_port="80",
                requests_cpu="50m",
                requests_memory="32Mi",
            )
        ],
        ports=[{"name": "http", "port": 80, "protocol": "TCP"}],
        env=[
            {"name": "MODE", "source": "value", "value": "prod"},
            {"name": "COLOUR", "source": "configmap", "ref": "settings", "key": "colour"},
            {"name": "TOKEN", "source": "secret", "ref": "creds", "key": "token"},
        ],
        env_from=[{"source": "configmap", "ref": "settings", "prefix": "APP_"}],
        volumes=[
            {"name": "conf", "type": "configmap", "ref": "settings"},
            {"name": "scratch", "type": "emptydir"},
        ],
        mounts=[
            {"volume": "conf", "path": "/etc/web", "read_only": True},
            {"volume": "scratch", "path": "/tmp/scratch"},
        ],
    )
    web = wizard.create(org.member, shop, body)
    live = _apps(shop.cluster).read_namespaced_deployment("web", "shop")
    c = live.spec.template.spec.containers[0]
    assert c.readiness_probe.http_get.path == "/" and c.readiness_probe.period_seconds == 2
    assert c.liveness_probe.tcp_socket.port == 80
    assert [e.name for e in c.env] == ["MODE", "COLOUR", "TOKEN"]
    assert c.env[1].value_from.config_map_key_ref.key == "colour"
    assert c.env[2].value_from.secret_key_ref.name == "creds"
    assert c.env_from[0].prefix == "APP_"
    assert {(m.name, m.mount_path) for m in c.volume_mounts} >= {
        ("conf", "/etc/web"),
        ("scratch", "/tmp/scratch"),
    }
    anti = live.spec.template.spec.affinity.pod_anti_affinity
    term = anti.preferred_during_scheduling_ignored_during_execution[0].pod_affinity_term
    assert term.topology_key == "kubernetes.io/hostname"
    _status(web, {"running"})
    pods = Pod.objects.filter(namespace=shop, workload_kind="Deployment", workload_name="web")
    assert pods.count() == 2 and all(p.ready for p in pods)
    # Anti-affinity: the two pods are on the two workers, one each.
    assert len({p.node_name for p in pods}) == 2


def test_the_dry_run_puts_quota_refusals_next_to_the_resources_before_applying(
    org, cluster, run_tasks
):
    small = ns_services.create_namespace(
        org.admin,
        cluster=cluster,
        project=org.web,
        name="small",
        quota={"requests.cpu": "1", "limits.cpu": "2", "pods": "4"},
    )
    ns_services.set_members(org.projadmin, small, [org.member])
    body = data(
        replicas=1,
        containers=[container(requests_cpu="500m", limits_cpu="4")],
    )
    preview = wizard.preview(org.member, small, body)
    assert not preview.ok
    # Kubernetes' own refusal (a pod of this template exceeds the quota), on the limit field.
    limit_errors = " ".join(preview.errors["containers.0.limits_cpu"])
    assert "exceeded quota" in limit_errors and "limits.cpu" in limit_errors
    rows = {row["key"]: row for row in preview.quota}
    assert rows["limits.cpu"]["remaining"] == "2" and not rows["limits.cpu"]["fits"]
    assert rows["requests.cpu"]["fits"]
    # Three replicas of 500m do not fit the 1 CPU of requests that remains: said before applying.
    body["containers"][0]["limits_cpu"] = "600m"
    body["replicas"] = 3
    preview = wizard.preview(org.member, small, body)
    assert "containers.0.requests_cpu" in preview.errors
    assert "1500m" in " ".join(preview.errors["containers.0.requests_cpu"])
    with pytest.raises(ValidationError) as refused:
        wizard.create(org.member, small, body)
    assert "containers.0.requests_cpu" in refused.value.message_dict
    assert not _apps(cluster).list_namespaced_deployment("small").items  # nothing was applied
    assert AuditEvent.objects.filter(action="workload.create", result="failure").exists()
    body["replicas"] = 2
    assert wizard.preview(org.member, small, body).ok
    assert wizard.create(org.member, small, body).desired == 2


def test_validation_errors_of_kubernetes_find_their_fields(org, shop):
    body = data(
        containers=[container(readiness_type="tcp", readiness_port="80", readiness_period=-3)]
    )
    preview = wizard.preview(org.member, shop, body)
    assert "containers.0.readiness_period" in preview.errors, preview.errors


def test_an_edit_starts_from_what_runs_and_shows_the_diff(org, shop):
    web = wizard.create(org.member, shop, data(replicas=1, labels={"tier": "front"}))
    initial, version = wizard.initial(org.member, web)
    assert initial["containers"][0]["image"] == "nginx:1.27" and initial["replicas"] == 1
    assert initial["labels"]["tier"] == "front" and version
    initial["containers"][0]["image"] = "nginx:1.28"
    initial["replicas"] = 2
    preview = wizard.preview(org.member, shop, initial, workload=web, resource_version=version)
    assert preview.ok, preview.errors
    removed = [line for line in preview.diff.splitlines() if line.startswith("-")]
    added = [line for line in preview.diff.splitlines() if line.startswith("+")]
    assert any("image: nginx:1.27" in line for line in removed)
    assert any("image: nginx:1.28" in line for line in added)
    assert "-  replicas: 1" in removed and "+  replicas: 2" in added
    assert len(removed) == len(added) == 3  # the header, the image, the replicas: nothing else
    live = _apps(shop.cluster).read_namespaced_deployment("web", "shop")
    assert live.spec.template.spec.containers[0].image == "nginx:1.27"  # not applied yet
    # a new template and replica count roll out: the Operation following them is returned
    following = wizard.update(org.member, web, initial, resource_version=version)
    assert following.kind == "workload.update" and following.target_id == web.pk
    web = Workload.objects.get(pk=web.pk)
    live = _apps(shop.cluster).read_namespaced_deployment("web", "shop")
    assert live.spec.template.spec.containers[0].image == "nginx:1.28" and live.spec.replicas == 2
    # The version the user saw is gone now: a second edit from it is refused, with "reload".
    with pytest.raises(ValidationError) as refused:
        wizard.update(org.member, web, initial, resource_version=version)
    assert "Reload" in str(refused.value)


def test_others_cannot_preview_or_create_in_a_namespace_not_theirs(org, lab):
    from django.http import Http404

    with pytest.raises(Http404):
        wizard.preview(org.member, lab, data())
    with pytest.raises(Http404):
        wizard.create(org.member, lab, data())
    assert AuditEvent.objects.filter(action="workload.create", result="failure").exists()


def test_a_readiness_probe_holds_the_pods_back_until_it_passes(org, shop):
    body = data(
        replicas=1,
        containers=[
            container(
                readiness_type="http",
                readiness_path="/",
                readiness_port="80",
                readiness_initial_delay=120,
            )
        ],
    )
    web = wizard.create(org.member, shop, body)

    def running_not_ready():
        sync_cluster(shop.cluster)
        pods = list(Pod.objects.filter(namespace=shop, workload_name="web"))
        return pods and all(p.status == "Running" and not p.ready for p in pods)

    eventually(running_not_ready)
    assert Workload.objects.get(pk=web.pk).ready == 0
    clock = f"{settings.KUBESIM_URL.rstrip('/')}/kubesim/v1/clusters/{shop.cluster.name}/clock"
    assert requests.post(clock, json={"advance": 130}, timeout=10).status_code == 200
    _status(web, {"running"})
    assert all(p.ready for p in Pod.objects.filter(namespace=shop, workload_name="web"))
