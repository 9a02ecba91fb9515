"""Validation rules shared by several models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FUTURE_DATE = _("The date cannot be in the future.")
BEFORE_STUDY_START = _("The date is before the study started (%(start)s).")
BIRTH_TOO_EARLY = _("The date of birth must be on or after %(earliest)s.")
EARLIEST_BIRTH = date(1900, 1, 1)


def plausible_dates(obj: Any, *fields: str, births: tuple[str, ...] = ()) -> dict[str, list]:
    """The one date-plausibility rule: a study date lies between the study start
    (``settings.STUDY_START``) and today (in the site's time zone); a date of birth between
    1900-01-01 and today. Returns field → errors."""
    today = timezone.localdate()
    errors: dict[str, list] = {}
    for name in (*fields, *births):
        value = getattr(obj, name, None)
        if value is None:
            continue
        if value > today:
            errors[name] = [FUTURE_DATE]
        elif name in births and value < EARLIEST_BIRTH:
            errors[name] = [ValidationError(BIRTH_TOO_EARLY, params={"earliest": EARLIEST_BIRTH})]
        elif name not in births and value < settings.STUDY_START:
            start = settings.STUDY_START
            errors[name] = [ValidationError(BEFORE_STUDY_START, params={"start": start})]
    return errors


def future_dates(obj: Any, *fields: str) -> dict[str, list]:
    """Errors for each named study date that is in the future or before the study start."""
    return plausible_dates(obj, *fields)


NEEDS_CONFIRMATION = _(
    "Please check the values marked in amber. They are possible, so nothing is wrong yet: "
    "confirm them to save."
)


class UnconfirmedWarnings(ValidationError):
    """A service refused a save: soft warnings the caller has not confirmed (with any hard errors
    found at the same time). ``warnings`` maps field → message; ``error_dict`` holds both."""

    def __init__(self, warnings: dict[str, Any], errors: dict[str, list] | None = None):
        combined: dict[str, list] = {
            name: list(messages) for name, messages in (errors or {}).items()
        }
        for name, message in warnings.items():
            combined.setdefault(name, []).append(message)
        super().__init__(combined)
        self.warnings = warnings


_warnings_reported_to: ContextVar[Callable[[str, Any], None] | None] = ContextVar(
    "hfs_ecrf_warnings_reported_to", default=None
)


@contextmanager
def warnings_reported_to(report: Callable[[str, Any], None]) -> Iterator[None]:
    """Inside, a service's soft warnings are handed to ``report(field, message)`` and the save goes
    on as confirmed, instead of being refused with ``UnconfirmedWarnings`` and sent again with
    ``confirmed=True`` (the importer: it lists every warning and saves past them; a run whose
    warnings were not accepted is rolled back as a whole). Hard errors still refuse."""
    token = _warnings_reported_to.set(report)
    try:
        yield
    finally:
        _warnings_reported_to.reset(token)


def refuse_unconfirmed(
    warnings: dict[str, Any], errors: dict[str, list], *, confirmed: bool
) -> str:
    """The one rule of soft warnings, for every service that warns: hard errors always refuse;
    warnings refuse unless ``confirmed`` (or reported, ``warnings_reported_to``). Returns the
    confirmation text kept in the audit trail."""
    report = _warnings_reported_to.get()
    if warnings and not confirmed and report is not None:
        for name, message in warnings.items():
            report(name, message)
        confirmed = True
    if warnings and not confirmed:
        raise UnconfirmedWarnings(warnings, errors)
    if errors:
        raise ValidationError(errors)
    return confirmation_text(warnings)


def confirmation_text(warnings: dict[str, Any]) -> str:
    return "; ".join(f"{field}: {message}" for field, message in warnings.items())
