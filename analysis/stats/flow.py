"""CONSORT flow, the baseline table and safety tables (SAP sections 1, 2 and 11)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from analysis.stats.common import ARMS, arm_counts

RELATED = {"possible", "probable", "definite"}
NOT_ANALYSED_OUTCOME_MISSING = "outcome_missing"


def consort(screening: pd.DataFrame, patients: pd.DataFrame) -> dict[str, Any]:
    """Counts for the CONSORT diagram from the screening log and the patient table."""
    reasons = Counter()
    for text in screening.loc[screening.outcome == "not_eligible", "failure_reasons"]:
        reasons.update(r for r in str(text).split(",") if r)
    randomised = patients[patients.arm.notna()]
    per_arm = {}
    for arm in ARMS:
        rows = randomised[randomised.arm == arm]
        withdrawn = rows[rows.withdrawn == 1]
        per_arm[arm] = {
            "allocated": int(len(rows)),
            "received_allocation": int(rows.received_allocation.sum()),
            "lost_to_follow_up": int((withdrawn.withdrawal_reason == "lost_to_follow_up").sum()),
            "discontinued": dict(
                Counter(
                    withdrawn.loc[
                        withdrawn.withdrawal_reason != "lost_to_follow_up", "withdrawal_reason"
                    ]
                )
            ),
            "analysed": int(rows.mitt.sum()),
        }
    return {
        "screened": int(len(screening)),
        "not_eligible": int((screening.outcome == "not_eligible").sum()),
        "not_eligible_reasons": dict(reasons),
        "declined": int((screening.outcome == "declined").sum()),
        "enrolled": int(len(patients)),
        "enrolled_not_randomised": int(patients.arm.isna().sum()),
        "randomised": int(len(randomised)),
        "arms": per_arm,
        "not_analysed": not_analysed(randomised),
    }


def not_analysed(randomised: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per arm, why allocated patients are not in the primary analysis (mITT: VAS frequency at
    V0 and V3): the withdrawal reason of a withdrawn patient, ``outcome_missing`` for a patient
    still in the study. Every allocated patient is analysed or counted under one reason."""
    out = {}
    for arm in ARMS:
        rows = randomised[(randomised.arm == arm) & (randomised.mitt != 1)]
        reasons = Counter()
        for withdrawn, reason in zip(rows.withdrawn, rows.withdrawal_reason, strict=True):
            if withdrawn == 1:
                reasons[reason if isinstance(reason, str) and reason else "other"] += 1
            else:
                reasons[NOT_ANALYSED_OUTCOME_MISSING] += 1
        out[arm] = dict(reasons)
    return out


def _smd_continuous(a: pd.Series, b: pd.Series) -> float | None:
    if len(a) < 2 or len(b) < 2:
        return None
    pooled = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    return None if pooled == 0 else float((a.mean() - b.mean()) / pooled)


def _smd_binary(p1: float, p0: float) -> float | None:
    pooled = math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    return None if pooled == 0 else float((p1 - p0) / pooled)


def baseline_table(
    frame: pd.DataFrame, continuous: list[str], categorical: list[str]
) -> list[dict[str, Any]]:
    """Per arm: mean ± SD and median (IQR), or n (%); standardised mean differences
    (b12 − standard). No p-values (CONSORT item 15)."""
    rows = []
    for variable in continuous:
        if variable not in frame:
            continue
        cells = {}
        for arm in ARMS:
            x = frame.loc[frame.arm == arm, variable].dropna().astype(float)
            cells[arm] = {
                "n": int(len(x)),
                "missing": int(frame.loc[frame.arm == arm, variable].isna().sum()),
                "mean": float(x.mean()) if len(x) else None,
                "sd": float(x.std(ddof=1)) if len(x) > 1 else None,
                "median": float(x.median()) if len(x) else None,
                "q1": float(np.percentile(x, 25)) if len(x) else None,
                "q3": float(np.percentile(x, 75)) if len(x) else None,
            }
        a = frame.loc[frame.arm == "b12", variable].dropna().astype(float)
        b = frame.loc[frame.arm == "standard", variable].dropna().astype(float)
        rows.append(
            {
                "variable": variable,
                "type": "continuous",
                "arms": cells,
                "smd": _smd_continuous(a, b),
            }
        )
    for variable in categorical:
        if variable not in frame:
            continue
        levels = sorted(frame[variable].dropna().astype(str).unique())
        for level in levels:
            cells, props = {}, {}
            for arm in ARMS:
                x = frame.loc[frame.arm == arm, variable].dropna().astype(str)
                k = int((x == level).sum())
                props[arm] = k / len(x) if len(x) else 0.0
                cells[arm] = {
                    "n": k,
                    "of": int(len(x)),
                    "percent": 100 * props[arm] if len(x) else None,
                }
            rows.append(
                {
                    "variable": variable,
                    "level": level,
                    "type": "categorical",
                    "arms": cells,
                    "smd": _smd_binary(props["b12"], props["standard"]),
                }
            )
    return rows


def safety(patients: pd.DataFrame, events: pd.DataFrame) -> dict[str, Any]:
    """Patients with ≥ 1 AE, ≥ 1 serious AE, by severity and by relatedness, per arm."""
    randomised = patients[patients.arm.notna()]
    n = arm_counts(randomised)
    events = events.merge(randomised[["study_id", "arm"]], on="study_id")

    def patients_with(mask: pd.Series) -> dict[str, Any]:
        hit = events[mask]
        return {
            arm: {
                "n": int(hit[hit.arm == arm].study_id.nunique()),
                "of": n[arm],
                "percent": 100 * hit[hit.arm == arm].study_id.nunique() / n[arm]
                if n[arm]
                else None,
            }
            for arm in ARMS
        }

    every = pd.Series(True, index=events.index)
    return {
        "n": n,
        "any": patients_with(every),
        "serious": patients_with(events.serious.astype(bool)),
        "by_severity": {
            s: patients_with(events.severity == s) for s in ("mild", "moderate", "severe")
        },
        "related": patients_with(events.relation.isin(RELATED)),
        "events": {arm: int((events.arm == arm).sum()) for arm in ARMS},
    }
