"""ConfigMaps and Secrets mirrored from Kubernetes.

A ConfigMap's values are not secret: the row keeps them for lists and the key/value
editor. A Secret's values never reach the database: the row keeps its name, type,
key names and a manifest from which ``data`` and ``stringData`` were removed;
revealing a value reads it live from Kubernetes.
"""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core import authz
from apps.core.authz import InNamespace, RestrictedQuerySet


class NamespacedObject(models.Model):
    """What ConfigMaps and Secrets share: where they live and their mirrored summary."""

    cluster = models.ForeignKey(
        "clusters.Cluster", on_delete=models.CASCADE, related_name="+", verbose_name=_("cluster")
    )
    # Set by the portal on create and by sync (from namespace_name) for native objects.
    namespace = models.ForeignKey(
        "namespaces.Namespace",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("namespace"),
    )
    namespace_name = models.CharField(_("namespace"), max_length=63)
    name = models.CharField(_("name"), max_length=253)
    keys = models.JSONField(_("keys"), default=list, blank=True)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    manifest = models.JSONField(_("manifest"), default=dict, blank=True)
    resource_version = models.CharField(max_length=32, blank=True)
    created = models.DateTimeField(_("created in Kubernetes"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["cluster__name", "namespace_name", "name"]

    def __str__(self):
        return self.name


class ConfigMap(NamespacedObject):
    data = models.JSONField(_("data"), default=dict, blank=True)
    binary_keys = models.JSONField(_("binary keys"), default=list, blank=True)

    class Meta(NamespacedObject.Meta):
        verbose_name = _("ConfigMap")
        verbose_name_plural = _("ConfigMaps")
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace_name", "name"], name="configs_configmap_unique"
            )
        ]

    def get_absolute_url(self):
        return reverse("portal:configmap", args=[self.pk])


class Secret(NamespacedObject):
    """A Secret's summary; its values stay in Kubernetes."""

    class Type(models.TextChoices):
        OPAQUE = "Opaque", _("Opaque (key/value)")
        DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson", _("Registry credentials")
        TLS = "kubernetes.io/tls", _("TLS certificate")

    type = models.CharField(_("type"), max_length=100, default=Type.OPAQUE)

    class Meta(NamespacedObject.Meta):
        verbose_name = _("Secret")
        verbose_name_plural = _("Secrets")
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace_name", "name"], name="configs_secret_unique"
            )
        ]

    def get_absolute_url(self):
        return reverse("portal:secret", args=[self.pk])

    @property
    def type_label(self) -> str:
        try:
            return self.Type(self.type).label
        except ValueError:
            return self.type


ACTIONS = {
    "view": InNamespace(),
    "change": InNamespace(),
    "delete": InNamespace(),
}
authz.register(ConfigMap, namespace="namespace", actions=ACTIONS)
authz.register(Secret, namespace="namespace", actions={**ACTIONS, "reveal": InNamespace()})
