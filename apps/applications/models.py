"""Applications: an ``app.k8s.io/v1beta1`` Application and the objects it groups.

An Application selects its components by label (``app.kubernetes.io/name`` and
``app.kubernetes.io/instance`` for the portal's own) and lists the kinds it groups.
The row mirrors the Application object; its status and component count are rolled up
from the workloads it selects whenever they change (``rollup.py``).
"""

import json

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core import authz
from apps.core.authz import InNamespace, RestrictedQuerySet
from apps.core.fields import EncryptedTextField
from apps.kube.models import KubeObject

NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"


class Application(KubeObject):
    class Status(models.TextChoices):
        READY = "ready", _("Ready")
        PROGRESSING = "progressing", _("Progressing")
        DEGRADED = "degraded", _("Degraded")
        STOPPED = "stopped", _("Stopped")
        EMPTY = "empty", _("No components")

    description = models.TextField(_("description"), blank=True)
    version = models.CharField(_("version"), max_length=100, blank=True)
    selector = models.JSONField(_("selector"), default=dict, blank=True)
    component_kinds = models.JSONField(_("component kinds"), default=list, blank=True)
    # Rolled up from the workloads the selector matches.
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.EMPTY
    )
    workload_count = models.PositiveIntegerField(_("workloads"), default=0)

    class Meta(KubeObject.Meta):
        verbose_name = _("application")
        verbose_name_plural = _("applications")

    def get_absolute_url(self):
        return reverse("portal:application", args=[self.pk])

    def selects(self, labels: dict) -> bool:
        """Whether an object with these labels is one of the application's components."""
        return bool(self.selector) and all(labels.get(k) == v for k, v in self.selector.items())


authz.register(
    Application,
    namespace="namespace",
    actions={"view": InNamespace(), "change": InNamespace(), "delete": InNamespace()},
)


class Import(models.Model):
    """An import of many objects into one namespace, applied in order by an Operation.

    The checked objects wait here between the preview and the apply, and for a retry
    after a failure: ``applied`` of them are done, the rest continue from there. They
    may hold Secrets, so they are encrypted, and cleared once every object is applied.
    """

    namespace = models.ForeignKey(
        "namespaces.Namespace",
        on_delete=models.CASCADE,
        related_name="imports",
        verbose_name=_("namespace"),
    )
    application = models.CharField(_("application"), max_length=253)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    objects_json = EncryptedTextField(blank=True)
    # What the objects were, for the page after they are cleared: [[kind, name], ...].
    summary = models.JSONField(_("objects"), default=list)
    applied = models.PositiveIntegerField(_("applied"), default=0)
    operation = models.ForeignKey(
        "core.Operation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operation"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self):
        return f"{self.namespace_id}/{self.application}"

    @property
    def documents(self) -> list[dict]:
        return json.loads(self.objects_json) if self.objects_json else []

    @documents.setter
    def documents(self, value: list[dict]) -> None:
        self.objects_json = json.dumps(value) if value else ""

    @property
    def total(self) -> int:
        return len(self.summary)


authz.register(
    Import,
    namespace="namespace",
    actions={"view": InNamespace(), "change": InNamespace()},
)
