"""Long-running operations: services start them, Celery tasks report their progress.

A service calls ``start(...)``: it writes an Operation row and queues the task
once the surrounding transaction commits, so the worker never looks for a row
that is not there yet. The task is declared with ``@operation_task``; it
receives a ``Progress`` and reports steps, percentages and log lines, which
the portal polls and the API serves.

Operations survive their worker. While a task runs, its worker touches the
operation's ``heartbeat`` (every ``OPERATION_HEARTBEAT_SECONDS``, and with
every progress report). ``reap()`` (a beat task) finds operations whose
heartbeat stopped for ``OPERATION_HEARTBEAT_TIMEOUT`` seconds, or that no
worker took up for ``OPERATION_PENDING_TIMEOUT``, and queues them again:
tasks are idempotent and skip the steps they recorded as completed
(``progress.completed``), so the new attempt resumes where the dead one
stopped. An operation that cannot be resumed (its kind says so, or it was
resumed ``OPERATION_MAX_RESUMES`` times already) is failed with the reason,
which releases its lock. Whichever way an operation ends, its kind's
``on_finish`` re-reads the target from Kubernetes. Each attempt has its own
Celery task id: a message of an older attempt, delivered late (Redis
redelivers unacknowledged messages after its visibility timeout), does nothing.
"""

import functools
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, override
from django.utils.translation import gettext_lazy as _

from apps.kube import identity

from . import context
from .models import AuditEvent, Operation

log = logging.getLogger("kcsportal.operations")


@dataclass
class Kind:
    """What the portal knows about a kind of operation: its task and its hooks.

    The hooks are called with the task's arguments (after the operation's id):
    ``on_failure(exc, *args)`` when it fails, ``on_cancel(*args)`` when a user
    cancels it, ``on_finish(*args)`` whenever it ends (to re-read the target from
    Kubernetes). ``resumable``: a new attempt may pick it up after its worker died.
    """

    task: object
    resumable: bool = True
    on_failure: object = None
    on_cancel: object = None
    on_finish: object = None


_KINDS: dict[str, Kind] = {}


def setting(name: str) -> int:
    return int(getattr(settings, name, _DEFAULTS[name]))


_DEFAULTS = {
    "OPERATION_HEARTBEAT_SECONDS": 10,
    "OPERATION_HEARTBEAT_TIMEOUT": 60,
    "OPERATION_PENDING_TIMEOUT": 300,
    "OPERATION_MAX_RESUMES": 3,
}


class Cancelled(Exception):
    """Raised inside a task when its operation was cancelled by a user."""


class Superseded(Cancelled):
    """Raised inside a task whose operation a newer attempt has taken over (see reap)."""


