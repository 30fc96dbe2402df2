"""The live inventory: changes made with the Kubernetes API show up without a sync."""

from kubernetes import client as k8s

from apps.clusters.models import Cluster, Node
from apps.configs.models import ConfigMap, Secret
from apps.namespaces.models import Namespace
from apps.storage.models import PersistentVolumeClaim
from apps.workloads.models import Pod
from tests.clusters.helpers import running_cluster
from tests.realcluster import delete_namespace, unique_namespace

from .conftest import eventually


def _core(cluster):
    return k8s.CoreV1Api(cluster.kube().api_client)


def _configmap(name, namespace="default", **data):
    return {"metadata": {"name": name, "namespace": namespace}, "data": data}


def test_objects_made_outside_the_portal_appear_change_and_go(any_cluster, any_informer, scratch):
    cluster, core = any_cluster, _core(any_cluster)
    native = unique_namespace("native")
    core.create_namespace({"metadata": {"name": native}})
    try:
        core.create_namespaced_config_map(native, _configmap("settings", native, mode="a"))
        # Namespaces and ConfigMaps are watched apart: a row that arrives before its
        # Namespace row is linked to it when that comes (Mirror.link_namespaces).
        linked = ConfigMap.objects.filter(cluster=cluster, name="settings", namespace__name=native)
        row = eventually(lambda: linked.select_related("namespace").first())
        assert row.data == {"mode": "a"} and row.namespace.name == native
        assert row.uid and row.synced

        core.patch_namespaced_config_map("settings", native, {"data": {"mode": "b"}})
        eventually(lambda: ConfigMap.objects.get(pk=row.pk).data == {"mode": "b"})

        core.delete_namespaced_config_map("settings", native)
        eventually(lambda: not ConfigMap.objects.filter(pk=row.pk).exists())
    finally:
        delete_namespace(cluster, native)


def test_secrets_are_mirrored_without_their_values(any_cluster, any_informer, scratch):
    core = _core(any_cluster)
    body = {
        "metadata": {
            "name": "token",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{secret}"},
        },
        "stringData": {"password": "hunter2-secret"},
    }
    core.create_namespaced_secret(scratch, body)
    row = eventually(
        lambda: Secret.objects.filter(
            cluster=any_cluster, name="token", namespace_name=scratch
        ).first()
    )
    assert row.keys == ["password"]
    assert "hunter2" not in str(row.manifest) and "{secret}" not in str(row.annotations)


