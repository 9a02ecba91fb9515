"""Our study seen as a REDCap longitudinal project: visits are events, forms are instruments,
adverse events, concomitant medication and treatment exposure are repeating instruments.

Built from the exports' variable lists and the models' fields (labels, choices, validators are
the models'); field names are the export's de-identified column names (dates become days since
day 0), so the API, the CSV exports and the data dictionary share one vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext as _

from analysis.dataset import PATIENT_FIELDS, RECORD_FIELDS, VISIT_VARIABLES
from analysis.exports.dictionary import DERIVATIONS, _resolve, _unit
from analysis.exports.shaping import RELATIVE, patient_columns
from assessments.models import CRF_MODELS, Visit
from assessments.schedule import BASELINE_DAYS_BEFORE_RANDOMISATION, SCHEDULE, VISITS
from patients.models import Patient

RECORD_ID = "study_id"
ARM_NUM = 1
REPEATING_EVENT = "ongoing_arm_1"
ENROLMENT = "enrolment"
VISIT_FORM = "visit"
METADATA_COLUMNS = [
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
]
# REDCap's form status: 0 incomplete, 1 unverified, 2 complete.
COMPLETE = {"draft": "0", "not_done": "0", "complete": "2"}


def event_name(code: str) -> str:
    return f"{code.lower()}_arm_{ARM_NUM}"


EVENT_TO_VISIT = {event_name(spec.code): spec.code for spec in SCHEDULE}


def relative_name(column: str) -> str | None:
    """The de-identified export's name of a column (None: not exported)."""
    if column in RELATIVE:
        return RELATIVE[column]
    return column


@dataclass
class Field:
    name: str
    form: str
    model_field: models.Field | None
    source: str = ""  # model field name (or path) the value comes from
    relative_date: bool = False
    derived: bool = False
    required: bool = False


@dataclass
class Instrument:
    name: str
    label: Any
    fields: list[Field] = field(default_factory=list)
    model: type | None = None
    repeating: bool = False


def _fields_of(model, mapping: dict[str, str], form: str, required=()) -> list[Field]:
    out = []
    for source, variable in mapping.items():
        name = relative_name(variable) if variable not in {"visit_date"} else None
        if name is None:
            continue
        model_field = model._meta.get_field(source)
        out.append(
            Field(
                name=name,
                form=form,
                model_field=model_field,
                source=source,
                relative_date=name != variable,
                derived=not model_field.editable,
                required=source in required,
            )
        )
    return out


def instruments() -> list[Instrument]:
    """Every instrument, in the order REDCap shows them; the record ID comes first."""
    by_variable = {v: path for path, v in PATIENT_FIELDS.items()}
    enrolment = Instrument(ENROLMENT, _("Enrolment"), model=Patient)
    enrolment.fields.append(
        Field(RECORD_ID, ENROLMENT, Patient._meta.get_field("study_id"), "study_id")
    )
    for column in patient_columns():
        name = relative_name(column)
        if name is None or column == RECORD_ID:
            continue
        path = by_variable.get(column)
        model_field = _resolve(Patient, path) if path else None
        enrolment.fields.append(
            Field(name, ENROLMENT, model_field, path or column, relative_date=name != column)
        )
    visit = Instrument(VISIT_FORM, _("Visit"), model=Visit)
    visit.fields = [
        Field("visit_day", VISIT_FORM, Visit._meta.get_field("visit_date"), "visit_date", True),
        Field("visit_status", VISIT_FORM, Visit._meta.get_field("status"), "status"),
        Field(
            "visit_missed_reason",
            VISIT_FORM,
            Visit._meta.get_field("missed_reason"),
            "missed_reason",
        ),
    ]
    out = [enrolment, visit]
    for code, model in CRF_MODELS.items():
        mapping = VISIT_VARIABLES[model]
        out.append(
            Instrument(
                code,
                model.TITLE,
                _fields_of(model, mapping, code, required=model.REQUIRED_FIELDS),
                model=model,
            )
        )
    for name, (model, names) in RECORD_FIELDS.items():
        required = [f for f in names if not model._meta.get_field(f).blank]
        out.append(
            Instrument(
                name,
                model._meta.verbose_name_plural,
                _fields_of(model, {f: f for f in names}, name, required=required),
                model=model,
                repeating=True,
            )
        )
    return out


