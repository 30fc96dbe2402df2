"""The fault suite: every long operation under each of kubesim's faults, its worker killed.

For each cluster operation (create, scale-out, drain, delete, and following a workload's
rollout) and each fault (503, 429 with Retry-After, timeouts, refused connections, a
NotReady node), a real Celery worker runs it until it is held mid-way (a node that is not
Ready, a disruption budget, a frozen simulated clock); then the fault is switched on, the
worker meets it, and is killed (``kill -9``). The reaper resumes the operation on a new
worker while Kubernetes stays flaky (a seeded share of its answers fail). Each ends
succeeded or failed with the reason, no lock is left, the audit trail records the start
and the resumption, and the portal shows what Kubernetes has.

The application operations (create with workloads, import, stop, start, redeploy,
delete) run each under two of the faults, every fault covered, and a workload's redeploy
and rollback under one each (a bounded suite; set_image is the rollout scene above): the
operation is queued, the fault switched on, then a worker takes it, meets the fault and is
killed; the resumed attempt ends as above, with the application and kubectl agreeing.

An application create whose request meets the fault (500, 429, refused connections) says
"Kubernetes is unavailable, try again", leaves no row, operation or object behind, and
works when asked again.
"""

import types
from pathlib import Path

import kubernetes.client as k8s
import pytest
from django.core.exceptions import ValidationError

from apps.applications import services as app_services
from apps.applications import tasks as app_tasks
from apps.applications.models import Application
from apps.applications.models import Import as ImportRecord
from apps.clusters import services, tasks
from apps.clusters.models import Cluster, Node
from apps.core.models import AuditEvent, Operation
from apps.core.operations import log_lines
from apps.namespaces import services as ns_services
from apps.workloads import services as workload_services
from apps.workloads.models import Workload
from tests.clusters.helpers import running_cluster, unique_name
from tests.clusters.workers import Broker, eagerly, finished, kubectl, reap_later, wait_for
from tests.kube.conftest import eventually

pytestmark = pytest.mark.timeout(600)

# The fault switched on while the operation is held, and (None: the same) while the
# resumed attempt runs; the worker's client gives up on an answer after 1 s.
FAULTS = {
    "503": {"error_rate": 1.0, "error_code": 503, "retry_after": 1},
    "429": {"error_rate": 1.0, "error_code": 429, "retry_after": 1},
    "timeout": {"latency_ms": 2500},
    "refused": {"refuse": True},
    "notready": None,  # a node stops being Ready instead
}
FLAKY = {"error_rate": 0.25, "error_code": 503, "retry_after": 1, "seed": 11}


@pytest.fixture
def fs_broker(tmp_path, kubesim, transactional_db):
    broker = Broker("filesystem", tmp_path, kubesim.url)
    broker.env["KUBE_READ_TIMEOUT"] = "1"
    with broker.sending():
        yield broker


def _ready(kubesim, cluster: str, node: str, status: str):
    code, body = kubesim.admin("PUT", f"/clusters/{cluster}/nodes/{node}/ready", {"status": status})
    assert code == 200, body


def _faults(kubesim, cluster: str, fields: dict, *, gone_ok: bool = False):
    code, body = kubesim.admin("PUT", f"/clusters/{cluster}/faults", fields)
    assert code == 200 or (gone_ok and code == 404), body


class Scene:
    """One long operation: set it up, hold it mid-way, release it, check the outcome."""

    node = "worker-2"  # the node the NotReady fault takes down

    def __init__(self, org, run_tasks, kubesim):
        self.org, self.run_tasks, self.kubesim = org, run_tasks, kubesim

    def prepare(self): ...

    def start(self) -> Operation: ...

    def held(self, operation) -> bool: ...

    def log(self, operation) -> str:
        operation.refresh_from_db()
        return "\n".join(log_lines(operation))

    def release(self): ...

    def check(self, operation): ...

    @property
    def name(self) -> str:
        return self.cluster.name


