"""The long CSV table written straight from the rows read, chunk by chunk of patients.

The same file as the tables built in pandas (``shaping.tables(...)["long"]`` written by
``csv_tables.to_csv_text``), without a DataFrame per chunk: the rows come in study ID order
(``dataset.chunk_rows``), so each patient's visits and forms are joined by dictionary look-up,
each patient's and each form's values are formatted once, and a row is the concatenation of its
patient's, visit's and forms' parts. What the pandas path does, value by value: drafts' values
left out (their status, verification and lock kept), ``<variable>_code`` columns, days since the
reference date instead of calendar dates, text a spreadsheet would run prefixed with ',
missing as an empty cell, whole numbers as 3 and floats as Python writes them.
tests/analysis/test_long_csv.py checks it against the pandas path.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from analysis import plan
from analysis.dataset import (
    CHANGED,
    CODED_VARIABLES,
    NOT_VERIFIED,
    PATIENT_FIELDS,
    VERIFIED,
    VISIT_SOURCE,
    VISIT_VARIABLES,
    chunk_rows,
    code_column,
    form_source,
    form_state_columns,
)
from analysis.exports.options import ExportOptions
from analysis.exports.shaping import (
    DANGEROUS_PREFIXES,
    RELATIVE,
    VISIT_COLUMNS,
    patient_columns,
)
from assessments.models import CRF_MODELS
from assessments.schedule import VISIT_CODES
from monitoring.models import FormVerification
from randomisation import allocation

ANALYSABLE = frozenset(plan.ANALYSABLE_FORM_STATUSES)
PATIENT_AT = {name: i for i, name in enumerate(PATIENT_FIELDS.values())}
VISIT_AT = {name: i for i, name in enumerate(VISIT_SOURCE.values())}


def _text(value: Any) -> Any:
    """A value as written: text a spreadsheet would run prefixed with ', decimals as floats."""
    if isinstance(value, str):
        return "'" + value if value.startswith(DANGEROUS_PREFIXES) else value
    if isinstance(value, Decimal):
        return float(value)
    return value


def _days(value: date | None, reference: date | None) -> int | None:
    return None if value is None or reference is None else (value - reference).days


class _Form:
    """One form's part of a row: its values (each coded one followed by its code), status,
    verification and lock, from the form's row read by ``chunk_rows``. The values are taken
    in one step (``itemgetter``); only text, dates and codes are looked at one by one."""

    def __init__(self, model: type, coded: set[str], relative: bool) -> None:
        self.code = model.FORM_CODE
        source = list(form_source(model, VISIT_VARIABLES[model]).values())
        by_variable = {v: f for f, v in VISIT_VARIABLES[model].items()}
        self.names: list[str] = []
        positions: list[int] = []
        self.text_slots: list[int] = []
        self.date_slots: list[int] = []
        self.code_slots: list[tuple[int, str]] = []
        for variable in VISIT_VARIABLES[model].values():
            kind = model._meta.get_field(by_variable[variable]).get_internal_type()
            slot = len(positions)
            if kind in {"CharField", "TextField"}:
                self.text_slots.append(slot)
            if relative and kind == "DateField":
                self.date_slots.append(slot)
                self.names.append(RELATIVE[variable])
            else:
                self.names.append(variable)
            positions.append(source.index(variable))
            if variable in coded:
                self.code_slots.append((len(positions), variable))
                self.names.append(code_column(variable))
                positions.append(0)  # replaced by the code
        self.values = itemgetter(*positions) if len(positions) > 1 else None
        self.positions = positions
        self.names += form_state_columns(model)
        self.coded_names = dict(CODED_VARIABLES[model])
        self.no_values = [None] * len(positions)
        self.absent = [None] * len(self.names)

    def part(
        self,
        row: tuple,
        patient_pk: int,
        reference: date | None,
        verified: dict[tuple[int, str], str],
        locks: set[tuple],
    ) -> list:
        visit_pk, status, codes_text = row[0], row[1], row[2]
        if status in ANALYSABLE:
            out = list(self.values(row)) if self.values else [row[p] for p in self.positions]
            for slot in self.text_slots:
                value = out[slot]
                if value and value.startswith(DANGEROUS_PREFIXES):
                    out[slot] = "'" + value
            for slot in self.date_slots:
                out[slot] = _days(out[slot], reference)
            if self.code_slots:
                codes = {}
                if codes_text and codes_text != "{}":
                    codes = {
                        self.coded_names[name]: code
                        for name, code in json.loads(codes_text).items()
                        if name in self.coded_names
                    }
                for slot, variable in self.code_slots:
                    out[slot] = _text(codes.get(variable))
        else:  # a draft's values are left out, its status, verification and lock kept
            out = [*self.no_values]
        locked = (
            (patient_pk, visit_pk, self.code) in locks
            or (patient_pk, visit_pk, "") in locks
            or (patient_pk, None, "") in locks
        )
        out += [_text(status), verified.get((visit_pk, self.code), NOT_VERIFIED), locked]
        return out


