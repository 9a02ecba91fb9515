"""Pure rules of monitoring: which lock covers which record, and the hash of signed data.
No Django imports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any


def lock_covers(
    lock: tuple[int | None, str], *, visit_id: int | None, form_code: str | None
) -> bool:
    """Whether a lock ``(visit id or None, form code or "")`` covers a record of the same patient.

    A patient lock (no visit) covers everything of the patient; a visit lock covers the visit and
    its forms; a form lock covers that form only. ``visit_id``/``form_code`` of the record are
    None for patient-level records (and ``form_code`` None for the visit itself).
    """
    lock_visit, lock_form = lock
    if lock_visit is None:
        return True
    if visit_id != lock_visit:
        return False
    return lock_form == "" or lock_form == form_code


def data_hash(rows: Iterable[dict[str, Any]]) -> str:
    """SHA-256 of the rows in a canonical JSON form (sorted keys, values as text)."""
    canonical = json.dumps(list(rows), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def visit_due(target: date, window_days: int, today: date, horizon_days: int = 14) -> str | None:
    """'overdue' once the window has closed, 'due' when the target lies within the horizon."""
    if today > target + timedelta(days=window_days):
        return "overdue"
    if target - today <= timedelta(days=horizon_days):
        return "due"
    return None


def value_text(value: Any) -> str:
    """A field's value as text, as a per-field verification keeps it (blank for none; a
    decimal without its trailing zeros, so 250 and 250.00 are the same value)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)
