"""HorizontalPodAutoscaler on the simulated usage: up with the load, down after the window."""

from __future__ import annotations

import json

import pytest

from tests.kubesim.workload_support import World


@pytest.fixture
def world(kubesim_server, sim):
    return World(kubesim_server, sim)


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "api", "namespace": "default"},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "api"}},
        "template": {
            "metadata": {"labels": {"app": "api"}},
            "spec": {
                "containers": [
                    {
                        "name": "api",
                        "image": "ghcr.io/example/api:1.0",
                        "resources": {"requests": {"cpu": "200m", "memory": "128Mi"}},
                    }
                ]
            },
        },
    },
}

HPA = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "api", "namespace": "default"},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
        "minReplicas": 1,
        "maxReplicas": 5,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 50},
                },
            }
        ],
    },
}


def replicas(sim) -> int:
    return sim.get("apps/v1", "Deployment", "api", "default")["spec"]["replicas"]


def hpa_status(sim) -> dict:
    return (
        sim.get("autoscaling/v2", "HorizontalPodAutoscaler", "api", "default").get("status") or {}
    )


def set_load(server, cluster, factor: float) -> None:
    code, body = server.admin(
        "PUT",
        f"/clusters/{cluster['name']}/load",
        {"namespace": "default", "kind": "Deployment", "name": "api", "factor": factor},
    )
    assert code == 200, body


def test_hpa_scales_up_with_load_and_down_after_the_window(
    world, kubectl, sim, kubesim_server, kubesim_cluster
):
    kubectl("apply", "-f", "-", stdin=json.dumps(DEPLOYMENT))
    kubectl("apply", "-f", "-", stdin=json.dumps(HPA))
    world.advance(60, step=5)

    # load 1: about 30% of the request, below the 50% target: stays at the minimum
    status = hpa_status(sim)
    assert replicas(sim) == 1
    current = status["currentMetrics"][0]["resource"]["current"]
    assert 25 <= current["averageUtilization"] <= 35
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["ScalingActive"]["reason"] == "ValidMetricFound"
    assert conditions["AbleToScale"]["status"] == "True"

    set_load(kubesim_server, kubesim_cluster, 4)
    world.advance(15, step=5)
    assert replicas(sim) > 1
    world.until(lambda: replicas(sim) == 5, limit=300, step=5)
    status = hpa_status(sim)
    assert status["desiredReplicas"] == 5 and status["lastScaleTime"]
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["ScalingLimited"]["reason"] == "TooManyReplicas"
    events = [e for e in sim.list("v1", "Event", "default") if e["reason"] == "SuccessfulRescale"]
    assert any(
        "reason: cpu resource utilization (percentage of request) above target" in e["message"]
        for e in events
    )

    out = kubectl("get", "hpa", "api").stdout.splitlines()[1].split()
    assert out[1] == "Deployment/api" and out[-2] == "5"

    # load falls: nothing happens within the 300 s stabilization window, then down to min
    set_load(kubesim_server, kubesim_cluster, 0.5)  # about 15%: ceil(0.3 x replicas) each time
    world.advance(240, step=5)
    assert replicas(sim) == 5
    conditions = {c["type"]: c for c in hpa_status(sim)["conditions"]}
    assert conditions["AbleToScale"]["reason"] == "ScaleDownStabilized"
    world.until(lambda: replicas(sim) < 5, limit=120, step=5)
    world.until(lambda: replicas(sim) == 1, limit=1200, step=15)
    assert any(
        "All metrics below target" in e["message"]
        for e in sim.list("v1", "Event", "default")
        if e["reason"] == "SuccessfulRescale"
    )


def test_hpa_reports_missing_target(world, kubectl, sim):
    kubectl("apply", "-f", "-", stdin=json.dumps(HPA))
    world.advance(20, step=5)
    conditions = {c["type"]: c for c in hpa_status(sim)["conditions"]}
    assert conditions["AbleToScale"]["status"] == "False"
    assert conditions["AbleToScale"]["reason"] == "FailedGetScale"
