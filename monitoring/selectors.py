"""Reads of monitoring state shared by pages, worklists, services and guards."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from assessments.models import CRF_MODELS, FormStatus, Visit
from assessments.schedule import VISITS
from hfs_ecrf.access import scope_to_sites
from monitoring import rules
from monitoring.models import (
    DataQuery,
    FieldVerification,
    FormVerification,
    RecordLock,
    Signature,
)
from patients.models import Patient


def query_list(user: Any) -> QuerySet[DataQuery]:
    """The queries of the user's sites, with what the lists show."""
    return scope_to_sites(
        DataQuery.objects.select_related("patient", "patient__site", "visit", "raised_by"),
        user,
        site_path="patient__site",
    )


def open_query_counts(patient_ids: list[int]) -> dict[int, int]:
    """Unresolved (open or answered) queries per patient: one query whatever the number."""
    rows = (
        DataQuery.objects.filter(patient_id__in=patient_ids, status__in=DataQuery.UNRESOLVED)
        .values("patient_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["patient_id"]: r["n"] for r in rows}


def with_open_queries(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Only the patients with at least one unresolved query (an EXISTS subquery, no join)."""
    unresolved = DataQuery.objects.filter(
        patient_id=OuterRef("pk"), status__in=DataQuery.UNRESOLVED
    )
    return patients.filter(Exists(unresolved))


def open_query_counts_by_patient_and_visit(
    patient_ids: list[int],
) -> tuple[dict[int, int], dict[int, int]]:
    """Unresolved queries per patient and per visit (its forms' and its own) of these patients:
    ``open_query_counts`` and the visit totals of ``open_query_counts_by_visit`` in one query."""
    rows = (
        DataQuery.objects.filter(patient_id__in=patient_ids, status__in=DataQuery.UNRESOLVED)
        .values_list("patient_id", "visit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_patient: dict[int, int] = Counter()
    by_visit: dict[int, int] = Counter()
    for patient_id, visit_id, n in rows:
        by_patient[patient_id] += n
        if visit_id is not None:
            by_visit[visit_id] += n
    return dict(by_patient), dict(by_visit)


def open_query_counts_by_visit(patient_ids: list[int]) -> dict[tuple[int, str], int]:
    """Unresolved queries per (visit id, form code or ""): one query."""
    rows = (
        DataQuery.objects.filter(
            patient_id__in=patient_ids, status__in=DataQuery.UNRESOLVED, visit__isnull=False
        )
        .values("visit_id", "form_code")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[int, str], int] = Counter()
    for r in rows:
        counts[(r["visit_id"], r["form_code"])] += r["n"]
        if r["form_code"]:
            counts[(r["visit_id"], "")] += r["n"]
    return dict(counts)


def form_queries(visit: Visit, form_code: str) -> list[DataQuery]:
    return list(
        DataQuery.objects.filter(visit=visit, form_code=form_code)
        .select_related("raised_by", "patient", "visit")
        .order_by("status", "-raised_at")
    )


def field_verifications_of(visit: Visit | None, form_code: str) -> dict[str, Any]:
    """The per-field verifications of a form, by field name (one query)."""
    if visit is None:
        return {}
    rows = FieldVerification.objects.filter(visit=visit, form_code=form_code).select_related(
        "verified_by", "changed_by"
    )
    return {row.field_name: row for row in rows}


def verification_of(visit: Visit | None, form_code: str) -> FormVerification | None:
    if visit is None:
        return None
    return (
        FormVerification.objects.filter(visit=visit, form_code=form_code)
        .select_related("verified_by", "changed_by")
        .first()
    )


def active_locks(patient: Patient) -> list[RecordLock]:
    return list(
        RecordLock.objects.filter(patient=patient, unlocked_at__isnull=True).select_related(
            "locked_by", "visit", "patient"
        )
    )


def lock_covering(
    locks: list[RecordLock], *, visit_id: int | None, form_code: str | None
) -> RecordLock | None:
    for lock in locks:
        if rules.lock_covers(
            (lock.visit_id, lock.form_code), visit_id=visit_id, form_code=form_code
        ):
            return lock
    return None


def form_lock_problems(visit: Visit, form_code: str) -> list[str]:
    """What stops the form from being locked (empty when it can be)."""
    model = CRF_MODELS[form_code]
    label = f"{visit.code} {model.TITLE}"
    form = model.objects.filter(visit=visit).first()
    problems = []
    if form is None or form.status == FormStatus.DRAFT:
        problems.append(_("%(form)s is not complete or marked not done") % {"form": label})
    verification = verification_of(visit, form_code)
    if verification is None or verification.status != FormVerification.Status.VERIFIED:
        problems.append(_("%(form)s is not verified") % {"form": label})
    unresolved = DataQuery.objects.filter(
        visit=visit, form_code=form_code, status__in=DataQuery.UNRESOLVED
    ).count()
    if unresolved:
        problems.append(_("%(form)s has %(n)s open queries") % {"form": label, "n": unresolved})
    return problems


def visit_lock_problems(visit: Visit) -> list[str]:
    problems = []
    if visit.status != Visit.Status.MISSED:
        for form_code in VISITS[visit.code].forms:
            problems += form_lock_problems(visit, form_code)
    unresolved = DataQuery.objects.filter(
        visit=visit, form_code="", status__in=DataQuery.UNRESOLVED
    ).count()
    if unresolved:
        problems.append(
            _("visit %(code)s has %(n)s open queries") % {"code": visit.code, "n": unresolved}
        )
    return problems


def patient_lock_problems(patient: Patient) -> list[str]:
    problems = []
    for visit in Visit.objects.filter(patient=patient).order_by("code"):
        problems += visit_lock_problems(visit)
    unresolved = DataQuery.objects.filter(
        patient=patient, visit__isnull=True, status__in=DataQuery.UNRESOLVED
    ).count()
    if unresolved:
        problems.append(_("the patient record has %(n)s open queries") % {"n": unresolved})
    return problems


def casebook_rows(patient: Patient, visit: Visit | None = None) -> list[dict[str, Any]]:
    """The signed data: every clinical value of the patient (or of one visit), canonical order.

    Bookkeeping fields (version, who/when updated) are left out, so re-saving identical data
    does not change the hash.
    """
    skip = {"id", "version", "updated_at", "updated_by", "warnings_confirmed", "recorded_by"}

    def row(kind: str, obj: Any) -> dict[str, Any]:
        values = {
            f.attname: getattr(obj, f.attname)
            for f in obj._meta.concrete_fields
            if f.name not in skip
        }
        return {"kind": kind, **values}

    visits = Visit.objects.filter(patient=patient).order_by("code")
    if visit is not None:
        visits = visits.filter(pk=visit.pk)
    rows = [row("visit", v) for v in visits]
    for code, model in CRF_MODELS.items():
        forms = model.objects.filter(visit__in=visits).order_by("visit__code")
        rows += [row(code, f) for f in forms]
    if visit is None:
        for name in ("exposures", "con_meds", "adverse_events"):
            rows += [row(name, r) for r in getattr(patient, name).order_by("pk")]
    return rows


def signed_data_hash(patient: Patient, visit: Visit | None = None) -> str:
    return rules.data_hash(casebook_rows(patient, visit))


def signatures_of(patient: Patient) -> list[Signature]:
    return list(
        Signature.objects.filter(patient=patient)
        .select_related("visit", "signer")
        .order_by("-signed_at")
    )


def sdv_progress(user: Any) -> dict[str, Any]:
    """Forms needing verification (complete or not done) and those verified, per site and
    per patient; a fixed number of queries."""
    patients = {p.pk: p for p in scope_to_sites(Patient.objects.select_related("site"), user)}
    done: dict[tuple[int, str], str] = {
        (v.visit_id, v.form_code): v.status
        for v in FormVerification.objects.filter(visit__patient_id__in=list(patients))
    }
    # Verified fields whose value changed since: named on the worklist entry of their form.
    changed_fields: dict[tuple[int, str], list[str]] = defaultdict(list)
    for visit_id, form_code, field_name in FieldVerification.objects.filter(
        visit__patient_id__in=list(patients), status=FieldVerification.Status.CHANGED
    ).values_list("visit_id", "form_code", "field_name"):
        changed_fields[(visit_id, form_code)].append(field_name)
    per_patient: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    to_verify = []
    for code, model in CRF_MODELS.items():
        forms = model.objects.filter(
            visit__patient_id__in=list(patients),
            status__in=[FormStatus.COMPLETE, FormStatus.NOT_DONE],
        ).values_list("visit_id", "visit__patient_id", "visit__code")
        for visit_id, patient_id, visit_code in forms:
            state = done.get((visit_id, code))
            counts = per_patient[patient_id]
            counts[0] += 1
            if state == FormVerification.Status.VERIFIED:
                counts[1] += 1
            else:
                fields = [
                    model._meta.get_field(name).verbose_name
                    for name in sorted(changed_fields.get((visit_id, code), ()))
                ]
                changed = state == FormVerification.Status.CHANGED or bool(fields)
                if changed:
                    counts[2] += 1
                to_verify.append(
                    {
                        "patient": patients[patient_id],
                        "visit_code": visit_code,
                        "form_code": code,
                        "title": model.TITLE,
                        "changed": changed,
                        "changed_fields": fields,
                    }
                )
    per_site: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for patient_id, (total, verified, _changed) in per_patient.items():
        site = patients[patient_id].site.code
        per_site[site][0] += total
        per_site[site][1] += verified
    to_verify.sort(key=lambda r: (not r["changed"], r["patient"].study_id, r["visit_code"]))
    return {
        "per_site": [
            {"site": s, "total": t, "verified": v, "percent": round(100 * v / t) if t else 0}
            for s, (t, v) in sorted(per_site.items())
        ],
        "per_patient": [
            {"patient": patients[pid], "total": t, "verified": v, "changed": c}
            for pid, (t, v, c) in sorted(per_patient.items(), key=lambda i: patients[i[0]].study_id)
        ],
        "to_verify": to_verify,
    }
