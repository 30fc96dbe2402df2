"""The log centre's rows: one shipper (and its ingest token) per cluster.

The log lines themselves are not Django models: they live in the store's own tables
(store.py), partitioned by cluster and day on PostgreSQL, with an FTS5 index on SQLite.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core import authz

TOKEN_PREFIX = "kcslog_"  # noqa: S105 (a prefix, not a secret)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def default_retention() -> int:
    return settings.LOGS_RETENTION_DAYS


class LogShipper(models.Model):
    """The cluster's log shipper: where it sends, with which token, kept how long.

    Only the token's SHA-256 is kept; the token itself is in the cluster's Secret.
    Revoking it makes the ingest endpoint refuse the cluster's lines (401).
    """

    cluster = models.OneToOneField(
        "clusters.Cluster",
        on_delete=models.CASCADE,
        related_name="log_shipper",
        verbose_name=_("cluster"),
    )
    token_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    token_hint = models.CharField(_("token"), max_length=16, blank=True, editable=False)
    issued = models.DateTimeField(_("token issued"), null=True, blank=True)
    revoked = models.DateTimeField(_("token revoked"), null=True, blank=True)
    endpoint = models.CharField(_("ingest endpoint"), max_length=255, blank=True)
    deployed = models.DateTimeField(_("shipper deployed"), null=True, blank=True)
    retention_days = models.PositiveSmallIntegerField(
        _("retention (days)"), default=default_retention
    )
    lines_received = models.BigIntegerField(_("lines received"), default=0)
    last_received = models.DateTimeField(_("last received"), null=True, blank=True)

    objects = authz.RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("log shipper")
        verbose_name_plural = _("log shippers")

    def __str__(self):
        return str(self.cluster)

    @property
    def active(self) -> bool:
        return bool(self.token_digest) and self.revoked is None

    def issue(self) -> str:
        """A new token (returned once, kept only as its digest); the old one stops working."""
        token = new_token()
        self.token_digest = digest(token)
        self.token_hint = token[: len(TOKEN_PREFIX) + 4]
        self.issued = timezone.now()
        self.revoked = None
        return token


authz.register(LogShipper)  # cloud admins only