class WorkerLost(Exception):
    """Why an operation failed when the worker running it stopped (given to on_failure)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Progress:
    """What a task uses to report on its Operation. Each call is one short write."""

    def __init__(self, operation: Operation):
        self.operation = operation
        self.task_id = operation.task_id

    def _save(self, only_if_status=None, **fields) -> bool:
        fields.setdefault("heartbeat", timezone.now())
        rows = Operation.objects.filter(pk=self.operation.pk)
        if only_if_status is not None:
            rows = rows.filter(status=only_if_status)
        if not rows.update(**fields):
            return False
        for name, value in fields.items():
            setattr(self.operation, name, value)
        return True

    def check_cancelled(self):
        found = (
            Operation.objects.filter(pk=self.operation.pk).values_list("status", "task_id").first()
        )
        status, task_id = found or (Operation.Status.CANCELLED, "")
        if status == Operation.Status.CANCELLED:
            raise Cancelled
        if self.task_id and task_id != self.task_id:
            raise Superseded
        self._save()  # a sign of life

    def is_completed(self, step: str) -> bool:
        """Whether an earlier attempt of this operation completed ``step``."""
        return step in self.operation.steps

    def completed(self, step: str) -> None:
        """Record that ``step`` is done, so that a resumed attempt skips it."""
        if step not in self.operation.steps:
            with transaction.atomic():
                steps = Operation.objects.select_for_update().filter(pk=self.operation.pk)
                current = steps.values_list("steps", flat=True).get()
                self._save(steps=[*current, step] if step not in current else current)

    def step(self, name, progress: int | None = None):
        """Start a named step; ``progress`` is the overall percentage reached."""
        self.check_cancelled()
        fields = {"step": msgid(name)}
        if progress is not None:
            fields["progress"] = max(0, min(100, int(progress)))
        self._save(**fields)
        self.log(name)

    def log(self, message, **params):
        """Add a log line: ``message`` (a gettext_lazy text, ``%(name)s`` for each of
        ``params``) is kept untranslated with its params, and shown in the reader's
        language (``log_lines``). A plain string is shown as it is."""
        entry = {"at": timezone.now().strftime("%H:%M:%S"), "msg": msgid(message)}
        if params:
            entry["params"] = {
                key: value if isinstance(value, int | float) else str(value)
                for key, value in params.items()
            }
        with transaction.atomic():
            current = Operation.objects.select_for_update().filter(pk=self.operation.pk).get().log
            current = [*current, entry][-Operation.MAX_LOG_LINES :]
            self._save(log=current)


def msgid(text) -> str:
    """The untranslated text of a gettext_lazy string (a plain string as it is)."""
    if isinstance(text, Promise):
        with override(None):
            return str(text)
    return str(text)


def translated(text: str) -> str:
    """A stored step or message in the active language (text not in the catalogue as it is)."""
    return gettext(text) if text else text


def log_lines(operation) -> list[str]:
    """The operation's log as text in the active language, one string per line."""
    lines = []
    for entry in operation.log:
        if isinstance(entry, str):  # written before log lines were kept untranslated
            lines.append(entry)
            continue
        text, params = translated(entry.get("msg", "")), entry.get("params")
        if params:
            try:
                text = text % params
            except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
                text = entry.get("msg", "") % params
        lines.append(f"{entry.get('at', '')} {text}".strip())
    return lines


def register_kind(kind: str, label) -> None:
    Operation.KIND_LABELS[kind] = label


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
        task_id=str(uuid.uuid4()),
        task_name=task.name,
        task_args=list(args),
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
    transaction.on_commit(lambda: _send(task, operation, headers))
    return operation


def _send(task, operation: Operation, headers: dict) -> None:
    task.apply_async(
        args=(operation.pk, *operation.task_args),
        headers={"kcs": headers},
        task_id=operation.task_id or None,
    )


def _kind(operation: Operation) -> Kind | None:
    return _KINDS.get(operation.task_name or f"operations.{operation.kind}")


def _hook(operation: Operation, name: str, *extra, args=None) -> None:
    """Call the kind's hook ``name``; a hook that fails is logged, never raised."""
    kind = _kind(operation)
    hook = getattr(kind, name, None) if kind else None
    if hook is None:
        return
    try:
        hook(*extra, *(operation.task_args if args is None else args))
    except Exception:
        log.warning(
            "operation %s: %s failed",
            operation.pk,
            name,
            exc_info=True,
            extra={"operation": operation.pk},
        )


def cancelled(operation: Operation) -> None:
    """After a user cancelled the operation: leave its target usable, re-read it."""
    _hook(operation, "on_cancel")
    _hook(operation, "on_finish")


def fail(operation: Operation, reason: str, exc: Exception | None = None, args=None) -> bool:
    """Fail an unfinished operation with ``reason`` (releasing its lock); False if it
    had finished meanwhile. The action that started it turns into a failure too."""
    updated = Operation.objects.filter(pk=operation.pk, status__in=Operation.UNFINISHED).update(
        status=Operation.Status.FAILED, error=reason, finished=timezone.now()
    )
    if updated:
        operation.status, operation.error = Operation.Status.FAILED, reason
        _hook(operation, "on_failure", exc or WorkerLost(reason), args=args)
        Progress(operation).log(_("Failed: %(error)s"), error=reason)
        AuditEvent.objects.filter(operation_id=operation.pk).fail(reason)
    _hook(operation, "on_finish", args=args)
    return bool(updated)


