"""kubesim.runtime.scheduler: placements and FailedScheduling messages as kube-scheduler's."""

from datetime import UTC, datetime, timedelta

from kubesim.runtime.scheduler import Snapshot, pod_requests, schedule, taint_eviction

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def node(name, zone="zone-a", cpu="4", memory="8Gi", pods="110", taints=(), labels=None, **spec):
    return {
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "topology.kubernetes.io/zone": zone,
                **(labels or {}),
            },
        },
        "spec": {"taints": list(taints), **spec},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def master(name):
    return node(
        name, labels={"node-role.kubernetes.io/control-plane": ""}, taints=[CONTROL_PLANE_TAINT]
    )


def pod(name, cpu="100m", memory="128Mi", labels=None, owner=None, **spec):
    meta = {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [
            {"kind": "ReplicaSet", "name": owner, "uid": f"rs-{owner}", "controller": True}
        ]
    return {
        "metadata": meta,
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": cpu, "memory": memory}},
                }
            ],
            **spec,
        },
        "status": {"phase": "Pending"},
    }


def anti_affinity(app, key="kubernetes.io/hostname"):
    return {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}
            ]
        }
    }


def test_mixed_reasons_give_the_exact_failed_scheduling_message():
    nodes = [
        master("cp-1"),
        node("gpu-1", labels={"disktype": "hdd"}),
        node("gpu-2", labels={"disktype": "hdd"}),
        node("small-1", cpu="2", labels={"disktype": "ssd"}),
        node("small-2", cpu="2", labels={"disktype": "ssd"}),
    ]
    busy = {"small-1": [pod("x", cpu="1500m")], "small-2": [pod("y", cpu="1800m")]}
    result = schedule(pod("web", cpu="1", nodeSelector={"disktype": "ssd"}), nodes, busy)
    assert result.node_name is None
    assert result.reason == "Unschedulable"
    assert result.message == (
        "0/5 nodes are available: "
        "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 Insufficient cpu, "
        "2 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/5 nodes are available: "
        "2 No preemption victims found for incoming pod, "
        "3 Preemption is not helpful for scheduling."
    )


def test_unresolvable_everywhere_says_preemption_is_not_helpful():
    nodes = [master("cp-1"), node("w-1", unschedulable=True), node("w-2")]
    result = schedule(pod("p", nodeSelector={"missing": "label"}), nodes, {})
    assert result.message == (
        "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "1 node(s) were unschedulable. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )


def test_no_nodes_at_all():
    assert schedule(pod("p"), [], {}).message == "no nodes available to schedule pods"


def test_not_ready_node_is_tainted_by_its_condition():
    sick = node("w-1")
    sick["status"]["conditions"] = [{"type": "Ready", "status": "Unknown"}]
    result = schedule(pod("p"), [sick], {})
    assert result.message.startswith(
        "0/1 nodes are available: "
        "1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }."
    )


def test_memory_cpu_and_pod_count_reasons_from_one_node():
    full = node("w-1", cpu="1", memory="1Gi", pods="1")
    result = schedule(
        pod("p", cpu="2", memory="2Gi"), [full], {"w-1": [pod("q", cpu="0", memory="0")]}
    )
    assert result.message.startswith(
        "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods."
    )


def test_terminal_pods_do_not_use_resources():
    done = pod("done", cpu="4")
    done["status"]["phase"] = "Succeeded"
    assert schedule(pod("p", cpu="1"), [node("w-1")], {"w-1": [done]}).node_name == "w-1"


def test_init_containers_count_by_the_max_rule():
    p = pod("p", cpu="500m")
    p["spec"]["initContainers"] = [
        {"name": "migrate", "resources": {"requests": {"cpu": "2"}}},
        {"name": "warm", "resources": {"requests": {"cpu": "1"}}},
    ]
    assert pod_requests(p)["cpu"] == 2000
    # A sidecar keeps running next to the app containers, so it adds up.
    p["spec"]["initContainers"].append(
        {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "250m"}}}
    )
    assert pod_requests(p)["cpu"] == 2000
    p["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "1900m"
    assert pod_requests(p)["cpu"] == 2150


def test_tolerations_and_required_node_affinity_operators():
    nodes = [
        master("cp-1"),
        node("w-1", labels={"gen": "3"}),
        node("w-2", labels={"gen": "5"}),
    ]
    tolerate_cp = [
        {
            "key": "node-role.kubernetes.io/control-plane",
            "operator": "Exists",
            "effect": "NoSchedule",
        }
    ]
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["4"]}]},
                    {
                        "matchFields": [
                            {"key": "metadata.name", "operator": "In", "values": ["cp-1"]}
                        ]
                    },
                ]
            }
        }
    }
    p = pod("p", affinity=affinity)
    assert schedule(p, nodes, {}).node_name == "w-2"
    nodes[2]["spec"]["unschedulable"] = True
    assert schedule(p, nodes, {}).node_name is None
    assert (
        schedule(pod("p", affinity=affinity, tolerations=tolerate_cp), nodes, {}).node_name
        == "cp-1"
    )


def test_preferred_node_affinity_and_prefer_no_schedule_break_ties():
    nodes = [
        node("w-1"),
        node("w-2", labels={"tier": "fast"}),
        node("w-3", labels={"tier": "fast"}),
    ]
    nodes[2]["spec"]["taints"] = [{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}]
    affinity = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 50,
                    "preference": {
                        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fast"]}]
                    },
                }
            ]
        }
    }
    assert schedule(pod("p", affinity=affinity), nodes, {}).node_name == "w-2"


