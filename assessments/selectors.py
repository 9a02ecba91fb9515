"""Reads of visits, form states and each patient's progress through the schedule, shared by the
patient pages, the status dashboard and the demo checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from assessments.models import CRF_MODELS, Visit
from assessments.schedule import FINAL_VISIT, SCHEDULE, VISIT_CODES, target_date
from patients.models import Patient, PatientStatus
from patients.selectors import patient_list

NOT_STARTED = "not_started"


def form_states(visits: list[Visit]) -> dict[tuple[int, str], str]:
    """(visit id, form code) → status for the given visits: one query (each form model's rows
    for these visits, UNION ALL).

    Written as SQL from the models' tables: the ORM would prepare every visit id once per form
    model (thousands of values for a page of the status grid), which cost more than the query."""
    ids = [int(v.pk) for v in visits]
    if not ids:
        return {}
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    selects, params = [], []
    for code, model in CRF_MODELS.items():
        table, visit_column = (
            quote(model._meta.db_table),
            quote(model._meta.get_field("visit").column),
        )
        status_column = quote(model._meta.get_field("status").column)
        selects.append(  # names from the models' metadata, quoted; values as parameters
            f"SELECT {visit_column}, %s, {status_column} FROM {table}"  # noqa: S608
            f" WHERE {visit_column} IN ({marks})"
        )
        params += [code, *ids]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        return {(visit_id, code): status for visit_id, code, status in cursor.fetchall()}


@dataclass(frozen=True, slots=True)
class VisitRow:
    """What the list pages read of a visit: a page holds hundreds, model instances cost more
    than the rest of the page's rows."""

    pk: int
    code: str
    status: str
    out_of_window: bool


def visits_by_patient(patient_ids: list[int]) -> dict[int, list[VisitRow]]:
    """Each of these patients' visits in code order (as ``patients_with_visits`` prefetches
    them), as ``VisitRow``: one query."""
    by_patient: dict[int, list[VisitRow]] = {pk: [] for pk in patient_ids}
    if patient_ids:
        rows = (
            Visit.objects.filter(patient_id__in=patient_ids)
            .order_by("code")
            .values_list("patient_id", "pk", "code", "status", "out_of_window")
        )
        for patient_id, *visit in rows:
            by_patient[patient_id].append(VisitRow(*visit))
    return by_patient


def visit_grid(
    patients: list[Any], visits: dict[int, list[Any]] | None = None
) -> list[dict[str, Any]]:
    """Per patient, per scheduled visit: the visit (or None), its flags and each form's state.

    Visits come from ``visits`` (patient id → visits, e.g. ``visits_by_patient``) or else
    prefetched with the patients; the form states cost one query, whatever the number of
    patients.
    """
    if visits is None:
        visits = {p.pk: list(p.visits.all()) for p in patients}
    states = form_states([v for p in patients for v in visits[p.pk]])
    grid = []
    for patient in patients:
        by_code = {v.code: v for v in visits[patient.pk]}
        cells = []
        for spec in SCHEDULE:
            visit = by_code.get(spec.code)
            forms = [
                (code, states.get((visit.pk, code), NOT_STARTED) if visit else NOT_STARTED)
                for code in spec.forms
            ]
            if visit is not None and visit.status == Visit.Status.MISSED:
                forms = [(code, "missed") for code, _ in forms]
            cells.append({"spec": spec, "visit": visit, "forms": forms})
        grid.append({"patient": patient, "cells": cells})
    return grid


def patients_with_visits(user: Any) -> QuerySet[Patient]:
    """The user's patients (patients.selectors.patient_list) with their visits, in code order."""
    return patient_list(user).prefetch_related(
        Prefetch("visits", queryset=Visit.objects.order_by("code"))
    )


def patients_for_lists(user: Any) -> QuerySet[Patient]:
    """The user's patients as the list pages need them: only the relations they show or filter
    on (site, allocation, withdrawal), not the screening and consent the patient page shows (two
    joins and a hundred model instances fewer per page), and of those only the columns the rows
    show and ``patient_progress`` reads; their visits come from ``visits_by_patient`` for the
    page's patients."""
    return (
        patient_list(user)
        .select_related(None)
        .select_related("site", "allocation", "withdrawal")
        .only(*LIST_COLUMNS)
    )


# What a row of the patient list and of the record status grid reads (``patient_progress``
# included); anything else would be read one query per row, which the query pins would show.
LIST_COLUMNS = (
    "study_id",
    "site__code",
    "allocation__arm",
    "allocation__randomised_on",
    "withdrawal__id",
)


def _final_visit_done() -> Exists:
    return Exists(
        Visit.objects.filter(patient_id=OuterRef("pk"), code=FINAL_VISIT, status=Visit.Status.DONE)
    )


def progress_status_q(status: str) -> Q:
    """The patients whose ``patient_progress`` status is ``status``, as SQL conditions (the same
    rule: withdrawn, then completed, then randomised, then enrolled) written as plain conditions
    rather than a CASE, so the database can use its indexes and need not compute the status of
    every patient first."""
    staying = Q(withdrawal__isnull=True)
    completed = staying & _final_visit_done()
    randomised = staying & ~_final_visit_done() & Q(allocation__isnull=False)
    enrolled = staying & ~_final_visit_done() & Q(allocation__isnull=True)
    return {
        PatientStatus.WITHDRAWN.value: Q(withdrawal__isnull=False),
        PatientStatus.COMPLETED.value: completed,
        PatientStatus.RANDOMISED.value: randomised,
        PatientStatus.ENROLLED.value: enrolled,
    }[status]


@dataclass(frozen=True)
class Progress:
    status: str
    next_visit: tuple[str, date] | None

    @property
    def status_label(self) -> str:
        return PatientStatus(self.status).label


def patient_progress(patient: Patient, visits: list[Any] | None = None) -> Progress:
    """Where the patient stands: withdrawn, completed (the final visit done), randomised or
    enrolled; and the first scheduled visit not yet done or missed, with its target date.
    Reads relations the selectors load up front (no query per patient); the visits are
    ``visits`` if given (e.g. ``visits_by_patient``), else the prefetched ones."""
    allocation = patient.allocation_or_none
    withdrawn = patient.withdrawal_or_none is not None
    visits = list(patient.visits.all()) if visits is None else visits
    if withdrawn:
        status = PatientStatus.WITHDRAWN
    elif any(v.code == FINAL_VISIT and v.status == Visit.Status.DONE for v in visits):
        status = PatientStatus.COMPLETED
    elif allocation is not None:
        status = PatientStatus.RANDOMISED
    else:
        status = PatientStatus.ENROLLED
    next_visit = None
    if allocation is not None and not withdrawn:
        finished = {v.code for v in visits if v.status in {Visit.Status.DONE, Visit.Status.MISSED}}
        next_visit = next(
            (
                (code, target_date(code, allocation.randomised_on))
                for code in VISIT_CODES
                if code not in finished
            ),
            None,
        )
    return Progress(status=status, next_visit=next_visit)