class _Heartbeat:
    """A thread that touches the operation's heartbeat while its task runs in a worker."""

    def __init__(self, operation: Operation):
        self.pk, self.task_id = operation.pk, operation.task_id
        self.interval = max(1, setting("OPERATION_HEARTBEAT_SECONDS"))
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._run, daemon=True, name=f"heartbeat-{operation.pk}"
        )
        self.thread.start()

    def _run(self):
        try:
            while not self.stopped.wait(self.interval):
                Operation.objects.filter(
                    pk=self.pk, status=Operation.Status.RUNNING, task_id=self.task_id
                ).update(heartbeat=timezone.now())
        except Exception:
            log.warning("operation %s: heartbeat failed", self.pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=self.interval + 5)


def _last_sign():
    return Coalesce("heartbeat", "started", "created")


def orphans(now=None):
    """Unfinished operations no worker is looking after: running without a heartbeat
    for OPERATION_HEARTBEAT_TIMEOUT, or pending for OPERATION_PENDING_TIMEOUT."""
    now = now or timezone.now()
    running = Q(
        status=Operation.Status.RUNNING,
        last_sign__lt=now - timedelta(seconds=setting("OPERATION_HEARTBEAT_TIMEOUT")),
    )
    pending = Q(
        status=Operation.Status.PENDING,
        last_sign__lt=now - timedelta(seconds=setting("OPERATION_PENDING_TIMEOUT")),
    )
    return Operation.objects.annotate(last_sign=_last_sign()).filter(running | pending)


def reap(now=None) -> dict[str, list[int]]:
    """Resume or fail the operations whose worker stopped (see the module's docstring).

    ``now`` is the time to judge heartbeats by (tests pass a later one instead of
    waiting). Returns the ids resumed and failed.
    """
    from . import audit

    now = now or timezone.now()
    done = {"resumed": [], "failed": []}
    for pk in list(orphans(now).values_list("pk", flat=True)):
        with transaction.atomic():
            operation = orphans(now).select_for_update().filter(pk=pk).first()
            if operation is None:  # finished or heard from meanwhile
                continue
            since = timezone.localtime(operation.last_sign).strftime("%H:%M:%S")
            was_pending = operation.status == Operation.Status.PENDING
            kind = _kind(operation)
            resumable = kind is not None and kind.resumable
            if resumable and operation.resumes < setting("OPERATION_MAX_RESUMES"):
                operation.resumes += 1
                operation.task_id = str(uuid.uuid4())
                operation.status = Operation.Status.PENDING
                operation.heartbeat = now
                operation.save(update_fields=["resumes", "task_id", "status", "heartbeat"])
                progress = Progress(operation)
                progress.log(
                    _("No worker took this operation up by %(at)s; queued it again.")
                    if was_pending
                    else _(
                        "The worker running this operation stopped (last heard of at "
                        "%(at)s); resuming it from its last completed step."
                    ),
                    at=since,
                )
                audit.record(
                    None,
                    "operation.resume",
                    operation,
                    project=operation.project,
                    detail={"kind": operation.kind, "attempt": operation.resumes + 1},
                    operation=operation,
                )
                headers = {"request_id": operation.request_id}
                transaction.on_commit(functools.partial(_send, kind.task, operation, headers))
                done["resumed"].append(pk)
                continue
        if was_pending:
            reason = _("No worker took this operation up (attempt %(n)s); it is not queued again.")
        elif resumable:
            reason = _(
                "The worker running this operation stopped (attempt %(n)s); it is not resumed "
                "again."
            )
        else:
            reason = _(
                "The worker running this operation stopped (last heard of at %(at)s) and it "
                "cannot be resumed."
            )
        reason = str(reason % {"n": operation.resumes + 1, "at": since})
        log.warning("operation %s: %s", pk, reason, extra={"operation": pk})
        if fail(operation, reason):
            done["failed"].append(pk)
    return done