def test_anti_affinity_spreads_three_replicas_then_leaves_the_fourth_pending():
    nodes = [node("w-1", zone="a"), node("w-2", zone="b"), node("w-3", zone="c")]
    snap = Snapshot(nodes, {})
    placed = []
    for i in range(4):
        replica = pod(
            f"web-{i}", labels={"app": "web"}, owner="web-7d9", affinity=anti_affinity("web")
        )
        result = snap.schedule(replica, rng_seed=replica["metadata"]["uid"])
        if result.node_name:
            snap.assume(replica, result.node_name)
        placed.append(result)
    assert sorted(r.node_name for r in placed[:3]) == ["w-1", "w-2", "w-3"]
    assert placed[3].node_name is None
    assert placed[3].message == (
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. "
        "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    )


def test_existing_pods_anti_affinity_and_zone_affinity():
    nodes = [node("w-1", zone="a"), node("w-2", zone="a"), node("w-3", zone="b")]
    db = pod(
        "db", labels={"app": "db"}, affinity=anti_affinity("cache", "topology.kubernetes.io/zone")
    )
    bound = {"w-1": [db]}
    cache = pod("cache", labels={"app": "cache"})
    assert schedule(cache, nodes, bound).node_name == "w-3"
    near_db = {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchLabels": {"app": "db"}},
                    "topologyKey": "topology.kubernetes.io/zone",
                }
            ]
        }
    }
    assert schedule(pod("api", affinity=near_db), nodes, bound).node_name in ("w-1", "w-2")
    result = schedule(pod("api", affinity=near_db), nodes[2:], bound)
    assert "1 node(s) didn't match pod affinity rules." in result.message


def test_replicas_of_one_owner_spread_over_nodes_and_zones():
    nodes = [node("a-1", zone="a"), node("a-2", zone="a"), node("b-1", zone="b")]
    snap = Snapshot(nodes, {})
    where = []
    for i in range(3):
        replica = pod(f"api-{i}", labels={"app": "api"}, owner="api-5f6")
        name = snap.schedule(replica).node_name
        snap.assume(replica, name)
        where.append(name)
    assert sorted(where) == ["a-1", "a-2", "b-1"]


def test_same_input_same_decision_and_seed_breaks_ties():
    nodes = [node(f"w-{i}") for i in range(5)]
    first = {schedule(pod("p"), nodes, {}, rng_seed="s1").node_name for _ in range(3)}
    assert len(first) == 1
    chosen = {schedule(pod("p"), nodes, {}, rng_seed=f"seed-{i}").node_name for i in range(20)}
    assert len(chosen) > 1


def test_preemption_nominates_a_node_and_names_victims():
    low = pod("batch", cpu="3500m")
    p = pod("critical", cpu="2", priority=1000)
    result = schedule(p, [node("w-1")], {"w-1": [low]})
    assert result.node_name is None
    assert result.message == "0/1 nodes are available: 1 Insufficient cpu."
    assert result.nominated_node == "w-1"
    assert [v["metadata"]["name"] for v in result.victims] == ["batch"]


def test_preset_node_name_and_scheduling_gates():
    assert schedule(pod("p", nodeName="w-9"), [node("w-1")], {}).node_name == "w-9"
    gated = schedule(pod("p", schedulingGates=[{"name": "wait"}]), [node("w-1")], {})
    assert (gated.node_name, gated.reason) == (None, "SchedulingGated")


def test_topology_spread_constraint_do_not_schedule():
    nodes = [node("a-1", zone="a"), node("b-1", zone="b")]
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}},
        }
    ]
    bound = {"a-1": [pod("web-0", labels={"app": "web"})]}
    p = pod("web-1", labels={"app": "web"}, topologySpreadConstraints=spread)
    assert schedule(p, nodes, bound).node_name == "b-1"
    result = schedule(p, nodes, {**bound, "b-1": [pod("other", cpu="4")]})
    assert "1 node(s) didn't match pod topology spread constraints" in result.message


def test_large_cluster_checks_a_bounded_number_of_nodes():
    nodes = [node(f"w-{i:03}") for i in range(500)]
    snap = Snapshot(nodes, {})
    snap.schedule(pod("p"))
    assert snap.next_start == 230


NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_taint_eviction_honours_toleration_seconds():
    n = node("w-1")
    n["spec"]["taints"] = [
        {
            "key": "node.kubernetes.io/unreachable",
            "effect": "NoExecute",
            "timeAdded": "2025-03-01T11:58:00Z",
        }
    ]
    tolerate_300 = [
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        }
    ]
    assert taint_eviction(pod("p", tolerations=tolerate_300), n, NOW) == 180.0
    assert taint_eviction(pod("p", tolerations=tolerate_300), n, NOW + timedelta(minutes=10)) == 0.0
    assert taint_eviction(pod("p"), n, NOW) == 0.0
    forever = [{"operator": "Exists"}]
    assert taint_eviction(pod("p", tolerations=forever), n, NOW) is None
    assert taint_eviction(pod("p"), node("w-2"), NOW) is None


def test_taint_eviction_from_not_ready_condition():
    n = node("w-1")
    n["status"]["conditions"] = [
        {"type": "Ready", "status": "False", "lastTransitionTime": "2025-03-01T11:59:00Z"}
    ]
    tolerations = [
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        }
    ]
    assert taint_eviction(pod("p", tolerations=tolerations), n, NOW) == 240.0
