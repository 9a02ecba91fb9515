"""Import of an export bundle (or its long CSV): every row through the web forms' validation
and the same services, all or nothing.

Hard errors abort everything and are reported as row, variable, value and message; soft
warnings are reported and accepted only when the caller says so. Patients keep their study
ID, arm and randomisation date (a documented path that bypasses the allocation list; refused
for a patient who already exists). With relative dates (the default export), each patient's
day 0 is placed on ANCHOR_DATE.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from analysis.dataset import VISIT_VARIABLES
from analysis.exports.bundle import BUNDLE_FILES
from analysis.exports.shaping import DANGEROUS_PREFIXES, RELATIVE
from assessments import services as crf_services
from assessments.forms import PATIENT_RECORD_FORMS, VisitForm, crf_form_class
from assessments.models import CRF_MODELS, Visit
from assessments.schedule import VISITS
from hfs_ecrf.validation import UnconfirmedWarnings
from patients import services as patient_services
from patients.forms import ConsentForm, MedicalHistoryForm, WithdrawalForm
from patients.models import Site, Withdrawal
from randomisation import allocation

ANCHOR_DATE = date(2000, 1, 1)
RECORD_KINDS = {
    "adverse_events": "ae",
    "treatment_exposure": "exposure",
    "concomitant_medication": "conmed",
}


@dataclass
class Problem:
    file: str
    row: int
    variable: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} row {self.row}: {self.variable}={self.value!r}: {self.message}"


@dataclass
class ImportReport:
    patients: int = 0
    visits: int = 0
    forms: int = 0
    records: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    saved: bool = False


class ImportAborted(Exception):
    def __init__(self, report: ImportReport):
        super().__init__(f"{len(report.errors)} errors, {len(report.warnings)} warnings")
        self.report = report


def read_source(path: Path) -> dict[str, list[dict[str, str]]]:
    """The CSV tables of a bundle (ZIP or folder) or of a single long CSV file."""
    names = {v: k for k, v in BUNDLE_FILES.items()}
    texts: dict[str, str] = {}
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member in names:
                    texts[names[member]] = archive.read(member).decode("utf-8-sig")
    elif path.is_dir():
        for filename, key in names.items():
            if (path / filename).exists():
                texts[key] = (path / filename).read_text(encoding="utf-8-sig")
    else:
        texts["long"] = path.read_text(encoding="utf-8-sig")
    if "long" not in texts:
        raise FileNotFoundError(f"{path}: no {BUNDLE_FILES['long']} found")
    return {
        key: [_clean(row) for row in csv.DictReader(io.StringIO(text))]
        for key, text in texts.items()
    }


def _clean(row: dict[str, str]) -> dict[str, str]:
    """Undo the export's formula neutralisation ('= → =)."""
    out = {}
    for key, value in row.items():
        value = value or ""
        if value.startswith("'") and value[1:].startswith(DANGEROUS_PREFIXES):
            value = value[1:]
        out[key] = value
    return out


def import_data(
    path: Path, *, user: Any, dry_run: bool = False, accept_warnings: bool = False
) -> ImportReport:
    tables = read_source(path)
    report = ImportReport()
    try:
        with transaction.atomic():
            _Importer(tables, report, user=user, file_name=path.name).run()
            blocked = report.errors or (report.warnings and not accept_warnings)
            if blocked or dry_run:
                raise _Rollback
            report.saved = True
    except _Rollback:
        pass
    if report.errors or (report.warnings and not accept_warnings):
        raise ImportAborted(report)
    return report


class _Rollback(Exception):
    pass


def _save_reporting_warnings(save: Any, report: Any, **kwargs: Any) -> Any:
    """Call a service that warns; report each soft warning it refuses, then save confirmed.

    The service decides what is a warning. The import is all-or-nothing: a run whose warnings
    were not accepted (``--accept-warnings``) is rolled back as a whole in ``import_data``, so
    saving past a warning here only lets the check go on to the rows that follow.
    """
    try:
        return save(**kwargs)
    except UnconfirmedWarnings as refused:
        for name, message in refused.warnings.items():
            report(name, message)
        return save(**kwargs, confirmed=True)


class _Importer:
    def __init__(self, tables, report: ImportReport, *, user: Any, file_name: str):
        self.tables, self.report, self.user, self.file = tables, report, user, file_name
        self.relative = "visit_date" not in (tables["long"][0] if tables["long"] else {})
        self.sites = {s.code: s for s in Site.objects.all()}
        self.day0: dict[str, date] = {}
        self.imported: dict[str, Any] = {}
        self.allocation_list = None

    def run(self) -> None:
        rows_by_patient: dict[str, list[tuple[int, dict]]] = defaultdict(list)
        for number, row in enumerate(self.tables["long"], start=2):
            rows_by_patient[row["study_id"]].append((number, row))
        withdrawals = []
        for study_id, rows in rows_by_patient.items():
            patient = self._patient(study_id, rows[0])
            if patient is None:
                continue
            self.imported[study_id] = patient
            self.report.patients += 1
            for number, row in rows:
                self._visit(patient, number, row)
            withdrawals.append((patient, rows[0]))
        for name, kind in RECORD_KINDS.items():
            for number, row in enumerate(self.tables.get(name, []), start=2):
                self._record(name, kind, number, row)
        for patient, (number, row) in withdrawals:
            self._withdrawal(patient, number, row)

    # --- helpers ---------------------------------------------------------------------------

    def _error(self, row: int, variable: str, value: Any, message: Any, file: str = "") -> None:
        self.report.errors.append(
            Problem(file or BUNDLE_FILES["long"], row, variable, str(value), str(message))
        )

    def _form_errors(self, form, row: int, values: dict, file: str = "") -> None:
        for name, messages in form.errors.items():
            for message in messages:
                self._error(row, name, values.get(name, ""), message, file)

    def _date(self, study_id: str, row: dict, column: str) -> str:
        """An ISO date for a date column, from the calendar date or the relative day."""
        if not self.relative:
            return row.get(column, "")
        day_column = RELATIVE.get(column) or ("visit_day" if column == "visit_date" else "")
        value = row.get(day_column, "")
        if value == "":
            return ""
        return (self.day0[study_id] + timedelta(days=int(float(value)))).isoformat()

    # --- patients ----------------------------------------------------------------------------

    def _patient(self, study_id: str, first: tuple[int, dict]):
        number, row = first
        site = self.sites.get(row.get("site", ""))
        if site is None:
            self._error(number, "site", row.get("site"), "no such site in this database")
            return None
        randomised = row.get("randomised_on", "")
        self.day0[study_id] = date.fromisoformat(randomised) if randomised else ANCHOR_DATE
        consent = ConsentForm(
            {
                "consent_date": self._date(study_id, row, "consent_date"),
                "information_sheet_version": row.get("information_sheet_version", ""),
            }
        )
        history = MedicalHistoryForm({k: row.get(k, "") for k in MedicalHistoryForm.Meta.fields})
        valid = consent.is_valid() & history.is_valid()
        if not valid:
            self._form_errors(consent, number, row)
            self._form_errors(history, number, row)
            return None
        arm = row.get("arm", "")
        if arm and self.allocation_list is None:
            self.allocation_list = patient_services.import_allocation_list(
                user=self.user, file_name=self.file
            )
        try:
            return patient_services.patient_import(
                site=site,
                study_id=study_id,
                age=int(float(row.get("age") or 0)),
                consent=consent.instance,
                history=history.instance,
                user=self.user,
                file_name=self.file,
                allocation_list=self.allocation_list,
                arm=arm,
                randomised_on=self.day0[study_id] if arm else None,
                b12_deficient=allocation.stratum_is_deficient(row.get("stratum", "")),
            )
        except ValidationError as error:
            for field_name, messages in _error_items(error):
                self._error(number, field_name or "study_id", study_id, "; ".join(messages))
            return None

    def _visit(self, patient, number: int, row: dict) -> None:
        status = row.get("visit_status", "")
        if not status:
            return
        values = {
            "visit_date": self._date(patient.study_id, row, "visit_date"),
            "status": status,
            "missed_reason": row.get("visit_missed_reason", ""),
        }
        form = VisitForm(values, instance=Visit(patient=patient, code=row["visit"]))
        if not form.is_valid():
            self._form_errors(form, number, values)
            return
        try:
            visit = _save_reporting_warnings(
                crf_services.visit_save,
                lambda name, message: self.report.warnings.append(
                    Problem(BUNDLE_FILES["long"], number, name, values.get(name, ""), message)
                ),
                visit=form.instance,
                user=self.user,
                reason=f"imported from {self.file}",
            )
        except ValidationError as error:
            for name, messages in _error_items(error):
                self._error(number, name or "visit", values.get(name, ""), "; ".join(messages))
            return
        self.report.visits += 1
        for model in CRF_MODELS.values():
            if model.FORM_CODE in _expected_forms(visit.code):
                self._crf(model, visit, number, row)

    def _crf(self, model, visit, number: int, row: dict) -> None:
        mapping = VISIT_VARIABLES[model]
        entry = set(model.ENTRY_FIELDS)
        values = {}
        for field_name, variable in mapping.items():
            if field_name in entry:
                values[field_name] = row.get(variable, "")
        if "sample_date" in values:
            values["sample_date"] = self._date(visit.patient.study_id, row, "lab_sample_date")
        if not any(v not in ("", "False") for v in values.values()):
            return
        for name in entry - set(values):
            field = model._meta.get_field(name)
            values[name] = field.get_default() if field.has_default() else ""
        form = crf_form_class(model)({**values, "action": "draft"}, instance=model(visit=visit))
        if not form.is_valid():
            self._form_errors(
                form, number, {**values, **{f"{k}": row.get(v, "") for k, v in mapping.items()}}
            )
            return
        instance = form.instance
        action = "draft" if instance.missing_required() else "complete"
        _save_reporting_warnings(
            crf_services.crf_save,
            lambda name, message: self.report.warnings.append(
                Problem(
                    BUNDLE_FILES["long"],
                    number,
                    mapping.get(name, name),
                    values.get(name, ""),
                    str(message),
                )
            ),
            form=instance,
            user=self.user,
            action=action,
            reason=f"imported from {self.file}",
        )
        self.report.forms += 1

    def _record(self, name: str, kind: str, number: int, row: dict) -> None:
        file = BUNDLE_FILES[name]
        patient = self.imported.get(row.get("study_id", ""))
        if patient is None:
            self._error(
                number,
                "study_id",
                row.get("study_id"),
                "no patient of that study ID in this import",
                file,
            )
            return
        form_class = PATIENT_RECORD_FORMS[kind]
        values = {}
        for field_name in form_class._meta.fields:
            if field_name in RELATIVE or field_name.endswith(("_on", "_date")):
                values[field_name] = self._date(patient.study_id, row, field_name)
            else:
                values[field_name] = row.get(field_name, "")
        form = form_class(values, instance=form_class._meta.model(patient=patient))
        if not form.is_valid():
            self._form_errors(form, number, values, file)
            return
        _save_reporting_warnings(
            crf_services.patient_record_save,
            lambda name, message: self.report.warnings.append(
                Problem(file, number, name, values.get(name, ""), str(message))
            ),
            record=form.instance,
            user=self.user,
            reason=f"imported from {self.file}",
        )
        self.report.records += 1

    def _withdrawal(self, patient, number: int, row: dict) -> None:
        withdrawn = self._date(patient.study_id, row, "withdrawn_on")
        if not withdrawn:
            return
        values = {
            "withdrawn_on": withdrawn,
            "reason": row.get("withdrawal_reason", ""),
            "reason_other": row.get("withdrawal_reason_other", ""),
        }
        form = WithdrawalForm(values, instance=Withdrawal(patient=patient))
        if not form.is_valid():
            self._form_errors(form, number, values)
            return
        try:
            patient_services.patient_withdraw(withdrawal=form.instance, user=self.user)
        except ValidationError as error:
            for name, messages in _error_items(error):
                self._error(number, name or "withdrawn_on", withdrawn, "; ".join(messages))


def _expected_forms(code: str) -> tuple[str, ...]:
    return VISITS[code].forms


def _error_items(error: ValidationError):
    if hasattr(error, "error_dict"):
        return [
            (name, [str(m) for m in ValidationError(msgs).messages])
            for name, msgs in error.error_dict.items()
        ]
    return [("", [str(m) for m in error.messages])]
