"""Cluster and node services: concurrency, drain, labels and taints, stale edits, authz."""

import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from kubernetes import client as k8s

from apps.clusters import services, tasks
from apps.clusters.models import Cluster, Node
from apps.core.models import AuditEvent, Operation
from apps.core.operations import Progress, log_lines
from apps.namespaces.models import Namespace
from tests.clusters.helpers import running_cluster, unique_name


@pytest.fixture(autouse=True)
def _fast_poll(monkeypatch):
    monkeypatch.setattr(tasks, "POLL", 0.05)


def _core(cluster) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(cluster.kube().api_client)


def _messages(info) -> str:
    return " ".join(info.value.messages)


# --- one long operation per cluster ---------------------------------------------------


def test_second_scale_out_is_refused_while_the_first_runs(org, run_tasks):
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    # The first one's task is not run: it stays pending, as in a busy worker queue.
    first = services.scale_out(org.admin, cluster, workers=1)
    assert first.status == "pending"
    for stale in (cluster, Cluster.objects.get(pk=cluster.pk)):
        with pytest.raises(ValidationError) as info:
            services.scale_out(org.admin, stale, workers=2)
        assert _messages(info) == (
            f"Scale out cluster {cluster.name} is still running here; wait for it to finish."
        )
    # A drain or a delete of the same cluster waits its turn too.
    node = Node.objects.filter(cluster=cluster).first()
    with pytest.raises(ValidationError, match="is still running here"):
        services.drain(org.admin, node)
    with pytest.raises(ValidationError, match="is still running here"):
        services.delete_cluster(org.admin, cluster)
    assert Operation.objects.filter(kind="cluster.scale_out").count() == 1
    assert Operation.objects.filter(status__in=["pending", "running"]).count() == 1


def test_racing_scale_outs_one_wins(transactional_db, org, run_tasks, monkeypatch):
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    queued = []
    monkeypatch.setattr(tasks.scale_out_cluster, "apply_async", lambda *a, **kw: queued.append(kw))
    barrier = threading.Barrier(2)
    results = []

    def scale_out():
        try:
            mine = Cluster.objects.get(pk=cluster.pk)
            barrier.wait(timeout=10)
            results.append(services.scale_out(org.admin, mine, workers=1))
        except ValidationError as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scale_out) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    won = [r for r in results if isinstance(r, Operation)]
    lost = [r for r in results if isinstance(r, ValidationError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert "is still running here; wait for it to finish" in " ".join(lost[0].messages)
    assert len(queued) == 1
    assert Operation.objects.filter(kind="cluster.scale_out").count() == 1


# --- drain -----------------------------------------------------------------------------


def _pod(name, node, **metadata):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **metadata},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "main", "image": "nginx:1.27"}],
            "tolerations": [{"operator": "Exists"}],
        },
    }


def _daemonset_pod(cluster, core, node) -> str:
    """A pod of a DaemonSet on ``node``: the controller's if it makes one, else by hand."""
    apps = k8s.AppsV1Api(core.api_client)
    labels = {"app": "agent"}
    ds = apps.create_namespaced_daemon_set(
        "kube-system",
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent"},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [{"name": "agent", "image": "agent:1"}],
                        "tolerations": [{"operator": "Exists"}],
                    },
                },
            },
        },
    )
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        pods = core.list_namespaced_pod(
            "kube-system", label_selector="app=agent", field_selector=f"spec.nodeName={node}"
        ).items
        if pods:
            return pods[0].metadata.name
        time.sleep(0.1)
    owner = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "name": "agent",
        "uid": ds.metadata.uid,
        "controller": True,
    }
    pod = _pod("agent-by-hand", node, labels=labels, ownerReferences=[owner])
    return core.create_namespaced_pod("kube-system", pod).metadata.name


