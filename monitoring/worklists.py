"""What each role's home page lists as its work; a fixed number of queries per list."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone

from assessments.models import CRF_MODELS, FormStatus
from assessments.schedule import VISITS, target_date
from hfs_ecrf.access import can, scope_to_sites
from monitoring import rules, selectors
from monitoring.models import DataQuery, FormVerification, RecordLock, Signature
from patients import selectors as patient_selectors

LIMIT = 50


def _forms(patient_ids: list[int], statuses: list[str]) -> list[dict[str, Any]]:
    rows = []
    for code, model in CRF_MODELS.items():
        for visit_id, patient_id, study_id, visit_code, status in model.objects.filter(
            visit__patient_id__in=patient_ids, status__in=statuses
        ).values_list(
            "visit_id", "visit__patient_id", "visit__patient__study_id", "visit__code", "status"
        ):
            rows.append(
                {
                    "visit_id": visit_id,
                    "patient_id": patient_id,
                    "study_id": study_id,
                    "visit_code": visit_code,
                    "form_code": code,
                    "title": model.TITLE,
                    "status": status,
                }
            )
    return sorted(rows, key=lambda r: (r["study_id"], r["visit_code"], r["form_code"]))


def clinician(user: Any) -> dict[str, Any]:
    patients = list(patient_selectors.patient_list(user))
    ids = [p.pk for p in patients]
    today = timezone.localdate()
    visits = []
    for patient in patients:
        allocation = patient.allocation_or_none
        if allocation is None or patient.withdrawal_or_none is not None:
            continue
        finished = {v.code for v in patient.visits.all() if v.status in {"done", "missed"}}
        for code, spec in VISITS.items():
            if code in finished:
                continue
            target = target_date(code, allocation.randomised_on)
            state = rules.visit_due(target, spec.window, today)
            if state:
                visits.append({"patient": patient, "code": code, "target": target, "state": state})
            break
    return {
        "queries": list(
            selectors.query_list(user)
            .filter(status=DataQuery.Status.OPEN)
            .order_by("raised_at")[:LIMIT]
        ),
        "drafts": _forms(ids, [FormStatus.DRAFT])[:LIMIT],
        "visits": visits,
    }


def monitor(user: Any) -> dict[str, Any]:
    progress = selectors.sdv_progress(user)
    return {
        "sdv": progress,
        "to_verify": progress["to_verify"][:LIMIT],
        "answered": list(
            selectors.query_list(user)
            .filter(status=DataQuery.Status.ANSWERED)
            .order_by("raised_at")[:LIMIT]
        ),
    }


def data_manager(user: Any) -> dict[str, Any]:
    now = timezone.now()
    buckets = ((7, "≤ 7"), (30, "8–30"), (None, "> 30"))
    by_site: dict[str, dict[str, int]] = defaultdict(lambda: {label: 0 for _, label in buckets})
    for site, raised_at in (
        selectors.query_list(user)
        .filter(status__in=DataQuery.UNRESOLVED)
        .values_list("patient__site__code", "raised_at")
    ):
        age = (now - raised_at).days
        label = next(lab for limit, lab in buckets if limit is None or age <= limit)
        by_site[site][label] += 1
    patients = scope_to_sites(patient_selectors.Patient.objects.all(), user)
    ids = list(patients.values_list("pk", flat=True))
    verified = set(
        FormVerification.objects.filter(
            visit__patient_id__in=ids, status=FormVerification.Status.VERIFIED
        ).values_list("visit_id", "form_code")
    )
    locks = list(
        RecordLock.objects.filter(patient_id__in=ids, unlocked_at__isnull=True).values_list(
            "patient_id", "visit_id", "form_code"
        )
    )
    locked_patients = {p for p, v, _f in locks if v is None}
    awaiting = [
        f
        for f in _forms(ids, [FormStatus.COMPLETE, FormStatus.NOT_DONE])
        if (f["visit_id"], f["form_code"]) in verified
        and not any(v == f["visit_id"] and form in ("", f["form_code"]) for _p, v, form in locks)
    ]
    awaiting = [f for f in awaiting if f["patient_id"] not in locked_patients]
    return {
        "bucket_labels": [label for _, label in buckets],
        "queries_by_site": sorted(by_site.items()),
        "awaiting_lock": awaiting[:LIMIT],
    }


def investigator(user: Any) -> dict[str, Any]:
    """Casebooks awaiting signature: locked patients without a valid casebook signature."""
    locked = RecordLock.objects.filter(visit__isnull=True, unlocked_at__isnull=True)
    patients = scope_to_sites(
        patient_selectors.Patient.objects.filter(pk__in=locked.values("patient_id")).select_related(
            "site"
        ),
        user,
    )
    signed = set(
        Signature.objects.filter(visit__isnull=True, invalidated_at__isnull=True).values_list(
            "patient_id", flat=True
        )
    )
    invalidated = set(
        Signature.objects.filter(visit__isnull=True, invalidated_at__isnull=False).values_list(
            "patient_id", flat=True
        )
    )
    return {
        "to_sign": [
            {"patient": p, "invalidated": p.pk in invalidated}
            for p in patients
            if p.pk not in signed
        ]
    }


def for_user(user: Any) -> dict[str, Any]:
    work: dict[str, Any] = {}
    if can(user, "enter_data"):
        work["clinician"] = clinician(user)
    if can(user, "verify_data"):
        work["monitor"] = monitor(user)
    if can(user, "lock_data"):
        work["data_manager"] = data_manager(user)
    if can(user, "sign_casebook"):
        work["investigator"] = investigator(user)
    return work
