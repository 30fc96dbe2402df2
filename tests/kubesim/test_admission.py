"""Admission: quota, limit ranges, default storage class and resize, with Kubernetes' messages."""

import copy
from collections import defaultdict

import pytest

from kubesim.apiserver.admission import Forbidden, admit, quota_usage
from kubesim.apiserver.defaults import apply_defaults


class Reader:
    """A dict-backed stand-in for the store: reader.list(api_version, kind, namespace)."""

    def __init__(self, *objects):
        self.objects = defaultdict(list)
        for obj in objects:
            self.add(obj)

    def add(self, obj):
        self.objects[obj["kind"]].append(obj)
        return obj

    def list(self, api_version, kind, namespace):
        return [
            o
            for o in self.objects[kind]
            if namespace is None or o["metadata"].get("namespace") == namespace
        ]


class Ctx:
    def allocate_cluster_ip(self):
        return "10.96.0.42"

    def allocate_node_port(self):
        return 30080


def created(obj):
    obj = copy.deepcopy(obj)
    apply_defaults(obj, Ctx())
    return obj


def pod(name, cpu=None, memory=None, limit_cpu=None, limit_memory=None, phase=None):
    resources = {}
    if cpu or memory:
        resources["requests"] = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    if limit_cpu or limit_memory:
        resources["limits"] = {k: v for k, v in (("cpu", limit_cpu), ("memory", limit_memory)) if v}
    obj = created(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": resources}]},
        }
    )
    if phase:
        obj["status"]["phase"] = phase
    return obj


def quota(name, **hard):
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"hard": {k.replace("_", "."): v for k, v in hard.items()}},
    }


def test_exceeded_quota_message():
    reader = Reader(quota("compute", requests_cpu="2"), pod("web-0", cpu="1"))
    with pytest.raises(Forbidden) as err:
        admit(pod("web-1", cpu="2"), None, reader)
    assert err.value.message == (
        'pods "web-1" is forbidden: exceeded quota: compute, requested: requests.cpu=2, '
        "used: requests.cpu=1, limited: requests.cpu=2"
    )
    status = err.value.status()
    assert status["code"] == 403 and status["reason"] == "Forbidden"
    assert status["details"] == {"name": "web-1", "kind": "pods"}
    admit(pod("web-2", cpu="1"), None, reader)  # exactly at the limit is fine


def test_failed_quota_when_limits_are_missing():
    reader = Reader(quota("compute", limits_cpu="4", limits_memory="4Gi"))
    with pytest.raises(Forbidden) as err:
        admit(pod("x", cpu="100m"), None, reader)
    assert err.value.message == (
        'pods "x" is forbidden: failed quota: compute: must specify limits.cpu for: nginx; '
        "limits.memory for: nginx"
    )


def test_pod_count_ignores_terminal_pods():
    reader = Reader(
        quota("pods", pods="2"),
        pod("done", phase="Succeeded"),
        pod("failed", phase="Failed"),
        pod("live"),
    )
    admit(pod("second"), None, reader)
    reader.add(pod("second"))
    with pytest.raises(Forbidden, match="exceeded quota: pods, requested: pods=1, used: pods=2"):
        admit(pod("third"), None, reader)


def test_pods_past_their_deletion_grace_period_do_not_count():
    gone = pod("gone")
    gone["metadata"]["deletionTimestamp"] = "2020-01-01T00:00:00Z"
    gone["metadata"]["deletionGracePeriodSeconds"] = 30
    reader = Reader(quota("pods", pods="1"), gone)
    admit(pod("new"), None, reader)


def test_memory_usage_is_formatted_like_kubernetes():
    reader = Reader(
        quota("mem", requests_memory="1Gi", limits_memory="2Gi"),
        pod("a", memory="512Mi", limit_memory="1Gi"),
    )
    with pytest.raises(Forbidden) as err:
        admit(pod("b", memory="768Mi", limit_memory="768Mi"), None, reader)
    assert err.value.message == (
        'pods "b" is forbidden: exceeded quota: mem, requested: requests.memory=768Mi, '
        "used: requests.memory=512Mi, limited: requests.memory=1Gi"
    )


