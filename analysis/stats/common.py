"""Helpers shared by the analyses."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

ARMS = ("standard", "b12")
ALPHA = 0.05


def gettext_noop(message: str) -> str:
    """Marks a note for translation without importing Django (``makemessages`` extracts every
    ``gettext_noop("…")`` call by name). Notes travel in the results document as this English
    text, which is the catalogue's msgid: the document is computed once and shared, and each
    reader's page translates the note into its own language with ``gettext(note)``."""
    return message


def empty(note: str, **extra: Any) -> dict[str, Any]:
    """The shape of an estimate that could not be computed, with the reason."""
    return {
        "estimate": None,
        "se": None,
        "ci_low": None,
        "ci_high": None,
        "p": None,
        "note": note,
        **extra,
    }


def arm_counts(frame: pd.DataFrame, arm: str = "arm") -> dict[str, int]:
    return {a: int((frame[arm] == a).sum()) for a in ARMS}


def treat(frame: pd.DataFrame, arm: str = "arm") -> np.ndarray:
    """1.0 for the B12 arm, 0.0 for standard (differences are always b12 − standard)."""
    return (frame[arm] == "b12").to_numpy(dtype=float)


def mean_ci(values: pd.Series | np.ndarray) -> dict[str, Any]:
    """Mean, SD and the t-based 95 % CI of the mean."""
    x = np.asarray(pd.Series(values).dropna(), dtype=float)
    n = len(x)
    if n == 0:
        return {"mean": None, "sd": None, "ci_low": None, "ci_high": None, "n": 0}
    mean = float(x.mean())
    if n == 1:
        return {"mean": mean, "sd": None, "ci_low": None, "ci_high": None, "n": 1}
    sd = float(x.std(ddof=1))
    half = stats.t.ppf(1 - ALPHA / 2, n - 1) * sd / math.sqrt(n)
    return {"mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half, "n": n}


def full_rank(design: np.ndarray) -> bool:
    return design.shape[0] > design.shape[1] and np.linalg.matrix_rank(design) == design.shape[1]


def format_p(p: float | None) -> str:
    """p to three decimals, '< 0.001' below that (SAP reporting convention)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def jsonable(value: Any) -> Any:
    """Numbers and containers made JSON-safe: numpy types to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
