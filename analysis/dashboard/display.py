"""How a number of the results document is shown in a table cell: defined once here.
No Django imports."""

from __future__ import annotations

from typing import Any

from analysis.stats.common import ARMS

MISSING = "—"


def num(value: Any, digits: int = 2) -> str:
    """A number to ``digits`` decimals; whole numbers as they are; a dash when missing."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def ci(obj: dict[str, Any] | None, digits: int = 2) -> str:
    """'low to high' of an estimate's 95 % CI; a dash when it has none."""
    if not obj or obj.get("ci_low") is None:
        return MISSING
    return f"{num(obj['ci_low'], digits)} to {num(obj['ci_high'], digits)}"


def n_by_arm(n: Any) -> str:
    """A count, or counts per arm ('standard 30, b12 29')."""
    if isinstance(n, dict):
        return ", ".join(f"{arm} {n.get(arm, 0)}" for arm in ARMS)
    return "" if n is None else str(n)


def estimate_ci_n(obj: dict[str, Any] | None) -> str:
    """'estimate (low to high), n=N'; a dash when there is no estimate."""
    if not obj or obj.get("estimate") is None:
        return MISSING
    return f"{num(obj['estimate'])} ({ci(obj)}), n={obj['n']}"


def count_of(cell: dict[str, Any]) -> str:
    """'n/of (percent %)'."""
    return f"{cell['n']}/{cell['of']} ({num(cell['percent'], 1)} %)"
