"""Server-side Table output: the columns and cells `kubectl get` shows."""

from datetime import UTC, datetime

import pytest

from kubesim.apiserver.tables import human_duration, jsonpath, to_table

NOW = datetime(2025, 1, 10, 12, 0, 0, tzinfo=UTC)


def _names(table, wide=True):
    return [c["name"] for c in table["columnDefinitions"] if wide or c["priority"] == 0]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (45, "45s"),
        (119, "119s"),
        (312, "5m12s"),
        (300, "5m"),
        (45 * 60, "45m"),
        (3 * 3600 + 4 * 60, "3h4m"),
        (5 * 3600, "5h"),
        (20 * 3600, "20h"),
        (2 * 86400 + 3 * 3600, "2d3h"),
        (3 * 86400, "3d"),
        (120 * 86400, "120d"),
        (3 * 365 * 86400 + 45 * 86400, "3y45d"),
        (10 * 365 * 86400, "10y"),
    ],
)
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


CRASHING_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "api-7d9c-x2x",
        "namespace": "default",
        "creationTimestamp": "2025-01-10T11:00:00Z",
        "uid": "u1",
    },
    "spec": {"nodeName": "worker-1", "containers": [{"name": "api"}, {"name": "sidecar"}]},
    "status": {
        "phase": "Running",
        "podIP": "10.244.1.7",
        "podIPs": [{"ip": "10.244.1.7"}],
        "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [
            {
                "name": "api",
                "ready": False,
                "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-01-10T11:55:00Z"}},
            },
            {"name": "sidecar", "ready": True, "restartCount": 0, "state": {"running": {}}},
        ],
    },
}


def test_crashloop_pod_row():
    table = to_table("v1", "Pod", [CRASHING_POD], now=NOW)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert _names(table) == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]
    assert [c["priority"] for c in table["columnDefinitions"]] == [0] * 5 + [1] * 4
    row = table["rows"][0]
    assert row["cells"] == [
        "api-7d9c-x2x",
        "1/2",
        "CrashLoopBackOff",
        "5 (5m ago)",
        "60m",
        "10.244.1.7",
        "worker-1",
        "<none>",
        "<none>",
    ]
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": CRASHING_POD["metadata"],
    }
    narrow = to_table("v1", "Pod", [CRASHING_POD], wide=False, now=NOW, include_object="None")
    assert narrow["rows"][0] == {
        "cells": ["api-7d9c-x2x", "1/2", "CrashLoopBackOff", "5 (5m ago)", "60m"]
    }
    full = to_table("v1", "Pod", [CRASHING_POD], include_object="Object", now=NOW)
    assert full["rows"][0]["object"] is CRASHING_POD


def _pod(phase="Pending", statuses=None, deleting=False, **status):
    meta = {"name": "p", "creationTimestamp": "2025-01-10T11:59:15Z"}
    if deleting:
        meta["deletionTimestamp"] = "2025-01-10T12:00:00Z"
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": phase, "containerStatuses": statuses or [], **status},
    }


