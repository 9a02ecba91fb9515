"""A patient's casebook as a PDF (WeasyPrint): every visit and form with its values and state,
the per-patient records, data queries with their messages, verification, locks, e-signatures and
a summary of the audit trail. Identity data are never part of it (study ID only); the arm only
for roles that may see it."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.bands import unit_label
from assessments.models import CRF_MODELS, AdverseEvent, ConcomitantMedication, TreatmentExposure
from assessments.schedule import SCHEDULE, window
from assessments.selectors import patient_progress
from hfs_ecrf.audit import display_value, user_label
from monitoring import selectors
from monitoring.models import DataQuery, FormVerification, RecordLock
from monitoring.patient_audit import patient_audit
from patients.models import Patient

# Bookkeeping fields that say nothing about the patient.
_NOT_SHOWN = {"id", "visit", "status", "not_done_reason", "version", "updated_at", "updated_by"}
_NOT_SHOWN |= {"ever_complete", "warnings_confirmed"}


def form_values(obj: Any) -> list[dict[str, Any]]:
    """The entered and derived values of one form: label, value as people read it, unit."""
    model = type(obj)
    names = list(model.ENTRY_FIELDS) + [
        f.name
        for f in model._meta.concrete_fields
        if not f.editable and f.name not in _NOT_SHOWN and f.name not in model.ENTRY_FIELDS
    ]
    rows = []
    for name in names:
        if name.endswith("_unit"):
            continue  # shown with its value
        field = model._meta.get_field(name)
        unit = ""
        if name.endswith("_value"):
            unit = unit_label(getattr(obj, name[: -len("_value")] + "_unit", "") or "")
        value = display_value(obj, field)
        if isinstance(value, datetime.time):
            value = value.strftime("%H:%M")
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        rows.append(
            {
                "label": field.verbose_name,
                "value": value,
                "unit": unit if value not in (None, "") else "",
                "derived": not field.editable,
            }
        )
    return rows


def query_target(query: DataQuery) -> str:
    """What a query is about in words: study ID, visit, form title, field label."""
    parts = [query.patient.study_id]
    if query.visit_id:
        parts.append(query.visit.code)
    model = CRF_MODELS.get(query.form_code)
    if model is not None:
        parts.append(str(model.TITLE))
        if query.field_name:
            parts.append(str(model._meta.get_field(query.field_name).verbose_name))
    return " · ".join(parts)


def casebook_context(patient: Patient, *, user: Any, show_arm: bool) -> dict[str, Any]:
    visits = {v.code: v for v in patient.visits.all()}
    forms: dict[tuple[int, str], Any] = {}
    for code, model in CRF_MODELS.items():
        for obj in model.objects.filter(visit__patient=patient).select_related("updated_by"):
            forms[(obj.visit_id, code)] = obj
    verifications = {
        (v.visit_id, v.form_code): v
        for v in FormVerification.objects.filter(visit__patient=patient).select_related(
            "verified_by"
        )
    }
    locks = selectors.active_locks(patient)
    queries = list(
        DataQuery.objects.filter(patient=patient)
        .select_related("visit", "raised_by", "patient")
        .prefetch_related("messages__author")
        .order_by("raised_at", "id")
    )
    queries_by_target: dict[tuple[int | None, str], list[DataQuery]] = defaultdict(list)
    for query in queries:
        query.human_target = query_target(query)
        queries_by_target[(query.visit_id, query.form_code)].append(query)

    allocation = patient.allocation_or_none
    visit_rows = []
    for spec in SCHEDULE:
        visit = visits.get(spec.code)
        low_high = window(spec.code, allocation.randomised_on) if allocation else None
        form_rows = []
        for form_code in spec.forms:
            model = CRF_MODELS[form_code]
            obj = forms.get((visit.pk, form_code)) if visit else None
            form_rows.append(
                {
                    "code": form_code,
                    "title": model.TITLE,
                    "obj": obj,
                    "state": obj.get_status_display() if obj else _("not started"),
                    "values": form_values(obj) if obj else [],
                    "verification": verifications.get((visit.pk, form_code)) if visit else None,
                    "lock": selectors.lock_covering(locks, visit_id=visit.pk, form_code=form_code)
                    if visit
                    else None,
                    "queries": queries_by_target.get((visit.pk, form_code), []) if visit else [],
                }
            )
        visit_rows.append(
            {
                "spec": spec,
                "visit": visit,
                "window": low_high,
                "forms": form_rows,
                "queries": queries_by_target.get((visit.pk, ""), []) if visit else [],
            }
        )

    records = []
    for model in (TreatmentExposure, ConcomitantMedication, AdverseEvent):
        records.append(
            {
                "title": model._meta.verbose_name_plural,
                "headers": [model._meta.get_field(n).verbose_name for n in model.display_fields()],
                "rows": [r.display_values() for r in model.objects.filter(patient=patient)],
            }
        )
    audit = patient_audit(patient, with_allocation=show_arm)
    return {
        "patient": patient,
        "progress": patient_progress(patient),
        "allocation": allocation,
        "show_arm": show_arm,
        "withdrawal": patient.withdrawal_or_none,
        "visits": visit_rows,
        "records": records,
        "queries": queries,
        "patient_queries": queries_by_target.get((None, ""), []),
        "locks": locks,
        "patient_lock": selectors.lock_covering(locks, visit_id=None, form_code=None),
        "signatures": selectors.signatures_of(patient),
        "audit": audit,
        "generated_at": timezone.now(),
        "generated_by": user_label(user),
        "time_zone": settings.TIME_ZONE,
        "RecordLock": RecordLock,
    }


def casebook_pdf(patient: Patient, *, user: Any, show_arm: bool) -> bytes:
    """The casebook rendered to PDF; fonts are the system's (DejaVu), no network access."""
    from weasyprint import HTML  # imported here: loading Pango takes a moment

    html = render_to_string(
        "monitoring/casebook.html", casebook_context(patient, user=user, show_arm=show_arm)
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
