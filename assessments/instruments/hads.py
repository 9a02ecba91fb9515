"""HADS: anxiety (odd items) and depression (even items), 0–21 each. No Django imports.

Items are stored as their score 0–3. Half rule (Bell et al. 2016): with at least 4 of 7 items
answered the subscale is the mean of the answered items × 7, unrounded; banding rounds half up.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

ANXIETY_ITEMS = (1, 3, 5, 7, 9, 11, 13)
DEPRESSION_ITEMS = (2, 4, 6, 8, 10, 12, 14)
MIN_ANSWERED = 4


def subscale(answers: Mapping[int, int | None], items: tuple[int, ...]) -> float | None:
    values = [answers[i] for i in items if answers.get(i) is not None]
    for value in values:
        if not 0 <= value <= 3:
            raise ValueError(f"HADS item score {value} is not 0–3")
    if len(values) < MIN_ANSWERED:
        return None
    return sum(values) / len(values) * len(items)


def scores(answers: Mapping[int, int | None]) -> tuple[float | None, float | None]:
    return subscale(answers, ANXIETY_ITEMS), subscale(answers, DEPRESSION_ITEMS)


def band(score: float | None) -> str | None:
    """'normal' 0–7, 'borderline' 8–10, 'abnormal' 11–21."""
    if score is None:
        return None
    rounded = int(Decimal(str(score)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    if rounded <= 7:
        return "normal"
    if rounded <= 10:
        return "borderline"
    return "abnormal"