@pytest.mark.parametrize(
    ("pod", "status"),
    [
        (_pod("Pending"), "Pending"),
        (
            _pod("Pending", [{"name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}}]),
            "ContainerCreating",
        ),
        (
            _pod("Pending", [{"name": "c", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]),
            "ImagePullBackOff",
        ),
        (
            _pod(
                "Succeeded",
                [{"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
            ),
            "Completed",
        ),
        (
            _pod("Failed", [{"name": "c", "state": {"terminated": {"exitCode": 137}}}]),
            "ExitCode:137",
        ),
        (
            _pod(
                "Running", [{"name": "c", "ready": True, "state": {"running": {}}}], deleting=True
            ),
            "Terminating",
        ),
        (_pod("Failed", reason="Evicted"), "Evicted"),
    ],
)
def test_pod_status_column(pod, status):
    row = to_table("v1", "Pod", [pod], now=NOW)["rows"][0]
    assert row["cells"][2] == status
    assert row["cells"][4] == "45s"


def test_completed_pod_row_condition():
    pod = _pod(
        "Succeeded",
        [{"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
    )
    row = to_table("v1", "Pod", [pod], now=NOW)["rows"][0]
    assert row["conditions"][0]["type"] == "Completed"


def test_pod_init_containers():
    pod = _pod("Pending")
    pod["spec"]["initContainers"] = [{"name": "migrate"}, {"name": "seed"}]
    pod["status"]["initContainerStatuses"] = [
        {"name": "migrate", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "seed", "state": {"running": {}}},
    ]
    assert to_table("v1", "Pod", [pod], now=NOW)["rows"][0]["cells"][2] == "Init:1/2"


def test_cordoned_control_plane_node():
    node = {
        "metadata": {
            "name": "master-1",
            "creationTimestamp": "2025-01-08T09:00:00Z",
            "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/os": "linux"},
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [
                {"type": "InternalIP", "address": "10.0.0.10"},
                {"type": "Hostname", "address": "master-1"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "Ubuntu 24.04 LTS",
                "kernelVersion": "6.8.0-45-generic",
                "containerRuntimeVersion": "containerd://1.7.22",
            },
        },
    }
    table = to_table("v1", "Node", [node], now=NOW)
    assert _names(table, wide=False) == ["Name", "Status", "Roles", "Age", "Version"]
    assert table["rows"][0]["cells"] == [
        "master-1",
        "Ready,SchedulingDisabled",
        "control-plane",
        "2d3h",
        "v1.32.0",
        "10.0.0.10",
        "<none>",
        "Ubuntu 24.04 LTS",
        "6.8.0-45-generic",
        "containerd://1.7.22",
    ]


def test_load_balancer_service():
    svc = {
        "metadata": {"name": "web", "creationTimestamp": "2025-01-10T08:56:00Z"},
        "spec": {
            "type": "LoadBalancer",
            "clusterIP": "10.96.12.4",
            "clusterIPs": ["10.96.12.4"],
            "selector": {"app": "web", "tier": "front"},
            "ports": [
                {"port": 80, "nodePort": 31080, "protocol": "TCP"},
                {"port": 443, "nodePort": 31443, "protocol": "TCP"},
            ],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}},
    }
    table = to_table("v1", "Service", [svc], now=NOW)
    assert _names(table) == [
        "Name",
        "Type",
        "Cluster-IP",
        "External-IP",
        "Port(s)",
        "Age",
        "Selector",
    ]
    assert table["rows"][0]["cells"] == [
        "web",
        "LoadBalancer",
        "10.96.12.4",
        "203.0.113.10",
        "80:31080/TCP,443:31443/TCP",
        "3h4m",
        "app=web,tier=front",
    ]
    del svc["status"]
    assert to_table("v1", "Service", [svc], now=NOW)["rows"][0]["cells"][3] == "<pending>"


def test_default_storage_class():
    sc = {
        "metadata": {
            "name": "standard",
            "creationTimestamp": "2024-09-12T12:00:00Z",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "kubesim.io/hostpath",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }
    table = to_table("storage.k8s.io/v1", "StorageClass", [sc], now=NOW)
    assert _names(table) == [
        "Name",
        "Provisioner",
        "ReclaimPolicy",
        "VolumeBindingMode",
        "AllowVolumeExpansion",
        "Age",
    ]
    assert table["rows"][0]["cells"] == [
        "standard (default)",
        "kubesim.io/hostpath",
        "Delete",
        "WaitForFirstConsumer",
        True,
        "120d",
    ]


def test_deployment_and_job_rows():
    dep = {
        "metadata": {"name": "web", "creationTimestamp": "2025-01-10T11:58:00Z"},
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}],
            },
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.27"},
                        {"name": "log", "image": "busybox"},
                    ]
                }
            },
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    table = to_table("apps/v1", "Deployment", [dep], now=NOW)
    assert _names(table) == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]
    assert table["rows"][0]["cells"] == [
        "web",
        "2/3",
        3,
        2,
        "2m",
        "web,log",
        "nginx:1.27,busybox",
        "app=web,env in (dev,prod)",
    ]
    job = {
        "metadata": {"name": "pi", "creationTimestamp": "2025-01-10T11:50:00Z"},
        "spec": {
            "completions": 1,
            "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}},
        },
        "status": {
            "succeeded": 1,
            "startTime": "2025-01-10T11:50:00Z",
            "completionTime": "2025-01-10T11:50:42Z",
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    cells = to_table("batch/v1", "Job", [job], wide=False, now=NOW)["rows"][0]["cells"]
    assert cells == ["pi", "Complete", "1/1", "42s", "10m"]


def test_secret_configmap_pvc_and_events():
    secret = {
        "metadata": {"name": "tls", "creationTimestamp": "2025-01-10T11:59:00Z"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "x", "tls.key": "y"},
    }
    assert to_table("v1", "Secret", [secret], now=NOW)["rows"][0]["cells"] == [
        "tls",
        "kubernetes.io/tls",
        2,
        "60s",
    ]
    cm = {
        "metadata": {"name": "cfg", "creationTimestamp": "2025-01-10T11:59:00Z"},
        "data": {"a": "1"},
        "binaryData": {"b": "AA=="},
    }
    assert to_table("v1", "ConfigMap", [cm], now=NOW)["rows"][0]["cells"] == ["cfg", 2, "60s"]
    pvc = {
        "metadata": {"name": "data", "creationTimestamp": "2025-01-10T11:59:00Z"},
        "spec": {"volumeName": "pvc-1", "storageClassName": "standard", "volumeMode": "Filesystem"},
        "status": {
            "phase": "Bound",
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": "1Gi"},
        },
    }
    assert to_table("v1", "PersistentVolumeClaim", [pvc], now=NOW)["rows"][0]["cells"] == [
        "data",
        "Bound",
        "pvc-1",
        "1Gi",
        "RWO",
        "standard",
        "<unset>",
        "60s",
        "Filesystem",
    ]
    event = {
        "metadata": {"name": "web.1"},
        "type": "Normal",
        "reason": "Scheduled",
        "message": "Successfully assigned default/web to worker-1",
        "involvedObject": {"kind": "Pod", "name": "web"},
        "source": {"component": "default-scheduler"},
        "firstTimestamp": "2025-01-10T11:59:30Z",
        "lastTimestamp": "2025-01-10T11:59:30Z",
    }
    table = to_table("v1", "Event", [event], wide=False, now=NOW)
    assert _names(table) == ["Last Seen", "Type", "Reason", "Object", "Message"]
    assert table["rows"][0]["cells"] == [
        "30s",
        "Normal",
        "Scheduled",
        "pod/web",
        "Successfully assigned default/web to worker-1",
    ]


def test_api_services_show_their_service_and_availability():
    made = "2025-01-10T11:00:00Z"
    local = {
        "metadata": {"name": "v1.apps", "creationTimestamp": made},
        "spec": {"group": "apps", "version": "v1"},
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]},
    }
    aggregated = {
        "metadata": {"name": "v1beta1.metrics.k8s.io", "creationTimestamp": made},
        "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}},
        "status": {
            "conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]
        },
    }
    fresh = {"metadata": {"name": "v1alpha1.wardle.k8s.io", "creationTimestamp": made}}
    table = to_table("apiregistration.k8s.io/v1", "APIService", [local, aggregated, fresh], now=NOW)
    assert _names(table) == ["Name", "Service", "Available", "Age"]
    assert [row["cells"] for row in table["rows"]] == [
        ["v1.apps", "Local", "True", "60m"],
        ["v1beta1.metrics.k8s.io", "kube-system/metrics-server", "False (MissingEndpoints)", "60m"],
        ["v1alpha1.wardle.k8s.io", "Local", "Unknown", "60m"],
    ]


def test_priority_classes_show_value_default_and_preemption():
    pc = {
        "metadata": {"name": "system-node-critical", "creationTimestamp": "2025-01-10T11:00:00Z"},
        "value": 2000001000,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    table = to_table("scheduling.k8s.io/v1", "PriorityClass", [pc], now=NOW)
    assert _names(table) == ["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"]
    assert table["rows"][0]["cells"] == [
        "system-node-critical",
        2000001000,
        False,
        "60m",
        "PreemptLowerPriority",
    ]


def test_other_kinds_get_name_and_age():
    obj = {"metadata": {"name": "x", "creationTimestamp": "2025-01-10T11:00:00Z"}}
    table = to_table("example.com/v1", "Widget", [obj], now=NOW)
    assert _names(table) == ["Name", "Age"]
    assert table["rows"][0]["cells"] == ["x", "60m"]


def test_custom_resource_printer_columns():
    columns = [
        {"name": "Schedule", "type": "string", "jsonPath": ".spec.cronSpec"},
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        {
            "name": "Ready",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        },
        {"name": "Image", "type": "string", "jsonPath": ".spec.image", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    obj = {
        "metadata": {"name": "c1", "creationTimestamp": "2025-01-10T11:59:00Z"},
        "spec": {"cronSpec": "*/5 * * * *", "replicas": 2},
        "status": {
            "conditions": [
                {"type": "Synced", "status": "False"},
                {"type": "Ready", "status": "True"},
            ]
        },
    }
    table = to_table("stable.example.com/v1", "CronTab", [obj], now=NOW, printer_columns=columns)
    assert _names(table) == ["Name", "Schedule", "Replicas", "Ready", "Image", "Age"]
    assert table["columnDefinitions"][4]["priority"] == 1
    assert table["rows"][0]["cells"] == ["c1", "*/5 * * * *", 2, "True", None, "60s"]
    default = to_table("stable.example.com/v1", "CronTab", [obj], now=NOW, printer_columns=[])
    assert _names(default) == ["Name", "Age"]


def test_jsonpath_subset():
    obj = {"a": {"b": [{"c": 1}, {"c": 2}], "x.y": "dotted"}}
    assert jsonpath(obj, ".a.b[1].c") == [2]
    assert jsonpath(obj, "{.a.b[*].c}") == [1, 2]
    assert jsonpath(obj, ".a['x.y']") == ["dotted"]
    assert jsonpath(obj, ".a.missing") == []