def test_drain_evicts_all_but_daemonset_and_mirror_pods(org, run_tasks, monkeypatch):
    cluster = running_cluster(run_tasks, org.admin, workers=2)
    core = _core(cluster)
    node = Node.objects.get(cluster=cluster, name="worker-1")
    live_node = core.read_node(node.name)
    for name in ("web-1", "web-2"):
        core.create_namespaced_pod("default", _pod(name, node.name))
    core.create_namespaced_pod("default", _pod("elsewhere", "worker-2"))
    mirror_owner = {"apiVersion": "v1", "kind": "Node", "name": node.name}
    mirror_owner.update(uid=live_node.metadata.uid, controller=True)
    mirror = _pod(
        f"etcd-{node.name}",
        node.name,
        annotations={"kubernetes.io/config.mirror": "abc123"},
        ownerReferences=[mirror_owner],
    )
    core.create_namespaced_pod("kube-system", mirror)
    daemon = _daemonset_pod(cluster, core, node.name)

    seen = []
    real_save = Progress._save

    def record(self, **fields):
        if "progress" in fields:
            seen.append(fields["progress"])
        return real_save(self, **fields)

    monkeypatch.setattr(Progress, "_save", record)
    # web-1 and web-2 have no controller: as with kubectl drain, only with force.
    operation = run_tasks(services.drain, org.admin, node, force=True)
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    log = "\n".join(log_lines(operation))
    assert "2 pods to evict" in log
    assert "evicted default/web-1" in log and "evicted default/web-2" in log
    assert "2 pods evicted" in log
    assert seen == sorted(seen) and seen[-1] == 100
    assert {5, 47, 90} <= set(seen)  # 0 of 2, 1 of 2, 2 of 2 evicted

    left = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node.name}").items
    assert sorted(p.metadata.name for p in left) == sorted([mirror["metadata"]["name"], daemon])
    assert core.read_namespaced_pod("elsewhere", "default").spec.node_name == "worker-2"
    assert core.read_node(node.name).spec.unschedulable is True
    node.refresh_from_db()
    assert node.schedulable is False
    assert AuditEvent.objects.filter(action="node.drain", target_name=node.name).exists()


def _replica_set_pod(core, node: str, *, empty_dir: bool) -> str:
    """A pod of a ReplicaSet, held to ``node``; with an emptyDir volume if asked."""
    apps = k8s.AppsV1Api(core.api_client)
    labels = {"app": "cache" if empty_dir else "web"}
    spec = {
        "nodeSelector": {"kubernetes.io/hostname": node},
        "containers": [{"name": "main", "image": "nginx:1.27"}],
    }
    if empty_dir:
        spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/data"}]
    apps.create_namespaced_replica_set(
        "default",
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": labels["app"]},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": spec},
            },
        },
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pods = core.list_namespaced_pod(
            "default", label_selector=f"app={labels['app']}", field_selector=f"spec.nodeName={node}"
        ).items
        if pods:
            return pods[0].metadata.name
        time.sleep(0.1)
    raise AssertionError(f"no pod of ReplicaSet {labels['app']} on {node}")


