"""Kubernetes events (core v1 Event), mirrored and kept longer than Kubernetes keeps them.

Kubernetes drops an Event an hour after it last happened; the portal keeps its row
(the mirror is ``keep_missing``) until it is ``EVENTS_RETENTION_DAYS`` old, when beat's
``events.prune`` removes it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core import authz
from apps.core.authz import InNamespace
from apps.kube.models import KubeObject


class Event(KubeObject):
    class Type(models.TextChoices):
        NORMAL = "Normal", _("Normal")
        WARNING = "Warning", _("Warning")

    type = models.CharField(_("type"), max_length=16, blank=True)
    reason = models.CharField(_("reason"), max_length=128, blank=True)
    message = models.TextField(_("message"), blank=True)
    involved_kind = models.CharField(_("object kind"), max_length=64, blank=True)
    involved_name = models.CharField(_("object"), max_length=253, blank=True)
    involved_namespace = models.CharField(_("object namespace"), max_length=63, blank=True)
    source = models.CharField(_("source"), max_length=253, blank=True)
    count = models.PositiveIntegerField(_("count"), default=1)
    first_seen = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-last_seen", "-id"]
        indexes = [
            # The lists' order (newest first) and pruning by age.
            models.Index(fields=["last_seen", "id"], name="events_event_recent"),
            models.Index(
                fields=["cluster", "namespace_name", "involved_kind", "involved_name"],
                name="events_event_involved",
            ),
        ]

    @property
    def object_display(self) -> str:
        return f"{self.involved_kind}/{self.involved_name}"


authz.register(Event, namespace="namespace", actions={"view": InNamespace()})
