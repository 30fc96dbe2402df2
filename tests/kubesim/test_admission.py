"""Admission through the API: ResourceQuota enforcement and usage, LimitRange defaults."""

from __future__ import annotations

import json

import pytest
from kubernetes.client import ApiException


def pod(name: str, cpu: str | None = None, memory: str | None = None) -> dict:
    container: dict = {"name": "app", "image": "busybox"}
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    if requests:
        container["resources"] = {"requests": requests, "limits": dict(requests)}
    return {"metadata": {"name": name}, "spec": {"containers": [container]}}


def test_quota_counts_and_forbids_with_the_real_message(core):
    core.create_namespaced_resource_quota(
        "default", {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "2", "configmaps": "5"}}}
    )
    core.create_namespaced_pod("default", pod("p1"))
    core.create_namespaced_pod("default", pod("p2"))
    with pytest.raises(ApiException) as info:
        core.create_namespaced_pod("default", pod("p3"))
    body = json.loads(info.value.body)
    assert info.value.status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == (
        'pods "p3" is forbidden: exceeded quota: q, '
        "requested: pods=1, used: pods=2, limited: pods=2"
    )
    assert body["details"] == {"name": "p3", "kind": "pods"}

    used = core.read_namespaced_resource_quota("q", "default").status
    assert used.hard == {"pods": "2", "configmaps": "5"}
    assert used.used == {"pods": "2", "configmaps": "0"}
    core.delete_namespaced_pod("p1", "default")
    assert core.read_namespaced_resource_quota("q", "default").status.used["pods"] == "1"


def test_quota_on_compute_resources(core):
    core.create_namespaced_resource_quota(
        "default",
        {
            "metadata": {"name": "compute"},
            "spec": {"hard": {"requests.cpu": "1", "requests.memory": "1Gi"}},
        },
    )
    core.create_namespaced_pod("default", pod("small", cpu="600m", memory="256Mi"))
    with pytest.raises(ApiException) as info:
        core.create_namespaced_pod("default", pod("big", cpu="600m", memory="256Mi"))
    assert info.value.status == 403
    assert (
        "exceeded quota: compute, requested: requests.cpu=600m"
        in json.loads(info.value.body)["message"]
    )
    status = core.read_namespaced_resource_quota("compute", "default").status
    assert status.used == {"requests.cpu": "600m", "requests.memory": "256Mi"}


def test_limit_range_defaults_containers(core):
    core.create_namespaced_limit_range(
        "default",
        {
            "metadata": {"name": "defaults"},
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": "500m", "memory": "128Mi"},
                        "defaultRequest": {"cpu": "100m", "memory": "64Mi"},
                    }
                ]
            },
        },
    )
    made = core.create_namespaced_pod("default", pod("limited"))
    resources = made.spec.containers[0].resources
    assert resources.requests == {"cpu": "100m", "memory": "64Mi"}
    assert resources.limits == {"cpu": "500m", "memory": "128Mi"}
