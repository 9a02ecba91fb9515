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


class AnalysisResult(models.Model):
    """The results document computed on one data version, shared by every worker and restart.

    Written by the background task only (``analysis.services.results_refresh``); requests read
    the latest row and never compute the plan. Not study data, so not audited.
    """

    data_version = models.BigIntegerField(_("data version"), unique=True)
    computed_at = models.DateTimeField(_("computed at"))
    dataset_sha256 = models.CharField(_("dataset SHA-256"), max_length=64)
    document = models.JSONField(_("results document"))
    duration_seconds = models.FloatField(_("duration, s"))
    after_unlock = models.ForeignKey(
        "monitoring.StudyLock",
        verbose_name=_("computed after the unlock of"),
        help_text=_("the last database lock unlocked before these results were computed"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-data_version"]
        verbose_name = _("stored analysis results")
        verbose_name_plural = _("stored analysis results")

    def __str__(self) -> str:
        return f"v{self.data_version} {self.computed_at:%Y-%m-%d %H:%M}"


class StoredFigure(models.Model):
    """One dashboard figure of one stored result, drawn in the background in one language."""

    result = models.ForeignKey(
        AnalysisResult, on_delete=models.CASCADE, related_name="figures", verbose_name=_("results")
    )
    language = models.CharField(_("language"), max_length=8)
    name = models.CharField(_("figure"), max_length=40)
    svg = models.TextField(_("SVG"), blank=True)
    png = models.BinaryField(_("PNG"), blank=True, default=b"")
    error = models.TextField(_("error"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["result", "language", "name"], name="one_figure_per_result_and_language"
            )
        ]
        verbose_name = _("stored figure")
        verbose_name_plural = _("stored figures")

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class FinalResults(models.Model):
    """The final results of a database lock: the results of the data as they were locked.

    Created inside the locking transaction with the data version and the dataset hash of that
    moment (``analysis.services.results_finalise``); ``result`` is the stored result of exactly
    that dataset, linked at once if it is already stored, else by the background computation
    (or, at the latest, computed before the database is unlocked). A result that is final is
    never pruned (``PROTECT``). Not study data, so not audited.
    """

    lock = models.OneToOneField(
        "monitoring.StudyLock",
        verbose_name=_("database lock"),
        on_delete=models.PROTECT,
        related_name="final_results",
    )
    data_version = models.BigIntegerField(_("data version at the lock"))
    dataset_sha256 = models.CharField(_("dataset SHA-256 at the lock"), max_length=64)
    result = models.ForeignKey(
        AnalysisResult,
        verbose_name=_("results"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="final_of",
    )

    class Meta:
        ordering = ["-lock__locked_at", "-id"]
        verbose_name = _("final results")
        verbose_name_plural = _("final results")

    def __str__(self) -> str:
        return f"{self.lock} v{self.data_version}"
