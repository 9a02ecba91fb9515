"""Seriousness of an adverse event (ICH E2A): the criteria decide, the rest follows.

Pure functions, no Django: the model turns the problem codes into translated field errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

# The ICH E2A criteria, in the order of the form. An event is serious when any one holds.
CRITERIA = (
    "results_in_death",
    "life_threatening",
    "hospitalisation",
    "disability",
    "congenital_anomaly",
    "other_medical_event",
)
DEATH = "results_in_death"
FATAL = "fatal"
# Outcomes of an event still going on: it has no end date yet.
ONGOING = ("recovering", "not_recovered")

# A serious event must be reported to the sponsor within 24 hours of the site's awareness.
REPORT_WITHIN = timedelta(hours=24)

# Problem codes, mapped to messages by the model.
FATAL_WITHOUT_DEATH = "fatal_without_death"
DEATH_NOT_FATAL = "death_not_fatal"
ONGOING_WITH_END = "ongoing_with_end"
SERIOUS_WITHOUT_CRITERION = "serious_without_criterion"
CRITERION_BUT_NOT_SERIOUS = "criterion_but_not_serious"


def is_serious(criteria: Mapping[str, bool]) -> bool:
    """Serious is derived from the criteria: the one source of truth."""
    return any(bool(criteria.get(name)) for name in CRITERIA)


def consistency_problems(
    criteria: Mapping[str, bool], outcome: str, has_end_date: bool
) -> dict[str, str]:
    """Field → problem code for criteria, outcome and end date that contradict each other."""
    problems: dict[str, str] = {}
    death = bool(criteria.get(DEATH))
    if outcome == FATAL and not death:
        problems[DEATH] = FATAL_WITHOUT_DEATH
    elif death and outcome and outcome != FATAL:
        problems["outcome"] = DEATH_NOT_FATAL
    if outcome in ONGOING and has_end_date:
        problems["ended_on"] = ONGOING_WITH_END
    return problems


def declared_problem(declared_serious: bool | None, criteria: Mapping[str, bool]) -> str | None:
    """A 'serious yes/no' answer that contradicts the ticked criteria (None when unanswered)."""
    if declared_serious is None:
        return None
    serious = is_serious(criteria)
    if declared_serious and not serious:
        return SERIOUS_WITHOUT_CRITERION
    if not declared_serious and serious:
        return CRITERION_BUT_NOT_SERIOUS
    return None


def report_due(serious_since: datetime) -> datetime:
    return serious_since + REPORT_WITHIN


def time_left(serious_since: datetime, now: datetime) -> timedelta:
    """Time left on the report clock; negative once overdue."""
    return report_due(serious_since) - now
