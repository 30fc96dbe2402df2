"""Namespaces, and the portal's quota of each, mirrored from every cluster.

The project a namespace belongs to is the portal's to say: mirroring never changes it.
"""

from dataclasses import dataclass

from apps.kube import changes
from apps.kube.mirror import Changes, Mirror, register, registry
from apps.kube.namespaces import QUOTA_NAME

from .models import Namespace


def namespace_summary(obj: dict) -> dict:
    return {"phase": (obj.get("status") or {}).get("phase") or ""}


def _link_contents(cluster, result, names) -> None:
    """Objects mirrored before their namespace now point at its row."""
    if result.created:
        for mirror in registry:
            if mirror.namespaced and mirror.model is not Namespace:
                mirror.link_namespaces(cluster, names)


def quota_values(obj: dict) -> dict:
    return {
        "quota_hard": dict((obj.get("spec") or {}).get("hard") or {}),
        "quota_used": dict((obj.get("status") or {}).get("used") or {}),
    }


@dataclass(frozen=True, eq=False)
class QuotaMirror(Mirror):
    """The portal's ResourceQuota of each namespace, kept on the Namespace row."""

    def apply(self, cluster, upserts=(), deletes=()) -> Changes:
        wanted = {self.key(obj)[0]: quota_values(obj) for obj in upserts}
        for obj in deletes:
            wanted.setdefault(self.key(obj)[0], {"quota_hard": {}, "quota_used": {}})
        rows = []
        for row in Namespace.objects.filter(cluster=cluster, name__in=wanted).only(
            "pk", "name", "quota_hard", "quota_used"
        ):
            values = wanted[row.name]
            if (row.quota_hard, row.quota_used) != (values["quota_hard"], values["quota_used"]):
                row.quota_hard, row.quota_used = values["quota_hard"], values["quota_used"]
                rows.append(row)
        Namespace.objects.bulk_update(rows, ["quota_hard", "quota_used"])
        if rows:
            changes.bump(Namespace)
        return Changes(updated=len(rows))

    def count(self, cluster) -> int:
        return Namespace.objects.filter(cluster=cluster).exclude(quota_hard={}).count()

    def reconcile(self, cluster, listed, version, started) -> Changes:
        keys = {self.key(obj) for obj in listed}
        return self.apply(cluster, listed) + self.remove_unlisted(cluster, keys, version, started)

    def remove_unlisted(self, cluster, listed_keys, version, started) -> Changes:
        quoted = {namespace for namespace, _name in listed_keys}
        gone = [
            {"metadata": {"namespace": name, "name": QUOTA_NAME}}
            for name in Namespace.objects.filter(cluster=cluster)
            .exclude(quota_hard={})
            .exclude(name__in=quoted)
            .values_list("name", flat=True)
        ]
        return self.apply(cluster, deletes=gone)


NAMESPACES = register(
    Mirror(Namespace, "v1", "Namespace", summary=namespace_summary, after=_link_contents, order=50)
)
QUOTAS = register(
    QuotaMirror(
        Namespace, "v1", "ResourceQuota", field_selector=f"metadata.name={QUOTA_NAME}", order=60
    )
)