def test_quota_usage_for_status():
    q = quota("all", pods="10", requests_cpu="4", requests_memory="8Gi", limits_cpu="8")
    reader = Reader(
        q,
        pod("a", cpu="500m", memory="512Mi", limit_cpu="1"),
        pod("b", cpu="1", memory="512Mi", limit_cpu="1"),
        pod("c", cpu="1", phase="Succeeded"),
    )
    assert quota_usage(q, reader) == {
        "pods": "2",
        "requests.cpu": "1500m",
        "requests.memory": "1Gi",
        "limits.cpu": "2",
    }
    assert quota_usage(quota("empty", pods="1"), Reader()) == {"pods": "0"}


def service(name, svc_type="ClusterIP", ports=1):
    return created(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {
                "type": svc_type,
                "selector": {"app": name},
                "ports": [{"name": f"p{i}", "port": 80 + i} for i in range(ports)],
            },
        }
    )


def test_service_quotas():
    reader = Reader(
        quota("net", services="3", services_loadbalancers="1", services_nodeports="2"),
        service("lb", "LoadBalancer"),
    )
    with pytest.raises(Forbidden) as err:
        admit(service("lb2", "LoadBalancer"), None, reader)
    assert err.value.message == (
        'services "lb2" is forbidden: exceeded quota: net, requested: services.loadbalancers=1, '
        "used: services.loadbalancers=1, limited: services.loadbalancers=1"
    )
    with pytest.raises(Forbidden, match=r"requested: services\.nodeports=2, used: services"):
        admit(service("np", "NodePort", ports=2), None, reader)
    # an update that turns a ClusterIP service into a second load balancer is charged too
    plain = reader.add(service("plain"))
    with pytest.raises(Forbidden, match=r"services\.loadbalancers"):
        admit(service("plain", "LoadBalancer"), plain, reader)


def test_object_counts():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c2", "namespace": "shop"}}
    existing = dict(cm, metadata={"name": "c1", "namespace": "shop"})
    reader = Reader(quota("counts", configmaps="1", count_secrets="5"), existing)
    with pytest.raises(Forbidden) as err:
        admit(cm, None, reader)
    assert err.value.message == (
        'configmaps "c2" is forbidden: exceeded quota: counts, requested: configmaps=1, '
        "used: configmaps=1, limited: configmaps=1"
    )
    # updates of a config map are never charged
    admit(existing, existing, reader)


def test_count_of_grouped_resources():
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web2", "namespace": "shop"},
    }
    q = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "apps", "namespace": "shop"},
        "spec": {"hard": {"count/deployments.apps": "1"}},
    }
    reader = Reader(q, dict(dep, metadata={"name": "web", "namespace": "shop"}))
    assert quota_usage(q, reader) == {"count/deployments.apps": "1"}
    with pytest.raises(Forbidden) as err:
        admit(dep, None, reader)
    assert err.value.message.startswith(
        'deployments.apps "web2" is forbidden: exceeded quota: apps, '
        "requested: count/deployments.apps=1"
    )


def pvc(name, storage, storage_class="standard", phase=None):
    obj = created(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": storage_class,
                "resources": {"requests": {"storage": storage}},
            },
        }
    )
    if phase:
        obj["status"] = {"phase": phase, "capacity": {"storage": storage}}
    return obj


def test_storage_quota_per_class():
    q = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "storage", "namespace": "shop"},
        "spec": {
            "hard": {
                "requests.storage": "100Gi",
                "fast.storageclass.storage.k8s.io/requests.storage": "20Gi",
                "persistentvolumeclaims": "5",
            }
        },
    }
    reader = Reader(q, pvc("a", "15Gi", "fast"), pvc("b", "50Gi"))
    assert quota_usage(q, reader) == {
        "requests.storage": "65Gi",
        "fast.storageclass.storage.k8s.io/requests.storage": "15Gi",
        "persistentvolumeclaims": "2",
    }
    with pytest.raises(Forbidden) as err:
        admit(pvc("c", "10Gi", "fast"), None, reader)
    assert err.value.message == (
        'persistentvolumeclaims "c" is forbidden: exceeded quota: storage, requested: '
        "fast.storageclass.storage.k8s.io/requests.storage=10Gi, used: "
        "fast.storageclass.storage.k8s.io/requests.storage=15Gi, limited: "
        "fast.storageclass.storage.k8s.io/requests.storage=20Gi"
    )
    admit(pvc("d", "10Gi"), None, reader)


