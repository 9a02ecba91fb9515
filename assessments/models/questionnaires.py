"""Questionnaires: RAND-36, HADS, HDRS-17 (items stored, scores computed on save)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments.instruments import hads, hdrs, rand36
from assessments.items import HADS_LABELS, HDRS_LABELS, RAND36_LABELS, RAND36_OPTIONS
from assessments.models.base import CaseReportForm
from assessments.models.visit import Visit


class Rand36(CaseReportForm):
    FORM_CODE = "rand36"
    TITLE = _("RAND-36")
    ITEMS = tuple(f"q{i:02d}" for i in range(1, 37))
    ENTRY_FIELDS = ITEMS
    REQUIRED_FIELDS = ITEMS
    SCALE_FIELDS = ("pf", "rp", "re", "ef", "ew", "sf", "bp", "gh")

    visit = models.OneToOneField(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="rand36"
    )
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

    visit = models.OneToOneField(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="hads"
    )
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

    visit = models.OneToOneField(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="hdrs"
    )
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

    def required_fields(self) -> list[str]:
        # weight loss (item 16) is answered, or ticked "not assessed"
        return super().required_fields() + ([] if self.q16_not_assessed else ["q16"])

    def clean(self) -> None:
        if self.q16_not_assessed and self.q16 is not None:
            raise ValidationError({"q16": _("Leave weight loss empty when it was not assessed.")})

    def compute(self) -> None:
        answers = {i: getattr(self, f"q{i:02d}") for i in range(1, 18)}
        self.total = hdrs.total(answers, item16_not_assessed=self.q16_not_assessed)

    @property
    def band(self) -> str | None:
        return hdrs.band(self.total)