class Create(Scene):
    node = "worker-1"

    def prepare(self):
        self.cluster_name = unique_name("suite")
        # The sandbox provider reuses this cluster; its worker is not Ready: creation waits.
        self.kubesim.create_cluster(self.cluster_name, masters=1, workers=2)
        _ready(self.kubesim, self.cluster_name, "worker-1", "False")

    @property
    def name(self):
        return self.cluster_name

    def start(self):
        self.cluster, operation = services.create_cluster(
            self.org.admin, name=self.cluster_name, workers=2
        )
        return operation

    def held(self, operation):
        return Cluster.objects.get(pk=self.cluster.pk).provision_step == "api"

    def release(self):
        _ready(self.kubesim, self.cluster_name, "worker-1", "True")

    def check(self, operation):
        self.cluster.refresh_from_db()
        assert self.cluster.status == "running", self.cluster.status_message
        assert "\n".join(log_lines(operation)).count("Provisioning the cluster") == 1
        _nodes_agree(self.cluster)


class ScaleOut(Scene):
    node = "worker-1"

    def prepare(self):
        self.cluster = running_cluster(self.run_tasks, self.org.admin, workers=1)
        # The new worker comes up, but the scale-out waits for every node to be Ready.
        _ready(self.kubesim, self.name, "worker-1", "False")

    def start(self):
        return services.scale_out(self.org.admin, self.cluster, workers=1)

    def held(self, operation):
        return "added worker-2" in self.log(operation)

    def release(self):
        _ready(self.kubesim, self.name, "worker-1", "True")

    def check(self, operation):
        self.cluster.refresh_from_db()
        assert self.cluster.status == "running", self.cluster.status_message
        assert (self.cluster.nodes_total, self.cluster.nodes_ready) == (3, 3)
        assert "\n".join(log_lines(operation)).count("added worker-") == 1  # added once
        _nodes_agree(self.cluster)


class Drain(Scene):
    def prepare(self):
        self.cluster = running_cluster(self.run_tasks, self.org.admin, workers=2)
        core = k8s.CoreV1Api(self.cluster.kube().api_client)
        for name in ("free", "held"):
            core.create_namespaced_pod(
                "default",
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name, "labels": {"app": name}},
                    "spec": {
                        "nodeName": "worker-1",
                        "containers": [{"name": "main", "image": "nginx:1.27"}],
                        "terminationGracePeriodSeconds": 0,
                    },
                },
            )
        self.policy = k8s.PolicyV1Api(self.cluster.kube().api_client)
        self.policy.create_namespaced_pod_disruption_budget(
            "default",
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "held"},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "held"}}},
            },
        )

    def start(self):
        node = Node.objects.get(cluster=self.cluster, name="worker-1")
        return services.drain(self.org.admin, node, force=True)

    def held(self, operation):
        return "evicted default/free" in self.log(operation)

    def release(self):
        self.policy.delete_namespaced_pod_disruption_budget("held", "default")

    def check(self, operation):
        node = Node.objects.get(cluster=self.cluster, name="worker-1")
        live = kubectl(self.cluster, "get", "node", "worker-1")
        assert live["spec"]["unschedulable"] is True and node.schedulable is False
        pods = kubectl(
            self.cluster, "get", "pods", "-A", "--field-selector", "spec.nodeName=worker-1"
        )
        assert {p["metadata"]["name"] for p in pods["items"]} & {"free", "held"} == set()


