"""The ReplicationController controller, after kube-controller-manager v1.32.

In Kubernetes the replication manager is the ReplicaSet controller run over
ReplicationControllers (`pkg/controller/replication` wraps `replicaset`), so this one is
too: the same pod creation and deletion order, back-off on refused creates, SuccessfulCreate
/ SuccessfulDelete events and status (replicas, fullyLabeledReplicas, readyReplicas,
availableReplicas, observedGeneration, ReplicaFailure). Pods carry a controller
ownerReference to the ReplicationController, so deleting it (Background or Foreground)
takes its pods with it and Orphan leaves them. `kubectl scale rc` goes through the scale
subresource like a ReplicaSet's; the selector is the RC's plain label map.
"""

from __future__ import annotations

from datetime import datetime

from kubesim.runtime.controllers.base import Controller
from kubesim.runtime.controllers.common import affected
from kubesim.runtime.controllers.workloads import sync_replica_set


class ReplicationManager(Controller):
    name = "replicationcontroller"
    component = "replication-controller"
    watches = ("ReplicationController", "Pod")

    def __init__(self) -> None:
        # ReplicationController uid -> (failed creates in a row, no retry before)
        self.backoff: dict[str, tuple[int, datetime]] = {}

    def reconcile(self, ctx) -> None:
        for rc in affected(ctx, "v1", "ReplicationController", "Pod"):
            sync_replica_set(ctx, rc, self.backoff)
        live = {rc["metadata"]["uid"] for rc in ctx.cluster.list("v1", "ReplicationController")}
        for uid in set(self.backoff) - live:
            del self.backoff[uid]


CONTROLLERS = [ReplicationManager]
