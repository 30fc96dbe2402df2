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
from apps.core.authz import InNamespace
from apps.kube.models import KubeObject


class ConfigObject(KubeObject):
    """What ConfigMaps and Secrets add to every mirrored object: their key names."""

    keys = models.JSONField(_("keys"), default=list, blank=True)

    class Meta(KubeObject.Meta):
        abstract = True


# ConfigMaps Kubernetes keeps in every namespace itself (kube-controller-manager's root CA
# publisher): it puts them back when they are changed or deleted.
SYSTEM_CONFIGMAPS = frozenset({"kube-root-ca.crt"})


class ConfigMap(ConfigObject):
    data = models.JSONField(_("data"), default=dict, blank=True)
    binary_keys = models.JSONField(_("binary keys"), default=list, blank=True)

    class Meta(ConfigObject.Meta):
        verbose_name = _("ConfigMap")
        verbose_name_plural = _("ConfigMaps")

    def get_absolute_url(self):
        return reverse("portal:configmap", args=[self.pk])

    @property
    def is_system(self) -> bool:
        """Kept by Kubernetes (the cluster's CA bundle): read-only in the portal."""
        return self.name in SYSTEM_CONFIGMAPS


class Secret(ConfigObject):
    """A Secret's summary; its values stay in Kubernetes."""

    class Type(models.TextChoices):
        OPAQUE = "Opaque", _("Opaque (key/value)")
        DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson", _("Registry credentials")
        TLS = "kubernetes.io/tls", _("TLS certificate")

    type = models.CharField(_("type"), max_length=100, default=Type.OPAQUE)

    class Meta(ConfigObject.Meta):
        verbose_name = _("Secret")
        verbose_name_plural = _("Secrets")

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