class Delete(Scene):
    """Deleting goes to the provider, not to the cluster's API: the faults do not hold
    it, so it is killed as soon as a worker runs it (or has run it)."""

    def prepare(self):
        self.cluster = running_cluster(self.run_tasks, self.org.admin, workers=2)

    def start(self):
        return services.delete_cluster(self.org.admin, self.cluster)

    def held(self, operation):
        operation.refresh_from_db()
        return operation.status != "pending"

    def release(self):
        pass

    def check(self, operation):
        self.cluster.refresh_from_db()
        assert self.cluster.status == "deleted"
        assert not Node.objects.filter(cluster=self.cluster).exists()
        assert self.kubesim.admin("GET", f"/clusters/{self.name}")[0] == 404


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
"""


class Rollout(Scene):
    def prepare(self):
        self.cluster = running_cluster(self.run_tasks, self.org.admin, workers=2)
        shop = ns_services.create_namespace(
            self.org.admin, cluster=self.cluster, project=self.org.web, name="shop", quota={}
        )
        self.workload = workload_services.create_from_yaml(self.org.admin, shop, DEPLOYMENT)
        self._clock(advance=30)
        wait_for(lambda: _available(self.cluster) == 2, "the deployment to be available")
        self._clock(factor=0)  # frozen: the rollout waits until the clock moves

    def _clock(self, advance=None, factor=None):
        body = {
            k: v for k, v in {"advance": advance, "timeFactor": factor}.items() if v is not None
        }
        code, answer = self.kubesim.admin("POST", f"/clusters/{self.name}/clock", body)
        assert code == 200, answer

    def start(self):
        workload = Workload.objects.get(pk=self.workload.pk)
        return workload_services.set_image(
            self.org.admin, workload, container="web", image="nginx:1.28"
        )

    def held(self, operation):
        return "Deployment web" in self.log(operation)

    def release(self):
        self._clock(factor=1)
        self._clock(advance=60)

    def check(self, operation):
        live = kubectl(self.cluster, "get", "deployment", "web", "-n", "shop")
        assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
        workload = Workload.objects.get(pk=self.workload.pk)
        assert workload.images == ["nginx:1.28"]
        assert (workload.updated, workload.available) == (2, 2)


def _available(cluster) -> int:
    apps = k8s.AppsV1Api(cluster.kube().api_client)
    return apps.read_namespaced_deployment("web", "shop").status.available_replicas or 0


def _nodes_agree(cluster):
    live = {
        n["metadata"]["name"]: any(
            c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"]
        )
        for n in kubectl(cluster, "get", "nodes")["items"]
    }
    assert dict(Node.objects.filter(cluster=cluster).values_list("name", "ready")) == live


SCENES = {
    "create": Create,
    "scale-out": ScaleOut,
    "drain": Drain,
    "delete": Delete,
    "rollout": Rollout,
}


def _met(worker_log: Path, operation) -> bool:
    """The held operation met the fault: its client retried, or the task did."""
    retried = "retrying" in worker_log.read_text(errors="replace")
    operation.refresh_from_db()
    return retried or any("Temporary failure" in line for line in log_lines(operation))


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("scene", list(SCENES))
def test_long_operation_under_faults_survives_its_worker(
    scene, fault, org, run_tasks, kubesim, fs_broker, monkeypatch
):
    scene = SCENES[scene](org, run_tasks, kubesim)
    monkeypatch.setattr(tasks, "POLL", 0.05)  # setting the scene in this process: quickly
    with eagerly():
        scene.prepare()
    first = fs_broker.worker()
    operation = scene.start()
    wait_for(lambda: scene.held(operation), "the operation to be held", worker=first)

    deleting = isinstance(scene, Delete)  # its kubesim cluster may be gone already
    if FAULTS[fault] is None:
        if not deleting:
            _ready(kubesim, scene.name, scene.node, "False")
    else:
        _faults(kubesim, scene.name, FAULTS[fault], gone_ok=deleting)
        # A drain meets a 429 silently: from the eviction API it is a disruption budget's
        # "not now", which it waits out (as it already does for the held pod).
        if not deleting and not (isinstance(scene, Drain) and fault == "429"):
            wait_for(
                lambda: _met(first.log_path, operation),
                "the operation to meet the fault",
                worker=first,
            )
    first.kill()

    # Kubernetes stays flaky while a new worker resumes it.
    _faults(kubesim, scene.name, FLAKY if FAULTS[fault] is not None else {}, gone_ok=deleting)
    if FAULTS[fault] is None and not deleting:
        _ready(kubesim, scene.name, scene.node, "True")
    scene.release()
    reaped = reap_later()
    operation.refresh_from_db()
    if operation.is_finished:  # a delete that was done before the kill
        assert reaped == {"resumed": [], "failed": []}
    else:
        assert reaped == {"resumed": [operation.pk], "failed": []}, (
            operation.status,
            operation.heartbeat,
            log_lines(operation),
        )
        second = fs_broker.worker()
        wait_for(lambda: finished(operation), "the resumed operation", worker=second)
    _faults(kubesim, scene.name, {}, gone_ok=deleting)
    tasks.sync_all()  # beat's next look at the clusters, with Kubernetes answering again

    assert operation.status in ("succeeded", "failed"), operation.status
    assert operation.status == "succeeded" or operation.error, log_lines(operation)
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    assert not Operation.objects.filter(status__in=Operation.UNFINISHED).exists()  # no lock
    actions = set(AuditEvent.objects.filter(operation=operation).values_list("action", "result"))
    assert any(result == "success" for _action, result in actions), actions
    if operation.resumes:
        assert ("operation.resume", "success") in actions
        assert any("stopped" in line for line in log_lines(operation))
    scene.check(operation)


# -- the application operations ---------------------------------------------------------

APPLICATION = """
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {greeting: hello}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


