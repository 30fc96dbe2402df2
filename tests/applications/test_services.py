"""Applications through the services, against kubesim through the official client."""

import pytest
import yaml
from django.core.exceptions import ValidationError
from kubernetes import client as k8s

from apps.applications import services
from apps.applications.models import Application, Import
from apps.core.models import AuditEvent
from apps.core.operations import log_lines
from apps.kube.sync import sync_cluster
from apps.namespaces import services as ns_services
from apps.workloads import services as workload_services
from apps.workloads.models import Workload
from tests.kube.conftest import eventually

from .manifests import SHOP


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    from apps.applications import tasks

    monkeypatch.setattr(tasks, "POLL", 0.1)


def _custom(cluster):
    return k8s.CustomObjectsApi(cluster.kube().api_client)


def _apps(cluster):
    return k8s.AppsV1Api(cluster.kube().api_client)


def _live_application(cluster, namespace, name):
    return _custom(cluster).get_namespaced_custom_object(
        "app.k8s.io", "v1beta1", namespace, "applications", name
    )


def _succeeded(operation):
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    return operation


def _application(namespace, name) -> Application:
    sync_cluster(namespace.cluster)
    return Application.objects.get(
        cluster=namespace.cluster, namespace_name=namespace.name, name=name
    )


def _ready(namespace, name):
    def ready():
        app = _application(namespace, name)
        return app.status == "ready" and app

    return eventually(ready, timeout=60)


def _import(run_tasks, actor, namespace, text, name="shop"):
    return _succeeded(run_tasks(services.import_, actor, namespace, text, name))


