"""Date arithmetic the enrolment rules need. No Django imports."""

from __future__ import annotations

from datetime import date


def age_in_years(born: date, on: date) -> int:
    """Completed years of age on a given day (a birthday counts from that day)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
