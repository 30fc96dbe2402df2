from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from apps.core import authz
from apps.core.authz import InNamespace, NsPerm, Perm
from apps.kube.models import KubeObject

# Namespaces Kubernetes itself uses; never handed to a tenant project.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


class Namespace(KubeObject):
    """A namespace of a cluster; ``project`` is empty until it is assigned to one."""

    cluster = models.ForeignKey(
        "clusters.Cluster",
        on_delete=models.CASCADE,
        related_name="namespaces",
        db_index=False,  # the unique index starts with it
        verbose_name=_("cluster"),
    )
    # A namespace is not in a namespace.
    namespace = None
    namespace_name = None
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
    # From the namespace's ResourceQuota (kept by sync): Kubernetes' own keys.
    quota_hard = models.JSONField(_("quota"), default=dict, blank=True)
    quota_used = models.JSONField(_("quota used"), default=dict, blank=True)

    class Meta(KubeObject.Meta):
        ordering = ["cluster_id", "name"]
        verbose_name = _("namespace")
        verbose_name_plural = _("namespaces")
        permissions = [(NsPerm.WORK, _("Can work in the namespace"))]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="namespaces_namespace_unique")
        ]

    def get_absolute_url(self):
        return reverse("portal:namespace", args=[self.pk])

    @property
    def is_system(self) -> bool:
        return self.name in SYSTEM_NAMESPACES

    @property
    def is_terminating(self) -> bool:
        return self.phase == "Terminating"


class NamespaceUserObjectPermission(UserObjectPermissionBase):
    """django-guardian grants on namespaces (members the namespace is opened to)."""

    content_object = models.ForeignKey(Namespace, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("namespace permission")
        verbose_name_plural = _("namespace permissions")


authz.register(
    Namespace,
    namespace="",
    actions={
        # Admins of the project always; members the namespace was opened to.
        "view": InNamespace(),
        "work": InNamespace(),
        "change": Perm.MANAGE_NAMESPACES,
        "manage_members": Perm.MANAGE_NAMESPACES,
        "delete": Perm.MANAGE_NAMESPACES,
    },
    project="project",
)
