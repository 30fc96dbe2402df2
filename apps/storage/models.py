"""Storage mirrored from Kubernetes: StorageClasses, PersistentVolumes and their claims.

Each row is an indexed summary of one Kubernetes object plus its last manifest
(JSON) for the detail and YAML pages; Kubernetes stays the source of truth.
"""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.clusters.models import Cluster, _clusters_of_projects, in_clusters_of
from apps.core import authz
from apps.core.authz import InNamespace
from apps.kube.models import KubeObject

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class"

ACCESS_MODES = [
    ("ReadWriteOnce", _("ReadWriteOnce (one node)")),
    ("ReadOnlyMany", _("ReadOnlyMany (many nodes, read-only)")),
    ("ReadWriteMany", _("ReadWriteMany (many nodes)")),
    ("ReadWriteOncePod", _("ReadWriteOncePod (one pod)")),
]


class ReclaimPolicy(models.TextChoices):
    DELETE = "Delete", _("Delete")
    RETAIN = "Retain", _("Retain")
    RECYCLE = "Recycle", _("Recycle")


class BindingMode(models.TextChoices):
    IMMEDIATE = "Immediate", _("Immediate")
    WAIT = "WaitForFirstConsumer", _("Wait for first consumer")


class StorageClass(KubeObject):
    provisioner = models.CharField(_("provisioner"), max_length=253)
    reclaim_policy = models.CharField(_("reclaim policy"), max_length=16, blank=True)
    volume_binding_mode = models.CharField(_("volume binding mode"), max_length=32, blank=True)
    allow_expansion = models.BooleanField(_("allows expansion"), default=False)
    is_default = models.BooleanField(_("default"), default=False)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("storage class")
        verbose_name_plural = _("storage classes")

    def get_absolute_url(self):
        return reverse("portal:storageclass", args=[self.pk])


class PersistentVolume(KubeObject):
    capacity = models.CharField(_("capacity"), max_length=32, blank=True)
    access_modes = models.JSONField(_("access modes"), default=list, blank=True)
    reclaim_policy = models.CharField(_("reclaim policy"), max_length=16, blank=True)
    phase = models.CharField(_("status"), max_length=16, blank=True, db_index=True)
    claim_namespace = models.CharField(_("claim namespace"), max_length=63, blank=True)
    claim_name = models.CharField(_("claim"), max_length=253, blank=True)
    storage_class = models.CharField(_("storage class"), max_length=253, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("persistent volume")
        verbose_name_plural = _("persistent volumes")

    def get_absolute_url(self):
        return reverse("portal:persistentvolume", args=[self.pk])

    @property
    def claim(self) -> str:
        return f"{self.claim_namespace}/{self.claim_name}" if self.claim_name else ""


class PersistentVolumeClaim(KubeObject):
    requested = models.CharField(_("requested"), max_length=32, blank=True)
    capacity = models.CharField(_("capacity"), max_length=32, blank=True)
    access_modes = models.JSONField(_("access modes"), default=list, blank=True)
    storage_class = models.CharField(_("storage class"), max_length=253, blank=True)
    phase = models.CharField(_("status"), max_length=16, blank=True, db_index=True)
    volume_name = models.CharField(_("volume"), max_length=253, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("persistent volume claim")
        verbose_name_plural = _("persistent volume claims")

    def get_absolute_url(self):
        return reverse("portal:persistentvolumeclaim", args=[self.pk])

    @property
    def project(self):
        return self.namespace.project if self.namespace_id else None


def _on_visible_clusters(user) -> Q:
    """Cluster-scoped storage: seen by those who may view the cluster's infrastructure."""
    return Q(cluster__in=Cluster.objects.filter(_clusters_of_projects(user)))


# Viewing classes and volumes: admins of projects with a namespace in the cluster.
# Every other action (create, default, YAML, delete) is for cloud admins only.
authz.register(StorageClass, actions={"view": _on_visible_clusters}, scope=in_clusters_of)
authz.register(PersistentVolume, actions={"view": _on_visible_clusters}, scope=in_clusters_of)
authz.register(
    PersistentVolumeClaim,
    namespace="namespace",
    actions={"view": InNamespace(), "change": InNamespace(), "delete": InNamespace()},
)
