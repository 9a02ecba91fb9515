"""The visit schedule of the SAP, in one place. No Django imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class VisitSpec:
    code: str
    day: int
    window: int  # ± days; V0 has its own rule (on or up to 14 days before day 0)
    forms: tuple[str, ...]
    lab_analytes: tuple[str, ...] = ()


BASELINE_DAYS_BEFORE_RANDOMISATION = 14

SCHEDULE: tuple[VisitSpec, ...] = (
    VisitSpec(
        "V0", 0, 0, ("spasm", "labs", "rand36", "hads", "hdrs"), ("b12", "cortisol", "dopamine")
    ),
    VisitSpec("V1", 28, 4, ("spasm", "labs"), ("b12",)),
    VisitSpec("V2", 56, 5, ("spasm",)),
    VisitSpec(
        "V3", 84, 7, ("spasm", "labs", "rand36", "hads", "hdrs"), ("b12", "cortisol", "dopamine")
    ),
)
VISITS = {spec.code: spec for spec in SCHEDULE}
VISIT_CODES = tuple(VISITS)
BASELINE_VISIT = VISIT_CODES[0]  # the baseline B12 taken here sets the randomisation stratum
FINAL_VISIT = VISIT_CODES[-1]  # a patient who has done it has completed the study


def target_date(code: str, day0: date) -> date:
    return day0 + timedelta(days=VISITS[code].day)


def window(code: str, day0: date) -> tuple[date, date]:
    spec = VISITS[code]
    if code == "V0":
        return day0 - timedelta(days=BASELINE_DAYS_BEFORE_RANDOMISATION), day0
    centre = target_date(code, day0)
    return centre - timedelta(days=spec.window), centre + timedelta(days=spec.window)


def in_window(code: str, visit_date: date, day0: date | None) -> bool | None:
    """None while the patient is not randomised (no day 0 yet)."""
    if day0 is None:
        return None
    low, high = window(code, day0)
    return low <= visit_date <= high
