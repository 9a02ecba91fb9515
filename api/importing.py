"""Record import through the API: REDCap rows validated by the web forms and saved by the same
services as the web pages and ``import_data``; all or nothing.

Rows name a record (study ID) and an event (visit) or a repeating instrument instance. Patients
are enrolled through the web forms, so a record must already exist at one of the caller's
sites. Enrolment data and derived scores are read-only: a value equal to the stored one is
ignored, a different one is an error. ``overwriteBehavior=normal`` keeps stored values for
blank cells; ``overwrite`` erases them. Soft warnings refuse the import unless confirmed
(``acceptWarnings=1``), as the web forms' "value confirmed" box.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from analysis.dataset import RECORD_FIELDS
from analysis.exports.importer import RECORD_KINDS, _clean, _error_items
from api import project
from api.records import KEYS, RecordQuery, flat_frame, to_rows
from assessments import services as crf_services
from assessments.forms import PATIENT_RECORD_FORMS, VisitForm, crf_form_class
from assessments.models import CRF_MODELS, FormStatus, Visit
from hfs_ecrf.access import scope_to_sites
from hfs_ecrf.validation import UnconfirmedWarnings
from patients.models import Patient


@dataclass
class ImportProblem:
    record: str
    field: str
    value: str
    message: str

    def line(self) -> str:
        cells = (self.record, self.field, self.value, self.message)
        return ",".join('"' + str(c).replace('"', '""') + '"' for c in cells)


class RecordImportError(Exception):
    def __init__(self, problems: list[ImportProblem]):
        super().__init__("\n".join(p.line() for p in problems))
        self.problems = problems


class _Rollback(Exception):
    pass


def records_import(
    *,
    rows: list[dict[str, Any]],
    user: Any,
    overwrite: bool = False,
    accept_warnings: bool = False,
    reason: str,
) -> list[str]:
    """Validate and save every row, or nothing; the study IDs written, in order."""
    rows = [_clean({str(k): "" if v is None else str(v) for k, v in row.items()}) for row in rows]
    problems = _check_columns(rows)
    if problems:
        raise RecordImportError(problems)
    ids = list(dict.fromkeys(r.get(project.RECORD_ID, "").strip() for r in rows))
    patients = {
        p.study_id: p for p in scope_to_sites(Patient.objects.all(), user).filter(study_id__in=ids)
    }
    current = {
        _key(r): r
        for r in to_rows(flat_frame(RecordQuery(site_codes=None, records=list(patients) or [""])))
    }
    writer = _Writer(user, overwrite, accept_warnings, reason, current, problems)
    try:
        with transaction.atomic():
            for row in rows:
                study_id = row.get(project.RECORD_ID, "").strip()
                patient = patients.get(study_id)
                if patient is None:
                    writer.problem(study_id, project.RECORD_ID, study_id, RECORD_MISSING())
                    continue
                writer.row(patient, row)
            if problems:
                raise _Rollback
    except _Rollback:
        raise RecordImportError(problems) from None
    return [i for i in ids if i in patients]


def RECORD_MISSING() -> str:  # noqa: N802 - a message, translated when used
    return _(
        "No such record at your sites. Records are created by enrolment in the web forms; "
        "the API only adds and changes their data."
    )


def _key(row: dict[str, str]) -> tuple[str, str, str, str]:
    return tuple(row.get(k, "") or "" for k in KEYS)  # type: ignore[return-value]


def _check_columns(rows: list[dict[str, str]]) -> list[ImportProblem]:
    known = set(project.field_map()) | set(KEYS)
    known |= {f"{name}_complete" for name in project.instrument_map()}
    problems = []
    if not rows:
        problems.append(ImportProblem("", "data", "", _("No records were given.")))
    columns = list(dict.fromkeys(c for r in rows for c in r))
    for column in columns:
        if column not in known:
            problems.append(
                ImportProblem(
                    "",
                    column,
                    "",
                    _("This field does not exist in the project (see the metadata method)."),
                )
            )
    for needed in (project.RECORD_ID, "redcap_event_name"):
        if rows and needed not in columns:
            problems.append(
                ImportProblem(
                    "", needed, "", _("This column is required in a longitudinal project.")
                )
            )
    return problems


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def _day0(patient: Patient) -> date | None:
    allocation = patient.allocation_or_none
    if allocation is not None:
        return allocation.randomised_on
    consent = getattr(patient, "consent", None)
    return consent.consent_date if consent is not None else None


class _Writer:
    def __init__(self, user, overwrite, accept_warnings, reason, current, problems):
        self.user, self.overwrite, self.accept = user, overwrite, accept_warnings
        self.reason, self.current, self.problems = reason, current, problems
        self.fields = project.field_map()
        self.instruments = project.instrument_map()

    def problem(self, record: str, field: str, value: Any, message: Any) -> None:
        self.problems.append(ImportProblem(record, field, str(value), str(message)))

    # --- one row ---------------------------------------------------------------------------

    def row(self, patient: Patient, row: dict[str, str]) -> None:
        event = row.get("redcap_event_name", "").strip()
        study_id = patient.study_id
        if event not in project.event_names():
            allowed = ", ".join(project.event_names())
            self.problem(
                study_id,
                "redcap_event_name",
                event,
                _("Unknown event; the events are %(events)s.") % {"events": allowed},
            )
            return
        forms_here = set(project.forms_of_event(event))
        for name, value in row.items():
            if name in KEYS or value == "":
                continue
            form = self.fields[name].form if name in self.fields else name[: -len("_complete")]
            if form not in forms_here:
                self.problem(
                    study_id,
                    name,
                    value,
                    _("Form %(form)s is not part of event %(event)s.")
                    % {"form": form, "event": event},
                )
        instrument = row.get("redcap_repeat_instrument", "").strip()
        current = self.current.get(
            (study_id, event, instrument, row.get("redcap_repeat_instance", "").strip()), {}
        )
        before = len(self.problems)
        self._read_only(study_id, row, current)
        if len(self.problems) > before:
            return
        day0 = _day0(patient)
        if event == project.REPEATING_EVENT:
            if instrument not in RECORD_FIELDS:
                self.problem(
                    study_id,
                    "redcap_repeat_instrument",
                    instrument,
                    _("Give one of the repeating instruments: %(names)s.")
                    % {"names": ", ".join(RECORD_FIELDS)},
                )
                return
            self._record(patient, instrument, row, day0)
            return
        code = project.EVENT_TO_VISIT[event]
        self._visit(patient, code, row, day0)
        for form in project.expected_forms(code):
            self._crf(patient, code, form, row, day0)

    def _read_only(self, study_id: str, row: dict[str, str], current: dict[str, str]) -> None:
        for name, value in row.items():
            f = self.fields.get(name)
            if f is None or value == "" or not (f.derived or f.form == project.ENROLMENT):
                continue
            if name == project.RECORD_ID or _same(value, current.get(name, "")):
                continue
            self.problem(
                study_id,
                name,
                value,
                _(
                    "This field cannot be changed through the API (derived, or entered at "
                    "enrolment); the stored value is %(value)r."
                )
                % {"value": current.get(name, "")},
            )

    def _values(self, instrument: str, row: dict[str, str], day0: date | None) -> dict[str, Any]:
        """Model field -> form value for the cells this row gives (blank cells only when
        overwriting)."""
        out: dict[str, Any] = {}
        for f in self.instruments[instrument].fields:
            if f.derived or f.name not in row:
                continue
            value = row[f.name].strip()
            if value == "" and not self.overwrite:
                continue
            if value != "" and f.relative_date:
                try:
                    value = (day0 + timedelta(days=int(float(value)))).isoformat()
                except (TypeError, ValueError, OverflowError):
                    self.problem(
                        row.get(project.RECORD_ID, ""),
                        f.name,
                        value,
                        _("Give whole days since day 0."),
                    )
                    continue
            elif f.model_field is not None and f.model_field.get_internal_type() == "BooleanField":
                value = {"1": "true", "0": "false", "": "false"}.get(value.lower(), value)
            out[f.source] = value
        return out

    def _errors(self, study_id: str, instrument: str, errors: dict, values: dict) -> None:
        names = {f.source: f.name for f in self.instruments[instrument].fields}
        names.update(date="", visit_date="visit_day", status="visit_status")
        for source, messages in errors.items():
            for message in messages:
                name = names.get(source) or source
                self.problem(study_id, name, values.get(source, ""), message)

    # --- visits ------------------------------------------------------------------------------

    def _visit(self, patient: Patient, code: str, row: dict[str, str], day0) -> None:
        values = self._values(project.VISIT_FORM, row, day0)
        if not values:
            return
        existing = Visit.objects.filter(patient=patient, code=code).first()
        data = {
            "visit_date": existing.visit_date if existing else "",
            "status": existing.status if existing else "",
            "missed_reason": existing.missed_reason if existing else "",
            **values,
        }
        form = VisitForm(data, instance=existing or Visit(patient=patient, code=code))
        if not form.is_valid():
            self._errors(patient.study_id, project.VISIT_FORM, form.errors, data)
            return
        if existing is not None and not set(form.changed_data) & set(values):
            return
        try:
            crf_services.visit_save(
                visit=form.instance, user=self.user, reason=self.reason, confirmed=self.accept
            )
        except UnconfirmedWarnings as refused:
            for message in refused.warnings.values():
                self.problem(
                    patient.study_id, "visit_day", row.get("visit_day", ""), _warn(message)
                )
            self._hard_errors(patient.study_id, project.VISIT_FORM, refused, data)
        except ValidationError as error:
            self._errors(patient.study_id, project.VISIT_FORM, dict(_error_items(error)), data)

    # --- case report forms -------------------------------------------------------------------

    def _crf(self, patient: Patient, code: str, form_code: str, row, day0) -> None:
        model = CRF_MODELS[form_code]
        values = {k: v for k, v in self._values(form_code, row, day0).items()}
        status_code = row.get(f"{form_code}_complete", "").strip()
        if not values and not status_code:
            return
        study_id = patient.study_id
        visit = Visit.objects.filter(patient=patient, code=code).first()
        if visit is None:
            self.problem(
                study_id,
                "visit_status",
                "",
                _("Visit %(code)s is not recorded yet: give visit_status and visit_day.")
                % {"code": code},
            )
            return
        existing = model.objects.filter(visit=visit).first()
        data = {}
        for name in model.ENTRY_FIELDS:
            field = model._meta.get_field(name)
            if existing is not None:
                data[name] = getattr(existing, name)
            else:
                data[name] = field.get_default() if field.has_default() else ""
        data = {k: ("" if v is None else v) for k, v in {**data, **values}.items()}
        if status_code not in ("", "0", "1", "2"):
            self.problem(study_id, f"{form_code}_complete", status_code, _("Allowed: 0, 1 or 2."))
            return
        if status_code == "2":
            action = "complete"
        elif status_code in ("0", "1"):
            action = "draft"
        else:
            action = "complete" if existing and existing.status == FormStatus.COMPLETE else "draft"
        form = crf_form_class(model)(
            {**data, "action": action, "confirm_warnings": "on" if self.accept else ""},
            instance=existing or model(visit=visit),
        )
        if not form.is_valid():
            self._errors(study_id, form_code, form.errors, data)
            return
        changed = [name for name in form.changed_data if name in model.ENTRY_FIELDS]
        if existing is not None and not changed and existing.status == action:
            return
        try:
            crf_services.crf_save(
                form=form.instance,
                user=self.user,
                action=action,
                reason=self.reason,
                confirmed=self.accept,
            )
        except UnconfirmedWarnings as refused:
            for name, message in refused.warnings.items():
                self._errors(study_id, form_code, {name: [_warn(message)]}, data)
            self._hard_errors(study_id, form_code, refused, data)
        except ValidationError as error:
            self._errors(study_id, form_code, dict(_error_items(error)), data)

    def _hard_errors(self, study_id: str, form_code: str, refused: UnconfirmedWarnings, data):
        """The hard errors a refusal found beside its soft warnings (reported separately)."""
        warnings = {str(message) for message in refused.warnings.values()}
        hard = {
            name: [message for message in messages if message not in warnings]
            for name, messages in refused.message_dict.items()
        }
        hard = {name: messages for name, messages in hard.items() if messages}
        if hard:
            self._errors(study_id, form_code, hard, data)

    # --- repeating instruments ---------------------------------------------------------------

    def _record(self, patient: Patient, instrument: str, row, day0) -> None:
        model, names = RECORD_FIELDS[instrument]
        form_class = PATIENT_RECORD_FORMS[RECORD_KINDS[instrument]]
        study_id = patient.study_id
        existing = list(model.objects.filter(patient=patient).order_by("pk"))
        raw = row.get("redcap_repeat_instance", "").strip()
        number = len(existing) + 1 if raw in ("", "new") else None
        if number is None:
            try:
                number = int(raw)
            except ValueError:
                number = 0
        if not 1 <= number <= len(existing) + 1:
            self.problem(
                study_id,
                "redcap_repeat_instance",
                raw,
                _("Instances 1 to %(count)s exist; %(next)s adds a new one.")
                % {"count": len(existing), "next": len(existing) + 1},
            )
            return
        record = existing[number - 1] if number <= len(existing) else None
        values = self._values(instrument, row, day0)
        data = {
            name: ("" if getattr(record, name) is None else getattr(record, name))
            if record is not None
            else ""
            for name in form_class._meta.fields
        }
        data.update(values)
        form = form_class(data, instance=record or model(patient=patient))
        if not form.is_valid():
            self._errors(study_id, instrument, form.errors, data)
            return
        if record is not None and not form.has_changed():
            return
        try:
            crf_services.patient_record_save(
                record=form.instance, user=self.user, reason=self.reason, confirmed=self.accept
            )
        except UnconfirmedWarnings as refused:
            for name, message in refused.warnings.items():
                self._errors(study_id, instrument, {name: [_warn(message)]}, data)
            self._hard_errors(study_id, instrument, refused, data)
        except ValidationError as error:
            self._errors(study_id, instrument, dict(_error_items(error)), data)


def _warn(message: Any) -> str:
    return _("%(message)s (a soft warning: send acceptWarnings=1 to confirm the value)") % {
        "message": message
    }
