"""A patient's whole audit trail in one time-ordered list: the patient, consent, history, visits,
every form, the per-patient records, queries and their messages, verification, locks and
signatures.

One query per audited model plus one per related model named in the rows, whatever the number
of visits or changes (history tables are read directly, not object by object). Identity data are
never part of it; the allocation (the arm) only for roles that may see the arm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import (
    CRF_MODELS,
    AdverseEvent,
    ConcomitantMedication,
    TreatmentExposure,
    Visit,
)
from assessments.models.records import SuicideItemReview
from hfs_ecrf.audit import (
    audit_fields,
    history_type,
    record_changes,
    related_labels,
    user_label,
)
from monitoring.models import DataQuery, FormVerification, QueryMessage, RecordLock, Signature
from patients.models import Allocation, Consent, MedicalHistory, Patient, Withdrawal


@dataclass
class AuditRow:
    when: datetime
    who: str
    type: str
    reason: str
    object_label: str
    form_code: str
    changes: list[tuple[Any, Any, Any]] = field(default_factory=list)


def _history(model: type[models.Model], **filters: Any) -> list[Any]:
    return list(
        model.history.filter(**filters)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )


def _rows(
    model: type[models.Model],
    records: list[Any],
    labels: dict,
    describe: Any,
) -> list[AuditRow]:
    """Rows of one model's history records (ordered by object, then time)."""
    fields = audit_fields(model)
    related_labels(records, fields, labels)
    rows = []
    previous = None
    for record in records:
        if previous is not None and previous.id != record.id:
            previous = None
        object_label, form_code = describe(record)
        rows.append(
            AuditRow(
                when=record.history_date,
                who=user_label(record.history_user),
                type=history_type(record),
                reason=record.history_change_reason or "",
                object_label=object_label,
                form_code=form_code,
                changes=record_changes(previous, record, fields, labels),
            )
        )
        previous = record
    return rows


def patient_audit(
    patient: Patient,
    *,
    form_code: str = "",
    since: date | None = None,
    until: date | None = None,
    with_allocation: bool = False,
) -> list[AuditRow]:
    """Every change of the patient's study data, oldest first, optionally only those of one form
    (its values, queries, verification and locks) and of a date range (site's time zone)."""
    sid = patient.study_id
    labels: dict = {}
    rows: list[AuditRow] = []

    def patient_level(name: str):
        return lambda record: (f"{sid} · {name}", "")

    rows += _rows(Patient, _history(Patient, id=patient.pk), labels, patient_level(_("patient")))
    for model in (Consent, MedicalHistory, Withdrawal):
        records = _history(model, patient_id=patient.pk)
        rows += _rows(model, records, labels, patient_level(model._meta.verbose_name))
    if with_allocation:
        records = _history(Allocation, patient_id=patient.pk)
        rows += _rows(Allocation, records, labels, patient_level(Allocation._meta.verbose_name))

    visit_records = _history(Visit, patient_id=patient.pk)
    visit_codes = {r.id: r.code for r in visit_records}
    rows += _rows(Visit, visit_records, labels, lambda r: (f"{sid} {r.code}", ""))
    visit_ids = list(visit_codes)

    hdrs_visit: dict[int, int] = {}
    for code, model in CRF_MODELS.items():
        records = _history(model, visit_id__in=visit_ids)
        if code == "hdrs":
            hdrs_visit = {r.id: r.visit_id for r in records}
        rows += _rows(
            model,
            records,
            labels,
            lambda r, m=model, c=code: (f"{sid} {visit_codes.get(r.visit_id, '?')} {m.TITLE}", c),
        )
    records = _history(SuicideItemReview, hdrs_id__in=list(hdrs_visit)) if hdrs_visit else []
    rows += _rows(
        SuicideItemReview,
        records,
        labels,
        lambda r: (
            f"{sid} {visit_codes.get(hdrs_visit.get(r.hdrs_id), '?')} "
            f"{SuicideItemReview._meta.verbose_name}",
            "hdrs",
        ),
    )

    for model in (TreatmentExposure, ConcomitantMedication, AdverseEvent):
        records = _history(model, patient_id=patient.pk)
        rows += _rows(
            model,
            records,
            labels,
            lambda r, m=model: (f"{sid} · {m._meta.verbose_name} #{r.id}", ""),
        )

    query_records = _history(DataQuery, patient_id=patient.pk)
    query_forms = {r.id: r.form_code for r in query_records}
    rows += _rows(
        DataQuery,
        query_records,
        labels,
        lambda r: (_("query #%(n)s") % {"n": r.id}, r.form_code),
    )
    records = _history(QueryMessage, query_id__in=list(query_forms)) if query_forms else []
    rows += _rows(
        QueryMessage,
        records,
        labels,
        lambda r: (_("query #%(n)s") % {"n": r.query_id}, query_forms.get(r.query_id, "")),
    )

    def covering(model: type[models.Model]):
        """A verification, lock or signature named by what it covers, and what it is."""

        def describe(r: Any) -> tuple[str, str]:
            parts = [sid]
            if getattr(r, "visit_id", None):
                parts.append(visit_codes.get(r.visit_id, "?"))
            code = getattr(r, "form_code", "")
            if code in CRF_MODELS:
                parts.append(str(CRF_MODELS[code].TITLE))
            return " ".join(parts) + f" · {model._meta.verbose_name}", code

        return describe

    records = _history(FormVerification, visit_id__in=visit_ids)
    rows += _rows(FormVerification, records, labels, covering(FormVerification))
    for model in (RecordLock, Signature):
        rows += _rows(model, _history(model, patient_id=patient.pk), labels, covering(model))

    if form_code:
        rows = [r for r in rows if r.form_code == form_code]
    if since:
        rows = [r for r in rows if timezone.localdate(r.when) >= since]
    if until:
        rows = [r for r in rows if timezone.localdate(r.when) <= until]
    rows.sort(key=lambda r: r.when)
    return rows