def test_drain_refuses_unmanaged_and_emptydir_pods_unless_told(org, run_tasks):
    """Issue 9 (7): as kubectl drain, pods no controller recreates need "force", pods
    with emptyDir data "delete emptyDir data"; refused before anything is cordoned."""
    cluster = running_cluster(run_tasks, org.admin, workers=2)
    core = _core(cluster)
    node = Node.objects.get(cluster=cluster, name="worker-1")
    core.create_namespaced_pod("default", _pod("loner", node.name))
    cache = _replica_set_pod(core, node.name, empty_dir=True)
    web = _replica_set_pod(core, node.name, empty_dir=False)
    # A finished pod is deleted by kubectl drain whatever it is: no option needed for it.
    done = core.create_namespaced_pod("default", _pod("finished", node.name))
    core.patch_namespaced_pod_status(
        done.metadata.name, "default", {"status": {"phase": "Succeeded"}}
    )

    with pytest.raises(ValidationError) as info:
        services.drain(org.admin, node)
    errors = info.value.message_dict
    assert set(errors) == {"force", "delete_emptydir_data"}
    assert "default/loner" in errors["force"][0]
    assert "not managed by a controller" in errors["force"][0]
    assert f"default/{cache}" in errors["delete_emptydir_data"][0]
    assert "emptyDir" in errors["delete_emptydir_data"][0]
    assert web not in str(errors) and "finished" not in str(errors)

    with pytest.raises(ValidationError) as info:
        services.drain(org.admin, node, force=True)
    assert list(info.value.message_dict) == ["delete_emptydir_data"]
    with pytest.raises(ValidationError) as info:
        services.drain(org.admin, node, delete_emptydir_data=True)
    assert list(info.value.message_dict) == ["force"]
    assert core.read_node(node.name).spec.unschedulable is None  # nothing was cordoned
    assert not Operation.objects.filter(kind="node.drain").exists()

    operation = run_tasks(services.drain, org.admin, node, force=True, delete_emptydir_data=True)
    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.error, operation.log)
    assert "4 pods to evict" in "\n".join(log_lines(operation))
    left = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node.name}").items
    assert {p.metadata.name for p in left}.isdisjoint({"loner", "finished", cache, web})
    assert core.read_node(node.name).spec.unschedulable is True
    event = AuditEvent.objects.get(action="node.drain", target_name=node.name, result="success")
    assert event.detail == {"force": True, "delete_emptydir_data": True}


def test_drain_task_checks_again_the_pods_may_have_changed(
    org, run_tasks, django_capture_on_commit_callbacks
):
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    core = _core(cluster)
    node = Node.objects.get(cluster=cluster, name="worker-1")
    with django_capture_on_commit_callbacks() as queued:
        operation = services.drain(org.admin, node)  # nothing on the node: accepted
    # Before a worker picks the task up, a pod no controller manages lands there.
    core.create_namespaced_pod("default", _pod("latecomer", node.name))
    for callback in queued:
        callback()
    operation.refresh_from_db()
    assert operation.status == "failed"
    assert "default/latecomer" in operation.error
    assert "not managed by a controller" in operation.error
    assert core.read_node(node.name).spec.unschedulable is None
    assert core.read_namespaced_pod("latecomer", "default").spec.node_name == node.name


# --- labels and taints -----------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "kubernetes.io/hostname",
        "node-role.kubernetes.io/worker",
        "node.kubernetes.io/exclude-from-external-load-balancers",
        "topology.kubernetes.io/zone",
    ],
)
def test_protected_labels_and_taints_cannot_be_changed(org, run_tasks, key):
    cluster = running_cluster(run_tasks, org.admin, name=unique_name("prot"))
    node = Node.objects.get(cluster=cluster, name="master-1")
    before = _core(cluster).read_node(node.name)
    with pytest.raises(ValidationError) as info:
        services.set_labels(org.admin, node, {key: "x"})
    assert _messages(info) == f"{key} is managed by Kubernetes and cannot be changed here"
    with pytest.raises(ValidationError) as info:
        services.set_taints(org.admin, node, [{"key": key, "effect": "NoSchedule"}])
    assert _messages(info) == f"{key} is managed by Kubernetes and cannot be changed here"
    after = _core(cluster).read_node(node.name)
    assert after.metadata.resource_version == before.metadata.resource_version