class AppScene(Scene):
    """An application operation on a two-worker cluster's namespace "shop"."""

    imported = True  # the application exists before the operation

    def prepare(self):
        self.cluster = running_cluster(self.run_tasks, self.org.admin, workers=2)
        self.shop = ns_services.create_namespace(
            self.org.admin, cluster=self.cluster, project=self.org.web, name="shop", quota={}
        )
        if self.imported:
            app_services.import_(self.org.admin, self.shop, APPLICATION, "web-app")
            wait_for(lambda: _available(self.cluster) == 2, "the application's pods")
            self.app = self.application()

    def application(self) -> Application | None:
        tasks.sync_cluster(self.cluster)
        return Application.objects.filter(
            cluster=self.cluster, namespace_name="shop", name="web-app"
        ).first()

    def replicas(self) -> int:
        return kubectl(self.cluster, "get", "deployment", "web", "-n", "shop")["spec"]["replicas"]


class Import(AppScene):
    imported = False

    def start(self):
        return app_services.import_(self.org.admin, self.shop, APPLICATION, "web-app")

    def check(self, operation):
        live = kubectl(self.cluster, "get", "deployment,service,configmap", "-n", "shop")
        names = {(o["kind"], o["metadata"]["name"]) for o in live["items"]}
        assert {("Deployment", "web"), ("Service", "web"), ("ConfigMap", "web-config")} <= names
        wait_for(lambda: _available(self.cluster) == 2, "the imported pods")
        assert eventually(lambda: (app := self.application()) and app.workload_count == 1)


class CreateApp(AppScene):
    """A new application with a workload and its Service (the portal's "create with
    workloads"): the Application object at once, the rest as the operation."""

    imported = False
    workloads = [
        {
            "workload": {
                "kind": "Deployment",
                "name": "web",
                "replicas": 2,
                "containers": [{"name": "web", "image": "nginx:1.27"}],
                "ports": [{"port": 80, "name": "http"}],
            },
            "service": {
                "type": "ClusterIP",
                "ports": [{"name": "http", "protocol": "TCP", "port": 80, "target_port": "http"}],
            },
        }
    ]

    def start(self):
        _application, operation = app_services.create_with_workloads(
            self.org.admin, self.shop, name="web-app", workloads=self.workloads
        )
        return operation

    def check(self, operation):
        live = kubectl(self.cluster, "get", "deployment,service", "-n", "shop")
        names = {(o["kind"], o["metadata"]["name"]) for o in live["items"]}
        assert {("Deployment", "web"), ("Service", "web")} <= names
        apps = kubectl(self.cluster, "get", "applications.app.k8s.io", "-n", "shop")
        assert "web-app" in {a["metadata"]["name"] for a in apps["items"]}
        wait_for(lambda: _available(self.cluster) == 2, "the created pods")
        assert eventually(lambda: (app := self.application()) and app.workload_count == 1)
        # One of each: no row left over from the attempt the dead worker ran.
        assert Application.objects.filter(name="web-app").count() == 1
        [record] = ImportRecord.objects.filter(namespace=self.shop)
        assert (record.operation, record.applied) == (operation, 3)


class Stop(AppScene):
    def start(self):
        return app_services.stop(self.org.admin, self.app)

    def check(self, operation):
        assert self.replicas() == 0
        assert eventually(lambda: self.application().status == "stopped")


