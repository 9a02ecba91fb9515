"""Reads for the API's ``log`` (the audit trail of the caller's sites, de-identified) and
``user`` methods."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from analysis.dataset import RECORD_FIELDS, VISIT_VARIABLES
from api import project
from assessments.models import CRF_MODELS, Visit
from hfs_ecrf.access import can, role_of, scope_to_sites, site_ids_for
from hfs_ecrf.audit import changed_fields
from patients.models import Patient
from patients.selectors import sites_for

ACTIONS = {"+": "Create record", "~": "Update record", "-": "Delete record"}
SKIP = {"id", "version", "updated_at", "updated_by", "recorded_by", "visit", "patient"}


def _sources() -> list[tuple[type, str, dict[str, str]]]:
    """(model, path from the model to its patient, model field -> API name)."""
    visit_names = {"visit_date": "visit_day", "status": "visit_status"}
    visit_names["missed_reason"] = "visit_missed_reason"
    out: list[tuple[type, str, dict[str, str]]] = [(Visit, "patient", visit_names)]
    for model in CRF_MODELS.values():
        names = {
            source: project.relative_name(variable) or variable
            for source, variable in VISIT_VARIABLES[model].items()
        }
        out.append((model, "visit__patient", names))
    for model, fields in RECORD_FIELDS.values():
        out.append((model, "patient", {f: project.relative_name(f) or f for f in fields}))
    return out


def _day0s(patients) -> dict[int, date | None]:
    rows = patients.values_list("pk", "allocation__randomised_on", "consent__consent_date")
    return {pk: randomised or consent for pk, randomised, consent in rows}


def _value(value: Any, day0: date | None) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return "" if day0 is None else str((value - day0).days)
    return "" if value is None else str(value)


def audit_log(
    *,
    user: Any,
    username: str | None = None,
    record: str | None = None,
    begin: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, str]]:
    """Every change to visits, forms and per-patient records of the caller's sites, oldest
    first: timestamp, username, action, details (field = 'value', dates as days since day 0),
    record, reason."""
    patients = scope_to_sites(Patient.objects.all(), user)
    if record:
        patients = patients.filter(study_id=record)
    study_ids = dict(patients.values_list("pk", "study_id"))
    day0s = _day0s(patients)
    rows = []
    for model, path, names in _sources():
        history = model.history.model.objects.filter(**{f"{path}__in": list(study_ids)})
        history = history.select_related("history_user").order_by("id", "history_id")
        fields = [f for f in model._meta.concrete_fields if f.name not in SKIP]
        patient_attr = "patient_id" if path == "patient" else None
        visits = {}
        if patient_attr is None:
            visits = dict(
                Visit.objects.filter(patient__in=list(study_ids)).values_list("pk", "patient_id")
            )
        previous: dict[int, Any] = defaultdict(lambda: None)
        for entry in history:
            patient_pk = entry.patient_id if patient_attr else visits.get(entry.visit_id)
            before = previous[entry.id]
            previous[entry.id] = entry
            if begin and entry.history_date < begin or end and entry.history_date > end:
                continue
            who = entry.history_user.username if entry.history_user else ""
            if username and who != username:
                continue
            changed = fields if before is None else changed_fields(before, entry, fields)
            day0 = day0s.get(patient_pk)
            details = [
                f"{names.get(f.name, f.name)} = '{_value(getattr(entry, f.attname), day0)}'"
                for f in changed
                if before is not None or getattr(entry, f.attname) not in (None, "")
            ]
            event = getattr(entry, "code", "") or ""
            label = model._meta.model_name
            rows.append(
                {
                    "timestamp": timezone.localtime(entry.history_date).strftime("%Y-%m-%d %H:%M"),
                    "username": who,
                    "action": f"{ACTIONS.get(entry.history_type, '')} {study_ids[patient_pk]}",
                    "details": f"[{label}{' ' + event if event else ''}] " + ", ".join(details),
                    "record": study_ids[patient_pk],
                    "reason": entry.history_change_reason or "",
                    "_at": entry.history_date,
                }
            )
    rows.sort(key=lambda r: r["_at"])
    for row in rows:
        del row["_at"]
    return rows


def users() -> list[dict[str, Any]]:
    """The study's users and their rights, in REDCap's user fields."""
    out = []
    for user in User.objects.filter(is_active=True).prefetch_related("groups").order_by("username"):
        role = role_of(user)
        if role is None:
            continue
        codes = (
            ""
            if site_ids_for(user) is None
            else ",".join(sites_for(user).values_list("code", flat=True))
        )
        out.append(
            {
                "username": user.username,
                "email": user.email,
                "firstname": user.first_name,
                "lastname": user.last_name,
                "expiration": "",
                "data_access_group": codes,
                "role": str(role.value),
                "design": 0,
                "user_rights": 1 if can(user, "export_data") else 0,
                "data_export": 2 if can(user, "export_data") else 0,
                "reports": 1,
                "logging": 1,
                "api_export": 1 if can(user, "view_study_data") else 0,
                "api_import": 1 if can(user, "enter_data") else 0,
                "record_create": 1 if can(user, "enter_data") else 0,
                "record_delete": 0,
            }
        )
    return out
