"""A scheduled visit of one patient."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments.schedule import VISIT_CODES
from hfs_ecrf.audit import AuditedModel
from patients.models import Patient


class Visit(AuditedModel):
    class Status(models.TextChoices):
        EXPECTED = "expected", _("expected")
        DONE = "done", _("done")
        MISSED = "missed", _("missed")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    code = models.CharField(_("visit"), max_length=2, choices=[(c, c) for c in VISIT_CODES])
    visit_date = models.DateField(_("visit date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.EXPECTED
    )
    missed_reason = models.CharField(_("reason missed"), max_length=200, blank=True)
    out_of_window = models.BooleanField(_("out of window"), default=False, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["patient", "code"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.UniqueConstraint(fields=["patient", "code"], name="one_visit_per_code")
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.code}"

    AUDIT_LABEL_RELATED = ("patient",)

    def audit_label(self) -> str:
        """How people name the visit: "SMR-0007 V3"."""
        return f"{self.patient.study_id} {self.code}"
