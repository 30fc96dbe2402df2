"""Pod placement the way kube-scheduler's default profile (v1.32) decides it.

Pure functions over plain dict objects: no I/O, no clock, no randomness. The server
calls `schedule()` for one pod, or keeps a `Snapshot` (the scheduler's cache: per-node
requested resources and pod lists) across many pods and `assume()`s each binding.

Filters run per node in the default profile's order and stop at the first failure, so
each node contributes one reason (NodeResourcesFit may give several at once), exactly
what the FailedScheduling message counts. Scores are the default plugins' normalised
0-100 scores times their weights; ties are broken by a hash of `rng_seed` and the node
name instead of kube-scheduler's random pick, so a run is reproducible.

Simplified: no volume, port or DRA plugins; the default topology spread counts pods
of the same controller (kube-scheduler builds that selector from Services and
ReplicaSets); a namespaceSelector only sees the namespace's `kubernetes.io/metadata.name`
label unless the caller passes namespace labels.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from kubesim.storage.quantity import bytes_, cpu_millicores, parse_quantity

HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
MAX_SCORE = 100

# Status codes: an unresolvable failure cannot be fixed by preempting pods on the node.
UNRESOLVABLE = "UnschedulableAndUnresolvable"
UNSCHEDULABLE = "Unschedulable"

REASON_UNSCHEDULABLE_NODE = "node(s) were unschedulable"
REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_POD_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
REASON_SPREAD = "node(s) didn't match pod topology spread constraints"
REASON_SPREAD_LABEL = (
    "node(s) didn't match pod topology spread constraints (missing required label)"
)
REASON_NOT_HELPFUL = "Preemption is not helpful for scheduling"
REASON_NO_VICTIMS = "No preemption victims found for incoming pod"
NO_NODES = "no nodes available to schedule pods"
TERMINAL_PHASES = ("Succeeded", "Failed")

# The node lifecycle controller turns the Ready condition into these taints; the
# scheduler itself only looks at taints (TaintNodesByCondition).
CONDITION_TAINTS = {
    "False": "node.kubernetes.io/not-ready",
    "Unknown": "node.kubernetes.io/unreachable",
}

# Requests assumed for scoring when a container sets none (schedutil.DefaultMilliCPURequest
# and DefaultMemoryRequest), so empty pods still spread.
NONZERO_DEFAULTS = {"cpu": 100, "memory": 200 * 1024 * 1024}

# Default profile score plugins and their weights.
WEIGHTS = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "NodeResourcesFit": 1,
    "PodTopologySpread": 2,
    "InterPodAffinity": 2,
    "NodeResourcesBalancedAllocation": 1,
}

# kube-scheduler's system default spread: replicas of one controller over hosts and zones.
DEFAULT_SPREAD = ((HOSTNAME, 3), (ZONE, 5))
CONTROLLER_KINDS = ("ReplicaSet", "StatefulSet", "ReplicationController")


@dataclass(frozen=True)
class Result:
    """Outcome for one pod.

    node_name: where to bind, or None. message: the FailedScheduling event message and
    the PodScheduled condition message. reason: the PodScheduled condition reason
    ("Unschedulable", "SchedulingGated") when not bound. nominated_node and victims:
    preemption found room by evicting lower-priority pods (set status.nominatedNodeName,
    delete the victims, retry later).
    """

    node_name: str | None
    message: str = ""
    reason: str = ""
    nominated_node: str | None = None
    victims: tuple[dict, ...] = ()


# ---------------------------------------------------------------- small helpers


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _spec(obj: dict) -> dict:
    return obj.get("spec") or {}


def _labels(obj: dict) -> dict:
    return _meta(obj).get("labels") or {}


def _key(pod: dict) -> str:
    meta = _meta(pod)
    return meta.get("uid") or f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def _priority(pod: dict) -> int:
    return _spec(pod).get("priority") or 0


def match_label_selector(selector: dict | None, labels: dict) -> bool:
    """metav1.LabelSelector semantics: None matches nothing, {} matches everything."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    return all(
        _requirement(e, labels.get(e["key"])) for e in selector.get("matchExpressions") or []
    )


