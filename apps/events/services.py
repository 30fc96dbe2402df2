"""Events: what a user may read of them, and their pruning by age."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.kube import changes

from .models import Event

SHOWN = 50  # events an object's page shows, newest first (the events page has the rest)


def visible(user):
    """The events the user may see: those of their namespaces (cloud admins: all)."""
    return Event.objects.restrict(user, "view")


def recent_warnings(user, cluster, limit: int = 20):
    rows = visible(user).filter(cluster=cluster, type=Event.Type.WARNING)
    return rows.for_list().select_related("cluster")[:limit]


def prune(now=None) -> int:
    """Remove the events last seen more than EVENTS_RETENTION_DAYS ago (one DELETE)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENTS_RETENTION_DAYS)
    old = Q(last_seen__lt=cutoff) | Q(last_seen__isnull=True, synced__lt=cutoff)
    deleted = Event.objects.filter(old).delete()[1].get(Event._meta.label, 0)
    if deleted:
        changes.bump(Event)
    return deleted


def kind_of(obj) -> str:
    """The Kubernetes kind of a mirrored row ("" for what is not a Kubernetes object)."""
    from apps.kube.mirror import registry
    from apps.kube.models import KubeObject

    if not isinstance(obj, KubeObject) or isinstance(obj, Event):
        return ""
    kind = getattr(obj, "kind", "")  # a model holding several kinds (workloads) says which
    if isinstance(kind, str) and kind:
        return kind
    return next((m.kind for m in registry if m.model is type(obj) and not m.fixed), "")


def involving(obj) -> Q:
    """The events about this object (of its cluster, its namespace, its kind and name)."""
    kind = kind_of(obj)
    if not kind:
        return Q(pk__in=[])
    return Q(
        namespace_name=obj.namespace_name,
        involved_namespace=obj.namespace_name,
        involved_kind=kind,
        involved_name=obj.name,
    )


def of_object(obj, also: Q | None = None, limit: int = SHOWN) -> list[Event]:
    """The stored events of an object (and, with ``also``, of what it made), newest first,
    at most ``limit``, in one query: kept after Kubernetes dropped them.

    Whoever may see the object may see its events (the page checked that): for a
    namespaced object they are in its namespace; a cluster-scoped one's (a node's) are
    wherever Kubernetes put them.
    """
    about = involving(obj) | (also or Q())
    if obj.namespace_name:
        scope = Event.objects.filter(cluster_id=obj.cluster_id, namespace_name=obj.namespace_name)
    else:
        scope = Event.objects.filter(cluster_id=obj.cluster_id, involved_namespace="")
        about = Q(involved_kind=kind_of(obj), involved_name=obj.name)
    return list(scope.filter(about).for_list().order_by("-last_seen", "-id")[:limit])


def list_url(obj) -> str:
    """The events page filtered to this object (what its page shows, and older rows)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    query = {"cluster": obj.cluster_id, "kind": kind_of(obj), "object": obj.name}
    namespace = obj.pk if kind_of(obj) == "Namespace" else getattr(obj, "namespace_id", None)
    if namespace and obj.namespace_name:
        query["namespace"] = namespace
    return f"{reverse('portal:event_list')}?{urlencode(query)}"
