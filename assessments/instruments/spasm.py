"""Spasm assessment: Jankovic total and the observed spasm rate. No Django imports."""

from __future__ import annotations

VAS_CHANGE_WARNING_MM = 50


def jankovic_total(severity: int | None, frequency: int | None) -> int | None:
    if severity is None or frequency is None:
        return None
    return severity + frequency


def spasm_rate(count: int | None, minutes: float | None) -> float | None:
    """Spasms per minute of observation; None without both, or with no observation time."""
    if count is None or not minutes:
        return None
    return count / float(minutes)


def large_vas_change(previous: int | None, current: int | None) -> bool:
    """A change of more than 50 mm since the previous visit deserves a second look."""
    if previous is None or current is None:
        return False
    return abs(current - previous) > VAS_CHANGE_WARNING_MM
