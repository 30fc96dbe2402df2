"""The cluster's clock: what time it is where the cluster's controllers decide.

A rollout's progress deadline is counted on the cluster's clock, as Kubernetes counts a
Deployment's ``progressDeadlineSeconds``: the portal's own clock may be off (and a
sandbox cluster's clock is simulated). The API server has no "what time is it" call, so
the portal asks it to create an Event in a dry run (nothing is stored) and reads the
``creationTimestamp`` the server stamped on it — with the portal's own identity, as
tenants may not create Events.

Each reading also keeps the offset between the cluster's clock and the portal's on the
cluster's row, so that lists can tell a stuck rollout without asking the cluster
(``estimated_now``); before the first reading the offset is taken as zero.
"""

import uuid
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import identity, objects
from .errors import KubeError

# The namespace every cluster has.
NAMESPACE = "default"


def now(cluster) -> datetime:
    """The cluster's time now, stamped by its API server."""
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"kcs-clock-{uuid.uuid4().hex[:12]}", "namespace": NAMESPACE},
        "involvedObject": {"apiVersion": "v1", "kind": "Namespace", "name": NAMESPACE},
        "reason": "ClockReading",
        "message": "The portal reads the cluster's clock (dry run: not stored).",
        "type": "Normal",
        "source": {"component": "kcs-portal"},
    }
    with identity.as_portal():
        answer = objects.create(cluster.kube(), event, dry_run=True)
    stamp = parse_datetime((answer.get("metadata") or {}).get("creationTimestamp") or "")
    if stamp is None:
        raise KubeError("The API server did not stamp the dry-run Event with its time.")
    offset = round((stamp - timezone.now()).total_seconds(), 1)
    if offset != cluster.clock_offset:
        type(cluster).objects.filter(pk=cluster.pk).update(clock_offset=offset)
        cluster.clock_offset = offset
    return stamp


def estimated_now(cluster) -> datetime:
    """The cluster's time by the portal's clock and the last offset read (no request)."""
    return timezone.now() + timedelta(seconds=cluster.clock_offset or 0)