def test_a_multi_document_import_becomes_one_running_application(org, shop, run_tasks):
    preview = services.preview_import(org.member, shop, SHOP, "shop")
    assert preview.ok, [(i.kind, i.name, i.errors) for i in preview.items]
    # The Application first, then what is referred to before what refers to it.
    assert [(i.kind, i.name) for i in preview.items] == [
        ("Application", "shop"),
        ("ConfigMap", "web-config"),
        ("Secret", "db-password"),
        ("Deployment", "web"),
        ("StatefulSet", "db"),
        ("CronJob", "backup"),
        ("Service", "web"),
        ("Service", "db"),
        ("Ingress", "web"),
    ]
    assert not any(item.exists for item in preview.items)
    assert not Workload.objects.filter(namespace=shop).exists()  # a preview changes nothing

    operation = _import(run_tasks, org.member, shop, SHOP)
    assert "applied Ingress web" in "\n".join(log_lines(operation))
    live = _live_application(shop.cluster, "shop", "shop")
    assert live["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "shop"}
    kinds = {entry["kind"] for entry in live["spec"]["componentKinds"]}
    assert kinds == {
        "ConfigMap",
        "Secret",
        "Deployment",
        "StatefulSet",
        "CronJob",
        "Service",
        "Ingress",
    }
    web = _apps(shop.cluster).read_namespaced_deployment("web", "shop")
    assert web.metadata.labels == {"tier": "web", "app.kubernetes.io/name": "shop"}

    app = _ready(shop, "shop")
    assert app.workload_count == 3  # web, db and the CronJob
    assert set(Workload.objects.filter(namespace=shop).values_list("name", "application_name")) == {
        ("web", "shop"),
        ("db", "shop"),
        ("backup", "shop"),
    }
    record = Import.objects.get()
    assert record.applied == 9 and record.objects_json == ""  # the Secret's data are gone
    event = AuditEvent.objects.get(action="application.import")
    assert event.result == "success" and event.operation == operation
    assert "s3cr3t" not in str(event.detail)


def test_an_export_imports_unchanged_into_another_namespace(org, shop, run_tasks):
    _import(run_tasks, org.member, shop, SHOP)
    app = _ready(shop, "shop")
    text = services.export(org.member, app)
    documents = list(yaml.safe_load_all(text))
    assert [d["kind"] for d in documents][:1] == ["Application"]
    assert {(d["kind"], d["metadata"]["name"]) for d in documents} >= {
        ("Deployment", "web"),
        ("StatefulSet", "db"),
        ("Service", "db"),
        ("Secret", "db-password"),
    }
    for document in documents:
        metadata = document["metadata"]
        assert "status" not in document and "namespace" not in metadata
        assert not {"uid", "resourceVersion", "managedFields", "creationTimestamp"} & set(metadata)
        if document["kind"] == "Service":
            assert "clusterIP" not in document["spec"] or document["spec"]["clusterIP"] == "None"
    assert not any(d["kind"] == "Job" for d in documents)  # the CronJob makes its own

    other = ns_services.create_namespace(
        org.admin, cluster=shop.cluster, project=org.web, name="shop-copy", quota={}
    )
    ns_services.set_members(org.projadmin, other, [org.member])
    preview = services.preview_import(org.member, other, text)
    assert preview.ok and preview.application == "shop", [i.errors for i in preview.items]
    _import(run_tasks, org.member, other, text, name="")
    copy = _ready(other, "shop")
    assert (copy.workload_count, copy.selector) == (app.workload_count, app.selector)
    assert _apps(shop.cluster).read_namespaced_stateful_set("db", "shop-copy").spec.replicas == 1

    namespace_export = services.export_namespace(org.member, shop)
    kinds = [d["kind"] for d in yaml.safe_load_all(namespace_export)]
    assert "Application" in kinds and "Deployment" in kinds


def test_stop_and_start_restore_the_replica_counts(org, shop, run_tasks):
    _import(run_tasks, org.member, shop, SHOP)
    app = _ready(shop, "shop")
    web = Workload.objects.get(namespace=shop, name="web")
    workload_services.scale(org.member, web, 3)

    _succeeded(run_tasks(services.stop, org.member, app))
    apps_api = _apps(shop.cluster)
    assert apps_api.read_namespaced_deployment("web", "shop").spec.replicas == 0
    assert apps_api.read_namespaced_stateful_set("db", "shop").spec.replicas == 0
    batch = k8s.BatchV1Api(shop.cluster.kube().api_client)
    assert batch.read_namespaced_cron_job("backup", "shop").spec.suspend is True
    eventually(lambda: _application(shop, "shop").status == "stopped", timeout=60)

    app = _application(shop, "shop")
    _succeeded(run_tasks(services.start, org.member, app))
    assert apps_api.read_namespaced_deployment("web", "shop").spec.replicas == 3
    assert apps_api.read_namespaced_stateful_set("db", "shop").spec.replicas == 1
    assert batch.read_namespaced_cron_job("backup", "shop").spec.suspend is False
    _ready(shop, "shop")
    assert AuditEvent.objects.filter(action="workload.stop", result="success").count() == 3


def test_redeploy_rolls_every_workload(org, shop, run_tasks):
    _import(run_tasks, org.member, shop, SHOP)
    app = _ready(shop, "shop")
    operation = _succeeded(run_tasks(services.redeploy, org.member, app))
    for kind, read in (
        ("web", _apps(shop.cluster).read_namespaced_deployment),
        ("db", _apps(shop.cluster).read_namespaced_stateful_set),
    ):
        annotations = read(kind, "shop").spec.template.metadata.annotations or {}
        assert "kubectl.kubernetes.io/restartedAt" in annotations, kind
    lines = "\n".join(log_lines(operation))
    assert "Deployment web: 2 of 2 pods up to date" in lines
    assert "StatefulSet db: 1 of 1 pods up to date" in lines


WORKER = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  replicas: 1
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers: [{name: worker, image: busybox, command: [sleep, infinity]}]
"""


def test_associate_and_detach_change_the_components_in_the_cluster(org, shop, run_tasks):
    app = services.create(org.member, shop, name="tools", description="Little helpers")
    assert _live_application(shop.cluster, "shop", "tools")["spec"]["descriptor"] == {
        "description": "Little helpers"
    }
    worker = workload_services.create_from_yaml(org.member, shop, WORKER)
    assert worker.application_name == ""

    services.associate(org.member, app, [worker])
    live = _apps(shop.cluster).read_namespaced_deployment("worker", "shop")
    assert live.metadata.labels["app.kubernetes.io/name"] == "tools"
    app = _application(shop, "tools")
    assert app.workload_count == 1
    assert Workload.objects.get(pk=worker.pk).application_name == "tools"

    services.detach(org.member, app, [Workload.objects.get(pk=worker.pk)])
    live = _apps(shop.cluster).read_namespaced_deployment("worker", "shop")
    assert "app.kubernetes.io/name" not in (live.metadata.labels or {})
    app = _application(shop, "tools")
    assert (app.workload_count, app.status) == (0, "empty")
    assert Workload.objects.get(pk=worker.pk).application_name == ""
    assert AuditEvent.objects.filter(action="application.detach", result="success").exists()


def test_workloads_without_an_application_are_grouped_into_a_new_one(org, shop):
    worker = workload_services.create_from_yaml(org.member, shop, WORKER)
    app = services.group(org.member, shop, name="batch", workloads=[worker])
    app = _application(shop, "batch")
    assert app.workload_count == 1
    with pytest.raises(ValidationError, match="already part of batch"):
        services.group(
            org.member, shop, name="again", workloads=[Workload.objects.get(pk=worker.pk)]
        )


def test_an_application_made_with_kubectl_appears_with_its_components(org, shop):
    workload_services.create_from_yaml(
        org.member, shop, WORKER.replace("{app: worker}", "{app: worker, team: ops}")
    )
    body = {
        "apiVersion": "app.k8s.io/v1beta1",
        "kind": "Application",
        "metadata": {"name": "ops"},
        "spec": {
            "selector": {"matchLabels": {"team": "ops"}},
            "componentKinds": [{"group": "apps", "kind": "Deployment"}],
            "descriptor": {"version": "1.2", "description": "made by hand"},
        },
    }
    _custom(shop.cluster).create_namespaced_custom_object(
        "app.k8s.io", "v1beta1", "shop", "applications", body
    )
    app = _application(shop, "ops")
    assert (app.version, app.description, app.selector) == ("1.2", "made by hand", {"team": "ops"})
    assert app.workload_count == 0  # the label is on the pods, not the Deployment
    worker = Workload.objects.get(namespace=shop, name="worker")
    services.associate(org.member, app, [worker])
    assert _application(shop, "ops").workload_count == 1


FOREIGN = """
apiVersion: v1
kind: ConfigMap
metadata: {name: ok}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: elsewhere, namespace: lab}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: me-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: User, name: member}]
---
apiVersion: v1
kind: Namespace
metadata: {name: mine}
"""


def test_objects_a_tenant_may_not_create_are_refused_and_nothing_is_applied(org, shop, lab):
    preview = services.preview_import(org.member, shop, FOREIGN, "sneaky")
    assert not preview.ok and preview.refused == 3
    errors = {item.name: " ".join(item.errors) for item in preview.items}
    assert "namespace lab" in errors["elsewhere"]
    assert "Roles and their bindings" in errors["me-admin"]
    assert "cluster-wide" in errors["mine"]
    assert errors["ok"] == ""

    with pytest.raises(ValidationError):
        services.import_(org.member, shop, FOREIGN, "sneaky")
    core = k8s.CoreV1Api(shop.cluster.kube().api_client)
    assert "ok" not in {c.metadata.name for c in core.list_namespaced_config_map("shop").items}
    assert not Import.objects.exists()
    event = AuditEvent.objects.get(action="application.import")
    assert event.result == "failure" and "elsewhere" in event.reason


def test_a_half_failed_import_names_the_object_and_retry_completes_it(org, shop, run_tasks):
    live = k8s.CoreV1Api(shop.cluster.kube().api_client).list_namespaced_config_map("shop")
    # Room for two more ConfigMaps: the third object of the import is refused.
    ns_services.update_quota(org.admin, shop, {"configmaps": str(len(live.items) + 2)})
    text = "\n---\n".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: part-{n}}}\ndata: {{n: '{n}'}}"
        for n in range(1, 5)
    )
    operation = run_tasks(services.import_, org.member, shop, text, "parts")
    operation.refresh_from_db()
    assert operation.status == "failed"
    assert operation.error.startswith("ConfigMap part-3: ")
    assert "exceeded quota" in operation.error
    record = Import.objects.get()
    assert (record.applied, record.total) == (3, 5)  # the Application and two ConfigMaps
    assert (
        AuditEvent.objects.get(action="application.import", operation=operation).result == "failure"
    )

    ns_services.update_quota(org.admin, shop, {"configmaps": "20"})
    retried = _succeeded(run_tasks(services.retry_import, org.member, record))
    assert "continuing from object 4 of 5" in "\n".join(log_lines(retried))
    core = k8s.CoreV1Api(shop.cluster.kube().api_client)
    names = {c.metadata.name for c in core.list_namespaced_config_map("shop").items}
    assert {"part-1", "part-2", "part-3", "part-4"} <= names
    with pytest.raises(ValidationError, match="nothing left"):
        services.retry_import(org.member, Import.objects.get())


def test_delete_with_or_without_components(org, shop, run_tasks):
    _import(run_tasks, org.member, shop, SHOP)
    app = _ready(shop, "shop")
    _succeeded(run_tasks(services.delete, org.member, app, with_components=False))
    assert not Application.objects.filter(pk=app.pk).exists()
    assert _apps(shop.cluster).read_namespaced_deployment("web", "shop").spec.replicas == 2

    _import(run_tasks, org.member, shop, SHOP)
    app = _ready(shop, "shop")
    _succeeded(run_tasks(services.delete, org.member, app, with_components=True))
    names = [d.metadata.name for d in _apps(shop.cluster).list_namespaced_deployment("shop").items]
    assert names == []
    core = k8s.CoreV1Api(shop.cluster.kube().api_client)
    assert "db-password" not in {s.metadata.name for s in core.list_namespaced_secret("shop").items}


def test_another_projects_applications_are_out_of_reach(org, shop, lab, run_tasks):
    app = services.create(org.admin, lab, name="secret-app")
    from django.http import Http404

    for call in (
        lambda: services.stop(org.member, app),
        lambda: services.export(org.member, app),
        lambda: services.preview_import(org.member, lab, SHOP, "x"),
    ):
        with pytest.raises(Http404):
            call()


AUTOSCALER = """
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
"""


def test_a_stopped_application_stays_stopped_under_its_autoscaler(org, shop, run_tasks, kubesim):
    from tests.workloads.test_autoscaling import Sim

    _import(run_tasks, org.member, shop, SHOP + AUTOSCALER)
    app = _ready(shop, "shop")
    sim = Sim(kubesim, shop.cluster)  # simulated time from here: the autoscaler's syncs
    web = Workload.objects.get(namespace=shop, name="web")
    _succeeded(run_tasks(services.stop, org.member, app))
    sim.load(web, 3.0)  # even under load, a target at zero is not scaled (as in Kubernetes)
    sim.advance(60)
    assert sim.replicas(web) == 0
    hpa = k8s.AutoscalingV2Api(shop.cluster.kube().api_client)
    conditions = hpa.read_namespaced_horizontal_pod_autoscaler("web", "shop").status.conditions
    assert any(c.reason == "ScalingDisabled" for c in conditions or [])

    _succeeded(run_tasks(services.start, org.member, _application(shop, "shop")))
    assert sim.replicas(web) == 2
    sim.advance(60)
    assert sim.replicas(web) > 2  # the autoscaler is back at work


def composed(**service):
    """Two workloads as the wizard describes them; the first exposed by a Service."""
    web = {
        "kind": "Deployment",
        "name": "web",
        "replicas": 2,
        "containers": [{"name": "web", "image": "nginx:1.27"}],
        "ports": [{"port": 80, "name": "http"}],
    }
    worker = {
        "kind": "Deployment",
        "name": "worker",
        "containers": [{"name": "worker", "image": "busybox:1.36", "command": ["sleep", "1d"]}],
    }
    exposed = {
        "type": "ClusterIP",
        "ports": [{"name": "http", "protocol": "TCP", "port": 80, "target_port": "http"}],
        **service,
    }
    return [{"workload": web, "service": exposed}, {"workload": worker, "service": None}]


def test_create_with_workloads_and_a_service_is_one_operation(org, shop, run_tasks):
    preview = services.preview_create(
        org.member, shop, name="store", description="The store", workloads=composed()
    )
    assert preview.ok, [(i.kind, i.name, i.errors) for i in preview.items]
    assert [(i.kind, i.name) for i in preview.items] == [
        ("Application", "store"),
        ("Deployment", "web"),
        ("Deployment", "worker"),
        ("Service", "web"),
    ]
    assert not Application.objects.filter(name="store").exists()  # a preview changes nothing
    application, operation = run_tasks(
        services.create_with_workloads,
        org.member,
        shop,
        name="store",
        description="The store",
        version="1.0",
        workloads=composed(),
    )
    assert application.name == "store" and application.description == "The store"
    _succeeded(operation)
    assert operation.kind == "application.create"
    assert [line.split(" ", 1)[1] for line in log_lines(operation) if "applied" in line] == [
        "applied Application store",
        "applied Deployment web",
        "applied Deployment worker",
        "applied Service web",
    ]
    ready = _ready(shop, "store")
    assert ready.version == "1.0" and ready.workload_count == 2
    live = _live_application(shop.cluster, "shop", "store")
    assert {k["kind"] for k in live["spec"]["componentKinds"]} == {"Deployment", "Service"}
    svc = k8s.CoreV1Api(shop.cluster.kube().api_client).read_namespaced_service("web", "shop")
    assert svc.spec.selector == {"app": "web"}
    assert svc.metadata.labels["app.kubernetes.io/name"] == "store"
    record = Import.objects.get(operation=operation)
    assert (record.applied, record.total) == (4, 4)
    assert AuditEvent.objects.filter(action="application.create", result="success").exists()


def test_create_with_workloads_refuses_by_field_and_applies_nothing(org, shop, run_tasks):
    bad = composed(type="Balanced", ports=[{"name": "", "protocol": "TCP", "port": 0}])
    bad[1]["workload"]["containers"][0]["image"] = ""
    with pytest.raises(ValidationError) as caught:
        services.create_with_workloads(org.member, shop, name="store", workloads=bad)
    errors = caught.value.message_dict
    assert "workloads.1.containers.0.image" in errors
    assert any(key.startswith("workloads.0.service.") for key in errors)
    with pytest.raises(ValidationError) as caught:
        services.create_with_workloads(org.member, shop, name="store", workloads=[])
    assert caught.value.message_dict == {"workloads": ["Add at least one workload."]}
    run_tasks(services.create_with_workloads, org.member, shop, name="first", workloads=composed())
    with pytest.raises(ValidationError) as caught:
        services.create_with_workloads(org.member, shop, name="second", workloads=composed())
    assert "Deployment web already exists in the namespace" in str(caught.value)
    sync_cluster(shop.cluster)
    assert not Application.objects.filter(name="second").exists()
    failed = AuditEvent.objects.filter(action="application.create", result="failure")
    assert failed.count() == 3
