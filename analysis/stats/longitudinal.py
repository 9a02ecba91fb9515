"""Repeated measures (random-intercept mixed model) and multiple imputation for the primary
ANCOVA (SAP sections 8 and 10)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.imputation.mice import MICEData

from analysis.stats.common import ALPHA, ARMS, arm_counts, empty, full_rank, mean_ci, treat

FOLLOW_UP = ("V1", "V2", "V3")


def mixed_model(long: pd.DataFrame, *, y: str) -> dict[str, Any]:
    """``value ~ V0 + arm * visit`` over V1–V3, random intercept per patient, REML.
    A random-intercept model, not a full MMRM. Reports the arm difference at each visit."""
    base = long[long.visit == "V0"].set_index("study_id")[y].rename("baseline")
    data = (
        long[long.visit.isin(FOLLOW_UP)][["study_id", "arm", "visit", y]]
        .join(base, on="study_id")
        .dropna()
    )
    data = data.assign(treat=treat(data), value=data[y].astype(float))
    out: dict[str, Any] = {
        "model": "random intercept per patient, REML (not a full MMRM)",
        "formula": "value ~ baseline + treat * C(visit)",
        "n": arm_counts(data.drop_duplicates("study_id")),
        "observations": int(len(data)),
    }
    visits = sorted(data.visit.unique())
    if data.study_id.nunique() < 3 or data.treat.nunique() < 2 or len(visits) < 1:
        return {**out, "by_visit": [], "note": "too few patients or only one arm"}
    formula = (
        "value ~ baseline + treat * C(visit)" if len(visits) > 1 else "value ~ baseline + treat"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm(formula, data, groups=data["study_id"]).fit(reml=True)
    names = list(fit.fe_params.index)
    cov = fit.cov_params().loc[names, names].to_numpy()
    z = stats.norm.ppf(1 - ALPHA / 2)
    by_visit = []
    for visit in visits:
        contrast = np.zeros(len(names))
        contrast[names.index("treat")] = 1
        interaction = f"treat:C(visit)[T.{visit}]"
        if interaction in names:
            contrast[names.index(interaction)] = 1
        estimate = float(contrast @ fit.fe_params.to_numpy())
        se = float(math.sqrt(contrast @ cov @ contrast))
        by_visit.append(
            {
                "visit": visit,
                "estimate": estimate,
                "se": se,
                "ci_low": estimate - z * se,
                "ci_high": estimate + z * se,
                "p": float(2 * stats.norm.sf(abs(estimate / se))) if se else None,
            }
        )
    return {
        **out,
        "by_visit": by_visit,
        "fixed_effects": {k: float(v) for k, v in fit.fe_params.items()},
        "group_variance": float(fit.cov_re.iloc[0, 0]),
        "residual_variance": float(fit.scale),
    }


def trajectory(long: pd.DataFrame, *, y: str) -> list[dict[str, Any]]:
    """Mean and 95 % CI per arm and visit (V0–V3), for the trajectory figure."""
    rows = []
    for arm in ARMS:
        for visit in ("V0", *FOLLOW_UP):
            values = long[(long.arm == arm) & (long.visit == visit)][y]
            rows.append({"arm": arm, "visit": visit, **mean_ci(values)})
    return rows


def rubin_pool(estimates: list[float], variances: list[float]) -> dict[str, Any]:
    """Rubin's rules: pooled estimate, total variance, Barnard–Rubin-free classic df, CI, p."""
    m = len(estimates)
    q = float(np.mean(estimates))
    within = float(np.mean(variances))
    between = float(np.var(estimates, ddof=1)) if m > 1 else 0.0
    total = within + (1 + 1 / m) * between
    se = math.sqrt(total)
    if between > 0:
        r = (1 + 1 / m) * between / within
        df = (m - 1) * (1 + 1 / r) ** 2
        crit = stats.t.ppf(1 - ALPHA / 2, df)
        p = float(2 * stats.t.sf(abs(q / se), df))
    else:
        df, crit = math.inf, stats.norm.ppf(1 - ALPHA / 2)
        p = float(2 * stats.norm.sf(abs(q / se)))
    return {
        "estimate": q,
        "se": se,
        "ci_low": q - crit * se,
        "ci_high": q + crit * se,
        "p": p,
        "df": df,
        "within_variance": within,
        "between_variance": between,
        "m": m,
    }


def multiple_imputation(
    wide: pd.DataFrame,
    *,
    y: str,
    baseline: str,
    covariates: list[str],
    m: int = 20,
    seed: int = 20260101,
    burn_in: int = 10,
) -> dict[str, Any]:
    """MICE (statsmodels MICEData, predictive mean matching) over ``y``, ``baseline`` and the
    covariates, ``m`` imputations, the ANCOVA ``y ~ arm + baseline`` fitted on each, pooled by
    Rubin's rules. The seed is fixed and reported, so the result reproduces exactly."""
    data = wide[["arm", y, baseline, *covariates]].dropna(subset=["arm"]).copy()
    data = data.assign(treat=treat(data)).drop(columns="arm").astype(float)
    data.columns = [f"v{i}" for i in range(len(data.columns))]
    names = dict(zip(["y", "baseline", *covariates, "treat"], data.columns, strict=True))
    missing = int(data[[names["y"], names["baseline"]]].isna().any(axis=1).sum())
    out = {
        "m": m,
        "seed": seed,
        "method": "MICE (predictive mean matching), Rubin's rules",
        "n": {
            "standard": int((data[names["treat"]] == 0).sum()),
            "b12": int((data[names["treat"]] == 1).sum()),
        },
        "patients_with_missing": missing,
    }
    if data[names["treat"]].nunique() < 2 or data[names["y"]].notna().sum() < 4:
        return {**out, **empty("too few observed values to impute")}
    imputer = MICEData(data, rng=np.random.default_rng(seed))
    estimates, variances = [], []
    for _ in range(burn_in):
        imputer.update_all()
    for _ in range(m):
        imputer.update_all()
        frame = imputer.data
        design = np.column_stack(
            [np.ones(len(frame)), frame[names["treat"]], frame[names["baseline"]]]
        )
        if not full_rank(design):
            continue
        fit = sm.OLS(frame[names["y"]].to_numpy(float), design).fit()
        estimates.append(float(fit.params[1]))
        variances.append(float(fit.bse[1] ** 2))
    if len(estimates) < 2:
        return {**out, **empty("imputation failed")}
    return {**out, **rubin_pool(estimates, variances)}