def test_pods_of_a_deployment_appear_with_their_summary(any_cluster, any_informer, scratch):
    cluster = any_cluster
    apps = k8s.AppsV1Api(cluster.kube().api_client)
    labels = {"app": "web"}
    apps.create_namespaced_deployment(
        scratch,
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    ours = Pod.objects.filter(cluster=cluster, owner_kind="ReplicaSet", namespace_name=scratch)

    def running():
        pods = list(ours.filter(status="Running", ready=True))
        return pods if len(pods) == 2 else None

    pods = eventually(running, timeout=120)  # a real cluster may pull the image first
    for pod in pods:
        assert pod.owner_name.startswith("web-") and pod.node_name
        assert pod.ready and pod.ready_display == "1/1" and pod.pod_ip
        assert pod.containers[0]["image"] == "nginx:1.27"
    apps.delete_namespaced_deployment("web", scratch)
    eventually(lambda: not ours.exists(), timeout=120)


def test_nodes_claims_and_namespaces_follow(cluster, informer, kubesim):
    core = _core(cluster)
    kubesim.admin("POST", f"/clusters/{cluster.name}/nodes", {"count": 1, "zone": "z9"})
    eventually(lambda: Node.objects.filter(cluster=cluster, name="worker-3", ready=True).exists())
    eventually(lambda: Cluster.objects.get(pk=cluster.pk).nodes_total == 4)
    assert Cluster.objects.get(pk=cluster.pk).zones == ["z9"]

    core.create_namespaced_persistent_volume_claim(
        "default",
        {
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    eventually(
        lambda: PersistentVolumeClaim.objects.filter(
            cluster=cluster, name="data", phase="Bound"
        ).exists()
    )
    core.create_namespace({"metadata": {"name": "later"}})
    eventually(lambda: Namespace.objects.filter(cluster=cluster, name="later").exists())


def test_an_expired_watch_relists_and_loses_nothing(cluster, informer, kubesim):
    core = _core(cluster)
    core.create_namespaced_config_map("default", _configmap("kept"))
    core.create_namespaced_config_map("default", _configmap("doomed"))
    eventually(lambda: ConfigMap.objects.filter(cluster=cluster, name="doomed").exists())
    relists = informer.writer.stats.relists
    # Watches end with 410 and the history is dropped: a resume must list again.
    kubesim.admin("PUT", f"/clusters/{cluster.name}/faults", {"expire_watches": True})
    try:
        core.delete_namespaced_config_map("doomed", "default")
        core.create_namespaced_config_map("default", _configmap("born"))
        eventually(lambda: informer.writer.stats.relists > relists)
    finally:
        kubesim.admin("PUT", f"/clusters/{cluster.name}/faults", {})
    names = lambda: set(  # noqa: E731
        ConfigMap.objects.filter(cluster=cluster, namespace_name="default").values_list(
            "name", flat=True
        )
    )
    # (kube-root-ca.crt is Kubernetes' own, in every namespace)
    eventually(lambda: names() - {"kube-root-ca.crt"} == {"kept", "born"})


def test_a_cluster_that_does_not_answer_backs_off_alone(transactional_db, org, run_tasks, kubesim):
    from apps.kube.informer import Informer

    down = running_cluster(run_tasks, org.admin)
    up = running_cluster(run_tasks, org.admin)
    informer = Informer(
        clusters=lambda: list(Cluster.objects.filter(pk__in=[down.pk, up.pk])), rescan=0.2
    ).start()
    try:
        assert informer.synced(30)
        kubesim.admin("PUT", f"/clusters/{down.name}/faults", {"refuse": True})
        # Its watches notice when they next read; the other cluster is not held up.
        _core(up).create_namespaced_config_map("default", _configmap("still-live"))
        eventually(lambda: ConfigMap.objects.filter(cluster=up, name="still-live").exists())
        kubesim.admin("PUT", f"/clusters/{down.name}/faults", {})
        _core(down).create_namespaced_config_map("default", _configmap("back"))
        eventually(lambda: ConfigMap.objects.filter(cluster=down, name="back").exists(), 60)
    finally:
        kubesim.admin("PUT", f"/clusters/{down.name}/faults", {})
        informer.stop()


def test_a_deleted_cluster_is_no_longer_watched(cluster, informer):
    assert cluster.pk in informer.watching
    Cluster.objects.filter(pk=cluster.pk).update(status=Cluster.Status.DELETING)
    eventually(lambda: cluster.pk not in informer.watching)


def test_beat_resync_trusts_a_watched_cluster_and_repairs_what_differs(cluster, informer):
    from apps.kube import informer as informer_module
    from apps.kube.sync import resync

    cluster.refresh_from_db()
    eventually(lambda: informer_module.is_watched(cluster))
    core = _core(cluster)
    core.create_namespaced_config_map("default", _configmap("missed"))
    row = eventually(lambda: ConfigMap.objects.filter(cluster=cluster, name="missed").first())
    assert resync(cluster) == {}  # counts agree: nothing listed, nothing written

    ConfigMap.objects.filter(pk=row.pk).delete()  # as if an event had been lost
    results = resync(cluster)
    assert list(results) == ["ConfigMap"] and results["ConfigMap"].created == 1
    assert ConfigMap.objects.filter(cluster=cluster, name="missed").exists()


def test_beat_resync_lists_everything_when_no_informer_watches(transactional_db, org, run_tasks):
    from apps.kube.sync import resync

    cluster = running_cluster(run_tasks, org.admin)
    _core(cluster).create_namespaced_config_map("default", _configmap("unwatched"))
    results = resync(cluster)
    assert results["ConfigMap"].created == 1 and "Pod" in results
