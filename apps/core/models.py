import functools
import hashlib
import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import authz
from .authz import Perm, RestrictedQuerySet


class Operation(models.Model):
    """A long-running action (cluster create, drain, ...) and its progress.

    A service creates it and queues a Celery task; the task reports progress
    here; the portal and API read it while it runs and keep it afterwards.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
    UNFINISHED = (Status.PENDING, Status.RUNNING)
    MAX_LOG_LINES = 500

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    target_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    target_name = models.CharField(_("target"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="operations",
        verbose_name=_("actor"),
    )
    project = models.ForeignKey(
        "tenancy.Project",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="operations",
        verbose_name=_("project"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    step = models.CharField(_("step"), max_length=255, blank=True)
    log = models.JSONField(_("log"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Operations sharing a lock (e.g. "cluster:7") never run at the same time:
    # the database refuses a second unfinished one (see Meta.constraints).
    lock = models.CharField(max_length=100, blank=True, db_index=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)
    # Surviving a dead worker (see operations.reap): the worker running the operation
    # touches ``heartbeat`` while it runs; ``task_id`` is the Celery message of the
    # current attempt (an older message delivered late does nothing), ``task_name`` and
    # ``task_args`` what re-queues it, ``steps`` the steps completed so far (a resumed
    # attempt skips them), ``resumes`` how often it was resumed after its worker stopped.
    heartbeat = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    task_name = models.CharField(max_length=200, blank=True)
    task_args = models.JSONField(default=list, blank=True)
    steps = models.JSONField(default=list, blank=True)
    resumes = models.PositiveSmallIntegerField(_("resumed"), default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="core_operation_progress_lte_100"
            ),
            models.UniqueConstraint(
                fields=["lock"],
                condition=Q(status__in=["pending", "running"]) & ~Q(lock=""),
                name="core_operation_one_unfinished_per_lock",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.target_name}".strip()

    def get_absolute_url(self):
        return reverse("portal:operation", args=[self.pk])

    # What each kind is called, in the user's language; filled in as the operation tasks
    # are declared (operations.operation_task).
    KIND_LABELS: dict = {}

    def get_kind_display(self):
        return str(self.KIND_LABELS.get(self.kind, self.kind))

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration(self):
        if not self.started:
            return None
        return (self.finished or timezone.now()) - self.started


@functools.cache
def _page_of(target_type: str) -> str:
    """The portal's URL name of an "app_label.model" object page ("" if it has none)."""
    model_name = target_type.rpartition(".")[2]
    name = f"portal:{model_name}"
    try:
        reverse(name, args=[1])
    except NoReverseMatch:
        return ""
    return name


def object_url(target_type: str, target_id: str) -> str:
    if not target_type or not str(target_id).isdigit():
        return ""
    name = _page_of(target_type)
    return reverse(name, args=[int(target_id)]) if name else ""


class AuditEventQuerySet(RestrictedQuerySet):
    """Append-only: bulk updates and deletes are refused, as single ones are."""

    def update(self, **kwargs):
        raise TypeError("Audit events cannot be changed.")

    def delete(self):
        raise TypeError("Audit events cannot be deleted.")

    def fail(self, reason: str) -> int:
        """The one change an event may see: the operation it started failed afterwards."""
        return super().update(result=AuditEvent.Result.FAILURE, reason=reason)


class AuditEvent(models.Model):
    """Who did what, to what, where, with which result. Written by services only."""

    class Result(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")

    created = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # Names are copied so that the record survives the deletion of what it names.
    actor_name = models.CharField(_("actor"), max_length=150, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_name = models.CharField(_("target"), max_length=255, blank=True)
    project = models.ForeignKey(
        "tenancy.Project",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("project"),
    )
    project_name = models.CharField(_("project"), max_length=100, blank=True)
    cluster = models.CharField(_("cluster"), max_length=100, blank=True, db_index=True)
    namespace = models.CharField(_("namespace"), max_length=100, blank=True)
    result = models.CharField(
        _("result"), max_length=16, choices=Result.choices, default=Result.SUCCESS
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # Why it failed: the refusal (permission, validation, quota, conflict) or the error.
    reason = models.TextField(_("reason"), blank=True)
    # The long operation the action started, if any: its failure fails the event.
    operation = models.ForeignKey(
        Operation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("operation"),
    )
    source_ip = models.GenericIPAddressField(_("source IP"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["result", "-created"], name="core_audit_result"),
            # One object's history (a workload's revisions name who made each one).
            models.Index(fields=["target_type", "target_id", "-created"], name="core_audit_target"),
        ]

    def __str__(self):
        return f"{self.actor_name} {self.action} {self.target_name}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events cannot be deleted.")

    @property
    def target_url(self) -> str:
        """The portal page of the event's object, when it has one (no query: by type + id)."""
        return object_url(self.target_type, self.target_id)

    @property
    def operation_url(self) -> str:
        return reverse("portal:operation", args=[self.operation_id]) if self.operation_id else ""


class ApiToken(models.Model):
    """A personal API token. Only a hash is stored; the key is shown once."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def generate_key(cls) -> str:
        return secrets.token_hex(20)

    @property
    def is_expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()


def _own(field):
    def extra(user, action):
        return Q(**{field: user})

    return extra


authz.register(Operation, project="project", actions={"view": Perm.VIEW}, widen=_own("actor"))
authz.register(AuditEvent, project="project", actions={"view": Perm.VIEW_AUDIT})
authz.register(ApiToken, widen=_own("user"))
