"""RAND-36 (public-domain SF-36 v1): RAND scale scores and the 1990 US-norm PCS/MCS.

Rules and the test vector are in reference/instruments.md. Items are the precoded answers 1..k
keyed by item number; a missing answer is None or absent. No Django imports.
"""

from __future__ import annotations

from collections.abc import Mapping

Answers = Mapping[int, int | None]

OPTIONS: dict[int, int] = {
    1: 5,
    2: 5,
    **dict.fromkeys(range(3, 13), 3),
    **dict.fromkeys(range(13, 20), 2),
    20: 5,
    21: 6,
    22: 5,
    **dict.fromkeys(range(23, 32), 6),
    **dict.fromkeys(range(32, 37), 5),
}

_HIGH_IS_BETTER = {*range(3, 20), 24, 25, 28, 29, 31, 32, 33, 35}

# RAND scales: items and the minimum answered for a score (at least half of the items).
SCALES: dict[str, tuple[tuple[int, ...], int]] = {
    "pf": (tuple(range(3, 13)), 5),
    "rp": ((13, 14, 15, 16), 2),
    "re": ((17, 18, 19), 2),
    "ef": ((23, 27, 29, 31), 2),
    "ew": ((24, 25, 26, 28, 30), 3),
    "sf": ((20, 32), 1),
    "bp": ((21, 22), 1),
    "gh": ((1, 33, 34, 35, 36), 3),
}

NORMS: dict[str, tuple[float, float, float, float]] = {
    # scale: (mean, SD, PCS weight, MCS weight) — 1990 US general population
    "PF": (84.52404, 22.89490, 0.42402, -0.22999),
    "RP": (81.19907, 33.79729, 0.35119, -0.12329),
    "BP": (75.49196, 23.55879, 0.31754, -0.09731),
    "GH": (72.21316, 20.16964, 0.24954, -0.01571),
    "VT": (61.05453, 20.86942, 0.02877, 0.23534),
    "SF": (83.59753, 22.37642, -0.00753, 0.26876),
    "RE": (81.29467, 33.02717, -0.19206, 0.43407),
    "MH": (74.84212, 18.01189, -0.22069, 0.48581),
}


class ItemOutOfRange(ValueError):
    pass


def check_answers(answers: Answers) -> None:
    for item, value in answers.items():
        if value is None:
            continue
        k = OPTIONS.get(item)
        if k is None or not 1 <= value <= k:
            raise ItemOutOfRange(f"RAND-36 item {item}: {value} is not an answer 1–{k}")


def recode(item: int, value: int) -> float:
    """RAND's 0–100 recoding of one answer (higher = better health)."""
    k = OPTIONS[item]
    step = 100 / (k - 1)
    return (value - 1) * step if item in _HIGH_IS_BETTER else (k - value) * step


def rand_scales(answers: Answers) -> dict[str, float | None]:
    """RAND scale scores 0–100: mean of answered recoded items, or None below the half rule."""
    check_answers(answers)
    scores: dict[str, float | None] = {}
    for scale, (items, minimum) in SCALES.items():
        values = [recode(i, answers[i]) for i in items if answers.get(i) is not None]
        scores[scale] = sum(values) / len(values) if len(values) >= minimum else None
    return scores


_BP21 = {1: 6.0, 2: 5.4, 3: 4.2, 4: 3.1, 5: 2.2, 6: 1.0}
_BP22_ALONE = {1: 6.0, 2: 4.75, 3: 3.5, 4: 2.25, 5: 1.0}
_GH1 = {1: 5.0, 2: 4.4, 3: 3.4, 4: 2.0, 5: 1.0}


def _all(answers: Answers, items) -> list[int] | None:
    values = [answers.get(i) for i in items]
    return None if any(v is None for v in values) else values  # type: ignore[return-value]


def sf36_scales(answers: Answers) -> dict[str, float | None]:
    """The original SF-36 scale scoring used for the composites (differs from RAND for BP, GH)."""
    check_answers(answers)
    a = answers
    out: dict[str, float | None] = dict.fromkeys(NORMS)
    if (v := _all(a, range(3, 13))) is not None:
        out["PF"] = (sum(v) - 10) / 20 * 100
    if (v := _all(a, range(13, 17))) is not None:
        out["RP"] = (sum(v) - 4) / 4 * 100
    if (v := _all(a, range(17, 20))) is not None:
        out["RE"] = (sum(v) - 3) / 3 * 100
    i21, i22 = a.get(21), a.get(22)
    if i21 is not None or i22 is not None:
        if i21 is not None and i22 is not None:
            p21 = _BP21[i21]
            p22 = (6.0 if i21 == 1 else 5.0) if i22 == 1 else float(6 - i22)
        elif i21 is not None:
            p21 = p22 = _BP21[i21]
        else:
            p21 = p22 = _BP22_ALONE[i22]
        out["BP"] = (p21 + p22 - 2) / 10 * 100
    if (v := _all(a, (1, 33, 34, 35, 36))) is not None:
        i1, i33, i34, i35, i36 = v
        out["GH"] = (_GH1[i1] + (6 - i34) + (6 - i36) + i33 + i35 - 5) / 20 * 100
    if (v := _all(a, (23, 27, 29, 31))) is not None:
        i23, i27, i29, i31 = v
        out["VT"] = ((7 - i23) + (7 - i27) + i29 + i31 - 4) / 20 * 100
    if (v := _all(a, (20, 32))) is not None:
        out["SF"] = ((6 - v[0]) + v[1] - 2) / 8 * 100
    if (v := _all(a, (24, 25, 26, 28, 30))) is not None:
        i24, i25, i26, i28, i30 = v
        out["MH"] = ((7 - i26) + (7 - i30) + i24 + i25 + i28 - 5) / 25 * 100
    return out


def composites(answers: Answers) -> tuple[float | None, float | None]:
    """PCS and MCS (1990 US norms); None unless all eight SF-36 scales can be scored."""
    scales = sf36_scales(answers)
    if any(value is None for value in scales.values()):
        return None, None
    pcs = mcs = 0.0
    for scale, (mean, sd, w_p, w_m) in NORMS.items():
        z = (scales[scale] - mean) / sd
        pcs += z * w_p
        mcs += z * w_m
    return 50 + 10 * pcs, 50 + 10 * mcs
