"""Lab values: units, conversion to canonical units, plausibility limits, B12 status.

Facts from reference/instruments.md. No Django imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Analyte:
    code: str
    canonical_unit: str
    # accepted unit -> factor to canonical
    units: dict[str, Decimal]
    hard_min_exclusive: Decimal | None  # value must be > this (None: ≥ 0 allowed)
    hard_max: Decimal
    soft_low: Decimal | None
    soft_high: Decimal | None


B12 = Analyte(
    code="b12",
    canonical_unit="pmol/L",
    units={"pmol/L": Decimal("1"), "pg/mL": Decimal("0.7378")},
    hard_min_exclusive=Decimal("0"),
    hard_max=Decimal("15000"),
    soft_low=Decimal("110"),
    soft_high=Decimal("1100"),
)
CORTISOL = Analyte(
    code="cortisol",
    canonical_unit="nmol/L",
    units={"nmol/L": Decimal("1"), "µg/dL": Decimal("27.59")},
    hard_min_exclusive=Decimal("0"),
    hard_max=Decimal("5500"),
    soft_low=Decimal("80"),
    soft_high=Decimal("830"),
)
DOPAMINE = Analyte(
    code="dopamine",
    canonical_unit="pmol/L",
    units={"pmol/L": Decimal("1"), "pg/mL": Decimal("6.528")},
    hard_min_exclusive=None,
    hard_max=Decimal("650000"),
    soft_low=None,
    soft_high=Decimal("650"),
)
ANALYTES = {a.code: a for a in (B12, CORTISOL, DOPAMINE)}

B12_DEFICIENT_BELOW = Decimal("148")  # pmol/L (< 200 pg/mL)
B12_BORDERLINE_BELOW = Decimal("221")  # pmol/L (≤ 300 pg/mL counts as borderline)
B12_FOLD_CHANGE_WARNING = Decimal("3")


class LabValueError(ValueError):
    """A value outside the hard limits; the message names value, limit and unit."""


def to_canonical(analyte: Analyte, value: Decimal, unit: str) -> Decimal:
    try:
        factor = analyte.units[unit]
    except KeyError:
        allowed = ", ".join(analyte.units)
        raise LabValueError(f"unit {unit!r} is not accepted; use one of {allowed}") from None
    return (Decimal(value) * factor).quantize(Decimal("0.001"))


def hard_limit_error(analyte: Analyte, canonical: Decimal) -> str | None:
    """None when plausible; otherwise what is wrong, in the canonical unit."""
    low = analyte.hard_min_exclusive
    if low is not None and canonical <= low:
        return f"must be greater than {low} {analyte.canonical_unit}"
    if low is None and canonical < 0:
        return f"must not be negative ({analyte.canonical_unit})"
    if canonical > analyte.hard_max:
        return f"must be at most {analyte.hard_max} {analyte.canonical_unit}"
    return None


def soft_limit_warning(analyte: Analyte, canonical: Decimal) -> str | None:
    if analyte.soft_low is not None and canonical < analyte.soft_low:
        return f"below {analyte.soft_low} {analyte.canonical_unit}"
    if analyte.soft_high is not None and canonical > analyte.soft_high:
        return f"above {analyte.soft_high} {analyte.canonical_unit}"
    return None


def b12_status(pmol_l: Decimal | float | None) -> str | None:
    """'deficient' (< 148 pmol/L), 'borderline' (148–221), 'normal' (above); None if missing."""
    if pmol_l is None:
        return None
    value = Decimal(str(pmol_l))
    if value < B12_DEFICIENT_BELOW:
        return "deficient"
    if value <= B12_BORDERLINE_BELOW:
        return "borderline"
    return "normal"


def is_b12_deficient(pmol_l: Decimal | float | None) -> bool | None:
    status = b12_status(pmol_l)
    return None if status is None else status == "deficient"


def fold_change(previous: Decimal | None, current: Decimal | None) -> Decimal | None:
    """The larger of current/previous and previous/current; None if either is missing or 0."""
    if not previous or not current:
        return None
    ratio = Decimal(current) / Decimal(previous)
    return max(ratio, 1 / ratio)
