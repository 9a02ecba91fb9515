"""Spasm assessment: VAS and Jankovic scale."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments.instruments import spasm
from assessments.models.base import CaseReportForm
from assessments.models.visit import Visit


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

    visit = models.OneToOneField(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="spasm"
    )
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
