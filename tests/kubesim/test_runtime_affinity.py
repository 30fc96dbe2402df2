"""Required pod anti-affinity through a Deployment: spread over the workers, then Pending."""

from __future__ import annotations

from tests.kubesim.runtime_support import rt, runtime_server  # noqa: F401 (fixtures)


def _deployment(replicas: int) -> dict:
    labels = {"app": "cache"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "cache"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "affinity": {
                        "podAntiAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": [
                                {
                                    "labelSelector": {"matchLabels": labels},
                                    "topologyKey": "kubernetes.io/hostname",
                                }
                            ]
                        }
                    },
                    "containers": [{"name": "redis", "image": "redis:7"}],
                },
            },
        },
    }


def test_anti_affinity_spreads_replicas_and_leaves_the_extra_one_pending(rt):  # noqa: F811
    rt.apps.create_namespaced_deployment("default", _deployment(2))
    rt.advance(30)
    pods = rt.core.list_namespaced_pod("default", label_selector="app=cache").items
    nodes = [p.spec.node_name for p in pods]
    assert len(set(nodes)) == 2 and all(n.startswith("worker-") for n in nodes)  # one per worker
    assert all(p.status.phase == "Running" for p in pods)

    rt.apps.patch_namespaced_deployment_scale("cache", "default", {"spec": {"replicas": 3}})
    rt.advance(30)
    pending = [
        p
        for p in rt.core.list_namespaced_pod("default", label_selector="app=cache").items
        if not p.spec.node_name
    ]
    assert len(pending) == 1
    name = pending[0].metadata.name
    expected = (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match pod anti-affinity "
        "rules. preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
        "scheduling, 2 No preemption victims found for incoming pod."
    )
    failed = [e for e in rt.events(name) if e.reason == "FailedScheduling"]
    assert failed and failed[0].message == expected
    row = rt.kubectl("get", "pod", name, "--no-headers").stdout.split()
    assert row[2] == "Pending"
