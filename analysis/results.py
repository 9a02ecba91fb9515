"""The whole analysis plan on one dataset, as one JSON-ready document (SAP: "The results
document"). No Django imports: it takes the dataset builder's frames."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

import pandas as pd

from analysis import plan
from analysis.stats import association, comparisons, flow, longitudinal
from analysis.stats.common import arm_counts, jsonable

PACKAGES = ("django", "pandas", "numpy", "scipy", "statsmodels")


def software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        versions["hfs-ecrf"] = metadata.version("hfs-ecrf")
    except metadata.PackageNotFoundError:
        versions["hfs-ecrf"] = "source"
    return versions


def analysis_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """The randomised patients, with the derived totals the plan refers to."""
    frame = wide[wide.arm.notna()].copy()  # one block: later assigns stay fast
    for visit in ("V0", "V3"):
        if f"hads_a__{visit}" in frame:
            frame[f"hads_total__{visit}"] = frame[f"hads_a__{visit}"] + frame[f"hads_d__{visit}"]
    numeric = {c: pd.to_numeric(frame[c], errors="coerce") for c in frame.columns if "__V" in c}
    return frame.assign(**numeric).copy()


def compute_results(dataset: Any) -> dict[str, Any]:
    wide = analysis_frame(dataset.wide())
    long = dataset.long[dataset.long.arm.notna()].copy()
    y, base = f"{plan.PRIMARY}__{plan.PRIMARY_VISIT}", f"{plan.PRIMARY}__{plan.BASELINE_VISIT}"
    itt_n = arm_counts(wide)
    mitt = wide[wide.mitt == 1]
    cut = dataset.data_cut.isoformat()

    def section(population: str, n: Any, body: dict[str, Any]) -> dict[str, Any]:
        return {"population": population, "n": n, "data_cut": cut, **body}

    results = {
        "data_cut": cut,
        "dataset_sha256": dataset.sha256(),
        "software": software_versions(),
        "consort": section("screened", None, flow.consort(dataset.screening, dataset.patients)),
        "baseline": section(
            "ITT",
            itt_n,
            {
                "rows": flow.baseline_table(
                    wide, plan.BASELINE_CONTINUOUS, plan.BASELINE_CATEGORICAL
                )
            },
        ),
        "primary": section(
            "mITT",
            arm_counts(mitt),
            {
                "outcome": plan.PRIMARY,
                "visit": plan.PRIMARY_VISIT,
                "ancova": comparisons.ancova(wide, y=y, baseline=base),
                "percent_change": comparisons.percent_change(wide, y=y, baseline=base),
                "percent_change_of_means": comparisons.percent_change_of_means(
                    wide, y=y, baseline=base
                ),
                "log_ancova": comparisons.log_ancova(wide, y=y, baseline=base),
                "sensitivity": comparisons.change_sensitivity(wide, y=y, baseline=base),
                "per_protocol": comparisons.ancova(wide[wide.pp == 1], y=y, baseline=base),
                "missing": _missing(long, plan.PRIMARY),
            },
        ),
        "secondary": comparisons.secondary(wide, plan.FAMILIES, plan.FAMILY_ADJUSTMENT),
        "responders": section(
            "mITT",
            arm_counts(mitt),
            comparisons.responders(
                wide, y=y, baseline=base, threshold=plan.RESPONDER_REDUCTION_PERCENT
            ),
        ),
        "correlations": association.b12_frequency_correlations(wide),
        "correlation_matrix": association.change_matrix(wide, plan.CHANGE_MATRIX),
        "regression": [_regression(wide, outcome) for outcome in plan.REGRESSION_OUTCOMES],
        "mixed_model": section(
            "ITT with follow-up",
            None,
            {
                **longitudinal.mixed_model(long, y=plan.PRIMARY),
                "trajectory": longitudinal.trajectory(long, y=plan.PRIMARY),
            },
        ),
        "subgroups": section(
            "mITT", arm_counts(mitt), comparisons.subgroups(wide, y=y, baseline=base)
        ),
        "missing_data": section(
            "ITT",
            itt_n,
            {
                "complete_case": comparisons.ancova(wide, y=y, baseline=base),
                "multiple_imputation": longitudinal.multiple_imputation(
                    wide,
                    y=y,
                    baseline=base,
                    covariates=["b12_pmol_l__V0", "age"],
                    m=plan.MI_IMPUTATIONS,
                    seed=plan.MI_SEED,
                ),
                "missing_by_visit": _missing(long, plan.PRIMARY),
            },
        ),
        "safety": section(
            "randomised", itt_n, flow.safety(dataset.patients, dataset.adverse_events)
        ),
    }
    return jsonable(results)


def _regression(wide: pd.DataFrame, outcome: str) -> dict[str, Any]:
    frame = wide.assign(
        change=wide[f"{outcome}__V3"] - wide[f"{outcome}__V0"],
        baseline=wide[f"{outcome}__V0"],
        treat=(wide.arm == "b12").astype(float),
    )
    result = association.regression(frame, outcome="change", predictors=plan.REGRESSION_PREDICTORS)
    return {
        **result,
        "outcome": f"{outcome} change (V3 − V0)",
        "variable": outcome,
        "population": "ITT, complete cases",
    }


def _missing(long: pd.DataFrame, variable: str) -> list[dict[str, Any]]:
    """Missing values of a variable per arm and visit."""
    rows = []
    for (arm, visit), group in long.groupby(["arm", "visit"]):
        rows.append(
            {
                "arm": arm,
                "visit": visit,
                "expected": int(len(group)),
                "missing": int(group[variable].isna().sum()),
            }
        )
    return rows