class Start(AppScene):
    def prepare(self):
        super().prepare()
        with eagerly():
            app_services.stop(self.org.admin, self.app)
        assert self.replicas() == 0

    def start(self):
        return app_services.start(self.org.admin, self.application())

    def check(self, operation):
        assert self.replicas() == 2  # the remembered count
        wait_for(lambda: _available(self.cluster) == 2, "the started pods")


class Redeploy(AppScene):
    def start(self):
        return app_services.redeploy(self.org.admin, self.app)

    def check(self, operation):
        live = kubectl(self.cluster, "get", "deployment", "web", "-n", "shop")
        annotations = live["spec"]["template"]["metadata"].get("annotations") or {}
        assert "kubectl.kubernetes.io/restartedAt" in annotations
        assert "Deployment web: 2 of 2 pods up to date" in self.log(operation)


class DeleteApp(AppScene):
    def start(self):
        return app_services.delete(self.org.admin, self.app, with_components=True)

    def check(self, operation):
        assert self.application() is None
        live = kubectl(self.cluster, "get", "deployments,services,configmaps", "-n", "shop")
        names = {(o["kind"], o["metadata"]["name"]) for o in live["items"]}
        assert names & {("Deployment", "web"), ("Service", "web"), ("ConfigMap", "web-config")} == (
            set()
        )
        apps = kubectl(self.cluster, "get", "applications.app.k8s.io", "-n", "shop")
        assert apps["items"] == []


class WorkloadRedeploy(AppScene):
    """A workload's own long operations (redeploy, rollback) follow its rollout."""

    def workload(self) -> Workload:
        tasks.sync_cluster(self.cluster)
        return Workload.objects.get(cluster=self.cluster, namespace_name="shop", name="web")

    def start(self):
        return workload_services.redeploy(self.org.admin, self.workload())

    def check(self, operation):
        live = kubectl(self.cluster, "get", "deployment", "web", "-n", "shop")
        annotations = live["spec"]["template"]["metadata"].get("annotations") or {}
        assert "kubectl.kubernetes.io/restartedAt" in annotations
        assert eventually(lambda: (w := self.workload()).updated == 2 and w.available == 2)


class WorkloadRollback(WorkloadRedeploy):
    def prepare(self):
        super().prepare()
        with eagerly():
            workload_services.set_image(
                self.org.admin, self.workload(), container="web", image="nginx:1.28"
            )

    def start(self):
        return workload_services.rollback(self.org.admin, self.workload(), 1)

    def check(self, operation):
        live = kubectl(self.cluster, "get", "deployment", "web", "-n", "shop")
        assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
        assert eventually(lambda: self.workload().images == ["nginx:1.27"])


APP_SCENES = {
    "create": CreateApp,
    "workload-redeploy": WorkloadRedeploy,
    "workload-rollback": WorkloadRollback,
    "import": Import,
    "stop": Stop,
    "start": Start,
    "redeploy": Redeploy,
    "delete": DeleteApp,
}
# Each application operation under two faults, each fault under at least one; the
# workload operations other than set_image (the "rollout" scene above) under one each.
APP_CASES = [
    ("create", "503"),
    ("create", "refused"),
    ("import", "503"),
    ("import", "refused"),
    ("stop", "429"),
    ("stop", "timeout"),
    ("start", "503"),
    ("redeploy", "timeout"),
    ("redeploy", "notready"),
    ("delete", "refused"),
    ("delete", "429"),
    ("workload-redeploy", "429"),
    ("workload-rollback", "refused"),
]


