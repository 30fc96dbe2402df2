"""Operations of the portal itself: API tokens, diagnostics, cancelling operations."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, authz, operations
from .audit import audited
from .models import ApiToken, Operation


@audited("token.create", ApiToken)
@transaction.atomic
def create_token(actor, *, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a personal API token; returns it with its key, which is never shown again."""
    if not actor.is_authenticated:
        raise ValidationError(_("Sign in to create API tokens."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    key = ApiToken.generate_key()
    token = ApiToken(
        user=actor,
        name=name,
        prefix=key[: ApiToken.PREFIX_LENGTH],
        digest=ApiToken.hash(key),
        expires=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    token.full_clean()
    token.save()
    audit.record(actor, "token.create", token, detail={"prefix": token.prefix})
    return token, key


@audited("token.revoke")
@transaction.atomic
def revoke_token(actor, token: ApiToken) -> None:
    authz.require(actor, "delete", token)
    audit.record(actor, "token.revoke", token, detail={"user": token.user.get_username()})
    token.delete()


@audited("diagnostics.start")
def start_diagnostics(actor) -> Operation:
    from .tasks import run_diagnostics

    authz.require_cloud_admin(actor)
    with transaction.atomic():
        operation = operations.start(
            actor, "diagnostics", run_diagnostics, target_name=_("KCS Portal")
        )
        audit.record(actor, "diagnostics.start", operation, operation=operation)
    return operation


@audited("operation.cancel")
def cancel_operation(actor, operation: Operation) -> Operation:
    """Cancel an unfinished operation: its lock is released at once and its target left
    in a state from which a retry or a delete works (the kind's on_cancel), re-read from
    Kubernetes; a task still running stops at its next step."""
    authz.require(actor, "cancel", operation)
    with transaction.atomic():
        changed = Operation.objects.filter(pk=operation.pk, status__in=Operation.UNFINISHED).update(
            status=Operation.Status.CANCELLED, finished=timezone.now()
        )
        if not changed:
            raise ValidationError(_("This operation has already finished."))
        operation.refresh_from_db()
        audit.record(
            actor, "operation.cancel", operation, project=operation.project, operation=operation
        )
    operations.cancelled(operation)
    return operation


@audited("user.update")
@transaction.atomic
def save_user(actor, user, *, created: bool, changed: list[str]) -> None:
    """Save a user account edited by a cloud admin (admin site)."""
    authz.require_cloud_admin(actor)
    user.save()
    # Field names only: the password hash is never written to the audit trail.
    audit.record(
        actor, "user.create" if created else "user.update", user, detail={"changed": changed}
    )


@audited("user.delete")
@transaction.atomic
def delete_user(actor, user) -> None:
    authz.require_cloud_admin(actor)
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot delete your own account."))
    audit.record(actor, "user.delete", user)
    user.delete()