def test_user_labels_and_taints_keep_the_system_ones(org, run_tasks):
    cluster = running_cluster(run_tasks, org.admin)
    core = _core(cluster)
    node = Node.objects.get(cluster=cluster, name="master-1")
    system_labels = dict(core.read_node(node.name).metadata.labels)
    assert "node-role.kubernetes.io/control-plane" in system_labels

    services.set_labels(org.admin, node, {"disk": "ssd", "example.com/team": "infra"})
    services.set_labels(org.admin, node, {"disk": "nvme", "tier": "gold"})
    live = core.read_node(node.name).metadata.labels
    assert live == {**system_labels, "disk": "nvme", "tier": "gold"}
    node.refresh_from_db()
    assert node.labels == live

    control_plane = [("node-role.kubernetes.io/control-plane", None, "NoSchedule")]
    services.set_taints(
        org.admin,
        node,
        [
            {"key": "dedicated", "value": "db", "effect": "NoSchedule"},
            {"key": "example.com/gpu", "effect": "NoExecute"},
        ],
    )
    services.set_taints(
        org.admin, node, [{"key": "dedicated", "value": "cache", "effect": "PreferNoSchedule"}]
    )
    live = [(t.key, t.value, t.effect) for t in core.read_node(node.name).spec.taints]
    assert live == [*control_plane, ("dedicated", "cache", "PreferNoSchedule")]
    services.set_taints(org.admin, node, [])
    assert [(t.key, t.value, t.effect) for t in core.read_node(node.name).spec.taints] == (
        control_plane
    )
    node.refresh_from_db()
    assert node.taints == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    actions = AuditEvent.objects.filter(target_name=node.name).values_list("action", flat=True)
    assert list(actions).count("node.label") == 2 and list(actions).count("node.taint") == 3


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"-bad": "x"}, "-bad: a name of at most 63 letters, digits, '-', '_' or '.'"),
        ({"a" * 64: "x"}, "a name of at most 63"),
        ({"Bad_Prefix/x": "y"}, "Bad_Prefix/x: the prefix must be a DNS subdomain"),
        ({"ok": "not ok"}, "ok: the value must be at most 63 letters, digits, '-', '_' or '.'"),
        ({"ok": "v" * 64}, "ok: the value must be at most 63"),
        ({"": "x"}, ": a name of at most 63"),
    ],
)
def test_invalid_labels_are_refused(org, run_tasks, labels, message):
    cluster = running_cluster(run_tasks, org.admin)
    node = Node.objects.get(cluster=cluster, name="master-1")
    with pytest.raises(ValidationError) as info:
        services.set_labels(org.admin, node, labels)
    assert message in _messages(info)


@pytest.mark.parametrize(
    ("taints", "message"),
    [
        (
            [{"key": "gpu", "effect": "NoRun"}],
            "gpu: the effect must be one of NoSchedule, PreferNoSchedule, NoExecute",
        ),
        ([{"key": "gpu"}], "gpu: the effect must be one of"),
        (
            [{"key": "gpu", "value": "a b", "effect": "NoSchedule"}],
            "gpu: the value is not a valid label value",
        ),
        ([{"key": "", "effect": "NoSchedule"}], ": a name of at most 63"),
        (
            [{"key": "gpu", "effect": "NoSchedule"}, {"key": "gpu", "effect": "NoSchedule"}],
            "gpu:NoSchedule appears twice",
        ),
    ],
)
def test_invalid_taints_are_refused(org, run_tasks, taints, message):
    cluster = running_cluster(run_tasks, org.admin)
    node = Node.objects.get(cluster=cluster, name="master-1")
    with pytest.raises(ValidationError) as info:
        services.set_taints(org.admin, node, taints)
    assert message in _messages(info)


def test_stale_edit_is_refused_and_the_row_refreshed(org, run_tasks):
    """Decided: an edit over labels/taints someone else changed since the portal last saw
    them is refused ("changed by someone else ... reload"), never a silent overwrite; the
    row is refreshed so that a reload shows what is there, and the edit then goes through.
    """
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    core = _core(cluster)
    node = Node.objects.get(cluster=cluster, name="worker-1")
    core.patch_node(node.name, {"metadata": {"labels": {"owner": "kubectl-user"}}})

    with pytest.raises(ValidationError) as info:
        services.set_labels(org.admin, node, {"disk": "ssd"})
    assert "changed by someone else" in _messages(info) and "Reload" in _messages(info)
    assert "disk" not in core.read_node(node.name).metadata.labels
    node = Node.objects.get(pk=node.pk)
    assert node.labels["owner"] == "kubectl-user"
    assert AuditEvent.objects.filter(action="node.label", result="failure").count() == 1

    services.set_labels(org.admin, node, {**services._user_labels(node.labels), "disk": "ssd"})
    live = core.read_node(node.name).metadata.labels
    assert live["owner"] == "kubectl-user" and live["disk"] == "ssd"

    # Taints the same way.
    core.patch_node(node.name, {"spec": {"taints": [{"key": "team", "effect": "NoSchedule"}]}})
    with pytest.raises(ValidationError, match="changed by someone else"):
        services.set_taints(org.admin, node, [])
    node = Node.objects.get(pk=node.pk)
    assert node.taints == [{"key": "team", "effect": "NoSchedule"}]