class LongTable:
    """The long table's header and rows for the chosen visits, forms and dates."""

    def __init__(self, options: ExportOptions, coded: set[str]) -> None:
        self.relative = options.relative_dates
        self.visits = [v for v in sorted(VISIT_CODES) if not options.visits or v in options.visits]
        models = (
            CRF_MODELS.values() if not options.forms else [CRF_MODELS[f] for f in options.forms]
        )
        self.forms = [_Form(model, coded, self.relative) for model in models]
        self.patient_names, self.patient_values = self._patient_columns()
        visit_names = [*VISIT_COLUMNS]
        if self.relative:
            visit_names.remove("visit_date")
        self.header = [
            *self.patient_names,
            *visit_names,
            *(name for form in self.forms for name in form.names),
        ]
        self.no_visit = [None] * (len(visit_names) - 1)

    def _patient_columns(self) -> tuple[list[str], list[Callable[[tuple], Any]]]:
        names, values = [], []
        for name in ["study_id", *(c for c in patient_columns() if c != "study_id")]:
            if name == "stratum":
                values.append(_stratum)
            elif name in RELATIVE and self.relative:
                if RELATIVE[name] is None:
                    continue
                at = PATIENT_AT[name]
                values.append(lambda row, at=at: _days(row[at], _reference(row)))
                name = RELATIVE[name]
            else:
                at = PATIENT_AT[name]
                values.append(lambda row, at=at: _text(row[at]))
            names.append(name)
        return names, values

    def rows(self, chunk: dict[str, list[tuple]]) -> list[list]:
        """The rows of one chunk of patients, in study ID and visit order."""
        verified = {
            (visit_id, form_code): VERIFIED
            if status == FormVerification.Status.VERIFIED
            else CHANGED
            for visit_id, form_code, status in chunk["verified"]
        }
        locks = set(chunk["locks"])
        visits: dict[tuple[int, str], tuple] = {}
        for row in chunk["visits"]:
            visits[(row[VISIT_AT["patient_pk"]], row[VISIT_AT["visit"]])] = row
        forms = [{row[0]: row for row in chunk[form.code]} for form in self.forms]
        out = []
        patients = sorted(chunk["patients"], key=lambda row: row[PATIENT_AT["study_id"]])
        for patient in patients:
            patient_pk = patient[PATIENT_AT["patient_pk"]]
            randomised = patient[PATIENT_AT["randomised_on"]]
            reference = _reference(patient)
            prefix = [value(patient) for value in self.patient_values]
            for code in self.visits:
                visit = visits.get((patient_pk, code))
                if visit is None:
                    row = [*prefix, code, *self.no_visit]
                    out.append(row + [x for form in self.forms for x in form.absent])
                    continue
                visit_pk, visit_date = visit[VISIT_AT["visit_pk"]], visit[VISIT_AT["visit_date"]]
                row = [*prefix, code]
                if not self.relative:
                    row.append(visit_date)
                row += [
                    _days(visit_date, randomised),
                    _text(visit[VISIT_AT["visit_status"]]),
                    _text(visit[VISIT_AT["visit_missed_reason"]]),
                    visit[VISIT_AT["visit_out_of_window"]],
                ]
                for form, by_visit in zip(self.forms, forms, strict=True):
                    found = by_visit.get(visit_pk)
                    if found is None:
                        row += form.absent
                    else:
                        row += form.part(found, patient_pk, reference, verified, locks)
                out.append(row)
        return out


def _reference(patient: tuple) -> date | None:
    """Randomisation date, or consent date for a patient not randomised."""
    randomised = patient[PATIENT_AT["randomised_on"]]
    return randomised if randomised is not None else patient[PATIENT_AT["consent_date"]]


def _stratum(patient: tuple) -> str | None:
    if patient[PATIENT_AT["arm"]] is None:
        return None
    deficient = patient[PATIENT_AT["stratum_b12_deficient"]] is True
    stratum = (
        f"{patient[PATIENT_AT['site']]}/"
        f"{allocation.DEFICIENT if deficient else allocation.NOT_DEFICIENT}"
    )
    return _text(stratum)


LONG_SOURCES = {"visits", "verified", "locks", *(model.FORM_CODE for model in VISIT_VARIABLES)}


def long_csv(
    patients: Any, options: ExportOptions, coded: set[str], chunk: int
) -> Iterator[tuple[str, int]]:
    """The long table as CSV text (header first) and the rows of each piece."""
    table = LongTable(options, coded)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(table.header)
    yield out.getvalue(), 0
    for rows in chunk_rows(
        patients,
        restricted=bool(options.sites or options.study_ids),
        chunk=chunk,
        sources=LONG_SOURCES,
    ):
        out.seek(0)
        out.truncate()
        lines = table.rows(rows)
        writer.writerows(lines)
        yield out.getvalue(), len(lines)
