"""The disruption controller: keeps PodDisruptionBudget status current.

expectedPods is the number of pods the budget selects (kube-controller-manager asks the
pods' controllers for their scale; kubesim counts the selected pods, which is the same
for a settled workload), currentHealthy the Ready ones, desiredHealthy follows
minAvailable or maxUnavailable (percentages round up), and disruptionsAllowed is what
the eviction subresource consumes. Evicted pods stay in disruptedPods until they are gone.
"""

from __future__ import annotations

import math

from kubesim.runtime.controllers.base import Context, Controller, is_pod_ready, set_condition
from kubesim.runtime.scheduler import match_label_selector
from kubesim.storage import errors
from kubesim.storage.store import clone

PDB_KEY = ("policy", "poddisruptionbudgets")
POD_KEY = ("", "pods")


def _value(value, total: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def budget_status(pdb: dict, pods: list[dict], stamp: str) -> dict:
    spec = pdb.get("spec") or {}
    selector = spec.get("selector")
    old = pdb.get("status") or {}
    selected = [
        p
        for p in pods
        if match_label_selector(selector, p["metadata"].get("labels") or {})
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]
    names = {p["metadata"]["name"] for p in selected}
    disrupted = {k: v for k, v in (old.get("disruptedPods") or {}).items() if k in names}
    live = [p for p in selected if not p["metadata"].get("deletionTimestamp")]
    expected = len(selected)
    healthy = sum(1 for p in live if is_pod_ready(p) and p["metadata"]["name"] not in disrupted)
    if spec.get("minAvailable") is not None:
        desired = _value(spec["minAvailable"], expected)
    elif spec.get("maxUnavailable") is not None:
        desired = max(0, expected - _value(spec["maxUnavailable"], expected))
    else:
        desired = expected
    allowed = max(0, healthy - desired)
    status = {
        "observedGeneration": pdb["metadata"].get("generation", 1),
        "disruptionsAllowed": allowed,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "conditions": clone(old.get("conditions") or []),
    }
    if disrupted:
        status["disruptedPods"] = disrupted
    if allowed > 0:
        set_condition(status, "DisruptionAllowed", "True", "SufficientPods", "", stamp)
    else:
        set_condition(status, "DisruptionAllowed", "False", "InsufficientPods", "", stamp)
    for cond in status["conditions"]:
        cond.setdefault("message", "")
        cond["observedGeneration"] = status["observedGeneration"]
    return status


class DisruptionController(Controller):
    name = "disruption"
    component = "controllermanager"
    watches = ("PodDisruptionBudget", "Pod")
    wake_on_own_writes = False

    def reconcile(self, ctx: Context) -> None:
        store = ctx.cluster.store
        if ctx.resync:
            namespaces = set(store.namespaces_with(PDB_KEY))
        else:
            namespaces = {e.namespace for e in ctx.changes}
        for ns in namespaces:
            budgets = store.list(PDB_KEY, ns)
            if not budgets:
                continue
            pods = store.list(POD_KEY, ns)
            for pdb in budgets:
                status = budget_status(pdb, pods, ctx.now())
                if status == pdb.get("status"):
                    continue
                try:
                    ctx.cluster.update_status(
                        {**pdb, "status": status}, manager="kube-controller-manager"
                    )
                except errors.ApiError as exc:
                    if exc.code not in (404, 409):
                        raise


CONTROLLERS = [DisruptionController]
