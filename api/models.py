"""API tokens (stored hashed) and the log of every API call."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.audit import AuditedManager


class ApiToken(models.Model):
    """A per-user token for the REDCap-compatible API. Only its SHA-256 is stored; the token
    itself is shown once, when it is created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="api_tokens",
    )
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("what the token is for, e.g. a script")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        _("first characters"), max_length=4, editable=False, help_text=_("to recognise it")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("empty: does not expire")
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.revoked_at is None
            and (self.expires_at is None or self.expires_at > now)
            and self.user.is_active
        )


class ApiCall(models.Model):
    """Every API call: who, which method, which records, when, and the answer's status.
    Append-only."""

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    token = models.ForeignKey(
        ApiToken, verbose_name=_("token"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    method = models.CharField(_("method"), max_length=60)
    records = models.JSONField(_("records"), default=list, blank=True)
    status = models.PositiveSmallIntegerField(_("HTTP status"))
    detail = models.TextField(_("detail"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["-at"]
        verbose_name = _("API call")
        verbose_name_plural = _("API call log")
        indexes = [models.Index(fields=["token", "at"], name="api_call_token_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.method} {self.status}"
