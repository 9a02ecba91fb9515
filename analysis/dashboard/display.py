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


def percent(value: Any, digits: int = 1, *, proportion: bool = False) -> str:
    """The one rule for percentages: every share is shown as a percentage with its sign
    ('48.3 %'); ``proportion=True`` for a value stored as a proportion (0.283 -> '28.3 %')."""
    if value is None:
        return MISSING
    return f"{num(100 * value if proportion else value, digits)} %"


def ci(obj: dict[str, Any] | None, digits: int = 2, *, show=None) -> str:
    """'low to high' of an estimate's 95 % CI; a dash when it has none. ``show`` formats each
    limit (default: :func:`num` to ``digits``)."""
    if not obj or obj.get("ci_low") is None:
        return MISSING
    show = show or (lambda value: num(value, digits))
    return f"{show(obj['ci_low'])} to {show(obj['ci_high'])}"


def n_by_arm(n: Any, names: dict[str, str] | None = None) -> str:
    """A count, or counts per arm ('standard 30, b12 29'; ``names`` gives the arms' labels)."""
    if isinstance(n, dict):
        return ", ".join(f"{(names or {}).get(arm, arm)} {n.get(arm, 0)}" for arm in ARMS)
    return "" if n is None else str(n)


def estimate_ci_n(obj: dict[str, Any] | None) -> str:
    """'estimate (low to high), n=N'; a dash when there is no estimate."""
    if not obj or obj.get("estimate") is None:
        return MISSING
    return f"{num(obj['estimate'])} ({ci(obj)}), n={obj['n']}"


def count_of(cell: dict[str, Any]) -> str:
    """'n/of (percent %)'."""
    return f"{cell['n']}/{cell['of']} ({percent(cell['percent'])})"
