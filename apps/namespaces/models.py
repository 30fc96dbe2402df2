from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core import authz
from apps.core.authz import Perm, RestrictedQuerySet

# Namespaces Kubernetes itself uses; never handed to a tenant project.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


class Namespace(models.Model):
    """A namespace of a cluster; ``project`` is empty until it is assigned to one."""

    cluster = models.ForeignKey(
        "clusters.Cluster",
        on_delete=models.CASCADE,
        related_name="namespaces",
        verbose_name=_("cluster"),
    )
    name = models.CharField(_("name"), max_length=63)
    project = models.ForeignKey(
        "tenancy.Project",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="namespaces",
        verbose_name=_("project"),
    )
    phase = models.CharField(_("status"), max_length=16, blank=True)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    resource_version = models.CharField(max_length=32, blank=True)
    created = models.DateTimeField(_("created in Kubernetes"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["cluster__name", "name"]
        verbose_name = _("namespace")
        verbose_name_plural = _("namespaces")
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="namespaces_namespace_unique")
        ]

    def __str__(self):
        return self.name

    @property
    def is_system(self) -> bool:
        return self.name in SYSTEM_NAMESPACES


authz.register(Namespace, project="project", actions={"view": Perm.VIEW_INFRASTRUCTURE})
