"""PodDisruptionBudgets in kubesim: validated as policy/v1, their status kept from the
pods' readiness (which follows the probes), evictions refused with 429 at 0 allowed."""

from __future__ import annotations

import kubernetes
import pytest

from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401 (fixtures)


def _pdb(spec):
    return {"metadata": {"name": "web"}, "spec": spec}


def _refused(rt, spec):  # noqa: F811
    with pytest.raises(kubernetes.client.ApiException) as info:
        rt.policy.create_namespaced_pod_disruption_budget("default", _pdb(spec))
    assert info.value.status == 422
    return info.value.body


def test_budgets_are_validated(rt):  # noqa: F811
    selector = {"matchLabels": {"app": "web"}}
    body = _refused(rt, {"minAvailable": 1, "maxUnavailable": 1, "selector": selector})
    assert "minAvailable and maxUnavailable cannot be both set" in body
    assert "must be greater than or equal to 0" in _refused(
        rt, {"minAvailable": -1, "selector": selector}
    )
    assert "must not be greater than 100%" in _refused(
        rt, {"maxUnavailable": "150%", "selector": selector}
    )
    assert "a valid percent string" in _refused(rt, {"minAvailable": "half", "selector": selector})
    assert "unhealthyPodEvictionPolicy" in _refused(
        rt, {"minAvailable": 1, "selector": selector, "unhealthyPodEvictionPolicy": "Never"}
    )


def test_status_follows_readiness_from_the_probes(rt):  # noqa: F811
    probe = {"httpGet": {"path": "/readyz", "port": 80}, "periodSeconds": 5}
    for name in ("web-1", "web-2", "web-3"):
        rt.core.create_namespaced_pod(
            "default",
            {
                "metadata": {"name": name, "labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx",
                            "ports": [{"containerPort": 80}],
                            "readinessProbe": probe,
                        }
                    ]
                },
            },
        )
    selector = {"matchLabels": {"app": "web"}}
    rt.policy.create_namespaced_pod_disruption_budget(
        "default", _pdb({"maxUnavailable": "34%", "selector": selector})
    )
    rt.advance(20)
    status = rt.policy.read_namespaced_pod_disruption_budget("web", "default").status
    assert (status.expected_pods, status.current_healthy, status.desired_healthy) == (3, 3, 1)
    assert status.disruptions_allowed == 2  # 34% of 3 rounds up to 2
    assert {c.type: c.status for c in status.conditions}["DisruptionAllowed"] == "True"

    # web-2 and web-3 fail their readiness probe: only one healthy, none may go.
    for name in ("web-2", "web-3"):
        code, out = rt.admin(
            "PUT", "/probes", {"kind": "Pod", "name": name, "answers": {"/readyz": 503}}
        )
        assert code == 200, out
    rt.advance(20)
    status = rt.policy.read_namespaced_pod_disruption_budget("web", "default").status
    assert (status.current_healthy, status.disruptions_allowed) == (1, 0)
    condition = {c.type: c for c in status.conditions}["DisruptionAllowed"]
    assert (condition.status, condition.reason) == ("False", "InsufficientPods")
    eviction = {"metadata": {"name": "web-1", "namespace": "default"}}
    with pytest.raises(kubernetes.client.ApiException) as refused:
        rt.core.create_namespaced_pod_eviction("web-1", "default", eviction)
    assert refused.value.status == 429 and "TooManyRequests" in refused.value.body
    assert "Cannot evict pod as it would violate the pod's disruption budget." in (
        refused.value.body
    )
    # An unhealthy pod may still go while the budget is met (desiredHealthy 1, has 1).
    rt.core.create_namespaced_pod_eviction(
        "web-2", "default", eviction | {"metadata": {"name": "web-2", "namespace": "default"}}
    )
    assert rt.pod("web-2").metadata.deletion_timestamp is not None
