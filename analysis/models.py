from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.audit import AuditedManager


class ExportLog(models.Model):
    """Every export: who, when, what and how many rows. Append-only."""

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    export_format = models.CharField(_("format"), max_length=20)
    filters = models.JSONField(_("filters"), default=dict)
    rows = models.PositiveIntegerField(_("rows"), default=0)

    objects = AuditedManager()
    # The app's database role may only read and insert (hfs_ecrf/dbguard.py).
    APPEND_ONLY = True

    class Meta:
        ordering = ["-at"]
        verbose_name = _("export")
        verbose_name_plural = _("export log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.export_format} ({self.rows} rows)"
