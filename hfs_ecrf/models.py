from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.audit import AuditedManager
from hfs_ecrf.data_version import DataVersion
from hfs_ecrf.roles import CAPABILITIES

__all__ = ["DataVersion", "SecurityEvent", "StudyPermission"]


class StudyPermission(models.Model):
    """Holds the study's capabilities as permissions; it has no table of its own."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(CAPABILITIES.items())

    def __str__(self) -> str:
        return self._meta.verbose_name


class SecurityEvent(models.Model):
    """Append-only log of account and access events (logins, failures, lockouts, role changes)."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("login")
        LOGOUT = "logout", _("logout")
        LOGIN_FAILED = "login_failed", _("failed login")
        LOCKED_OUT = "locked_out", _("locked out")
        ACCOUNT_CREATED = "account_created", _("account created")
        ROLE_CHANGED = "role_changed", _("role changed")
        SITE_CHANGED = "site_changed", _("site membership changed")
        ALLOCATION_VIEWED = "allocation_viewed", _("allocation list viewed")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    username = models.CharField(_("username"), max_length=150, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.TextField(_("detail"), blank=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["-at"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"
