from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from assessments.bands import unit_label
from assessments.instruments import hads, hdrs, labs, rand36, spasm
from assessments.items import HADS_LABELS, HDRS_LABELS, RAND36_LABELS, RAND36_OPTIONS
from assessments.schedule import VISIT_CODES, VISITS
from hfs_ecrf.audit import AuditedModel
from hfs_ecrf.validation import future_dates
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


class FormStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    COMPLETE = "complete", _("complete")
    NOT_DONE = "not_done", _("not done")


class CaseReportForm(AuditedModel):
    """One form of one visit. Carries its status, a version for lost-update protection and the
    confirmation of soft warnings."""

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("form status"), max_length=10, choices=FormStatus.choices, default=FormStatus.DRAFT
    )
    not_done_reason = models.CharField(_("reason not done"), max_length=200, blank=True)
    ever_complete = models.BooleanField(default=False, editable=False)
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

    def missing_required(self) -> list[str]:
        return [name for name in self.REQUIRED_FIELDS if getattr(self, name) in (None, "")]

    def compute(self) -> None:
        """Derive the stored scores from the items (overridden per instrument)."""

    def soft_warnings(self, previous: CaseReportForm | None = None) -> dict[str, str]:
        return {}

    def save(self, *args, **kwargs) -> None:
        self.compute()
        super().save(*args, **kwargs)


def _unit_choices(analyte: labs.Analyte) -> list[tuple[str, str]]:
    return [(unit, unit) for unit in analyte.units]


class Qualifier(models.TextChoices):
    BELOW = "<", _("< below the assay's range")
    ABOVE = ">", _("> above the assay's range")


class Matrix(models.TextChoices):
    SERUM = "serum", _("serum")
    PLASMA = "plasma", _("plasma")


