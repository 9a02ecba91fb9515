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
        ACCOUNT_CHANGED = "account_changed", _("account status changed")
        ROLE_CHANGED = "role_changed", _("role changed")
        PERMISSIONS_CHANGED = "permissions_changed", _("user permissions changed")
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
    # The app's database role may only read and insert (hfs_ecrf/dbguard.py).
    APPEND_ONLY = True

    class Meta:
        ordering = ["-at"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"


class UserPreference(models.Model):
    """What a user chose for themselves (the interface language); not study data."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    language = models.CharField(_("interface language"), max_length=8, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user} {self.language}"


class Submission(models.Model):
    """The token of each form that created a record, so a double submission (double click,
    resend after a timeout) returns the first record instead of making a second one."""

    token = models.UUIDField(primary_key=True)
    model = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    APPEND_ONLY = True

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")

    def __str__(self) -> str:
        return f"{self.token} {self.model} {self.object_id}"
