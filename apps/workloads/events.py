"""An autoscaler's recent decisions, read live from the cluster's events.

(Every object's page shows its stored events, kept longer than Kubernetes keeps
them: ``apps.events.mixins``. This live read is the HPA's "recent decisions" list.)
"""

from apps.kube import objects
from apps.kube.errors import KubeError

LIMIT = 500


def _read(cluster, namespace: str) -> list[dict]:
    try:
        answer = objects.list_(cluster.kube(retries=1), "v1", "Event", namespace, limit=LIMIT)
    except KubeError:
        return []
    return answer.get("items") or []


def _rows(items: list[dict], wanted) -> list[dict]:
    rows = []
    for event in items:
        involved = event.get("involvedObject") or {}
        if not wanted(involved.get("kind", ""), involved.get("name", "")):
            continue
        rows.append(
            {
                "time": event.get("lastTimestamp")
                or event.get("eventTime")
                or (event.get("metadata") or {}).get("creationTimestamp", ""),
                "type": event.get("type", ""),
                "reason": event.get("reason", ""),
                "object": f"{involved.get('kind', '')}/{involved.get('name', '')}",
                "message": event.get("message", ""),
                "count": event.get("count") or 1,
            }
        )
    return sorted(rows, key=lambda row: row["time"] or "")


def of_object(obj, kind: str) -> list[dict]:
    """The events of one object of ``kind`` (e.g. an HPA's scaling decisions)."""
    return _rows(
        _read(obj.cluster, obj.namespace_name),
        lambda involved_kind, name: involved_kind == kind and name == obj.name,
    )
