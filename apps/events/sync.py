"""The Event mirror: rows kept when Kubernetes drops the event (pruned by age instead)."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.kube.mirror import Mirror, register

from .models import Event


def _time(value):
    return parse_datetime(value) if isinstance(value, str) and value else None


def event_summary(obj: dict) -> dict:
    involved = obj.get("involvedObject") or {}
    metadata = obj.get("metadata") or {}
    series = obj.get("series") or {}
    source = obj.get("source") or {}
    created = _time(metadata.get("creationTimestamp"))
    # (An event with no time at all is dated when first mirrored: lists sort on it.)
    first = (
        _time(obj.get("firstTimestamp")) or _time(obj.get("eventTime")) or created or timezone.now()
    )
    last = (
        _time(obj.get("lastTimestamp"))
        or _time(series.get("lastObservedTime"))
        or _time(obj.get("eventTime"))
        or first
    )
    return {
        "type": (obj.get("type") or "")[:16],
        "reason": (obj.get("reason") or "")[:128],
        "message": obj.get("message") or "",
        "involved_kind": (involved.get("kind") or "")[:64],
        "involved_name": (involved.get("name") or "")[:253],
        "involved_namespace": (involved.get("namespace") or "")[:63],
        "source": (source.get("component") or obj.get("reportingComponent") or "")[:253],
        "count": max(int(obj.get("count") or series.get("count") or 1), 1),
        "first_seen": first,
        "last_seen": last,
    }


# Last: the objects events are about are mirrored first.
EVENTS = register(Mirror(Event, "v1", "Event", summary=event_summary, order=900, keep_missing=True))