class LabPanel(CaseReportForm):
    """Serum B12, cortisol and dopamine as entered, with the canonical value derived."""

    FORM_CODE = "labs"
    TITLE = _("Laboratory")
    ENTRY_FIELDS = (
        "sample_date",
        "sample_time",
        "b12_value",
        "b12_unit",
        "b12_qualifier",
        "b12_ref_low",
        "b12_ref_high",
        "cortisol_value",
        "cortisol_unit",
        "cortisol_qualifier",
        "cortisol_ref_low",
        "cortisol_ref_high",
        "dopamine_value",
        "dopamine_unit",
        "dopamine_qualifier",
        "dopamine_matrix",
        "dopamine_ref_low",
        "dopamine_ref_high",
    )

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="labs")
    sample_date = models.DateField(_("sample date"), null=True, blank=True)
    sample_time = models.TimeField(
        _("sample time"), null=True, blank=True, help_text=_("cortisol varies through the day")
    )

    b12_value = models.DecimalField(
        _("vitamin B12"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    b12_unit = models.CharField(
        _("B12 unit"), max_length=8, choices=_unit_choices(labs.B12), default="pmol/L"
    )
    b12_qualifier = models.CharField(
        _("B12 qualifier"), max_length=1, choices=Qualifier.choices, blank=True
    )
    b12_ref_low = models.DecimalField(
        _("B12 reference low"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    b12_ref_high = models.DecimalField(
        _("B12 reference high"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    b12_pmol_l = models.DecimalField(
        _("vitamin B12 (pmol/L)"), max_digits=12, decimal_places=3, null=True, editable=False
    )

    cortisol_value = models.DecimalField(
        _("cortisol"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    cortisol_unit = models.CharField(
        _("cortisol unit"), max_length=8, choices=_unit_choices(labs.CORTISOL), default="nmol/L"
    )
    cortisol_qualifier = models.CharField(
        _("cortisol qualifier"), max_length=1, choices=Qualifier.choices, blank=True
    )
    cortisol_ref_low = models.DecimalField(
        _("cortisol reference low"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    cortisol_ref_high = models.DecimalField(
        _("cortisol reference high"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    cortisol_nmol_l = models.DecimalField(
        _("cortisol (nmol/L)"), max_digits=12, decimal_places=3, null=True, editable=False
    )

    dopamine_value = models.DecimalField(
        _("dopamine"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    dopamine_unit = models.CharField(
        _("dopamine unit"), max_length=8, choices=_unit_choices(labs.DOPAMINE), default="pmol/L"
    )
    dopamine_qualifier = models.CharField(
        _("dopamine qualifier"),
        max_length=1,
        choices=Qualifier.choices,
        blank=True,
        help_text=_("'<' with the limit of detection as value"),
    )
    dopamine_matrix = models.CharField(
        _("dopamine matrix"), max_length=8, choices=Matrix.choices, default=Matrix.PLASMA
    )
    dopamine_ref_low = models.DecimalField(
        _("dopamine reference low"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    dopamine_ref_high = models.DecimalField(
        _("dopamine reference high"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    dopamine_pmol_l = models.DecimalField(
        _("dopamine (pmol/L)"), max_digits=14, decimal_places=3, null=True, editable=False
    )

    # One row per analyte on the form: value, unit and qualifier side by side.
    LAYOUT = (
        ("sample_date", "sample_time"),
        *(
            (f"{a}_value", f"{a}_unit", f"{a}_qualifier", f"{a}_ref_low", f"{a}_ref_high")
            for a in ("b12", "cortisol")
        ),
        (
            "dopamine_value",
            "dopamine_unit",
            "dopamine_qualifier",
            "dopamine_matrix",
            "dopamine_ref_low",
            "dopamine_ref_high",
        ),
    )
    ANALYTE_FIELDS = {
        "b12": "b12_pmol_l",
        "cortisol": "cortisol_nmol_l",
        "dopamine": "dopamine_pmol_l",
    }

    class Meta:
        verbose_name = _("laboratory panel")
        verbose_name_plural = _("laboratory panels")

    def __str__(self) -> str:
        return f"labs {self.visit}"

    def clean(self) -> None:
        errors = future_dates(self, "sample_date")
        for code in self.ANALYTE_FIELDS:
            message = self.hard_error(code)
            if message:
                errors[f"{code}_value"] = message
        if errors:
            raise ValidationError(errors)

    def hard_error(self, code: str) -> str | None:
        """The hard-limit error of one analyte, naming value, allowed range and unit."""
        value = getattr(self, f"{code}_value")
        if value is None:
            return None
        analyte = labs.ANALYTES[code]
        unit = getattr(self, f"{code}_unit")
        try:
            canonical = labs.to_canonical(analyte, value, unit)
        except labs.LabValueError:
            return _("Unit %(unit)s is not accepted; use one of %(units)s.") % {
                "unit": unit,
                "units": ", ".join(analyte.units),
            }
        problem = labs.hard_limit_error(analyte, canonical)
        if problem is None:
            return None
        low = analyte.hard_min_exclusive
        return _(
            "%(value)s %(unit)s (= %(canonical)s %(canonical_unit)s) is not possible: allowed is "
            "%(low)s %(low_word)s to %(high)s %(canonical_unit)s."
        ) % {
            "value": number_format(value),
            "unit": unit_label(unit),
            "canonical": number_format(canonical),
            "canonical_unit": unit_label(analyte.canonical_unit),
            "low": number_format(low if low is not None else 0),
            "low_word": _("(exclusive)") if low is not None else _("(inclusive)"),
            "high": number_format(analyte.hard_max),
        }

    def missing_required(self) -> list[str]:
        """The analytes this visit expects, and the sample date."""
        expected = VISITS[self.visit.code].lab_analytes if self.visit_id else ("b12",)
        needed = ["sample_date"] + [f"{code}_value" for code in expected]
        return [name for name in needed if getattr(self, name) in (None, "")]

    def soft_warnings(self, previous: LabPanel | None = None) -> dict[str, str]:
        """Plausible but unusual values that the user must confirm, by field."""
        previous_b12 = previous.b12_pmol_l if previous is not None else None
        found = {}
        for code in self.ANALYTE_FIELDS:
            value = getattr(self, f"{code}_value")
            if value is None or self.hard_error(code):
                continue
            analyte = labs.ANALYTES[code]
            canonical = labs.to_canonical(analyte, value, getattr(self, f"{code}_unit"))
            if code == "b12" and analyte.soft_low is not None and canonical < analyte.soft_low:
                # Deficiency is one of the trial's strata: expected, only a very low value is
                # worth a second look at the value and unit.
                found[f"{code}_value"] = _(
                    "%(canonical)s pmol/L is in the deficiency range (below 148 pmol/L), which "
                    "is expected in this trial; below %(low)s pmol/L it is rare. Check the value "
                    "and unit against the source and confirm."
                ) % {"canonical": number_format(canonical), "low": number_format(analyte.soft_low)}
            elif labs.soft_limit_warning(analyte, canonical):
                found[f"{code}_value"] = _(
                    "%(canonical)s %(unit)s is outside the usual range (%(low)s–%(high)s %(unit)s) "
                    "but possible. Check the value and unit against the source and confirm."
                ) % {
                    "canonical": number_format(canonical),
                    "unit": unit_label(analyte.canonical_unit),
                    "low": number_format(analyte.soft_low or 0),
                    "high": number_format(analyte.soft_high),
                }
        if self.cortisol_value is not None and self.sample_time is None:
            found["sample_time"] = _(
                "Cortisol varies through the day: the sample time is missing. Enter it or confirm."
            )
        if self.b12_value is not None and not self.hard_error("b12"):
            current = labs.to_canonical(labs.B12, self.b12_value, self.b12_unit)
            fold = labs.fold_change(previous_b12, current)
            if fold is not None and fold >= labs.B12_FOLD_CHANGE_WARNING:
                found.setdefault(
                    "b12_value",
                    _(
                        "B12 changed %(fold).1f-fold since the previous visit (%(previous)s → "
                        "%(current)s pmol/L). Check the value and confirm it."
                    )
                    % {
                        "fold": fold,
                        "previous": number_format(previous_b12),
                        "current": number_format(current),
                    },
                )
        return found

    def compute(self) -> None:
        for code, canonical_field in self.ANALYTE_FIELDS.items():
            value = getattr(self, f"{code}_value")
            unit = getattr(self, f"{code}_unit")
            canonical = (
                None if value is None else labs.to_canonical(labs.ANALYTES[code], value, unit)
            )
            setattr(self, canonical_field, canonical)


def _range_field(label, low: int, high: int, unit: str = "", help_text=None, **kwargs):
    """An integer with its allowed range as validators (the form's error names the range)."""
    return models.PositiveSmallIntegerField(
        label,
        null=True,
        blank=True,
        validators=[MinValueValidator(low), MaxValueValidator(high)],
        help_text=help_text or (f"{low}–{high} {unit}".strip()),
        **kwargs,
    )


class SpasmAssessment(CaseReportForm):
    FORM_CODE = "spasm"
    TITLE = _("Spasm assessment")
    ENTRY_FIELDS = (
        "vas_frequency",
        "vas_intensity",
        "jankovic_severity",
        "jankovic_frequency",
        "spasm_count",
        "observation_minutes",
    )
    REQUIRED_FIELDS = ("vas_frequency", "vas_intensity", "jankovic_severity", "jankovic_frequency")

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="spasm")
    vas_frequency = _range_field(
        _("VAS spasm frequency"),
        0,
        100,
        "mm",
        help_text=_(
            "mm on the 100-mm line, 0 = no spasms, 100 = continuous; a 0–10 cm "
            "reading is entered ×10"
        ),
    )
    vas_intensity = _range_field(
        _("VAS spasm intensity"), 0, 100, "mm", help_text=_("mm, 0 = none, 100 = worst imaginable")
    )
    jankovic_severity = _range_field(
        _("Jankovic severity"),
        0,
        4,
        choices=[(i, str(i)) for i in range(5)],
        help_text=_("0 none … 4 incapacitating"),
    )
    jankovic_frequency = _range_field(
        _("Jankovic frequency"),
        0,
        4,
        choices=[(i, str(i)) for i in range(5)],
        help_text=_("0 none … 4 spasms most of the waking time"),
    )
    spasm_count = models.PositiveIntegerField(
        _("spasm count"),
        null=True,
        blank=True,
        help_text=_("spasms counted during the standard observation (optional)"),
    )
    observation_minutes = models.DecimalField(
        _("observation time"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("120"))],
        help_text=_("minutes, 0.1–120; needed with a spasm count"),
    )
    jankovic_total = models.PositiveSmallIntegerField(
        _("Jankovic total"), null=True, editable=False
    )
    spasm_rate_per_min = models.FloatField(_("spasms per minute"), null=True, editable=False)

    class Meta:
        verbose_name = _("spasm assessment")
        verbose_name_plural = _("spasm assessments")

    def __str__(self) -> str:
        return f"spasm {self.visit}"

    def clean(self) -> None:
        if (self.spasm_count is None) != (self.observation_minutes is None):
            field = "observation_minutes" if self.spasm_count is not None else "spasm_count"
            raise ValidationError(
                {field: _("Give the spasm count and the observation time together, or neither.")}
            )

    def compute(self) -> None:
        self.jankovic_total = spasm.jankovic_total(self.jankovic_severity, self.jankovic_frequency)
        self.spasm_rate_per_min = spasm.spasm_rate(self.spasm_count, self.observation_minutes)

    def soft_warnings(self, previous: SpasmAssessment | None = None) -> dict[str, str]:
        found = {}
        for name in ("vas_frequency", "vas_intensity"):
            before = getattr(previous, name, None) if previous is not None else None
            if spasm.large_vas_change(before, getattr(self, name)):
                found[name] = _(
                    "Changed by more than 50 mm since the previous visit "
                    "(%(before)s → %(now)s mm). Check and confirm."
                ) % {"before": before, "now": getattr(self, name)}
        return found


class Rand36(CaseReportForm):
    FORM_CODE = "rand36"
    TITLE = _("RAND-36")
    ITEMS = tuple(f"q{i:02d}" for i in range(1, 37))
    ENTRY_FIELDS = ITEMS
    REQUIRED_FIELDS = ITEMS
    SCALE_FIELDS = ("pf", "rp", "re", "ef", "ew", "sf", "bp", "gh")

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="rand36")
    for _i in range(1, 37):
        locals()[f"q{_i:02d}"] = models.PositiveSmallIntegerField(
            RAND36_LABELS[_i],
            null=True,
            blank=True,
            choices=[(n, label) for n, label in enumerate(RAND36_OPTIONS[_i], start=1)],
            validators=[MinValueValidator(1), MaxValueValidator(rand36.OPTIONS[_i])],
        )
    for _scale, _label in (
        ("pf", _("physical functioning")),
        ("rp", _("role limitations, physical")),
        ("re", _("role limitations, emotional")),
        ("ef", _("energy/fatigue")),
        ("ew", _("emotional well-being")),
        ("sf", _("social functioning")),
        ("bp", _("pain")),
        ("gh", _("general health")),
    ):
        locals()[_scale] = models.FloatField(_label, null=True, editable=False)
    del _i, _scale, _label
    pcs = models.FloatField(
        _("physical component summary (PCS)"),
        null=True,
        editable=False,
        help_text=_("computed with the published 1990 US-norm coefficients"),
    )
    mcs = models.FloatField(
        _("mental component summary (MCS)"),
        null=True,
        editable=False,
        help_text=_("computed with the published 1990 US-norm coefficients"),
    )

    class Meta:
        verbose_name = _("RAND-36")
        verbose_name_plural = _("RAND-36")

    def __str__(self) -> str:
        return f"RAND-36 {self.visit}"

    def answers(self) -> dict[int, int | None]:
        return {i: getattr(self, f"q{i:02d}") for i in range(1, 37)}

    def compute(self) -> None:
        for scale, value in rand36.rand_scales(self.answers()).items():
            setattr(self, scale, value)
        self.pcs, self.mcs = rand36.composites(self.answers())


class Hads(CaseReportForm):
    FORM_CODE = "hads"
    TITLE = _("HADS")
    ITEMS = tuple(f"q{i:02d}" for i in range(1, 15))
    ENTRY_FIELDS = ITEMS
    REQUIRED_FIELDS = ITEMS

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="hads")
    for _i in range(1, 15):
        locals()[f"q{_i:02d}"] = models.PositiveSmallIntegerField(
            HADS_LABELS[_i],
            null=True,
            blank=True,
            choices=[(n, str(n)) for n in range(4)],
            validators=[MaxValueValidator(3)],
        )
    del _i
    anxiety = models.FloatField(_("HADS anxiety"), null=True, editable=False)
    depression = models.FloatField(_("HADS depression"), null=True, editable=False)

    class Meta:
        verbose_name = _("HADS")
        verbose_name_plural = _("HADS")

    def __str__(self) -> str:
        return f"HADS {self.visit}"

    def compute(self) -> None:
        answers = {i: getattr(self, f"q{i:02d}") for i in range(1, 15)}
        self.anxiety, self.depression = hads.scores(answers)

    @property
    def anxiety_band(self) -> str | None:
        return hads.band(self.anxiety)

    @property
    def depression_band(self) -> str | None:
        return hads.band(self.depression)


class Hdrs17(CaseReportForm):
    FORM_CODE = "hdrs"
    TITLE = _("HDRS-17")
    ITEMS = tuple(f"q{i:02d}" for i in range(1, 18))
    ENTRY_FIELDS = (*ITEMS, "q16_not_assessed")
    REQUIRED_FIELDS = tuple(name for name in ITEMS if name != "q16")

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="hdrs")
    for _i in range(1, 18):
        locals()[f"q{_i:02d}"] = models.PositiveSmallIntegerField(
            HDRS_LABELS[_i],
            null=True,
            blank=True,
            choices=[(n, str(n)) for n in range(hdrs.MAXIMA[_i] + 1)],
            validators=[MaxValueValidator(hdrs.MAXIMA[_i])],
        )
    del _i
    q16_not_assessed = models.BooleanField(_("weight loss not assessed"), default=False)
    total = models.PositiveSmallIntegerField(_("HDRS-17 total"), null=True, editable=False)

    class Meta:
        verbose_name = _("HDRS-17")
        verbose_name_plural = _("HDRS-17")

    def __str__(self) -> str:
        return f"HDRS-17 {self.visit}"

    def missing_required(self) -> list[str]:
        missing = super().missing_required()
        if self.q16 is None and not self.q16_not_assessed:
            missing.append("q16")
        return missing

    def clean(self) -> None:
        if self.q16_not_assessed and self.q16 is not None:
            raise ValidationError({"q16": _("Leave weight loss empty when it was not assessed.")})

    def compute(self) -> None:
        answers = {i: getattr(self, f"q{i:02d}") for i in range(1, 18)}
        self.total = hdrs.total(answers, item16_not_assessed=self.q16_not_assessed)

    @property
    def band(self) -> str | None:
        return hdrs.band(self.total)


CRF_MODELS: dict[str, type[CaseReportForm]] = {
    model.FORM_CODE: model for model in (SpasmAssessment, LabPanel, Rand36, Hads, Hdrs17)
}


# Records kept per patient at any time live in their own module; imported here so Django
# finds them with the app's models.
from assessments.records import (  # noqa: E402
    AdverseEvent,
    ConcomitantMedication,
    PatientRecord,
    TreatmentExposure,
)

__all__ = [
    "CRF_MODELS",
    "AdverseEvent",
    "CaseReportForm",
    "ConcomitantMedication",
    "FormStatus",
    "Hads",
    "Hdrs17",
    "LabPanel",
    "PatientRecord",
    "Rand36",
    "SpasmAssessment",
    "TreatmentExposure",
    "Visit",
]
