"""HDRS-17 (Hamilton depression rating scale). No Django imports."""

from __future__ import annotations

from collections.abc import Mapping

MAXIMA: dict[int, int] = {
    1: 4,
    2: 4,
    3: 4,
    4: 2,
    5: 2,
    6: 2,
    7: 4,
    8: 4,
    9: 4,
    10: 4,
    11: 4,
    12: 2,
    13: 2,
    14: 2,
    15: 4,
    16: 2,
    17: 2,
}
# Item 3 (suicide): a score of 2 or more ("wishes he were dead", ideas or gestures of suicide)
# needs the clinician's attention now and the investigator's review.
SUICIDE_ITEM = 3
SUICIDE_ALERT_FROM = 2


def suicide_alert(score: int | None) -> bool:
    return score is not None and score >= SUICIDE_ALERT_FROM


# Upper bounds of each band; the last band is open. Configurable per protocol.
DEFAULT_BANDS: tuple[tuple[int, str], ...] = (
    (7, "none"),
    (13, "mild"),
    (18, "moderate"),
    (22, "severe"),
)


def total(answers: Mapping[int, int | None], *, item16_not_assessed: bool = False) -> int | None:
    """Sum of items 1–17; missing when any item is unanswered or item 16 was not assessed."""
    if item16_not_assessed:
        return None
    values = []
    for item, maximum in MAXIMA.items():
        value = answers.get(item)
        if value is None:
            return None
        if not 0 <= value <= maximum:
            raise ValueError(f"HDRS item {item}: {value} is not 0–{maximum}")
        values.append(value)
    return sum(values)


def band(score: int | None, bands=DEFAULT_BANDS) -> str | None:
    if score is None:
        return None
    for upper, label in bands:
        if score <= upper:
            return label
    return "very_severe"