def storage_class(name, default=False, expand=False):
    sc = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "creationTimestamp": "2024-01-01T00:00:00Z"},
        "provisioner": "kubesim.io/hostpath",
    }
    if default:
        sc["metadata"]["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    if expand:
        sc["allowVolumeExpansion"] = True
    return sc


def test_default_storage_class():
    reader = Reader(storage_class("slow"), storage_class("standard", default=True))
    claim = pvc("data", "1Gi")
    del claim["spec"]["storageClassName"]
    admit(claim, None, reader)
    assert claim["spec"]["storageClassName"] == "standard"
    explicit = pvc("static", "1Gi", storage_class="")
    admit(explicit, None, reader)
    assert explicit["spec"]["storageClassName"] == ""


def test_resize_needs_an_expandable_class():
    old = pvc("data", "10Gi", phase="Bound")
    bigger = copy.deepcopy(old)
    bigger["spec"]["resources"]["requests"]["storage"] = "20Gi"
    with pytest.raises(Forbidden) as err:
        admit(bigger, old, Reader(storage_class("standard")))
    assert err.value.message == (
        'persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can be '
        "resized and the storageclass that provisions the pvc must support resize"
    )
    admit(bigger, old, Reader(storage_class("standard", expand=True)))


def limit_range(**item):
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "limits", "namespace": "shop"},
        "spec": {"limits": [{"type": "Container", **item}]},
    }


def test_limit_range_defaults_are_applied_to_pods():
    lr = created(
        limit_range(
            default={"cpu": "500m", "memory": "512Mi"},
            defaultRequest={"cpu": "100m", "memory": "256Mi"},
        )
    )
    obj = pod("web-1", cpu="200m")
    admit(obj, None, Reader(lr))
    resources = obj["spec"]["containers"][0]["resources"]
    assert resources == {
        "requests": {"cpu": "200m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    assert obj["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: memory request for container nginx; cpu, memory limit for "
        "container nginx"
    )


def test_limit_range_max():
    reader = Reader(created(limit_range(max={"cpu": "2"})))
    with pytest.raises(Forbidden) as err:
        admit(pod("big", cpu="4", limit_cpu="4"), None, reader)
    assert err.value.message == (
        'pods "big" is forbidden: maximum cpu usage per Container is 2, but limit is 4'
    )


def test_limit_range_min_and_ratio():
    reader = Reader(limit_range(min={"memory": "128Mi"}, maxLimitRequestRatio={"cpu": "2"}))
    with pytest.raises(Forbidden) as err:
        admit(pod("small", cpu="100m", memory="64Mi", limit_cpu="1"), None, reader)
    assert err.value.message == (
        'pods "small" is forbidden: [minimum memory usage per Container is 128Mi, but request '
        "is 64Mi, cpu max limit to request ratio per Container is 2, but provided ratio is "
        "10.000000]"
    )


def test_limit_range_for_claims():
    reader = Reader(
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "storage", "namespace": "shop"},
            "spec": {"limits": [{"type": "PersistentVolumeClaim", "max": {"storage": "50Gi"}}]},
        }
    )
    with pytest.raises(Forbidden) as err:
        admit(pvc("huge", "100Gi"), None, reader)
    assert err.value.message == (
        'persistentvolumeclaims "huge" is forbidden: maximum storage usage per '
        "PersistentVolumeClaim is 50Gi, but request is 100Gi"
    )


def test_terminating_namespace_refuses_new_objects():
    ns = created({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    ns["status"]["phase"] = "Terminating"
    with pytest.raises(Forbidden) as err:
        admit(pod("late"), None, Reader(ns))
    assert err.value.message == (
        'pods "late" is forbidden: unable to create new content in namespace shop because it '
        "is being terminated"
    )


def test_best_effort_scope():
    scoped = quota("be", pods="1")
    scoped["spec"]["scopes"] = ["BestEffort"]
    reader = Reader(scoped, pod("be-1"))
    with pytest.raises(Forbidden):
        admit(pod("be-2"), None, reader)
    admit(pod("burstable", cpu="100m"), None, reader)
