"""What every case report form shares: status, version, confirmation of soft warnings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments.models.visit import Visit
from hfs_ecrf.audit import AuditedModel


class FormStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    COMPLETE = "complete", _("complete")
    NOT_DONE = "not_done", _("not done")


class CaseReportForm(AuditedModel):
    """One form of one visit. Carries its status, a version for lost-update protection and the
    confirmation of soft warnings."""

    visit = models.OneToOneField(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("form status"), max_length=10, choices=FormStatus.choices, default=FormStatus.DRAFT
    )
    not_done_reason = models.CharField(_("reason not done"), max_length=200, blank=True)
    ever_complete = models.BooleanField(_("once complete"), default=False, editable=False)
    warnings_confirmed = models.TextField(_("confirmed warnings"), blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )

    FORM_CODE = ""
    TITLE = ""
    # Fields a clinician fills in (order of the form) and those needed for "complete".
    ENTRY_FIELDS: tuple[str, ...] = ()
    REQUIRED_FIELDS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    AUDIT_LABEL_RELATED = ("visit__patient",)

    def audit_label(self) -> str:
        return f"{self.visit.audit_label()} {self.TITLE}"

    def missing_required(self) -> list[str]:
        return [name for name in self.REQUIRED_FIELDS if getattr(self, name) in (None, "")]

    def compute(self) -> None:
        """Derive the stored scores from the items (overridden per instrument)."""

    def soft_warnings(self, previous: CaseReportForm | None = None) -> dict[str, str]:
        return {}

    def save(self, *args, **kwargs) -> None:
        self.compute()
        super().save(*args, **kwargs)
