"""Reads of visits and form states shared by the patient page and the status dashboard."""

from __future__ import annotations

from typing import Any

from assessments.models import CRF_MODELS, Visit
from assessments.schedule import SCHEDULE

NOT_STARTED = "not_started"


def form_states(visits: list[Visit]) -> dict[tuple[int, str], str]:
    """(visit id, form code) → status for the given visits, one query per form model."""
    ids = [v.pk for v in visits]
    states: dict[tuple[int, str], str] = {}
    if not ids:
        return states
    for code, model in CRF_MODELS.items():
        rows = model.objects.filter(visit_id__in=ids).values_list("visit_id", "status")
        for visit_id, status in rows:
            states[(visit_id, code)] = status
    return states


def visit_grid(patients: list[Any]) -> list[dict[str, Any]]:
    """Per patient, per scheduled visit: the visit (or None), its flags and each form's state.

    Patients must come with their visits prefetched; the form states cost one query per form
    model, whatever the number of patients.
    """
    visits = [v for p in patients for v in p.visits.all()]
    states = form_states(visits)
    grid = []
    for patient in patients:
        by_code = {v.code: v for v in patient.visits.all()}
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
