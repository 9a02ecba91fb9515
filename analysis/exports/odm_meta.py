"""The study design of the ODM export: events, forms, item groups, items, units and code lists,
read from the models' field metadata and the data dictionary (labels under each language,
choices, Min/Max validators, units), never written by hand. No database access.

Item names are the de-identified export's column names: with relative dates a date becomes an
integer number of days since day 0 (``consent_date`` → ``consent_day``), as in the CSV tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation

from analysis.dataset import PATIENT_FIELDS, RECORD_FIELDS, VISIT_VARIABLES
from analysis.exports.dictionary import _resolve, _unit, dictionary
from analysis.exports.shaping import HIDDEN_PATIENT_VARIABLES, RELATIVE
from assessments.models import CRF_MODELS, Visit
from assessments.schedule import SCHEDULE
from patients.models import Patient

LANGUAGES = ("en", "ru")
SUBJECT_KEY = "study_id"  # the SubjectKey, not an item
PATIENT_FORM = "patient"
VISIT_FORM = "visit"
COMMON_EVENT = "SE.COMMON"
# ODM DataType of a model field's internal type; dates written as days are integers
DATA_TYPES = {
    "PositiveSmallIntegerField": "integer",
    "PositiveIntegerField": "integer",
    "SmallIntegerField": "integer",
    "IntegerField": "integer",
    "BigIntegerField": "integer",
    "FloatField": "float",
    "DecimalField": "float",
    "BooleanField": "boolean",
    "DateField": "date",
    "TimeField": "time",
    "DateTimeField": "datetime",
}
# The visit's own columns of the long table: column -> Visit field
VISIT_COLUMNS = {"visit_date": "visit_date", "visit_status": "status"}
VISIT_COLUMNS["visit_missed_reason"] = "missed_reason"


def oid(prefix: str, name: str) -> str:
    return f"{prefix}.{name.upper()}"


def in_languages(text: Any) -> dict[str, str]:
    """A lazily translated text in English and Russian."""
    out = {}
    for language in LANGUAGES:
        with translation.override(language):
            out[language] = str(text)
    return out


@dataclass
class Item:
    name: str  # the export's column name
    labels: dict[str, str]  # language -> question text
    data_type: str
    source: str = ""  # the model field (or path) the value comes from; "" when derived
    unit: str = ""
    low: Any = None
    high: Any = None
    choices: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    length: int | None = None
    days: bool = False  # a date written as days since day 0

    @property
    def oid(self) -> str:
        return oid("IT", self.name)

    @property
    def codelist_oid(self) -> str | None:
        return oid("CL", self.name) if self.choices else None


@dataclass
class Form:
    code: str
    labels: dict[str, str]
    items: list[Item]
    repeating: bool = False
    records: str = ""  # the per-patient record table, for a repeating form

    @property
    def oid(self) -> str:
        return oid("F", self.code)

    @property
    def group_oid(self) -> str:
        return oid("IG", self.code)


@dataclass
class Event:
    oid: str
    name: str
    forms: list[str]  # form codes
    event_type: str = "Scheduled"
    repeating: bool = False


@dataclass
class Design:
    events: list[Event]
    forms: dict[str, Form]
    units: dict[str, str]  # unit -> MeasurementUnit OID

    def items(self) -> list[Item]:
        return [item for form in self.forms.values() for item in form.items]


def _choices(model_field: models.Field) -> list[tuple[str, dict[str, str]]]:
    if not model_field.choices:
        return []
    out = []
    for value, label in model_field.flatchoices:
        if value in ("", None):
            continue
        out.append((str(value), in_languages(label)))
    return out


def field_item(model_field: models.Field, name: str, *, source: str, relative: bool) -> Item:
    """The item of one model field, exported as column ``name``."""
    internal = model_field.get_internal_type()
    data_type = DATA_TYPES.get(internal, "text")
    days = relative and internal == "DateField"
    if days:
        name, data_type = RELATIVE.get(name) or name, "integer"
    declared = model_field._validators  # written on the model, not the database's own limits
    low = next((v.limit_value for v in declared if isinstance(v, MinValueValidator)), None)
    high = next((v.limit_value for v in declared if isinstance(v, MaxValueValidator)), None)
    choices = _choices(model_field)
    length = model_field.max_length if data_type == "text" and not choices else None
    return Item(
        name=name,
        labels=in_languages(model_field.verbose_name),
        data_type=data_type,
        source=source,
        unit="days" if days else _unit(name),
        low=low,
        high=high,
        choices=choices,
        length=length,
        days=days,
    )


def _dictionary_item(variable: str, data_type: str) -> Item:
    """An item that has no model field (derived): labels and unit from the data dictionary."""
    row = dictionary().drop_duplicates("variable").set_index("variable").loc[variable]
    return Item(
        name=variable,
        labels={"en": row.label_en, "ru": row.label_ru},
        data_type=data_type,
        unit=row.unit,
    )


def design(*, relative_dates: bool) -> Design:
    """The study design as the export of these options writes it."""
    forms: dict[str, Form] = {}
    patient_items = []
    for path, variable in PATIENT_FIELDS.items():
        if variable in HIDDEN_PATIENT_VARIABLES or variable == SUBJECT_KEY:
            continue
        if relative_dates and RELATIVE.get(variable, "") is None:
            continue  # randomised_on: day 0 itself
        patient_items.append(
            field_item(_resolve(Patient, path), variable, source=variable, relative=relative_dates)
        )
    patient_items.append(_dictionary_item("stratum", "text"))
    forms[PATIENT_FORM] = Form(
        PATIENT_FORM, in_languages(Patient._meta.verbose_name), patient_items
    )

    visit_items = [_dictionary_item("visit_day", "integer")]
    for column, source in VISIT_COLUMNS.items():
        if column == "visit_date" and relative_dates:
            continue  # visit_day says it
        visit_items.append(
            field_item(Visit._meta.get_field(source), column, source=source, relative=False)
        )
    forms[VISIT_FORM] = Form(VISIT_FORM, in_languages(Visit._meta.verbose_name), visit_items)

    for code, model in CRF_MODELS.items():
        items = [
            field_item(
                model._meta.get_field(name), variable, source=variable, relative=relative_dates
            )
            for name, variable in VISIT_VARIABLES[model].items()
        ]
        forms[code] = Form(code, in_languages(model.TITLE or model._meta.verbose_name), items)

    for table, (model, fields) in RECORD_FIELDS.items():
        items = [
            field_item(model._meta.get_field(name), name, source=name, relative=relative_dates)
            for name in fields
        ]
        forms[table] = Form(
            table,
            in_languages(model._meta.verbose_name_plural),
            items,
            repeating=True,
            records=table,
        )

    names = [item.name for form in forms.values() for item in form.items]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"ODM item names must be unique; repeated: {sorted(duplicates)}")

    events = [
        Event(oid("SE", spec.code), spec.code, [VISIT_FORM, *spec.forms]) for spec in SCHEDULE
    ]
    events.append(
        Event(
            COMMON_EVENT,
            "Patient and per-patient records",
            [PATIENT_FORM, *RECORD_FIELDS],
            event_type="Common",
        )
    )
    units = sorted({item.unit for form in forms.values() for item in form.items if _is_unit(item)})
    return Design(
        events=events,
        forms=forms,
        units={unit: f"MU.{index}" for index, unit in enumerate(units, start=1)},
    )


def _is_unit(item: Item) -> bool:
    """A fixed unit (the lab values' units vary per value and have their own column)."""
    return bool(item.unit) and not item.unit.startswith("see ")