def _requirement(expr: dict, value: str | None) -> bool:
    """One matchExpressions entry (label or node selector) against a label value."""
    op, values = expr.get("operator"), expr.get("values") or []
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt"):
        try:
            have, bound = int(value), int(values[0])
        except (TypeError, ValueError, IndexError):
            return False
        return have > bound if op == "Gt" else have < bound
    return False


def match_node_selector_term(term: dict, node: dict) -> bool:
    """A NodeSelectorTerm: expressions and fields ANDed; an empty term matches nothing."""
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False
    labels = _labels(node)
    if not all(_requirement(e, labels.get(e["key"])) for e in exprs):
        return False
    # metadata.name is the only supported field.
    node_fields = {"metadata.name": _meta(node).get("name")}
    return all(_requirement(f, node_fields.get(f["key"])) for f in fields)


def _node_affinity(pod: dict) -> dict:
    return (_spec(pod).get("affinity") or {}).get("nodeAffinity") or {}


def matches_node_affinity(pod: dict, node: dict) -> bool:
    """nodeSelector and required node affinity (terms ORed), as NodeAffinity's Filter."""
    labels = _labels(node)
    for k, v in (_spec(pod).get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = _node_affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return True
    return any(match_node_selector_term(t, node) for t in required.get("nodeSelectorTerms") or [])


# ---------------------------------------------------------------- taints


def tolerates(toleration: dict, taint: dict) -> bool:
    """core/v1 Toleration.ToleratesTaint."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    return op == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def node_taints(node: dict) -> list[dict]:
    """spec.taints plus the taints the node lifecycle controller adds for a NotReady node."""
    taints = list(_spec(node).get("taints") or [])
    ready = _ready_condition(node)
    implied = CONDITION_TAINTS.get((ready or {}).get("status"))
    if implied:
        have = {(t.get("key"), t.get("effect")) for t in taints}
        added = ready.get("lastTransitionTime")
        for effect in ("NoSchedule", "NoExecute"):
            if (implied, effect) not in have:
                taints.append({"key": implied, "effect": effect, "timeAdded": added})
    return taints


def _ready_condition(node: dict) -> dict | None:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond
    return None


def untolerated_taint(pod: dict, node: dict, effects=("NoSchedule", "NoExecute")) -> dict | None:
    tolerations = _spec(pod).get("tolerations") or []
    for taint in node_taints(node):
        if taint.get("effect") in effects and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def taint_eviction(pod: dict, node: dict, now) -> float | None:
    """Seconds until the taint eviction controller deletes `pod` from `node`.

    None: no NoExecute taint applies or every one is tolerated forever. 0: a NoExecute
    taint is not tolerated (evicted at once). Otherwise the smallest tolerationSeconds of
    the tolerations in use, counted from when the taints were added (`timeAdded`, else
    now), as the controller schedules the deletion when it first sees the taint.
    """
    taints = [t for t in node_taints(node) if t.get("effect") == "NoExecute"]
    if not taints:
        return None
    tolerations = _spec(pod).get("tolerations") or []
    used = []
    for taint in taints:
        match = next((t for t in tolerations if tolerates(t, taint)), None)
        if match is None:
            return 0.0
        used.append(match)
    seconds = [t["tolerationSeconds"] for t in used if t.get("tolerationSeconds") is not None]
    if not seconds:
        return None
    wait = min(seconds)
    if wait <= 0:
        return 0.0
    added = [_parse_time(t.get("timeAdded")) for t in taints]
    start = min((a for a in added if a is not None), default=now)
    return max(0.0, (start - now).total_seconds() + wait)


def _parse_time(value):
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---------------------------------------------------------------- resources


def _container_requests(container: dict) -> dict[str, int]:
    """Requests of one container; a limit stands in for a missing request (API defaulting)."""
    res = container.get("resources") or {}
    merged = {**(res.get("limits") or {}), **(res.get("requests") or {})}
    return {name: _amount(name, value) for name, value in merged.items()}


def _amount(name: str, value) -> int:
    """cpu in millicores, everything else in whole units (bytes, pods, devices)."""
    if name == "cpu":
        return cpu_millicores(str(value))
    if name in ("memory", "ephemeral-storage") or name.startswith("hugepages-"):
        return bytes_(str(value))
    return math.ceil(parse_quantity(str(value)))


def _add(total: dict, more: dict) -> dict:
    out = dict(total)
    for k, v in more.items():
        out[k] = out.get(k, 0) + v
    return out


def _max(a: dict, b: dict) -> dict:
    return {k: max(a.get(k, 0), b.get(k, 0)) for k in a.keys() | b.keys()}


def pod_requests(pod: dict, nonzero: bool = False) -> dict[str, int]:
    """The pod's effective requests (resourcehelper.PodRequests).

    Containers add up; an init container runs alone, so only the largest counts, except
    sidecars (restartPolicy Always) which keep running beside everything after them.
    nonzero: use the scoring defaults for containers without cpu/memory requests.
    """
    spec = _spec(pod)

    def requests(c: dict) -> dict:
        reqs = _container_requests(c)
        if nonzero:
            for name, default in NONZERO_DEFAULTS.items():
                reqs.setdefault(name, default)
        return reqs

    total: dict[str, int] = {}
    for c in spec.get("containers") or []:
        total = _add(total, requests(c))
    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for c in spec.get("initContainers") or []:
        reqs = requests(c)
        if c.get("restartPolicy") == "Always":
            total = _add(total, reqs)
            sidecars = _add(sidecars, reqs)
            reqs = sidecars
        else:
            reqs = _add(reqs, sidecars)
        init_peak = _max(init_peak, reqs)
    total = _max(total, init_peak)
    overhead = {k: _amount(k, v) for k, v in (spec.get("overhead") or {}).items()}
    return _add(total, overhead)


def _allocatable(node: dict) -> dict[str, int]:
    status = node.get("status") or {}
    alloc = status.get("allocatable") or status.get("capacity") or {}
    return {name: _amount(name, value) for name, value in alloc.items()}


# ---------------------------------------------------------------- affinity terms


@dataclass
class _Term:
    selector: dict | None
    namespaces: frozenset
    ns_selector: dict | None
    topology_key: str
    weight: int = 0

    def matches(self, pod: dict, ns_labels: dict) -> bool:
        ns = _meta(pod).get("namespace", "")
        in_ns = ns in self.namespaces or match_label_selector(self.ns_selector, ns_labels)
        return in_ns and match_label_selector(self.selector, _labels(pod))


def _terms(pod: dict, kind: str, mode: str) -> list[_Term]:
    """kind: podAffinity/podAntiAffinity; mode: required/preferred."""
    block = (_spec(pod).get("affinity") or {}).get(kind) or {}
    own_ns = _meta(pod).get("namespace", "")
    out = []
    for entry in block.get(f"{mode}DuringSchedulingIgnoredDuringExecution") or []:
        term = entry.get("podAffinityTerm", entry) if mode == "preferred" else entry
        ns, ns_sel = term.get("namespaces") or [], term.get("namespaceSelector")
        names = frozenset(ns) if ns or ns_sel is not None else frozenset([own_ns])
        out.append(
            _Term(
                term.get("labelSelector"),
                names,
                ns_sel,
                term.get("topologyKey", ""),
                entry.get("weight", 0) if mode == "preferred" else 0,
            )
        )
    return out


def _owner_uid(pod: dict) -> str | None:
    for ref in _meta(pod).get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") in CONTROLLER_KINDS:
            return ref.get("uid") or f"{ref.get('kind')}/{ref.get('name')}"
    return None


# ---------------------------------------------------------------- snapshot


@dataclass
class _NodeInfo:
    node: dict
    name: str
    labels: dict
    allocatable: dict
    pods: list = field(default_factory=list)
    requested: dict = field(default_factory=dict)
    nonzero: dict = field(default_factory=dict)


class Snapshot:
    """The scheduler cache: nodes with their bound, non-terminal pods and their requests.

    Build it once per reconcile, call `schedule()` per pending pod and `assume()` each
    binding so later pods see it. Like kube-scheduler, a large cluster (>= 100 nodes)
    stops looking once it has found enough feasible nodes, starting where the previous
    pod stopped, so placing a pod costs a bounded number of node checks.
    """

    def __init__(
        self,
        nodes: list[dict],
        pods_by_node: dict[str, list[dict]],
        namespace_labels: dict[str, dict] | None = None,
    ):
        self.nodes = [
            _NodeInfo(n, _meta(n).get("name", ""), _labels(n), _allocatable(n)) for n in nodes
        ]
        self.by_name = {info.name: info for info in self.nodes}
        self.namespace_labels = namespace_labels or {}
        self.next_start = 0
        # Indexes so a pod is not compared with every other pod in the cluster.
        self.owner_counts: dict[str, Counter] = {}
        self.with_affinity: list[tuple[dict, _NodeInfo]] = []
        for name, pods in pods_by_node.items():
            info = self.by_name.get(name)
            if info is not None:
                for pod in pods:
                    if not _is_terminal(pod):
                        self._add(pod, info)

    def _add(self, pod: dict, info: _NodeInfo) -> None:
        info.pods.append(pod)
        info.requested = _add(info.requested, pod_requests(pod))
        info.nonzero = _add(info.nonzero, pod_requests(pod, nonzero=True))
        owner = _owner_uid(pod)
        if owner:
            self.owner_counts.setdefault(owner, Counter())[info.name] += 1
        affinity = _spec(pod).get("affinity") or {}
        if affinity.get("podAffinity") or affinity.get("podAntiAffinity"):
            self.with_affinity.append((pod, info))

    def assume(self, pod: dict, node_name: str) -> None:
        """Record a binding decided by `schedule()` before the next pod is placed."""
        info = self.by_name.get(node_name)
        if info is not None:
            self._add(pod, info)

    def ns_labels(self, namespace: str) -> dict:
        return self.namespace_labels.get(namespace) or {"kubernetes.io/metadata.name": namespace}

    def all_pods(self):
        for info in self.nodes:
            for pod in info.pods:
                yield pod, info

    # ------------------------------------------------------------ the cycle

    def schedule(self, pod: dict, rng_seed: str = "") -> Result:
        spec = _spec(pod)
        if spec.get("nodeName"):
            # Pods naming their node bypass the scheduler entirely.
            return Result(spec["nodeName"])
        if spec.get("schedulingGates"):
            return Result(
                None, "Scheduling is blocked due to non-empty scheduling gates", "SchedulingGated"
            )
        if not self.nodes:
            return Result(None, NO_NODES, "Unschedulable")
        cycle = _Cycle(self, pod)
        feasible, statuses = self._find_feasible(cycle)
        if feasible:
            best = self._select(cycle, feasible, rng_seed)
            return Result(best.name)
        message = _fit_error(len(self.nodes), statuses)
        preemption = self._preempt(cycle, statuses)
        if isinstance(preemption, Result):
            return Result(
                None, message, "Unschedulable", preemption.nominated_node, preemption.victims
            )
        return Result(None, f"{message} preemption: {preemption}", "Unschedulable")

    def _find_feasible(self, cycle: _Cycle):
        total = len(self.nodes)
        want = _feasible_to_find(total)
        feasible, statuses = [], {}
        processed = 0
        for i in range(total):
            info = self.nodes[(self.next_start + i) % total]
            processed += 1
            status = cycle.filter(info)
            if status is None:
                feasible.append(info)
                if len(feasible) >= want:
                    break
            else:
                statuses[info.name] = status
        self.next_start = (self.next_start + processed) % total
        return feasible, statuses

    def _select(self, cycle: _Cycle, feasible: list[_NodeInfo], rng_seed: str) -> _NodeInfo:
        if len(feasible) == 1:
            return feasible[0]
        totals = cycle.scores(feasible)

        def rank(info: _NodeInfo):
            tie = hashlib.sha256(f"{rng_seed}/{info.name}".encode()).hexdigest()
            return (-totals[info.name], tie)

        return min(feasible, key=rank)

    def _preempt(self, cycle: _Cycle, statuses: dict) -> str | Result:
        """DefaultPreemption's PostFilter: a victim set on some node, or why there is none."""
        pod = cycle.pod
        if _spec(pod).get("preemptionPolicy") == "Never":
            return "not eligible due to preemptionPolicy=Never."
        reasons: Counter = Counter()
        candidates = []
        for info in self.nodes:
            code, _ = statuses[info.name]
            if code == UNRESOLVABLE:
                reasons[REASON_NOT_HELPFUL] += 1
                continue
            victims = self._victims(cycle, info)
            if victims is None:
                reasons[REASON_NO_VICTIMS] += 1
            else:
                prios = [_priority(v) for v in victims]
                candidates.append(((max(prios), sum(prios), len(prios), info.name), info, victims))
        if candidates:
            _, info, victims = min(candidates, key=lambda c: c[0])
            return Result(None, nominated_node=info.name, victims=tuple(victims))
        return _histogram(len(self.nodes), reasons)

    def _victims(self, cycle: _Cycle, info: _NodeInfo) -> list[dict] | None:
        """Fewest lower-priority pods whose removal lets the pod fit (highest reprieved first)."""
        mine = _priority(cycle.pod)
        lower = [p for p in info.pods if _priority(p) < mine]
        if not lower:
            return None
        keep = [p for p in info.pods if _priority(p) >= mine]
        if cycle.filter(self._with_pods(info, keep)) is not None:
            return None
        victims = []
        for p in sorted(lower, key=_priority, reverse=True):
            if cycle.filter(self._with_pods(info, [*keep, p])) is None:
                keep.append(p)
            else:
                victims.append(p)
        return victims

    @staticmethod
    def _with_pods(info: _NodeInfo, pods: list[dict]) -> _NodeInfo:
        trial = _NodeInfo(info.node, info.name, info.labels, info.allocatable)
        for p in pods:
            trial.pods.append(p)
            trial.requested = _add(trial.requested, pod_requests(p))
        return trial


def schedule(
    pod: dict,
    nodes: list[dict],
    pods_by_node: dict[str, list[dict]],
    rng_seed: str = "",
) -> Result:
    """Place one pod; see `Snapshot` to place many against the same cluster state."""
    return Snapshot(nodes, pods_by_node).schedule(pod, rng_seed)


def _feasible_to_find(total: int) -> int:
    """numFeasibleNodesToFind with the adaptive percentageOfNodesToScore."""
    if total < 100:
        return total
    percentage = max(5, 50 - total // 125)
    return max(100, total * percentage // 100)


def _histogram(total: int, reasons: Counter) -> str:
    # Go's sort.Strings over "<count> <reason>": byte order, so "10 x" sorts before "2 x".
    parts = sorted(f"{count} {reason}" for reason, count in reasons.items())
    return f"0/{total} nodes are available: {', '.join(parts)}."


def _fit_error(total: int, statuses: dict) -> str:
    reasons: Counter = Counter()
    for _, node_reasons in statuses.values():
        for reason in node_reasons:
            reasons[reason] += 1
    return _histogram(total, reasons)


# ---------------------------------------------------------------- per-pod cycle


class _Cycle:
    """State for one pod's scheduling cycle (PreFilter results)."""

    def __init__(self, snap: Snapshot, pod: dict):
        self.snap = snap
        self.pod = pod
        self.key = _key(pod)
        self.requests = pod_requests(pod)
        self.nonzero = pod_requests(pod, nonzero=True)
        self.tolerations = _spec(pod).get("tolerations") or []
        self.ns_labels = snap.ns_labels(_meta(pod).get("namespace", ""))
        self.affinity = _terms(pod, "podAffinity", "required")
        self.anti = _terms(pod, "podAntiAffinity", "required")
        self._prepare_pod_affinity()
        self.spread = self._spread_constraints()

    # PreFilter of InterPodAffinity: counts per topology pair over all bound pods.
    def _prepare_pod_affinity(self) -> None:
        self.affinity_counts: Counter = Counter()
        self.anti_counts: Counter = Counter()
        self.existing_anti: Counter = Counter()
        if self.affinity or self.anti:
            for other, info in self.snap.all_pods():
                if _key(other) == self.key:
                    continue
                other_ns = self.snap.ns_labels(_meta(other).get("namespace", ""))
                if self.affinity and all(t.matches(other, other_ns) for t in self.affinity):
                    for t in self.affinity:
                        if t.topology_key in info.labels:
                            self.affinity_counts[(t.topology_key, info.labels[t.topology_key])] += 1
                for t in self.anti:
                    if t.matches(other, other_ns) and t.topology_key in info.labels:
                        self.anti_counts[(t.topology_key, info.labels[t.topology_key])] += 1
        for other, info in self.snap.with_affinity:
            if _key(other) == self.key:
                continue
            for t in _terms(other, "podAntiAffinity", "required"):
                if t.matches(self.pod, self.ns_labels) and t.topology_key in info.labels:
                    self.existing_anti[(t.topology_key, info.labels[t.topology_key])] += 1

    def filter(self, info: _NodeInfo) -> tuple[str, list[str]] | None:
        for check in FILTERS:
            status = check(self, info)
            if status is not None:
                return status
        return None

    # ------------------------------------------------------------ filters

    def node_unschedulable(self, info):
        unschedulable_taint = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        if _spec(info.node).get("unschedulable") and not any(
            tolerates(t, unschedulable_taint) for t in self.tolerations
        ):
            return UNRESOLVABLE, [REASON_UNSCHEDULABLE_NODE]
        return None

    def taint_toleration(self, info):
        taint = untolerated_taint(self.pod, info.node)
        if taint is None:
            return None
        return UNRESOLVABLE, [
            f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}"
        ]

    def node_affinity(self, info):
        return (
            None
            if matches_node_affinity(self.pod, info.node)
            else (UNRESOLVABLE, [REASON_NODE_AFFINITY])
        )

    def resources_fit(self, info):
        alloc, used = info.allocatable, info.requested
        reasons = []
        if len(info.pods) + 1 > alloc.get("pods", 110):
            reasons.append("Too many pods")
        # Fixed resources first, then extended ones in name order.
        extended = sorted(
            k for k in self.requests if k not in ("cpu", "memory", "ephemeral-storage")
        )
        for name in ("cpu", "memory", "ephemeral-storage", *extended):
            want = self.requests.get(name, 0)
            if want > 0 and want > alloc.get(name, 0) - used.get(name, 0):
                reasons.append(f"Insufficient {name}")
        return (UNSCHEDULABLE, reasons) if reasons else None

    def topology_spread(self, info):
        for c in self.spread:
            if c["whenUnsatisfiable"] != "DoNotSchedule":
                continue
            value = info.labels.get(c["topologyKey"])
            if value is None:
                return UNRESOLVABLE, [REASON_SPREAD_LABEL]
            counts = c["counts"]
            minimum = min(counts.values()) if counts else 0
            if len(counts) < c.get("minDomains", 1):
                minimum = 0
            self_match = 1 if match_label_selector(c["labelSelector"], _labels(self.pod)) else 0
            if counts.get(value, 0) + self_match - minimum > c["maxSkew"]:
                return UNSCHEDULABLE, [REASON_SPREAD]
        return None

    def inter_pod_affinity(self, info):
        labels = info.labels
        if self.affinity:
            exists = True
            for t in self.affinity:
                if t.topology_key not in labels:
                    return UNRESOLVABLE, [REASON_POD_AFFINITY]
                if self.affinity_counts[(t.topology_key, labels[t.topology_key])] <= 0:
                    exists = False
            # The first pod of a group with affinity to itself may go anywhere.
            first = not self.affinity_counts and all(
                t.matches(self.pod, self.ns_labels) for t in self.affinity
            )
            if not exists and not first:
                return UNRESOLVABLE, [REASON_POD_AFFINITY]
        for t in self.anti:
            if (
                t.topology_key in labels
                and self.anti_counts[(t.topology_key, labels[t.topology_key])] > 0
            ):
                return UNSCHEDULABLE, [REASON_POD_ANTI_AFFINITY]
        if self.existing_anti and any(self.existing_anti[pair] > 0 for pair in labels.items()):
            return UNSCHEDULABLE, [REASON_EXISTING_ANTI_AFFINITY]
        return None

    # ------------------------------------------------------------ topology spread state

    def _spread_constraints(self) -> list[dict]:
        """The pod's own constraints with domain counts; empty when it has none."""
        out = []
        ns = _meta(self.pod).get("namespace", "")
        for c in _spec(self.pod).get("topologySpreadConstraints") or []:
            key, selector = c.get("topologyKey", ""), c.get("labelSelector")
            counts: Counter = Counter()
            for info in self.snap.nodes:
                if key in info.labels and matches_node_affinity(self.pod, info.node):
                    counts[info.labels[key]] += 0
                    for p in info.pods:
                        if (
                            _meta(p).get("namespace", "") == ns
                            and not _meta(p).get("deletionTimestamp")
                            and match_label_selector(selector, _labels(p))
                        ):
                            counts[info.labels[key]] += 1
            out.append(
                {
                    "topologyKey": key,
                    "maxSkew": c.get("maxSkew", 1),
                    "minDomains": c.get("minDomains", 1),
                    "whenUnsatisfiable": c.get("whenUnsatisfiable", "DoNotSchedule"),
                    "labelSelector": selector,
                    "counts": counts,
                }
            )
        return out

    # ------------------------------------------------------------ scoring

    def scores(self, feasible: list[_NodeInfo]) -> dict[str, int]:
        totals = Counter()
        for plugin, scorer in SCORERS.items():
            for name, score in scorer(self, feasible).items():
                totals[name] += score * WEIGHTS[plugin]
        return totals

    def score_taints(self, feasible):
        tolerations = [
            t for t in self.tolerations if t.get("effect") in (None, "", "PreferNoSchedule")
        ]
        raw = {}
        for info in feasible:
            raw[info.name] = sum(
                1
                for taint in node_taints(info.node)
                if taint.get("effect") == "PreferNoSchedule"
                and not any(tolerates(t, taint) for t in tolerations)
            )
        return _normalize(raw, reverse=True)

    def score_node_affinity(self, feasible):
        preferred = (
            _node_affinity(self.pod).get("preferredDuringSchedulingIgnoredDuringExecution") or []
        )
        raw = {
            info.name: sum(
                p.get("weight", 0)
                for p in preferred
                if match_node_selector_term(p.get("preference") or {}, info.node)
            )
            for info in feasible
        }
        return _normalize(raw)

    def score_least_allocated(self, feasible):
        out = {}
        for info in feasible:
            parts = []
            for name in ("cpu", "memory"):
                cap = info.allocatable.get(name, 0)
                if cap:
                    want = info.nonzero.get(name, 0) + self.nonzero.get(name, 0)
                    parts.append(0 if want > cap else (cap - want) * MAX_SCORE // cap)
            out[info.name] = sum(parts) // len(parts) if parts else 0
        return out

    def score_balanced(self, feasible):
        out = {}
        for info in feasible:
            fractions = []
            for name in ("cpu", "memory"):
                cap = info.allocatable.get(name, 0)
                if cap:
                    used = info.requested.get(name, 0) + self.requests.get(name, 0)
                    fractions.append(min(1.0, used / cap))
            std = abs(fractions[0] - fractions[1]) / 2 if len(fractions) == 2 else 0.0
            out[info.name] = int((1 - std) * MAX_SCORE)
        return out

    def score_spread(self, feasible):
        """Default spread of one controller's replicas over hosts and zones (ScheduleAnyway)."""
        if _spec(self.pod).get("topologySpreadConstraints"):
            return self._score_own_spread(feasible)
        owner = _owner_uid(self.pod)
        per_node = self.snap.owner_counts.get(owner) if owner else None
        if not per_node:
            return {info.name: MAX_SCORE for info in feasible}
        per_zone: Counter = Counter()
        for name, count in per_node.items():
            zone = self.snap.by_name[name].labels.get(ZONE)
            if zone is not None:
                per_zone[zone] += count
        zones = {info.labels[ZONE] for info in feasible if ZONE in info.labels}
        weights = {HOSTNAME: math.log(len(feasible) + 2), ZONE: math.log(len(zones) + 2)}
        raw = {}
        for info in feasible:
            score = 0.0
            for key, max_skew in DEFAULT_SPREAD:
                if key not in info.labels and key != HOSTNAME:
                    continue
                count = per_node[info.name] if key == HOSTNAME else per_zone[info.labels[key]]
                score += count * weights[key] + (max_skew - 1)
            raw[info.name] = round(score)
        return _normalize_spread(raw)

    def _score_own_spread(self, feasible):
        weights = [math.log(len(c["counts"]) + 2) for c in self.spread]
        raw = {}
        for info in feasible:
            score = 0.0
            for c, w in zip(self.spread, weights, strict=True):
                value = info.labels.get(c["topologyKey"])
                if value is not None:
                    score += c["counts"].get(value, 0) * w + (c["maxSkew"] - 1)
            raw[info.name] = round(score)
        return _normalize_spread(raw)

    def score_pod_affinity(self, feasible):
        """Preferred pod (anti-)affinity of this pod and of bound pods, per topology pair."""
        mine = [(t, 1) for t in _terms(self.pod, "podAffinity", "preferred")]
        mine += [(t, -1) for t in _terms(self.pod, "podAntiAffinity", "preferred")]
        pairs: Counter = Counter()
        if mine:
            for other, info in self.snap.all_pods():
                other_ns = self.snap.ns_labels(_meta(other).get("namespace", ""))
                for t, sign in mine:
                    if t.topology_key in info.labels and t.matches(other, other_ns):
                        pairs[(t.topology_key, info.labels[t.topology_key])] += sign * t.weight
        for other, info in self.snap.with_affinity:
            theirs = [(t, 1) for t in _terms(other, "podAffinity", "preferred")]
            theirs += [(t, -1) for t in _terms(other, "podAntiAffinity", "preferred")]
            # A bound pod's hard affinity to this pod attracts it too (hardPodAffinityWeight 1).
            hard = _terms(other, "podAffinity", "required")
            theirs += [(dataclasses.replace(t, weight=1), 1) for t in hard]
            for t, sign in theirs:
                if t.topology_key in info.labels and t.matches(self.pod, self.ns_labels):
                    pairs[(t.topology_key, info.labels[t.topology_key])] += sign * t.weight
        if not pairs:
            return {}
        raw = {
            info.name: sum(pairs[p] for p in info.labels.items() if p in pairs) for info in feasible
        }
        low, high = min(raw.values()), max(raw.values())
        if high == low:
            return dict.fromkeys(raw, 0)
        return {name: int(MAX_SCORE * (s - low) / (high - low)) for name, s in raw.items()}


def _normalize(raw: dict[str, int], reverse: bool = False) -> dict[str, int]:
    """framework helper DefaultNormalizeScore."""
    top = max(raw.values(), default=0)
    if top == 0:
        return dict.fromkeys(raw, MAX_SCORE if reverse else 0)
    return {
        name: (MAX_SCORE - MAX_SCORE * s // top) if reverse else MAX_SCORE * s // top
        for name, s in raw.items()
    }


def _normalize_spread(raw: dict[str, int]) -> dict[str, int]:
    """PodTopologySpread.NormalizeScore: fewer matching pods in the domain scores higher."""
    high, low = max(raw.values(), default=0), min(raw.values(), default=0)
    if high == 0:
        return dict.fromkeys(raw, MAX_SCORE)
    return {name: MAX_SCORE * (high + low - s) // high for name, s in raw.items()}


# The default profile's Filter order; the first failing plugin gives the node's reason.
FILTERS = (
    _Cycle.node_unschedulable,
    _Cycle.taint_toleration,
    _Cycle.node_affinity,
    _Cycle.resources_fit,
    _Cycle.topology_spread,
    _Cycle.inter_pod_affinity,
)

SCORERS = {
    "TaintToleration": _Cycle.score_taints,
    "NodeAffinity": _Cycle.score_node_affinity,
    "NodeResourcesFit": _Cycle.score_least_allocated,
    "PodTopologySpread": _Cycle.score_spread,
    "InterPodAffinity": _Cycle.score_pod_affinity,
    "NodeResourcesBalancedAllocation": _Cycle.score_balanced,
}