def instrument_map() -> dict[str, Instrument]:
    return {i.name: i for i in instruments()}


def field_map() -> dict[str, Field]:
    return {f.name: f for i in instruments() for f in i.fields}


def events() -> list[dict[str, Any]]:
    rows = [
        {
            "event_name": spec.code,
            "arm_num": ARM_NUM,
            "unique_event_name": event_name(spec.code),
            "custom_event_label": _("day %(day)s") % {"day": spec.day},
            "event_id": index,
            "days_offset": spec.day,
            "offset_min": BASELINE_DAYS_BEFORE_RANDOMISATION if spec.code == "V0" else spec.window,
            "offset_max": 0 if spec.code == "V0" else spec.window,
        }
        for index, spec in enumerate(SCHEDULE, start=1)
    ]
    rows.append(
        {
            "event_name": _("Ongoing records"),
            "arm_num": ARM_NUM,
            "unique_event_name": REPEATING_EVENT,
            "custom_event_label": _("adverse events, medication, treatment"),
            "event_id": len(SCHEDULE) + 1,
            "days_offset": 0,
            "offset_min": 0,
            "offset_max": 0,
        }
    )
    return rows


def event_names() -> list[str]:
    return [e["unique_event_name"] for e in events()]


def form_event_mapping() -> list[dict[str, Any]]:
    rows = []
    for spec in SCHEDULE:
        forms = ([ENROLMENT] if spec.code == "V0" else []) + [VISIT_FORM, *spec.forms]
        rows += [
            {"arm_num": ARM_NUM, "unique_event_name": event_name(spec.code), "form": f}
            for f in forms
        ]
    rows += [
        {"arm_num": ARM_NUM, "unique_event_name": REPEATING_EVENT, "form": name}
        for name in RECORD_FIELDS
    ]
    return rows


def forms_of_event(event: str) -> list[str]:
    return [row["form"] for row in form_event_mapping() if row["unique_event_name"] == event]


def repeating_forms_events() -> list[dict[str, str]]:
    return [
        {"event_name": REPEATING_EVENT, "form_name": name, "custom_form_label": ""}
        for name in RECORD_FIELDS
    ]


def instrument_rows() -> list[dict[str, str]]:
    return [{"instrument_name": i.name, "instrument_label": str(i.label)} for i in instruments()]


# --- metadata (REDCap's data dictionary) ----------------------------------------------------


def choices_of(f: Field) -> list[tuple[str, str]]:
    """(code, label) pairs of a coded field, in the active language."""
    if f.name == "site":
        from patients.models import Site

        return [(c, c) for c in Site.objects.order_by("code").values_list("code", flat=True)]
    if f.name == "visit_status":
        return [(str(v), str(label)) for v, label in Visit.Status.choices]
    mf = f.model_field
    if mf is None:
        return []
    if isinstance(mf, models.BooleanField):
        return [("1", _("Yes")), ("0", _("No"))]
    if mf.choices:
        return [(str(v), str(label)) for v, label in mf.flatchoices if v != ""]
    return []


def _validation(f: Field) -> tuple[str, str, str]:
    mf = f.model_field
    if f.relative_date or f.name == "age":
        return "integer", "", ""
    if mf is None or mf.choices or isinstance(mf, models.BooleanField):
        return "", "", ""
    kind = mf.get_internal_type()
    declared = getattr(mf, "_validators", [])
    low = next((v.limit_value for v in declared if isinstance(v, MinValueValidator)), "")
    high = next((v.limit_value for v in declared if isinstance(v, MaxValueValidator)), "")
    if kind in {"PositiveSmallIntegerField", "PositiveIntegerField", "IntegerField"}:
        return "integer", str(low), str(high)
    if kind in {"DecimalField", "FloatField"}:
        return "number", str(low), str(high)
    if kind == "TimeField":
        return "time", "", ""
    return "", "", ""


