"""Validation rules shared by several models."""

from __future__ import annotations

from typing import Any

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
