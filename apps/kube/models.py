"""The one shape of a Kubernetes object mirrored into the database.

Every kind the portal shows (nodes, namespaces, ConfigMaps, claims, pods, ...) is a
concrete subclass of ``KubeObject``: the object's identity and metadata, its last
manifest, and the kind's own summary columns, which lists filter and sort on.
Kubernetes is the source of truth: rows are written from what the API answered (a
write through the portal, or the informer's list and watch; see ``mirror.py``) and
never edited by hand. Fields the portal owns (a namespace's project, who created
what) live on the subclasses and are never touched by mirroring.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.authz import RestrictedQuerySet


class KubeObjectQuerySet(RestrictedQuerySet):
    def for_list(self):
        """Rows for a list: without the manifest, which only detail pages read."""
        return self.defer("manifest")


class KubeObject(models.Model):
    # No index of its own: the unique index below starts with it (one index less to write).
    cluster = models.ForeignKey(
        "clusters.Cluster",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("cluster"),
    )
    # Namespaced kinds: the Namespace row, linked as soon as it is mirrored (null before,
    # and always for cluster-scoped kinds, whose namespace_name is "").
    namespace = models.ForeignKey(
        "namespaces.Namespace",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("namespace"),
    )
    namespace_name = models.CharField(_("namespace"), max_length=63, blank=True, default="")
    name = models.CharField(_("name"), max_length=253)
    uid = models.CharField(_("UID"), max_length=36, blank=True)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    annotations = models.JSONField(_("annotations"), default=dict, blank=True)
    resource_version = models.CharField(_("resource version"), max_length=32, blank=True)
    created = models.DateTimeField(_("created in Kubernetes"), null=True, blank=True)
    # The object as Kubernetes last answered, without managedFields (and, for a Secret,
    # without its values).
    manifest = models.JSONField(_("manifest"), default=dict, blank=True)
    # When the row was last written from Kubernetes; null for rows never mirrored by the
    # current code (the next list refreshes them whatever their resourceVersion).
    synced = models.DateTimeField(_("synced"), null=True, blank=True)

    objects = KubeObjectQuerySet.as_manager()

    class Meta:
        abstract = True
        # The unique index below serves this ordering: lists never sort through a join.
        # ("cluster_id", not "cluster", which would sort by the cluster's own ordering.)
        ordering = ["cluster_id", "namespace_name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace_name", "name"], name="%(app_label)s_%(class)s_unique"
            )
        ]

    def __str__(self):
        return self.name
