"""Printable blank case report forms, built from the models' own fields (labels, help texts,
choices, validators), never written by hand: a field added to a model appears on paper too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from assessments.bands import unit_label
from assessments.models import CRF_MODELS, FormStatus, Visit
from assessments.schedule import VISITS


@dataclass
class PaperField:
    name: str
    label: str
    help_text: str
    kind: str  # "choice", "number", "date", "time", "yes_no", "text"
    choices: list[tuple[Any, str]] = field(default_factory=list)
    allowed: str = ""  # the allowed range or format, in words
    boxes: int = 0  # character boxes for numbers

    @property
    def box_list(self) -> range:
        return range(self.boxes)


@dataclass
class PaperForm:
    code: str
    title: str
    fields: list[PaperField]


def _limits(model_field: models.Field) -> tuple[Any, Any]:
    low = high = None
    for validator in model_field.validators:
        if isinstance(validator, MinValueValidator):
            low = validator.limit_value
        elif isinstance(validator, MaxValueValidator):
            high = validator.limit_value
    if low is None and isinstance(
        model_field, models.PositiveIntegerField | models.PositiveSmallIntegerField
    ):
        low = 0
    return low, high


def paper_field(model_field: models.Field) -> PaperField:
    """One field as it is printed: label, what is allowed, and where to write."""
    spec = PaperField(
        name=model_field.name,
        label=str(model_field.verbose_name),
        help_text=str(model_field.help_text or ""),
        kind="text",
    )
    if model_field.choices:
        spec.kind = "choice"
        spec.choices = [
            (value, unit_label(value) if model_field.name.endswith("_unit") else str(label))
            for value, label in model_field.flatchoices
            if value not in (None, "")
        ]
        return spec
    if isinstance(model_field, models.BooleanField):
        spec.kind = "yes_no"
        spec.choices = [(True, _("yes")), (False, _("no"))]
    elif isinstance(model_field, models.DateField):
        spec.kind = "date"
        spec.allowed = _("date: year-month-day")
    elif isinstance(model_field, models.TimeField):
        spec.kind = "time"
        spec.allowed = _("time: hours:minutes (24 h)")
    elif isinstance(model_field, models.DecimalField | models.IntegerField | models.FloatField):
        spec.kind = "number"
        low, high = _limits(model_field)
        places = getattr(model_field, "decimal_places", 0) or 0
        digits = getattr(model_field, "max_digits", None)
        if low is not None and high is not None:
            spec.allowed = _("from %(low)s to %(high)s") % {
                "low": number_format(low),
                "high": number_format(high),
            }
        elif low is not None:
            spec.allowed = _("%(low)s or more") % {"low": number_format(low)}
        if places:
            decimals = _("up to %(n)s decimals") % {"n": places}
            spec.allowed = f"{spec.allowed}, {decimals}" if spec.allowed else decimals
        else:
            whole = _("whole number")
            spec.allowed = f"{spec.allowed}, {whole}" if spec.allowed else whole
        spec.boxes = min(digits or len(str(high or 99999)), 8)
    return spec


def paper_form(model: type) -> PaperForm:
    fields = [paper_field(model._meta.get_field(name)) for name in model.ENTRY_FIELDS]
    status = model._meta.get_field("status")
    state = PaperField(
        name="status",
        label=str(status.verbose_name),
        help_text="",
        kind="choice",
        choices=[
            (value, str(label)) for value, label in FormStatus.choices if value != FormStatus.DRAFT
        ],
    )
    reason = paper_field(model._meta.get_field("not_done_reason"))
    return PaperForm(code=model.FORM_CODE, title=str(model.TITLE), fields=[*fields, state, reason])


def visit_paper(code: str) -> dict[str, Any]:
    """The visit's own fields and every form it collects, in the schedule's order."""
    visit_fields = [
        paper_field(Visit._meta.get_field(name))
        for name in ("visit_date", "status", "missed_reason")
    ]
    visit_fields[1].choices = [c for c in visit_fields[1].choices if c[0] != Visit.Status.EXPECTED]
    return {
        "code": code,
        "visit_fields": visit_fields,
        "forms": [paper_form(CRF_MODELS[form_code]) for form_code in VISITS[code].forms],
    }
