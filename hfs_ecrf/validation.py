"""Validation rules shared by several models."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FUTURE_DATE = _("The date cannot be in the future.")


def future_dates(obj: Any, *fields: str) -> dict[str, list]:
    """Errors for each named date field that lies after today (in the site's time zone)."""
    today = timezone.localdate()
    return {
        name: [FUTURE_DATE]
        for name in fields
        if getattr(obj, name, None) is not None and getattr(obj, name) > today
    }


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


def refuse_unconfirmed(
    warnings: dict[str, Any], errors: dict[str, list], *, confirmed: bool
) -> str:
    """The one rule of soft warnings, for every service that warns: hard errors always refuse;
    warnings refuse unless ``confirmed``. Returns the confirmation text kept in the audit trail."""
    if warnings and not confirmed:
        raise UnconfirmedWarnings(warnings, errors)
    if errors:
        raise ValidationError(errors)
    return confirmation_text(warnings)


def confirmation_text(warnings: dict[str, Any]) -> str:
    return "; ".join(f"{field}: {message}" for field, message in warnings.items())
