"""The laboratory panel: values as entered, canonical values derived."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from assessments.bands import UNIT_LABELS, unit_label
from assessments.instruments import labs
from assessments.models.base import CaseReportForm
from assessments.models.visit import Visit
from assessments.schedule import VISITS
from hfs_ecrf.validation import future_dates


def _unit_choices(analyte: labs.Analyte) -> list[tuple[str, Any]]:
    """Units stored as codes, labelled in the user's language (audit trail, lists, exports)."""
    return [(unit, UNIT_LABELS.get(unit, unit)) for unit in analyte.units]


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

    visit = models.OneToOneField(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="labs"
    )
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
            low, high = getattr(self, f"{code}_ref_low"), getattr(self, f"{code}_ref_high")
            if low is not None and high is not None and low >= high:
                errors[f"{code}_ref_high"] = _(
                    "The reference range's upper limit (%(high)s) must be above its lower "
                    "limit (%(low)s)."
                ) % {"low": low, "high": high}
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

    def required_fields(self) -> list[str]:
        """The analytes this visit expects, and the sample date."""
        expected = VISITS[self.visit.code].lab_analytes if self.visit_id else ("b12",)
        return ["sample_date"] + [f"{code}_value" for code in expected]

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
                    "%(canonical)s pmol/L is in the deficiency range (below %(threshold)s "
                    "pmol/L), which is expected in this trial; below %(low)s pmol/L it is rare. "
                    "Check the value and unit against the source and confirm."
                ) % {
                    "canonical": number_format(canonical),
                    "threshold": number_format(labs.B12_DEFICIENT_BELOW),
                    "low": number_format(analyte.soft_low),
                }
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
