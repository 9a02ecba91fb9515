"""Which column of an import file holds which form field, and which columns a file must have.

With relative dates (the export's default) a date field is read from its day column
(``visit_date`` from ``visit_day``, ``consent_date`` from ``consent_day``); problems name the
column as written in the file."""

from __future__ import annotations

from analysis.dataset import VISIT_VARIABLES
from analysis.exports.shaping import RELATIVE
from assessments.forms import PATIENT_RECORD_FORMS, VisitForm
from patients.forms import ConsentForm, MedicalHistoryForm

RECORD_TABLES = {
    "adverse_events": "ae",
    "treatment_exposure": "exposure",
    "concomitant_medication": "conmed",
}
DAY_COLUMNS = frozenset({"visit_day", *(v for v in RELATIVE.values() if v)})


class Columns:
    """Field → column maps of one import (relative or calendar dates)."""

    def __init__(self, *, relative: bool):
        self.relative = relative
        self.consent = {
            "consent_date": self.date("consent_date"),
            "information_sheet_version": "information_sheet_version",
        }
        self.history = {name: name for name in MedicalHistoryForm.Meta.fields}
        self.visit = {
            "visit_date": self.date("visit_date"),
            "status": "visit_status",
            "missed_reason": "visit_missed_reason",
        }
        self.withdrawal = {
            "withdrawn_on": self.date("withdrawn_on"),
            "reason": "withdrawal_reason",
            "reason_other": "withdrawal_reason_other",
        }
        self._crf = {
            model: {
                name: self.date(variable) if variable in RELATIVE else variable
                for name, variable in mapping.items()
                if name in model.ENTRY_FIELDS
            }
            for model, mapping in VISIT_VARIABLES.items()
        }

    def date(self, name: str) -> str:
        if not self.relative:
            return name
        return "visit_day" if name == "visit_date" else RELATIVE.get(name) or name

    def is_day(self, column: str) -> bool:
        return self.relative and column in DAY_COLUMNS

    def crf(self, model: type) -> dict[str, str]:
        return self._crf[model]

    def record(self, form_class: type) -> dict[str, str]:
        return {
            name: self.date(name) if name in RELATIVE else name for name in form_class._meta.fields
        }


def _required(form_class: type, columns: dict[str, str]) -> list[str]:
    return [
        column
        for name, column in columns.items()
        if name in form_class.base_fields and form_class.base_fields[name].required
    ]


def missing_columns(table: str, header: list[str], columns: Columns) -> list[str]:
    """The required columns absent from a table's header, as they should be written."""
    if table == "long":
        required = [
            "study_id",
            "site",
            "age",
            "visit",
            "visit_status",
            columns.visit["visit_date"],
            *_required(ConsentForm, columns.consent),
            *_required(MedicalHistoryForm, columns.history),
        ]
        if "arm" in header:
            required.append("stratum")
            if not columns.relative:
                required.append("randomised_on")
        required += [c for c in _required(VisitForm, columns.visit) if c not in required]
    else:
        form_class = PATIENT_RECORD_FORMS[RECORD_TABLES[table]]
        required = ["study_id", *_required(form_class, columns.record(form_class))]
    present = set(header)
    return [column for column in dict.fromkeys(required) if column not in present]
