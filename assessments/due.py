"""The schedule ahead: each visit's target date and window, and the visits due or overdue.

Reads only (selectors); the dates come from ``assessments.schedule``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from assessments.models import Visit
from assessments.schedule import SCHEDULE, target_date, window
from patients import selectors as patient_selectors

DUE_WITHIN_DAYS = 14

# What a scheduled visit is, seen from today.
DONE, MISSED, OVERDUE, DUE, OPEN, UPCOMING = "done", "missed", "overdue", "due", "open", "upcoming"
TIMING_LABELS = {
    DONE: _("done"),
    MISSED: _("missed"),
    OVERDUE: _("overdue: the window has closed"),
    DUE: _("due soon"),
    OPEN: _("window open now"),
    UPCOMING: _("upcoming"),
}


def visit_timing(
    code: str, day0: date | None, visit: Visit | None, today: date
) -> dict[str, Any] | None:
    """Target date, window and timing of one visit; None before randomisation (no day 0)."""
    if day0 is None:
        return None
    low, high = window(code, day0)
    if visit is not None and visit.status == Visit.Status.DONE:
        timing = DONE
    elif visit is not None and visit.status == Visit.Status.MISSED:
        timing = MISSED
    elif high < today:
        timing = OVERDUE
    elif low <= today:
        timing = OPEN
    elif low <= today + timedelta(days=DUE_WITHIN_DAYS):
        timing = DUE
    else:
        timing = UPCOMING
    return {
        "code": code,
        "target": target_date(code, day0),
        "low": low,
        "high": high,
        "timing": timing,
        "timing_label": TIMING_LABELS[timing],
    }


def patient_schedule(patient: Any, today: date) -> dict[str, dict[str, Any] | None]:
    """Visit code → timing for one patient (visits and allocation come prefetched)."""
    allocation = patient.allocation_or_none
    day0 = allocation.randomised_on if allocation is not None else None
    visits = {v.code: v for v in patient.visits.all()}
    return {
        spec.code: visit_timing(spec.code, day0, visits.get(spec.code), today) for spec in SCHEDULE
    }


def visits_due(user: Any, today: date, *, days: int = DUE_WITHIN_DAYS) -> list[dict[str, Any]]:
    """Visits of the user's patients whose window opens within ``days`` or has closed unrecorded.

    Withdrawn patients are left out; the baseline (before randomisation) is not listed. A fixed
    number of queries whatever the number of patients. Overdue first, then by target date.
    """
    rows = []
    for patient in patient_selectors.patient_list(user):
        if patient.withdrawal_or_none is not None or patient.allocation_or_none is None:
            continue
        for code, timing in patient_schedule(patient, today).items():
            if code == "V0" or timing is None:
                continue
            if timing["timing"] in (OVERDUE, OPEN) or (
                timing["timing"] == DUE and timing["low"] <= today + timedelta(days=days)
            ):
                rows.append({"patient": patient, **timing})
    rows.sort(key=lambda r: (r["timing"] != OVERDUE, r["target"], r["patient"].study_id))
    return rows
