"""Mirroring: how what Kubernetes says becomes rows, for every kind alike.

Each app declares the kinds it mirrors (``register(Mirror(...))`` in its
``sync.py``): the model and a ``summary`` of the kind's own columns. Three paths
write rows, all through ``apply``:

- a service's write-through (``store``): the API's answer to a create or update;
- the informer's watch events, in batches;
- a full list (``reconcile``): the informer's initial list and re-lists, and beat's resync.

``apply`` locks the rows it touches and never lets an older resourceVersion overwrite
a newer one, so the three can race freely; ``reconcile`` never deletes a row written
after its list was taken. The query count of a batch does not depend on its size.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.db import IntegrityError, models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import bulk, changes
from .objects import is_namespaced
from .signals import mirrored

log = logging.getLogger("kcsportal.mirror")

BATCH = 500
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _number(version: str) -> int | None:
    try:
        return int(version)
    except (TypeError, ValueError):
        return None


def is_newer(version: str, than: str) -> bool:
    """Whether resourceVersion ``version`` is later than ``than``.

    Kubernetes calls resourceVersions opaque, but every API server numbers them (etcd's
    revision) and clients compare them so; a version that is not a number is "newer"
    whenever it differs.
    """
    a, b = _number(version), _number(than)
    if a is None or b is None:
        return version != than
    return a > b


def without_managed_fields(obj: dict) -> dict:
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": metadata}


def metadata_values(obj: dict) -> dict:
    metadata = obj.get("metadata") or {}
    created = metadata.get("creationTimestamp")
    return {
        "namespace_name": metadata.get("namespace") or "",
        "name": metadata["name"],
        "uid": metadata.get("uid") or "",
        "labels": metadata.get("labels") or {},
        "annotations": metadata.get("annotations") or {},
        "resource_version": metadata.get("resourceVersion") or "",
        "created": parse_datetime(created) if isinstance(created, str) else created,
    }


@dataclass
class Changes:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def __iadd__(self, other: "Changes"):
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted
        return self

    def __add__(self, other: "Changes") -> "Changes":
        return Changes(
            self.created + other.created,
            self.updated + other.updated,
            self.deleted + other.deleted,
        )

    def __bool__(self):
        return bool(self.created or self.updated or self.deleted)


# Mirrors are compared and hashed as themselves (one per kind), not by their fields.
@dataclass(frozen=True, eq=False)
class Mirror:
    """How one Kubernetes kind is mirrored into one model.

    ``summary(obj)`` gives the kind's own columns (the shared ones come from the
    metadata). ``clean(obj)`` removes what must never be stored (a Secret's values)
    before anything is kept; ``summary`` sees the object before that. ``after(cluster,
    changes, names)`` runs after rows changed, e.g. to count nodes.
    """

    model: type[models.Model]
    api_version: str
    kind: str
    summary: Callable[[dict], dict] = lambda obj: {}
    clean: Callable[[dict], dict] = without_managed_fields
    field_selector: str = ""
    after: Callable[..., None] | None = None
    order: int = 100  # lists run in this order: namespaces before what lives in them
    fixed: dict = field(default_factory=dict)  # columns that are part of the key
    # A custom resource a cluster may not serve (its CRD not installed): not being
    # served is an empty list, not a failure.
    optional: bool = False
    # Rows outlive their objects: neither a watch's deletion nor a list without the
    # object removes them (Events, which Kubernetes drops after an hour and the portal
    # keeps longer, pruning them by age itself).
    keep_missing: bool = False

    @property
    def label(self) -> str:
        return self.kind

    @property
    def selector(self) -> dict:
        """The list and watch parameters that choose this mirror's objects."""
        return {"field_selector": self.field_selector} if self.field_selector else {}

    @property
    def namespaced(self) -> bool:
        return is_namespaced(self.api_version, self.kind)

    def key(self, obj: dict) -> tuple[str, str]:
        metadata = obj.get("metadata") or {}
        return metadata.get("namespace") or "", metadata.get("name") or ""

    def values(self, obj: dict) -> dict:
        kept = self.clean(obj)
        values = {**metadata_values(kept), "manifest": kept, **self.summary(obj)}
        if not self._scoped:
            del values["namespace_name"]
        return values

    def rows(self, cluster):
        return self.model._default_manager.filter(cluster=cluster, **self.fixed)

    def unserved(self, error) -> bool:
        """Whether a list failed only because the cluster does not serve this kind."""
        return self.optional and getattr(error, "not_found", False)

    def count(self, cluster) -> int:
        """How many objects of this kind the rows hold (what a list should count too)."""
        return self.rows(cluster).count()

    def agrees(self, listed: int, cluster) -> bool:
        """Whether a count Kubernetes answered matches the rows (resync's check). Rows
        kept past their objects are more than a list counts, never fewer."""
        kept = self.count(cluster)
        return listed <= kept if self.keep_missing else listed == kept

    # --- writing --------------------------------------------------------------------

    def apply(self, cluster, upserts: Iterable[dict] = (), deletes: Iterable[dict] = ()) -> Changes:
        """Write these objects (the latest state of each) and remove the deleted ones.

        A row is only overwritten by a newer resourceVersion, and only removed by the
        deletion of the object it holds (same uid), never by a stale event.
        """
        upserts = {self.key(obj): obj for obj in upserts}
        deletes = {
            self.key(obj): obj
            for obj in deletes
            if self.key(obj) not in upserts and not self.keep_missing
        }
        if not upserts and not deletes:
            return Changes()
        for attempt in range(3):
            try:
                result = self._apply(cluster, upserts, deletes)
                break
            except IntegrityError:
                # Someone inserted one of these rows after we looked: look again.
                if attempt == 2:
                    raise
        if result:
            names = {key[1] for key in upserts}
            self._changed(cluster, result, names, {key[0] for key in (*upserts, *deletes)})
        return result

    def _changed(self, cluster, result: Changes, names: set, namespaces: set) -> None:
        changes.bump(self.model)
        if self.after is not None:
            self.after(cluster, result, names)
        mirrored.send(self.model, cluster=cluster, namespaces=namespaces - {""})

    def _apply(self, cluster, upserts: dict, deletes: dict) -> Changes:
        now = timezone.now()
        names = {name for _ns, name in (*upserts, *deletes)}
        manager = self.model._default_manager
        # Worked out before the rows are locked: the lock is held for the writes only.
        prepared = {key: self.values(obj) for key, obj in upserts.items()}
        with transaction.atomic():
            current = {
                self._row_key(row): row
                for row in self.rows(cluster)
                .select_for_update()
                .filter(name__in=names)
                .values(*self._identity)
            }
            to_create, to_update = [], []
            for key, values in prepared.items():
                row = current.get(key)
                if row is None:
                    new = {**self._defaults, **self.fixed, **values}
                    to_create.append({**new, "cluster_id": cluster.pk, "synced": now})
                elif row["synced"] is None or is_newer(
                    values["resource_version"], row["resource_version"]
                ):
                    update = {"pk": row["pk"], **values, "synced": now}
                    if self._scoped:
                        update["namespace_id"] = row["namespace_id"]
                    to_update.append(update)
            gone = [
                row["pk"]
                for key, obj in deletes.items()
                if (row := current.get(key)) is not None
                and row["uid"] in ("", (obj.get("metadata") or {}).get("uid"))
                and not is_newer(row["resource_version"], obj["metadata"].get("resourceVersion"))
            ]
            self._link(cluster, [*to_create, *(r for r in to_update if not r.get("namespace_id"))])
            if to_create:
                with transaction.atomic():  # a savepoint: an IntegrityError leaves nothing
                    bulk.insert(self.model, to_create)
            bulk.update(self.model, to_update)
            if gone:
                manager.filter(pk__in=gone).delete()
        return Changes(len(to_create), len(to_update), len(gone))

    @cached_property
    def _defaults(self) -> dict:
        """Every column of a new row that mirroring does not set: the model's defaults."""
        return {
            field.attname: field.get_default()
            for field in self.model._meta.concrete_fields
            if not field.primary_key
        }

    @property
    def _scoped(self) -> bool:
        """Whether the model has the namespace columns (all but Namespace itself)."""
        return any(f.name == "namespace_name" for f in self.model._meta.fields)

    @property
    def _identity(self) -> list[str]:
        fields = ["pk", "name", "uid", "resource_version", "synced"]
        return [*fields, "namespace_name", "namespace_id"] if self._scoped else fields

    def _row_key(self, row: dict) -> tuple[str, str]:
        return (row["namespace_name"] or "") if self._scoped else "", row["name"]

    def _link(self, cluster, rows: list[dict]) -> None:
        """Rows of a namespaced kind point at their Namespace row (one query)."""
        if not rows or not self.namespaced:
            return
        from apps.namespaces.models import Namespace

        ids = dict(
            Namespace.objects.filter(
                cluster=cluster, name__in={row["namespace_name"] for row in rows}
            ).values_list("name", "pk")
        )
        for row in rows:
            row["namespace_id"] = ids.get(row["namespace_name"])

    def link_namespaces(self, cluster, names: Iterable[str]) -> None:
        """Rows mirrored before their Namespace row existed get it now (one UPDATE)."""
        from apps.namespaces.models import Namespace

        namespaces = Namespace.objects.filter(cluster=cluster, name=OuterRef("namespace_name"))
        self.rows(cluster).filter(namespace__isnull=True, namespace_name__in=set(names)).update(
            namespace=Subquery(namespaces.values("pk")[:1])
        )

    def reconcile(self, cluster, listed: list[dict], version: str, started: datetime) -> Changes:
        """Bring the rows in line with a full list taken at resourceVersion ``version``.

        What is unchanged costs one query for all rows; rows missing from the list are
        removed unless they were written after the list began (a newer resourceVersion).
        """
        current = self._versions(cluster)
        stale = [
            obj
            for obj in listed
            if (row := current.get(self.key(obj))) is None
            or row[2] is None
            or is_newer(obj["metadata"]["resourceVersion"], row[1])
        ]
        result = Changes()
        for start in range(0, len(stale), BATCH):
            result += self.apply(cluster, stale[start : start + BATCH])
        listed_keys = {self.key(obj) for obj in listed}
        return result + self._remove_missing(cluster, current, listed_keys, version, started)

    def remove_unlisted(self, cluster, listed_keys: set, version: str, started) -> Changes:
        """After a list read page by page: remove the rows of objects it did not have."""
        current = self._versions(cluster)
        return self._remove_missing(cluster, current, listed_keys, version, started)

    def _versions(self, cluster) -> dict:
        """Every row's key → (pk, resourceVersion, synced), in one query."""
        columns = ["pk", "name", "resource_version", "synced"]
        if self._scoped:
            columns.append("namespace_name")
        return {
            (row.get("namespace_name") or "", row["name"]): (
                row["pk"],
                row["resource_version"],
                row["synced"],
            )
            for row in self.rows(cluster).values(*columns)
        }

    def _remove_missing(self, cluster, current, listed_keys, version, started) -> Changes:
        if self.keep_missing:
            return Changes()
        missing = [
            pk
            for key, (pk, rv, synced) in current.items()
            if key not in listed_keys and not self._written_after(rv, synced, version, started)
        ]
        return self._remove(cluster, missing, version, started) if missing else Changes()

    @staticmethod
    def _written_after(rv: str, synced, version: str, started: datetime) -> bool:
        if _number(rv) is not None and _number(version) is not None:
            return _number(rv) > _number(version)
        return synced is not None and synced >= started

    def _remove(self, cluster, pks: list, version: str, started: datetime) -> Changes:
        deleted, namespaces = 0, set()
        columns = ["pk", "resource_version", "synced"]
        if self._scoped:
            columns.append("namespace_name")
        for start in range(0, len(pks), BATCH):
            with transaction.atomic():
                rows = (
                    self.model._default_manager.select_for_update()
                    .filter(pk__in=pks[start : start + BATCH])
                    .values(*columns)
                )
                gone = [
                    row
                    for row in rows
                    if not self._written_after(
                        row["resource_version"], row["synced"], version, started
                    )
                ]
                namespaces.update(row.get("namespace_name") or "" for row in gone)
                deleted += (
                    self.model._default_manager.filter(pk__in=[row["pk"] for row in gone])
                    .delete()[1]
                    .get(self.model._meta.label, 0)
                )
        result = Changes(deleted=deleted)
        if deleted:
            self._changed(cluster, result, set(), namespaces)
        return result

    # --- the write-through of services -------------------------------------------------

    def store(self, cluster, obj: dict, **owned):
        """Mirror one answer of the API and return its row; ``owned`` are portal fields
        (a namespace's project, ...) set on the row as well."""
        self.apply(cluster, [obj])
        namespace, name = self.key(obj)
        where = {"namespace_name": namespace} if self._scoped else {}
        row = self.rows(cluster).get(name=name, **where)
        if owned:
            for field_name, value in owned.items():
                setattr(row, field_name, value)
            row.save(update_fields=[*owned])
        return row

    def forget(self, row) -> None:
        """The object is gone from Kubernetes: so is its row."""
        type(row)._default_manager.filter(pk=row.pk).delete()
        namespace = getattr(row, "namespace_name", "") if self._scoped else ""
        self._changed(row.cluster, Changes(deleted=1), set(), {namespace})


# --- the registry ------------------------------------------------------------------


registry: list[Mirror] = []


def register(mirror: Mirror) -> Mirror:
    registry[:] = sorted([*registry, mirror], key=lambda m: m.order)
    return mirror


def mirror_for(model, **fixed) -> Mirror:
    for mirror in registry:
        if mirror.model is model and all(mirror.fixed.get(k) == v for k, v in fixed.items()):
            return mirror
    raise LookupError(f"{model._meta.label} is not mirrored")
