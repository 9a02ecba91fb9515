"""Allocation lists: permuted blocks of random size, 1:1, stratified. No Django imports.

A list is reproducible from its seed: each stratum draws from its own generator seeded with the
list seed and the stratum label, so adding a site never changes another site's sequence.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass

ARMS = ("standard", "b12")
CSV_COLUMNS = ["site", "b12_deficient", "sequence", "block", "block_size", "arm"]


class AllocationListError(ValueError):
    """A list (generated or uploaded) that breaks the rules; ``errors`` names row and column."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Slot:
    site: str
    b12_deficient: bool
    sequence: int  # 1-based within the stratum
    block: int  # 1-based within the stratum
    block_size: int
    arm: str

    @property
    def stratum(self) -> tuple[str, bool]:
        return (self.site, self.b12_deficient)


DEFICIENT = "B12-deficient"
NOT_DEFICIENT = "B12-not-deficient"


def stratum_label(site: str, b12_deficient: bool) -> str:
    """'SMR/B12-deficient': the one spelling of a stratum (lists, messages, exports, import)."""
    return f"{site}/{DEFICIENT if b12_deficient else NOT_DEFICIENT}"


def stratum_is_deficient(label: str) -> bool:
    """The B12 part of a stratum label written by ``stratum_label``."""
    return label.endswith(f"/{DEFICIENT}")


def check_block_sizes(block_sizes: Iterable[int]) -> list[int]:
    sizes = sorted(set(block_sizes))
    if not sizes:
        raise AllocationListError(["block sizes: give at least one block size"])
    bad = [s for s in sizes if s <= 0 or s % len(ARMS)]
    if bad:
        raise AllocationListError(
            [f"block sizes: {bad} not allowed; each must be a positive multiple of {len(ARMS)}"]
        )
    return sizes


def generate_stratum(
    *, seed: int, site: str, b12_deficient: bool, per_stratum: int, block_sizes: Iterable[int]
) -> list[Slot]:
    """Complete permuted blocks until at least ``per_stratum`` slots exist."""
    sizes = check_block_sizes(block_sizes)
    if per_stratum <= 0:
        raise AllocationListError(["per stratum: must be at least 1"])
    rng = random.Random(f"{seed}:{stratum_label(site, b12_deficient)}")  # noqa: S311 - not crypto
    slots: list[Slot] = []
    block = 0
    while len(slots) < per_stratum:
        block += 1
        size = rng.choice(sizes)
        arms = list(ARMS) * (size // len(ARMS))
        rng.shuffle(arms)
        for arm in arms:
            slots.append(Slot(site, b12_deficient, len(slots) + 1, block, size, arm))
    return slots


def generate_list(
    *, seed: int, sites: Iterable[str], per_stratum: int, block_sizes: Iterable[int]
) -> list[Slot]:
    """One stratum per site × baseline B12 status (deficient or not)."""
    slots: list[Slot] = []
    for site in sorted(set(sites)):
        for deficient in (True, False):
            slots += generate_stratum(
                seed=seed,
                site=site,
                b12_deficient=deficient,
                per_stratum=per_stratum,
                block_sizes=block_sizes,
            )
    return slots


def to_csv(slots: Iterable[Slot]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in slots:
        writer.writerow([s.site, int(s.b12_deficient), s.sequence, s.block, s.block_size, s.arm])
    return out.getvalue()


def parse_csv(text: str, *, known_sites: Iterable[str]) -> list[Slot]:
    """Read a statistician's list; every problem is reported, and any problem rejects it all."""
    reader = csv.DictReader(io.StringIO(text))
    errors: list[str] = []
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != CSV_COLUMNS:
        raise AllocationListError(
            [f"header: expected columns {','.join(CSV_COLUMNS)}, got {reader.fieldnames}"]
        )
    sites = set(known_sites)
    slots: list[Slot] = []
    for line, row in enumerate(reader, start=2):
        try:
            slots.append(_parse_row(row, sites))
        except ValueError as error:
            errors.append(f"row {line}: {error}")
    if not slots and not errors:
        errors.append("the file has no rows")
    errors += _check_sequences(slots)
    if errors:
        raise AllocationListError(errors)
    return slots


def _parse_row(row: dict[str, str], sites: set[str]) -> Slot:
    site = (row["site"] or "").strip()
    if site not in sites:
        raise ValueError(f"site: {site!r} is not a site of this trial ({', '.join(sorted(sites))})")
    deficient = (row["b12_deficient"] or "").strip()
    if deficient not in {"0", "1"}:
        raise ValueError(f"b12_deficient: {deficient!r} must be 0 or 1")
    numbers = {}
    for column in ("sequence", "block", "block_size"):
        raw = (row[column] or "").strip()
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{column}: {raw!r} must be a whole number of at least 1")
        numbers[column] = int(raw)
    arm = (row["arm"] or "").strip()
    if arm not in ARMS:
        raise ValueError(f"arm: {arm!r} must be one of {', '.join(ARMS)}")
    return Slot(
        site, deficient == "1", numbers["sequence"], numbers["block"], numbers["block_size"], arm
    )


def _check_sequences(slots: list[Slot]) -> list[str]:
    errors = []
    by_stratum: dict[tuple[str, bool], list[Slot]] = {}
    for slot in slots:
        by_stratum.setdefault(slot.stratum, []).append(slot)
    for (site, deficient), stratum in sorted(by_stratum.items()):
        label = stratum_label(site, deficient)
        sequences = sorted(s.sequence for s in stratum)
        if sequences != list(range(1, len(stratum) + 1)):
            errors.append(f"stratum {label}: sequence must run 1, 2, 3 … without gaps or repeats")
    return errors
