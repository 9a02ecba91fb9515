"""The data dictionary: every exported variable with its form, labels (en, ru), type, unit,
allowed range or choices and derivation, read from the models' field metadata."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from analysis.dataset import (
    CHANGED,
    NOT_VERIFIED,
    PATIENT_FIELDS,
    RECORD_FIELDS,
    VERIFIED,
    VISIT_VARIABLES,
    code_column,
    form_state_columns,
)
from analysis.exports.csv_tables import to_csv_text
from analysis.exports.shaping import HIDDEN_PATIENT_VARIABLES
from assessments.instruments.labs import B12_DEFICIENT_BELOW
from assessments.models import MissingCode, Visit
from assessments.schedule import VISIT_CODES
from patients.models import Patient

# reserved numeric value of each missing-data code in the SPSS file (declared user-missing)
SPSS_MISSING_VALUES = {
    MissingCode.NOT_DONE.value: -91.0,
    MissingCode.UNKNOWN.value: -92.0,
    MissingCode.NOT_APPLICABLE.value: -93.0,
    MissingCode.REFUSED.value: -94.0,
}
CODE_SCHEME = (
    "missing-data code of <variable>: a column <variable>_code follows a visit variable only "
    "when some form in the export carries a code for it; where a code is given the variable "
    "itself is empty, so every analysis treats it as missing. SPSS (.sav): a coded numeric "
    "variable holds the code's reserved value ({reserved}), declared user-missing (range -94 "
    "to -91) and labelled."
)


def dictionary() -> pd.DataFrame:
    """Variable, form, label (en, ru), type, unit, allowed range or choices, derivation."""
    rows = []
    for model, mapping in VISIT_VARIABLES.items():
        for field_name, variable in mapping.items():
            rows.append(
                _describe(
                    model._meta.get_field(field_name),
                    variable,
                    model._meta.model_name,
                    level="visit",
                )
            )
    for path, variable in PATIENT_FIELDS.items():
        if variable in HIDDEN_PATIENT_VARIABLES:
            continue
        field = _resolve(Patient, path)
        rows.append(_describe(field, variable, field.model._meta.model_name, level="patient"))
    rows += [
        {
            "variable": "visit",
            "form": "visit",
            "level": "visit",
            "label_en": "visit",
            "label_ru": "визит",
            "type": "string",
            "unit": "",
            "allowed": ", ".join(VISIT_CODES),
            "derivation": "",
        },
        {
            "variable": "visit_day",
            "form": "visit",
            "level": "visit",
            "label_en": "days since randomisation",
            "label_ru": "дней от рандомизации",
            "type": "integer",
            "unit": "days",
            "allowed": "",
            "derivation": "visit date − day 0",
        },
        {
            "variable": "stratum",
            "form": "allocation",
            "level": "patient",
            "label_en": "randomisation stratum",
            "label_ru": "страта рандомизации",
            "type": "string",
            "unit": "",
            "allowed": "site/B12-deficient, site/B12-not-deficient",
            "derivation": f"site and baseline B12 < {B12_DEFICIENT_BELOW} pmol/L at randomisation",
        },
    ]
    for name, (model, fields) in RECORD_FIELDS.items():
        for field_name in fields:
            rows.append(
                _describe(model._meta.get_field(field_name), field_name, name, level="record")
            )
    return pd.DataFrame(rows + monitoring_rows())


def monitoring_rows() -> list[dict[str, Any]]:
    """The visit's out-of-window flag, each form's status, verification and lock columns, and
    the missing-data code scheme with its list of codes."""
    rows = [
        _describe(Visit._meta.get_field("out_of_window"), "visit_out_of_window", "visit", "visit")
    ]
    for model in VISIT_VARIABLES:
        status, verified, locked = form_state_columns(model)
        form = model._meta.model_name
        row = _describe(model._meta.get_field("status"), status, form, level="visit")
        row["derivation"] = "empty: never saved; only complete forms carry values (SAP §4)"
        rows.append(row)
        rows.append(
            _row(
                verified,
                form,
                _("source data verification"),
                "string",
                f"{VERIFIED}=verified; {NOT_VERIFIED}=not verified; "
                f"{CHANGED}=changed since verification",
            )
        )
        rows.append(
            _row(
                locked,
                form,
                _("locked"),
                "boolean (True/False)",
                "",
                "True when the form, its visit or the whole patient is locked",
            )
        )
    reserved = ", ".join(f"{code}={value:g}" for code, value in SPSS_MISSING_VALUES.items())
    with translation.override("en"):
        codes = "; ".join(f"{code.value}={code.label}" for code in MissingCode)
    rows.append(
        _row(
            code_column("<variable>"),
            "all forms",
            _("missing-data code"),
            "string",
            codes,
            CODE_SCHEME.format(reserved=reserved),
        )
    )
    return rows


def _row(variable, form, label, kind, allowed, derivation="") -> dict[str, Any]:
    with translation.override("en"):
        label_en = str(label)
    with translation.override("ru"):
        label_ru = str(label)
    return {
        "variable": variable,
        "form": form,
        "level": "visit",
        "label_en": label_en,
        "label_ru": label_ru,
        "type": kind,
        "unit": "",
        "allowed": allowed,
        "derivation": derivation,
        "help": "",
    }


def _resolve(model, path: str):
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model or model
    return field


DERIVATIONS = {
    "jankovic_total": "severity + frequency",
    "spasm_rate_per_min": "spasm count / observation minutes",
    "b12_pmol_l": "value × 0.7378 when entered in pg/mL",
    "cortisol_nmol_l": "value × 27.59 when entered in µg/dL",
    "dopamine_pmol_l": "value × 6.528 when entered in pg/mL",
    "rand36_pcs": "1990 US-norm coefficients",
    "rand36_mcs": "1990 US-norm coefficients",
    "hads_a": "mean of answered odd items × 7 (≥ 4 of 7)",
    "hads_d": "mean of answered even items × 7 (≥ 4 of 7)",
    "hdrs_total": "sum of items 1–17",
    "age": "completed years at consent",
}


def _describe(field, variable: str, form: str, level: str) -> dict[str, Any]:
    with translation.override("en"):
        label_en, choices_en, help_en = (
            str(field.verbose_name),
            _choices(field),
            str(field.help_text or ""),
        )
    with translation.override("ru"):
        label_ru = str(field.verbose_name)
    declared = field._validators  # those written on the model, not the database's own limits
    low = next((v.limit_value for v in declared if isinstance(v, MinValueValidator)), None)
    high = next((v.limit_value for v in declared if isinstance(v, MaxValueValidator)), None)
    allowed = choices_en or (f"{low}–{high}" if low is not None or high is not None else "")
    derivation = DERIVATIONS.get(variable, "")
    if not derivation and variable.startswith("rand36_") and not variable.startswith("rand36_q"):
        derivation = "RAND-36 scale: mean of recoded answered items (half rule)"
    return {
        "variable": variable,
        "form": form,
        "level": level,
        "label_en": label_en,
        "label_ru": label_ru,
        "type": _TYPES.get(field.get_internal_type(), "string"),
        "unit": _unit(variable),
        "allowed": allowed,
        "derivation": derivation,
        "help": help_en,
    }


_TYPES = {
    "PositiveSmallIntegerField": "integer",
    "PositiveIntegerField": "integer",
    "IntegerField": "integer",
    "BigAutoField": "integer",
    "FloatField": "number",
    "DecimalField": "number",
    "BooleanField": "boolean (True/False)",
    "DateField": "date",
    "TimeField": "time",
    "CharField": "string",
    "TextField": "string",
    "ForeignKey": "string",
    "DateTimeField": "datetime",
}
_UNITS = {
    "vas_frequency": "mm",
    "vas_intensity": "mm",
    "observation_minutes": "min",
    "spasm_rate_per_min": "1/min",
    "b12_pmol_l": "pmol/L",
    "cortisol_nmol_l": "nmol/L",
    "dopamine_pmol_l": "pmol/L",
    "age": "years",
    "disease_duration_months": "months",
    "dose_ug": "µg",
}


def _unit(variable: str) -> str:
    if variable.endswith(("_value", "_ref_low", "_ref_high")):
        return "see the matching _unit column"
    return _UNITS.get(variable, "")


def _choices(field) -> str:
    if not field.choices:
        return ""
    return "; ".join(f"{value}={label}" for value, label in field.flatchoices if value != "")


def dictionary_csv() -> tuple[str, int]:
    """The dictionary as CSV text, and its number of variables."""
    frame = dictionary()
    return to_csv_text(frame), len(frame)