def operation_task(
    kind: str,
    label,
    *,
    max_retries: int = 5,
    on_failure=None,
    on_cancel=None,
    on_finish=None,
    resumable: bool = True,
    **task_options,
):
    """Declare a Celery task that runs an Operation of ``kind``.

    The wrapped function is called as ``fn(progress, *args)`` and must be
    idempotent: a resumed attempt calls it again (``progress.is_completed`` says
    which steps an earlier attempt finished). The wrapper moves the operation
    through running → succeeded/failed/cancelled, skips operations that already
    finished and messages of an older attempt, keeps the heartbeat while the
    function runs in a worker, and retries with backoff when the failure is
    transient (an exception whose ``transient`` is true). ``on_failure(exc,
    *args)`` runs when it finally fails, e.g. to mark the target as broken;
    ``on_cancel(*args)`` when a user cancels it; ``on_finish(*args)`` whenever it
    ends, to re-read the target from Kubernetes. ``resumable=False``: an attempt
    whose worker died is failed rather than resumed.
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
            if operation.task_id and self.request.id and self.request.id != operation.task_id:
                # A message of an earlier attempt, delivered late: the newer one runs it.
                log.info("operation %s: message %s superseded", operation_id, self.request.id)
                return
            now = timezone.now()
            fields = {"status": Operation.Status.RUNNING, "heartbeat": now, "error": ""}
            if operation.started is None:
                fields["started"] = now
            claimed = Operation.objects.filter(
                pk=operation_id, status__in=Operation.UNFINISHED, task_id=operation.task_id
            ).update(**fields)
            if not claimed:  # cancelled or taken over meanwhile
                return
            for name, value in fields.items():
                setattr(operation, name, value)
            progress = Progress(operation)
            if operation.resumes and not self.request.retries:
                progress.log(
                    _("Attempt %(n)s: skipping the steps already completed."),
                    n=operation.resumes + 1,
                )
            log.info(
                "operation %s %s started", kind, operation_id, extra={"operation": operation_id}
            )
            heartbeat = None if self.request.is_eager else _Heartbeat(operation)
            try:
                try:
                    # in Kubernetes as whoever started it: a tenant impersonated, a cloud
                    # admin (and the system) with the portal's own identity
                    with identity.acting_as(operation.actor):
                        fn(progress, *args)
                finally:
                    if heartbeat is not None:
                        heartbeat.stop()
            except Superseded:
                log.info("operation %s: taken over by a newer attempt", operation_id)
                return
            except Cancelled:
                progress._save(finished=timezone.now())
                progress.log(_("Cancelled."))
            except Exception as exc:
                if getattr(exc, "transient", False) and self.request.retries < self.max_retries:
                    delay = min(60, settings.OPERATION_RETRY_SECONDS * 2**self.request.retries)
                    progress.log(
                        _("Temporary failure (%(error)s); trying again in %(n)s s."),
                        error=exc,
                        n=f"{delay:g}",
                    )
                    # No heartbeat while the retry waits: promise one after the delay.
                    progress._save(heartbeat=timezone.now() + timedelta(seconds=delay))
                    raise self.retry(exc=exc, countdown=delay) from exc
                log.exception("operation %s failed", operation_id)
                fail(operation, str(exc), exc, args=args)
                return
            else:
                progress._save(  # unless it was cancelled meanwhile
                    only_if_status=Operation.Status.RUNNING,
                    status=Operation.Status.SUCCEEDED,
                    progress=100,
                    step=msgid(_("Done")),
                    finished=timezone.now(),
                )
                log.info("operation %s %s succeeded", kind, operation_id)
            _hook(operation, "on_finish", args=args)

        _KINDS[task.name] = Kind(
            task=task,
            resumable=resumable,
            on_failure=on_failure,
            on_cancel=on_cancel,
            on_finish=on_finish,
        )
        return task

    return decorator