@pytest.mark.parametrize(("scene", "fault"), APP_CASES)
def test_application_operation_under_faults_survives_its_worker(
    scene, fault, org, run_tasks, kubesim, fs_broker, monkeypatch
):
    scene = APP_SCENES[scene](org, run_tasks, kubesim)
    monkeypatch.setattr(tasks, "POLL", 0.05)
    monkeypatch.setattr(app_tasks, "POLL", 0.05)
    with eagerly():
        scene.prepare()
    operation = scene.start()  # queued: no worker has it yet
    operation.refresh_from_db()
    assert operation.status == "pending"
    if FAULTS[fault] is None:
        _ready(kubesim, scene.name, scene.node, "False")
    else:
        _faults(kubesim, scene.name, FAULTS[fault])
    first = fs_broker.worker()
    if FAULTS[fault] is None:
        wait_for(lambda: Operation.objects.get(pk=operation.pk).status == "running", "a start")
    else:
        wait_for(lambda: _met(first.log_path, operation), "the fault to be met", worker=first)
    first.kill()

    _faults(kubesim, scene.name, FLAKY if FAULTS[fault] is not None else {})
    if FAULTS[fault] is None:
        _ready(kubesim, scene.name, scene.node, "True")
    reaped = reap_later()
    operation.refresh_from_db()
    if not operation.is_finished:  # (a NotReady node does not slow every operation)
        assert reaped == {"resumed": [operation.pk], "failed": []}, log_lines(operation)
        second = fs_broker.worker()
        wait_for(lambda: finished(operation), "the resumed operation", worker=second)
    _faults(kubesim, scene.name, {})

    assert operation.status == "succeeded" or operation.error, log_lines(operation)
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    assert not Operation.objects.filter(status__in=Operation.UNFINISHED).exists()  # no lock
    actions = set(AuditEvent.objects.filter(operation=operation).values_list("action", "result"))
    assert (operation.kind, "success") in actions, actions
    if operation.resumes:
        assert ("operation.resume", "success") in actions
    scene.check(operation)


# -- an application created while Kubernetes is down --------------------------------------

UNAVAILABLE = "Kubernetes is unavailable"
DOWN = {
    "500": {"error_rate": 1.0, "error_code": 500},
    "429": {"error_rate": 1.0, "error_code": 429, "retry_after": 1},
    "refused": {"refuse": True},
}


@pytest.mark.parametrize("fault", list(DOWN))
def test_application_create_while_kubernetes_is_down_then_retried(
    fault, org, run_tasks, kubesim, portal, api, monkeypatch
):
    """The request meets the fault (before any operation): the user reads "Kubernetes is
    unavailable, try again", nothing is left half-written, and the same create works once
    Kubernetes answers."""
    from apps.kube import client as kube_client

    monkeypatch.setattr(tasks, "POLL", 0.05)
    scene = CreateApp(org, run_tasks, kubesim)
    scene.prepare()
    # The client's backoff, recorded rather than slept.
    monkeypatch.setattr(kube_client, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    _faults(kubesim, scene.name, DOWN[fault])
    try:
        # The portal's form (an application without workloads yet) ...
        page = portal("admin").post(
            "/applications/add/", {"namespace": scene.shop.pk, "name": "empty"}
        )
        assert page.status_code == 200 and UNAVAILABLE in page.content.decode()
        # ... the API ...
        answer = api("admin").post(
            "/api/v1/applications/",
            {"namespace": scene.shop.pk, "name": "empty"},
            format="json",
        )
        assert answer.status_code == 503 and UNAVAILABLE in str(answer.json()), answer.content
        # ... and with its workloads.
        with pytest.raises(ValidationError) as refused:
            scene.start()
        assert UNAVAILABLE in " ".join(refused.value.messages)
    finally:
        _faults(kubesim, scene.name, {})

    # Nothing half-written: no row, no operation, nothing in Kubernetes.
    assert not Application.objects.exists()
    assert not ImportRecord.objects.exists()
    assert not Operation.objects.filter(kind="application.create").exists()
    live = kubectl(scene.cluster, "get", "deployments,services", "-n", "shop")
    assert live["items"] == []
    apps = kubectl(scene.cluster, "get", "applications.app.k8s.io", "-n", "shop")
    assert apps["items"] == []
    failures = AuditEvent.objects.filter(action="application.create", result="failure")
    assert failures.count() == 3
    assert all(UNAVAILABLE in event.reason for event in failures), [e.reason for e in failures]

    # Kubernetes answers again: the same create works.
    page = portal("admin").post("/applications/add/", {"namespace": scene.shop.pk, "name": "empty"})
    assert page.status_code == 302, page.content.decode()[:2000]
    assert Application.objects.filter(name="empty", namespace_name="shop").exists()
    operation = run_tasks(scene.start)
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, log_lines(operation))
    scene.check(operation)
