"""Import of an export bundle (or its long CSV): every row through the web forms' validation
and the same services, all or nothing.

Nothing is guessed: a blank cell is a missing value, a yes/no cell accepts only the words in
``import_values``, an unknown visit code or site is an error, a file the export could not have
written (binary, not UTF-8, semicolons, empty, missing required columns) is refused before any
row is read (``import_source``). Hard errors abort everything and are reported with the file,
row, column as written in the file, value and message; soft warnings are reported and accepted
only when the caller says so. Patients keep their study ID, arm and randomisation date (a
documented path that bypasses the allocation list; refused for a patient who already exists).
With relative dates (the default export), each patient's day 0 is placed on ANCHOR_DATE.

Missing-data codes come back from the ``<variable>_code`` columns, and a draft or "not done"
form (no values in the analysis files) from its ``<form>_status`` column. Verification and
locks are not imported: they belong to the database the data were checked in.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from contextlib import nullcontext
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from analysis.dataset import CODED_VARIABLES, code_column
from analysis.exports import import_values as values_
from analysis.exports.import_columns import RECORD_TABLES, Columns, missing_columns
from analysis.exports.import_report import (
    ImportAborted,
    ImportReport,
    Problem,
    SourceUnreadable,
)
from analysis.exports.import_source import Table, clean_cell, read_source
from assessments import services as crf_services
from assessments.forms import PATIENT_RECORD_FORMS, VisitForm, code_field_name, crf_form_class
from assessments.models import CRF_MODELS, FormStatus, Visit
from assessments.schedule import VISITS
from hfs_ecrf import write_scope
from hfs_ecrf.audit import bulk_audited_writes
from hfs_ecrf.data_version import data_version_bump
from hfs_ecrf.forms import validation_form
from hfs_ecrf.validation import warnings_reported_to
from monitoring.guards import import_scope
from patients import services as patient_services
from patients.forms import ConsentForm, MedicalHistoryForm, WithdrawalForm
from patients.models import Patient, Site, Withdrawal
from randomisation import allocation

__all__ = ["ANCHOR_DATE", "ImportAborted", "ImportReport", "Problem", "import_data"]

logger = logging.getLogger(__name__)
# Day 0 of de-identified (relative-date) data: a year after the study start, so that the days
# before randomisation (screening, consent) are still after it (hfs_ecrf.validation).
ANCHOR_DATE = settings.STUDY_START + timedelta(days=365)


def import_data(
    path: Path, *, user: Any, dry_run: bool = False, accept_warnings: bool = False
) -> ImportReport:
    """Validate and save everything in ``path``, or nothing: raises ``ImportAborted`` with the
    report when there are hard errors (or warnings not accepted); ``FileNotFoundError`` when
    there is no such file.

    The first pass writes in bulk (``hfs_ecrf.write_scope``: no savepoints, no existence checks
    of rows it wrote itself, history rows in bulk) and stops at the first hard error; then the
    whole import is rolled back and run again row by row, with a savepoint per save, so that the
    report lists every error of the file. Both passes validate every row the same way."""
    report = ImportReport()
    try:
        tables = read_source(path)
    except SourceUnreadable as unreadable:
        report.errors += unreadable.problems
        raise ImportAborted(report) from None
    importer = _Importer(tables, report, user=user, source=path.name)
    if not importer.check_columns():
        raise ImportAborted(report)
    if not _attempt(importer, dry_run=dry_run, accept_warnings=accept_warnings, bulk=True):
        importer = _Importer(tables, ImportReport(), user=user, source=path.name)
        _attempt(importer, dry_run=dry_run, accept_warnings=accept_warnings, bulk=False)
    report = importer.report
    if report.errors or (report.warnings and not accept_warnings):
        raise ImportAborted(report)
    return report


def _attempt(importer: _Importer, *, dry_run: bool, accept_warnings: bool, bulk: bool) -> bool:
    """One pass in one transaction; False when the bulk pass stopped (nothing saved)."""
    report = importer.report
    importer.bulk = bulk
    try:
        with transaction.atomic(), import_scope():
            data_version_bump()  # once for the whole import (hfs_ecrf/data_version.py)
            with bulk_audited_writes() if bulk else nullcontext():
                importer.run()
            blocked = report.errors or (report.warnings and not accept_warnings)
            if blocked or dry_run:
                raise _Rollback
            report.saved = True
    except _Rollback:
        pass
    except Exception as error:  # noqa: BLE001 - any file must end in a report, never a traceback
        if bulk:  # _Stop, or whatever followed a failure without a savepoint: row by row
            return False
        logger.exception("import of %s failed at %s row %s", importer.source, *importer.where)
        file, row = importer.where
        message = _("this row could not be imported (%(error)s); nothing was saved") % {
            "error": f"{type(error).__name__}: {error}"[:300]
        }
        report.errors.append(Problem(file, row, "", "", message))
        report.saved = False
    return True


class _Rollback(Exception):
    pass


class _Stop(Exception):
    """A hard error in the bulk pass: the transaction cannot go on without savepoints."""


RECORD_KINDS = RECORD_TABLES  # the API's record import reads the same tables


def _clean(row: dict[str, str]) -> dict[str, str]:
    """Undo the export's formula neutralisation in every cell of a row (the API's import)."""
    return {key: clean_cell(value or "") for key, value in row.items()}


@cache
def _crf_form(model: type) -> type:
    return validation_form(crf_form_class(model))


@cache
def _form(form_class: type) -> type:
    """The form as the web page validates it, without deep copies of its fields (never shown)."""
    return validation_form(form_class)


class _Importer:
    def __init__(self, tables: dict[str, Table], report: ImportReport, *, user: Any, source: str):
        self.tables, self.report, self.user, self.source = tables, report, user, source
        self.long = tables["long"]
        self.columns = Columns(relative="visit_date" not in self.long.columns)
        self.reason = f"imported from {source}"
        self.day0: dict[str, date] = {}
        self.imported: dict[str, Patient] = {}
        self.allocation_list = None
        self.where: tuple[str, int] = (self.long.file, 0)
        self.bulk = False

    # --- problems ------------------------------------------------------------------------------

    def _error(self, file: str, row: int, column: str, value: Any, message: Any) -> None:
        self.report.errors.append(Problem(file, row, column, str(value), str(message)))
        if self.bulk:
            raise _Stop

    def _field_errors(self, file, row, errors, columns: dict[str, str], data: dict) -> None:
        """Errors keyed by field name, reported under the file's column and its value."""
        for name, messages in errors:
            column = columns.get(name, "" if name in ("__all__", "") else name)
            for message in messages:
                self._error(file, row, column, data.get(column, "") if column else "", message)

    def _warner(self, row: int, columns: dict[str, str], data: dict, file: str = ""):
        def report(name: str, message: Any) -> None:
            column = columns.get(name, name)
            self.report.warnings.append(
                Problem(file or self.long.file, row, column, data.get(column, ""), str(message))
            )

        return report

    # --- values -----------------------------------------------------------------------------

    def _form_data(self, form_class, columns: dict[str, str], row: dict, number: int, file: str):
        """The form's data from the row's cells, strictly read; None after reporting a bad cell."""
        data, ok = {}, True
        study_id = row.get("study_id", "")
        for name, column in columns.items():
            field = form_class.base_fields.get(name)
            if field is None:
                continue
            text = row.get(column, "")
            try:
                if self.columns.is_day(column):
                    data[name] = values_.day_to_date(self.day0[study_id], text)
                elif values_.is_yes_no(field):
                    data[name] = values_.yes_no(text)
                else:
                    data[name] = text
            except values_.BadValue as bad:
                self._error(file, number, column, text, bad)
                ok = False
        return data if ok else None

    # --- the run ------------------------------------------------------------------------------

    def check_columns(self) -> bool:
        for key, table in self.tables.items():
            for column in missing_columns(key, table.columns, self.columns):
                self._error(
                    table.file,
                    1,
                    column,
                    "",
                    _("required column missing from the header"),
                )
        return not self.report.errors

    def run(self) -> None:
        self.sites = {s.code: s for s in Site.objects.all()}
        write_scope.know(self.user, *self.sites.values())
        rows_by_patient: dict[str, list[tuple[int, dict]]] = defaultdict(list)
        for number, row in enumerate(self.long.rows, start=2):
            rows_by_patient[row["study_id"]].append((number, row))
        withdrawals = []
        for study_id, rows in rows_by_patient.items():
            self.where = (self.long.file, rows[0][0])
            patient = self._patient(study_id, rows[0])
            if patient is None:
                continue
            self.imported[study_id] = patient
            self.report.patients += 1
            seen: dict[str, int] = {}
            for number, row in rows:
                self.where = (self.long.file, number)
                self._visit(patient, number, row, seen)
            withdrawals.append((patient, rows[0]))
        for name, kind in RECORD_TABLES.items():
            if name not in self.tables:
                continue
            for number, row in enumerate(self.tables[name].rows, start=2):
                self.where = (self.tables[name].file, number)
                self._record(name, kind, number, row)
        for patient, (number, row) in withdrawals:
            self.where = (self.long.file, number)
            self._withdrawal(patient, number, row)

    # --- patients ----------------------------------------------------------------------------

    def _patient(self, study_id: str, first: tuple[int, dict]) -> Patient | None:
        number, row = first
        file, ok = self.long.file, True
        try:
            Patient._meta.get_field("study_id").clean(study_id, None)
        except ValidationError as error:
            self._error(file, number, "study_id", study_id, "; ".join(error.messages))
            return None
        site = self.sites.get(row.get("site", ""))
        if site is None:
            allowed = ", ".join(sorted(self.sites)) or "-"
            self._error(
                file,
                number,
                "site",
                row.get("site"),
                _("no such site in this database; sites: %(sites)s") % {"sites": allowed},
            )
            ok = False
        age = self._age(number, row)
        day0 = self._day0(number, row)
        arm = row.get("arm", "")
        b12_deficient = self._stratum(number, row, site) if arm and site else False
        if not ok or age is None or day0 is None or b12_deficient is None:
            return None
        self.day0[study_id] = day0
        consent_columns = self.columns.consent
        history_columns = self.columns.history
        consent_data = self._form_data(ConsentForm, consent_columns, row, number, file)
        history_data = self._form_data(MedicalHistoryForm, history_columns, row, number, file)
        if consent_data is None or history_data is None:
            return None
        consent = _form(ConsentForm)(consent_data)
        history = _form(MedicalHistoryForm)(history_data)
        if not (consent.is_valid() & history.is_valid()):
            self._field_errors(file, number, consent.errors.items(), consent_columns, row)
            self._field_errors(file, number, history.errors.items(), history_columns, row)
            return None
        if arm and self.allocation_list is None:
            self.allocation_list = patient_services.import_allocation_list(
                user=self.user, file_name=self.source
            )
        try:
            return patient_services.patient_import(
                site=site,
                study_id=study_id,
                age=age,
                consent=consent.instance,
                history=history.instance,
                user=self.user,
                file_name=self.source,
                allocation_list=self.allocation_list,
                arm=arm,
                randomised_on=day0 if arm else None,
                b12_deficient=b12_deficient,
            )
        except ValidationError as error:
            columns = {**consent_columns, **history_columns, "age_at_consent": "age"}
            columns |= {"": "study_id", "__all__": "study_id"}
            self._field_errors(file, number, _error_items(error), columns, row)
            return None

    def _age(self, number: int, row: dict) -> int | None:
        text = row.get("age", "")
        field = Patient._meta.get_field("age_at_consent")
        try:
            age = values_.whole_number(text)
            if age is None:
                raise values_.BadValue(_("blank: the age at consent is required"))
            field.run_validators(age)
        except (values_.BadValue, ValidationError) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            self._error(self.long.file, number, "age", text, "; ".join(messages))
            return None
        return age

    def _day0(self, number: int, row: dict) -> date | None:
        if self.columns.relative:
            return ANCHOR_DATE
        text = row.get("randomised_on", "")
        try:
            return values_.iso_date(text) or ANCHOR_DATE
        except values_.BadValue as bad:
            self._error(self.long.file, number, "randomised_on", text, bad)
            return None

    def _stratum(self, number: int, row: dict, site: Site) -> bool | None:
        text = row.get("stratum", "")
        labels = {
            allocation.stratum_label(site.code, deficient): deficient for deficient in (True, False)
        }
        if text in labels:
            return labels[text]
        message = _("not a stratum of site %(site)s; allowed: %(allowed)s") % {
            "site": site.code,
            "allowed": ", ".join(labels),
        }
        self._error(self.long.file, number, "stratum", text, message)
        return None

    # --- visits and forms ---------------------------------------------------------------------

    def _visit(self, patient: Patient, number: int, row: dict, seen: dict[str, int]) -> None:
        file, code = self.long.file, row.get("visit", "")
        if code not in VISITS:
            message = _("no such visit; visits: %(codes)s") % {"codes": ", ".join(VISITS)}
            self._error(file, number, "visit", code, message)
            return
        if code in seen:
            message = _("visit %(code)s of this patient is already on row %(row)d") % {
                "code": code,
                "row": seen[code],
            }
            self._error(file, number, "visit", code, message)
            return
        seen[code] = number
        if not row.get("visit_status", ""):
            return  # a scheduled visit not held yet: the export writes a row of blanks
        columns = self.columns.visit
        data = self._form_data(VisitForm, columns, row, number, file)
        if data is None:
            return
        form = _form(VisitForm)(data, instance=Visit(patient=patient, code=code))
        if not form.is_valid():
            self._field_errors(file, number, form.errors.items(), columns, row)
            return
        try:
            visit = _save_reporting_warnings(
                crf_services.visit_save,
                self._warner(number, columns, row),
                visit=form.instance,
                user=self.user,
                reason=self.reason,
            )
        except ValidationError as error:
            self._field_errors(file, number, _error_items(error), {"": "visit", **columns}, row)
            return
        self.report.visits += 1
        for model in CRF_MODELS.values():
            if model.FORM_CODE in VISITS[code].forms:
                self._crf(model, visit, number, row)

    def _crf(self, model, visit: Visit, number: int, row: dict) -> None:
        file = self.long.file
        columns = self.columns.crf(model)
        form_class = _crf_form(model)
        data = self._form_data(form_class, columns, row, number, file)
        if data is None:
            return
        # missing-data codes: "<variable>_code" columns, present where some form has a code
        codes = {
            code_field_name(name): row.get(code_column(variable), "")
            for name, variable in CODED_VARIABLES[model].items()
        }
        # A draft or "not done" form has no values in the analysis files; its status column
        # still says it exists, so it is made again (empty) with that status.
        status = row.get(f"{model.FORM_CODE}_status", "")
        empty = all(value in ("", "false", False) for value in [*data.values(), *codes.values()])
        if empty and status not in (FormStatus.DRAFT, FormStatus.NOT_DONE):
            return  # nothing entered for this form at this visit
        for name in set(model.ENTRY_FIELDS) - set(data):
            field = model._meta.get_field(name)
            data[name] = field.get_default() if field.has_default() else ""
        form = form_class({**data, **codes, "action": "draft"}, instance=model(visit=visit))
        if not form.is_valid():
            self._field_errors(file, number, form.errors.items(), columns, row)
            return
        instance = form.instance
        action = "draft" if instance.missing_required() else "complete"
        if status == FormStatus.NOT_DONE and action == "draft":
            action = "not_done"
        try:
            _save_reporting_warnings(
                crf_services.crf_save,
                self._warner(number, columns, row),
                form=instance,
                user=self.user,
                action=action,
                reason=self.reason,
                not_done_reason=self.reason if action == "not_done" else "",
            )
        except ValidationError as error:
            self._field_errors(file, number, _error_items(error), columns, row)
            return
        self.report.forms += 1

    # --- per-patient records and withdrawals --------------------------------------------------

    def _record(self, name: str, kind: str, number: int, row: dict) -> None:
        file = self.tables[name].file
        patient = self.imported.get(row.get("study_id", ""))
        if patient is None:
            message = _("no patient of that study ID in this import")
            self._error(file, number, "study_id", row.get("study_id", ""), message)
            return
        form_class = PATIENT_RECORD_FORMS[kind]
        columns = self.columns.record(form_class)
        data = self._form_data(form_class, columns, row, number, file)
        if data is None:
            return
        form = _form(form_class)(data, instance=form_class._meta.model(patient=patient))
        if not form.is_valid():
            self._field_errors(file, number, form.errors.items(), columns, row)
            return
        try:
            _save_reporting_warnings(
                crf_services.patient_record_save,
                self._warner(number, columns, row, file),
                record=form.instance,
                user=self.user,
                reason=self.reason,
            )
        except ValidationError as error:
            self._field_errors(file, number, _error_items(error), columns, row)
            return
        self.report.records += 1

    def _withdrawal(self, patient: Patient, number: int, row: dict) -> None:
        file, columns = self.long.file, self.columns.withdrawal
        data = self._form_data(WithdrawalForm, columns, row, number, file)
        if data is None or not any(data.values()):
            return
        form = _form(WithdrawalForm)(data, instance=Withdrawal(patient=patient))
        if not form.is_valid():
            self._field_errors(file, number, form.errors.items(), columns, row)
            return
        try:
            patient_services.patient_withdraw(withdrawal=form.instance, user=self.user)
        except ValidationError as error:
            columns = {"": columns["withdrawn_on"], **columns}
            self._field_errors(file, number, _error_items(error), columns, row)


def _save_reporting_warnings(save: Any, report: Any, **kwargs: Any) -> Any:
    """Call a service that warns; report each soft warning it finds, and save past it.

    The service decides what is a warning. The import is all-or-nothing: a run whose warnings
    were not accepted (``--accept-warnings``) is rolled back as a whole in ``import_data``, so
    saving past a warning here only lets the check go on to the rows that follow.
    """
    with warnings_reported_to(report):
        return save(**kwargs)


def _error_items(error: ValidationError) -> list[tuple[str, list[str]]]:
    if hasattr(error, "error_dict"):
        return [
            (name, [str(m) for m in ValidationError(msgs).messages])
            for name, msgs in error.error_dict.items()
        ]
    return [("", [str(m) for m in error.messages])]
