"""A small, hand-written results document (the shape compute_results gives) and dataset, for
the unit tests of the dashboard's tables and figures."""

from __future__ import annotations

import pandas as pd

from analysis.dataset import Dataset


def estimate(value, low, high, p=None, **extra):
    return {"estimate": value, "ci_low": low, "ci_high": high, "p": p, **extra}


ARM_N = {"standard": 30, "b12": 29}

RESULTS = {
    "data_cut": "2026-01-01T00:00:00",
    "primary": {
        "population": "mITT",
        "n": ARM_N,
        "ancova": {**estimate(-9.123, -14.5, -3.75, 0.0004, n=ARM_N), "hc3": None},
        "per_protocol": estimate(-8.0, -13.0, -3.0, 0.002, n=ARM_N),
        "log_ancova": estimate(-21.5, -30.25, -11.0, 0.01, n=ARM_N),
        "sensitivity": {
            "welch": estimate(-10.0, -16.0, -4.0, 0.0042, n=ARM_N),
            "mann_whitney": {"estimate": None, "p": 0.003, "n": ARM_N},
            "hedges_g": estimate(-0.85, -1.4, -0.3),
        },
        "percent_change": {
            "standard": {
                "mean": -14.04,
                "sd": 20.0,
                "ci_low": -21.5,
                "ci_high": -6.5,
                "n": 30,
                "zero_baseline": 0,
            },
            "b12": {
                "mean": -31.96,
                "sd": 18.0,
                "ci_low": -39.0,
                "ci_high": -25.0,
                "n": 29,
                "zero_baseline": 1,
            },
        },
        "percent_change_of_means": {"standard": {"estimate": -13.9}, "b12": {"estimate": -32.1}},
    },
    "secondary": [
        {
            "outcome": "hads_a",
            "family": "key_secondary",
            "change": {"standard": estimate(-1.0, -2.0, 0.0, n=30), "b12": None},
            "ancova": estimate(-0.5, -1.5, 0.5, 0.3),
            "p_adjusted": 0.6,
            "adjustment": "holm",
        }
    ],
    "responders": {
        "population": "mITT",
        "n": ARM_N,
        "per_arm": {
            "standard": {"responders": 6, "n": 30, "percent": 20.0},
            "b12": {"responders": 14, "n": 29, "percent": 48.2759},
        },
        "risk_difference": estimate(0.28276, 0.05, 0.5),
        "fisher": {"p": 0.0272},
        "odds_ratio": estimate(3.7333, 1.2, 11.6, 0.02),
    },
    "correlations": [
        {
            "timepoint": "V0",
            "group": "pooled",
            "method": "pearson",
            "x": "b12_pmol_l",
            "y": "vas_frequency",
            "r": -0.4567,
            "ci_low": -0.63,
            "ci_high": -0.24,
            "p": 0.0002,
            "n": 59,
        }
    ],
    "regression": [
        {
            "outcome": "vas_intensity",
            "variable": "vas_intensity",
            "n": 55,
            "r2": 0.3012,
            "r2_adj": 0.2511,
            "terms": [
                {
                    **estimate(-7.25, -12.0, -2.5, 0.004),
                    "term": "treat",
                    "std_estimate": -0.3333,
                    "vif": 1.05,
                },
                {
                    **estimate(0.5, 0.2, 0.8, 0.5),
                    "term": "age",
                    "std_estimate": 0.1,
                    "vif": None,
                },
            ],
        }
    ],
    "mixed_model": {
        "population": "ITT",
        "n": ARM_N,
        "by_visit": [
            {"visit": "V1", **estimate(-3.0, -6.0, 0.0, 0.05)},
            {"visit": "V3", **estimate(-9.0, -13.0, -5.0, 0.0001)},
        ],
        "trajectory": [
            {"arm": arm, "visit": visit, "mean": mean, "ci_low": mean - 5, "ci_high": mean + 5}
            for arm, means in (("standard", (60, 55, 52, 50)), ("b12", (61, 50, 45, 40)))
            for visit, mean in zip(("V0", "V1", "V2", "V3"), means, strict=True)
        ],
    },
    "subgroups": {
        "population": "mITT",
        "n": ARM_N,
        "overall": estimate(-9.0, -14.0, -4.0, 0.001, n=ARM_N),
        "deficient": estimate(-14.0, -22.0, -6.0, 0.002, n={"standard": 12, "b12": 11}),
        "not_deficient": estimate(-5.0, -11.0, 1.0, 0.1, n={"standard": 18, "b12": 18}),
        "interaction": estimate(-9.0, -19.0, 1.0, 0.08),
    },
    "missing_data": {
        "population": "ITT",
        "n": ARM_N,
        "complete_case": estimate(-9.0, -14.0, -4.0, 0.001),
        "multiple_imputation": {**estimate(-8.5, -13.9, -3.1, 0.003), "m": 20, "seed": 7},
        "missing_by_visit": [
            {"arm": "standard", "visit": "V3", "expected": 31, "missing": 1},
            {"arm": "b12", "visit": "V3", "expected": 31, "missing": 2},
        ],
    },
    "safety": {
        "population": "safety",
        "n": ARM_N,
        "any": {
            "standard": {"n": 3, "of": 30, "percent": 10.0},
            "b12": {"n": 4, "of": 29, "percent": 13.793},
        },
        "serious": {
            "standard": {"n": 0, "of": 30, "percent": 0.0},
            "b12": {"n": 1, "of": 29, "percent": 3.448},
        },
        "related": {
            "standard": {"n": 1, "of": 30, "percent": 3.333},
            "b12": {"n": 0, "of": 29, "percent": 0.0},
        },
        "by_severity": {
            "mild": {
                "standard": {"n": 3, "of": 30, "percent": 10.0},
                "b12": {"n": 3, "of": 29, "percent": 10.345},
            },
        },
    },
    "baseline": {
        "population": "ITT",
        "n": ARM_N,
        "rows": [
            {
                "variable": "age",
                "type": "continuous",
                "arms": {
                    arm: {"mean": m, "sd": 10.0, "median": m, "q1": m - 7, "q3": m + 7, "n": n}
                    for arm, m, n in (("standard", 52.04, 30), ("b12", 50.0, 29))
                },
                "smd": 0.2041,
            },
            {
                "variable": "sex",
                "level": "female",
                "type": "categorical",
                "arms": {
                    "standard": {"n": 20, "of": 30, "percent": 66.667},
                    "b12": {"n": 19, "of": 29, "percent": 65.517},
                },
                "smd": None,
            },
        ],
    },
    "consort": {
        "screened": 70,
        "not_eligible": 5,
        "not_eligible_reasons": {"pregnancy": 2, "age_under_18": 4},
        "declined": 3,
        "enrolled": 62,
        "enrolled_not_randomised": 3,
        "randomised": 59,
        "arms": {
            arm: {
                "allocated": n,
                "received_allocation": n,
                "lost_to_follow_up": 1,
                "discontinued": {"adverse_event": 1, "other": 1},
                "analysed": n - 1,
            }
            for arm, n in ARM_N.items()
        },
    },
    "correlation_matrix": {
        "variables": ["b12", "vas", "hads"],
        "cells": [
            {"x": "b12", "y": "vas", "r": -0.5, "p_adjusted": 0.01},
            {"x": "b12", "y": "hads", "r": 0.1, "p_adjusted": 0.5},
            {"x": "vas", "y": "hads", "r": None, "p_adjusted": None},
        ],
    },
}


def dataset() -> Dataset:
    """Four patients (three randomised), with B12 and VAS frequency at V0 and V3."""
    patients = pd.DataFrame(
        {
            "study_id": ["A-01", "A-02", "A-03", "A-04"],
            "arm": ["standard", "b12", "b12", None],
            "randomised_on": ["2026-01-05", "2026-01-02", "2026-02-01", None],
        }
    )
    long = pd.DataFrame(
        [
            (study_id, visit, b12, vas)
            for study_id, values in {
                "A-01": ((150.0, 70.0), (160.0, 60.0)),
                "A-02": ((120.0, 80.0), (300.0, 40.0)),
                "A-03": ((200.0, 65.0), (None, None)),
                "A-04": ((180.0, 50.0), (None, None)),
            }.items()
            for visit, (b12, vas) in zip(("V0", "V3"), values, strict=True)
        ],
        columns=["study_id", "visit", "b12_pmol_l", "vas_frequency"],
    )
    long = long.merge(patients[["study_id", "arm"]], on="study_id")  # as the dataset has it
    return Dataset(
        patients=patients, long=long, screening=pd.DataFrame(), adverse_events=pd.DataFrame()
    )