def field_label(f: Field) -> str:
    if f.name == "stratum":
        return _("randomisation stratum")
    label = str(f.model_field.verbose_name) if f.model_field is not None else f.name
    if f.relative_date:
        return _("%(label)s (days since day 0)") % {"label": label}
    return label


def metadata_row(f: Field) -> dict[str, str]:
    choices = choices_of(f)
    mf = f.model_field
    if mf is not None and isinstance(mf, models.BooleanField) and not f.derived:
        field_type = "yesno"
    elif choices and not f.derived:
        field_type = "dropdown"
    else:
        field_type = "text"
    validation, low, high = _validation(f)
    unit = "" if f.name in {"age"} else _unit(f.name)
    notes = [str(mf.help_text) if mf is not None and mf.help_text else "", unit]
    derivation = DERIVATIONS.get(f.source, "") or DERIVATIONS.get(f.name, "")
    if f.derived and derivation:
        notes.append(derivation)
    return {
        "field_name": f.name,
        "form_name": f.form,
        "section_header": "",
        "field_type": field_type,
        "field_label": field_label(f),
        "select_choices_or_calculations": " | ".join(f"{c}, {label}" for c, label in choices)
        if field_type == "dropdown"
        else "",
        "field_note": "; ".join(n for n in notes if n),
        "text_validation_type_or_show_slider_number": validation if field_type == "text" else "",
        "text_validation_min": low if field_type == "text" else "",
        "text_validation_max": high if field_type == "text" else "",
        "identifier": "",
        "branching_logic": "",
        "required_field": "y" if f.required else "",
        "custom_alignment": "",
        "question_number": "",
        "matrix_group_name": "",
        "matrix_ranking": "",
        "field_annotation": "@READONLY" if f.derived or f.form == ENROLMENT else "",
    }


def metadata(fields: list[str] | None = None, forms: list[str] | None = None) -> list[dict]:
    rows = [metadata_row(f) for i in instruments() for f in i.fields]
    if fields or forms:
        rows = [
            r for r in rows if r["field_name"] in (fields or ()) or r["form_name"] in (forms or ())
        ]
    return rows


def export_field_names(only: str | None = None) -> list[dict[str, str]]:
    """Every exported column: fields and each instrument's ``<form>_complete``."""
    rows = []
    for instrument in instruments():
        for f in instrument.fields:
            rows.append(
                {"original_field_name": f.name, "choice_value": "", "export_field_name": f.name}
            )
        complete = f"{instrument.name}_complete"
        rows.append(
            {"original_field_name": complete, "choice_value": "", "export_field_name": complete}
        )
    if only:
        rows = [r for r in rows if r["original_field_name"] == only]
    return rows


def project_info(language: str) -> dict[str, Any]:
    return {
        "project_id": 1,
        "project_title": "HFS-B12",
        "creation_time": "",
        "production_time": "",
        "in_production": 1,
        "project_language": {"ru": "Russian", "en": "English"}.get(language, language),
        "purpose": 2,
        "purpose_other": "",
        "project_notes": _(
            "Randomised trial of vitamin B12 added to standard therapy for hemifacial spasm"
        ),
        "custom_record_label": "",
        "secondary_unique_field": "",
        "is_longitudinal": 1,
        "has_repeating_instruments_or_events": 1,
        "surveys_enabled": 0,
        "scheduling_enabled": 0,
        "record_autonumbering_enabled": 0,
        "randomization_enabled": 0,
        "ddp_enabled": 0,
        "project_irb_number": "",
        "project_grant_number": "",
        "project_pi_firstname": "",
        "project_pi_lastname": "",
        "display_today_now_button": 1,
        "missing_data_codes": "",
        "external_modules": "",
        "bypass_branching_erase_field_prompt": 0,
    }


def expected_forms(code: str) -> tuple[str, ...]:
    return VISITS[code].forms
