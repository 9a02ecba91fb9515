"""Records kept per patient at any time: treatment exposure, concomitant medication and
adverse events (part of the assessments app's models)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.audit import AuditedModel, display_value
from hfs_ecrf.validation import future_dates
from patients.models import Patient


class PatientRecord(AuditedModel):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    # The fields entered for the record, in order: its form, its list page, the analysis dataset
    # and the exports all read them from here.
    FIELDS: tuple[str, ...] = ()

    def display_values(self) -> list:
        return [display_value(self, self._meta.get_field(name)) for name in self.FIELDS]


class TreatmentExposure(PatientRecord):
    class Route(models.TextChoices):
        IM = "im", _("intramuscular")
        ORAL = "oral", _("oral")
        IV = "iv", _("intravenous")

    FIELDS = ("given_on", "is_study_b12", "product", "dose_ug", "route")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="exposures")
    given_on = models.DateField(_("date given"))
    is_study_b12 = models.BooleanField(
        _("study vitamin B12 dose"), default=True, help_text=_("untick for the standard therapy")
    )
    product = models.CharField(
        _("product"),
        max_length=120,
        blank=True,
        help_text=_("for standard therapy: the medicine given"),
    )
    dose_ug = models.DecimalField(
        _("dose"),
        max_digits=8,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("10000"))],
        help_text=_("µg, 0.1–10000"),
    )
    route = models.CharField(_("route"), max_length=8, choices=Route.choices, blank=True)

    class Meta:
        ordering = ["patient", "given_on"]
        verbose_name = _("treatment exposure")
        verbose_name_plural = _("treatment exposure")

    def __str__(self) -> str:
        return f"{self.patient_id} {self.given_on}"

    def clean(self) -> None:
        errors = future_dates(self, "given_on")
        if self.is_study_b12 and (self.dose_ug is None or not self.route):
            errors["dose_ug"] = [_("A B12 dose needs the dose in µg and the route.")]
        if errors:
            raise ValidationError(errors)


class ConcomitantMedication(PatientRecord):
    FIELDS = ("medication", "indication", "started_on", "stopped_on")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="con_meds")
    medication = models.CharField(_("medication"), max_length=120)
    indication = models.CharField(_("indication"), max_length=120, blank=True)
    started_on = models.DateField(_("start date"), null=True, blank=True)
    stopped_on = models.DateField(_("stop date"), null=True, blank=True)

    class Meta:
        ordering = ["patient", "started_on"]
        verbose_name = _("concomitant medication")
        verbose_name_plural = _("concomitant medication")

    def __str__(self) -> str:
        return self.medication

    def clean(self) -> None:
        errors = future_dates(self, "started_on", "stopped_on")
        if self.started_on and self.stopped_on and self.stopped_on < self.started_on:
            errors.setdefault("stopped_on", []).append(_("The stop date is before the start date."))
        if errors:
            raise ValidationError(errors)


class AdverseEvent(PatientRecord):
    class Severity(models.TextChoices):
        MILD = "mild", _("mild")
        MODERATE = "moderate", _("moderate")
        SEVERE = "severe", _("severe")

    class Relation(models.TextChoices):
        NOT_RELATED = "not_related", _("not related")
        UNLIKELY = "unlikely", _("unlikely")
        POSSIBLE = "possible", _("possible")
        PROBABLE = "probable", _("probable")
        DEFINITE = "definite", _("definite")

    class Action(models.TextChoices):
        NONE = "none", _("none")
        DOSE_CHANGED = "dose_changed", _("dose changed")
        INTERRUPTED = "interrupted", _("treatment interrupted")
        WITHDRAWN = "withdrawn", _("treatment withdrawn")

    class Outcome(models.TextChoices):
        RECOVERED = "recovered", _("recovered")
        RECOVERING = "recovering", _("recovering")
        NOT_RECOVERED = "not_recovered", _("not recovered")
        SEQUELAE = "sequelae", _("recovered with sequelae")
        FATAL = "fatal", _("fatal")
        UNKNOWN = "unknown", _("unknown")

    FIELDS = (
        "term",
        "onset_on",
        "ended_on",
        "severity",
        "serious",
        "relation",
        "action",
        "outcome",
    )

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adverse_events")
    term = models.CharField(_("adverse event"), max_length=200)
    onset_on = models.DateField(_("onset date"))
    ended_on = models.DateField(_("end date"), null=True, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    serious = models.BooleanField(_("serious"), default=False)
    relation = models.CharField(
        _("relation to study treatment"), max_length=12, choices=Relation.choices
    )
    action = models.CharField(
        _("action taken"), max_length=14, choices=Action.choices, default=Action.NONE
    )
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices)

    class Meta:
        ordering = ["patient", "onset_on"]
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")

    def __str__(self) -> str:
        return self.term

    def clean(self) -> None:
        errors = future_dates(self, "onset_on", "ended_on")
        if self.onset_on and self.ended_on and self.ended_on < self.onset_on:
            errors.setdefault("ended_on", []).append(_("The end date is before the onset date."))
        if errors:
            raise ValidationError(errors)