def test_taint_edit_uses_the_live_system_taints_not_the_rows(org, run_tasks, kubesim):
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    core = _core(cluster)
    node = Node.objects.get(cluster=cluster, name="worker-1")

    def ready(status):
        code, body = kubesim.admin(
            "PUT", f"/clusters/{cluster.name}/nodes/{node.name}/ready", {"status": status}
        )
        assert code == 200, body

    ready("False")  # the node controller taints it not-ready; the row does not know yet
    services.set_taints(org.admin, node, [{"key": "gpu", "effect": "NoSchedule"}])
    live = core.read_node(node.name).spec.taints
    assert {(t.key, t.effect) for t in live} >= {
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("gpu", "NoSchedule"),
    }
    not_ready = next(t for t in live if t.effect == "NoExecute")
    assert not_ready.time_added is not None  # sent back as Kubernetes had it

    ready("True")  # the taints go; the row (from the last edit) still lists them
    node.refresh_from_db()
    assert any(t["key"] == "node.kubernetes.io/not-ready" for t in node.taints)
    services.set_taints(org.admin, node, [])
    assert not core.read_node(node.name).spec.taints  # not resurrected from the row


# --- who may do what -------------------------------------------------------------------


def test_tenant_admin_sees_but_cannot_operate(org, run_tasks):
    cluster = running_cluster(run_tasks, org.admin, workers=1)
    node = Node.objects.get(cluster=cluster, name="worker-1")
    assert not Cluster.objects.restrict(org.deptadmin).filter(pk=cluster.pk).exists()
    Namespace.objects.create(cluster=cluster, name="shop", project=org.web)

    assert Cluster.objects.restrict(org.deptadmin).filter(pk=cluster.pk).exists()
    assert Node.objects.restrict(org.projadmin).filter(pk=node.pk).exists()
    for user in (org.deptadmin, org.projadmin):
        with pytest.raises(PermissionDenied):
            services.cordon(user, node)
        with pytest.raises(PermissionDenied):
            services.set_labels(user, node, {"disk": "ssd"})
        with pytest.raises(PermissionDenied):
            services.drain(user, node)
        with pytest.raises(PermissionDenied):
            services.scale_out(user, cluster, workers=1)
        with pytest.raises(PermissionDenied):
            services.delete_cluster(user, cluster)
    assert not Node.objects.restrict(org.outsider).exists()
    assert not Cluster.objects.restrict(org.member).exists()
    for user in (org.outsider, org.member):
        with pytest.raises(Http404):
            services.cordon(user, node)
    assert _core(cluster).read_node(node.name).spec.unschedulable is None
    assert not Operation.objects.filter(kind="node.drain").exists()


def test_kubeconfig_download_is_audited_and_for_cloud_admins(org, run_tasks):
    cluster = running_cluster(run_tasks, org.admin)
    Namespace.objects.create(cluster=cluster, name="shop", project=org.web)
    text = services.download_kubeconfig(org.admin, cluster)
    assert cluster.kube().version()
    assert "token" in text
    event = AuditEvent.objects.get(action="cluster.kubeconfig.download")
    assert (event.actor, event.target_name) == (org.admin, cluster.name)
    with pytest.raises(PermissionDenied):
        services.download_kubeconfig(org.deptadmin, cluster)
    with pytest.raises(Http404):
        services.download_kubeconfig(org.outsider, cluster)
    downloads = AuditEvent.objects.filter(action="cluster.kubeconfig.download")
    assert downloads.filter(result="success").count() == 1
    assert sorted(downloads.filter(result="failure").values_list("actor_name", flat=True)) == [
        "deptadmin",
        "outsider",
    ]
