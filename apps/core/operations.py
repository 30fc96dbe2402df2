"""Long-running operations: services start them, Celery tasks report their progress.

A service calls ``start(...)``: it writes an Operation row and queues the task
once the surrounding transaction commits, so the worker never looks for a row
that is not there yet. The task is declared with ``@operation_task``; it
receives a ``Progress`` and reports steps, percentages and log lines, which
the portal polls and the API serves. Tasks must be idempotent: with
``acks_late`` a task whose worker died is delivered again.
"""

import functools
import logging

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import context
from .models import Operation

log = logging.getLogger("kcsportal.operations")

_KIND_LABELS: dict[str, str] = {}


def kind_label(kind: str) -> str:
    return str(_KIND_LABELS.get(kind, kind))


class Cancelled(Exception):
    """Raised inside a task when its operation was cancelled by a user."""


class Progress:
    """What a task uses to report on its Operation. Each call is one short write."""

    def __init__(self, operation: Operation):
        self.operation = operation

    def _save(self, **fields):
        for name, value in fields.items():
            setattr(self.operation, name, value)
        Operation.objects.filter(pk=self.operation.pk).update(**fields)

    def check_cancelled(self):
        status = Operation.objects.filter(pk=self.operation.pk).values_list("status", flat=True)
        if status.first() == Operation.Status.CANCELLED:
            raise Cancelled

    def step(self, name: str, progress: int | None = None):
        """Start a named step; ``progress`` is the overall percentage reached."""
        self.check_cancelled()
        fields = {"step": str(name)}
        if progress is not None:
            fields["progress"] = max(0, min(100, int(progress)))
        self._save(**fields)
        self.log(name)

    def log(self, line: str):
        stamp = timezone.now().strftime("%H:%M:%S")
        with transaction.atomic():
            current = Operation.objects.select_for_update().filter(pk=self.operation.pk).get().log
            current = [*current, f"{stamp} {line}"][-Operation.MAX_LOG_LINES :]
            self._save(log=current)


def register_kind(kind: str, label) -> None:
    _KIND_LABELS[kind] = label


def start(actor, kind: str, task, *, target=None, project=None, target_name="", args=(), lock=""):
    """Record an operation and queue its task after the current transaction commits.

    ``lock`` names what the operation holds (e.g. "cluster:7"): while one
    operation with that lock is unfinished, starting another is refused.
    """
    operation = Operation(
        kind=kind,
        target_name=target_name or (str(target) if target is not None else ""),
        actor=actor if actor is not None and actor.is_authenticated else None,
        project=project,
        request_id=context.request_id.get(),
        lock=lock,
    )
    if target is not None:
        operation.target = target
    try:
        with transaction.atomic():
            operation.save()
    except IntegrityError:
        running = Operation.objects.filter(lock=lock, status__in=Operation.UNFINISHED).first()
        raise ValidationError(
            _("%(operation)s is still running here; wait for it to finish.")
            % {"operation": running or _("Another operation")}
        ) from None
    headers = context.snapshot()
    transaction.on_commit(
        lambda: task.apply_async(args=(operation.pk, *args), headers={"kcs": headers})
    )
    return operation


def operation_task(kind: str, label, *, max_retries: int = 5, on_failure=None, **task_options):
    """Declare a Celery task that runs an Operation of ``kind``.

    The wrapped function is called as ``fn(progress, *args)`` and must be
    idempotent. The wrapper moves the operation through running →
    succeeded/failed/cancelled, skips operations that already finished (a
    redelivered message), and retries with backoff when the failure is
    transient (an exception whose ``transient`` is true). ``on_failure(exc,
    *args)`` runs when it finally fails, e.g. to mark the target as broken.
    """
    register_kind(kind, label)

    def decorator(fn):
        @shared_task(
            name=f"operations.{kind}",
            acks_late=True,
            bind=True,
            max_retries=max_retries,
            **task_options,
        )
        @functools.wraps(fn)
        def task(self, operation_id: int, *args):
            operation = Operation.objects.filter(pk=operation_id).first()
            if operation is None or operation.is_finished:
                return
            progress = Progress(operation)
            progress._save(status=Operation.Status.RUNNING, started=timezone.now(), error="")
            log.info(
                "operation %s %s started", kind, operation_id, extra={"operation": operation_id}
            )
            try:
                fn(progress, *args)
            except Cancelled:
                progress._save(finished=timezone.now())
                progress.log(str(_("Cancelled.")))
            except Exception as exc:
                if getattr(exc, "transient", False) and self.request.retries < self.max_retries:
                    delay = min(60, 2 ** (self.request.retries + 1))
                    progress.log(
                        str(_("Temporary failure (%(error)s); trying again in %(n)s s."))
                        % {"error": exc, "n": delay}
                    )
                    raise self.retry(exc=exc, countdown=delay) from exc
                log.exception("operation %s failed", operation_id)
                if on_failure is not None:
                    on_failure(exc, *args)
                progress._save(
                    status=Operation.Status.FAILED, error=str(exc), finished=timezone.now()
                )
                progress.log(str(_("Failed: %(error)s") % {"error": exc}))
            else:
                progress._save(
                    status=Operation.Status.SUCCEEDED,
                    progress=100,
                    step=str(_("Done")),
                    finished=timezone.now(),
                )
                log.info("operation %s %s succeeded", kind, operation_id)

        return task

    return decorator
