"""Repeated measures (random-intercept mixed model) and multiple imputation for the primary
ANCOVA (SAP sections 8 and 10)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.imputation.mice import MICEData
from statsmodels.tools.sm_exceptions import ConvergenceWarning, SingularMatrixWarning

from analysis import plan
from analysis.stats import notes
from analysis.stats.common import ALPHA, ARMS, arm_counts, empty, full_rank, mean_ci, treat
from analysis.stats.comparisons import ancova
from analysis.stats.random_intercept import fit_random_intercept

FOLLOW_UP = ("V1", "V2", "V3")
# statsmodels' MixedLM warnings that mean its estimates or standard errors cannot be used
FATAL_WARNINGS = (
    "not positive definite",
    "Gradient optimization failed",
    "MixedLM optimization failed",
)


def mixed_model(long: pd.DataFrame, *, y: str) -> dict[str, Any]:
    """``value ~ V0 + arm * visit`` over V1–V3, random intercept per patient, REML.
    A random-intercept model, not a full MMRM. Reports the arm difference at each visit.

    Numbers are reported only for a fit that can support them: when no patient has two
    follow-up values the random intercept is confounded with the residual (not identifiable),
    and when statsmodels warns that the optimiser failed or the Hessian is not positive
    definite the standard errors are meaningless; both give a note and no estimates, with the
    optimiser's warnings in ``warnings``."""
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
        "by_visit": [],
    }
    visits = sorted(data.visit.unique())
    if data.study_id.nunique() < 3 or data.treat.nunique() < 2 or len(visits) < 1:
        return {**out, "note": notes.MIXED_TOO_FEW}
    if data.groupby("study_id").size().max() < 2:
        return {**out, "note": notes.MIXED_NOT_IDENTIFIABLE}
    formula = (
        "value ~ baseline + treat * C(visit)" if len(visits) > 1 else "value ~ baseline + treat"
    )
    out["formula"] = formula
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = fit_random_intercept(formula, data, data["study_id"])
        except (np.linalg.LinAlgError, ValueError) as error:
            return {**out, "note": notes.MIXED_NOT_CONVERGED, "warnings": [str(error)]}
    reported = [
        str(w.message)
        for w in caught
        if issubclass(w.category, ConvergenceWarning | SingularMatrixWarning)
    ]
    out["warnings"] = reported
    names = list(fit.fe_params.index)
    cov = fit.cov_params().loc[names, names].to_numpy()
    # A retried optimiser or a variance on the boundary (zero) is reported but still a valid
    # fit; a failed optimisation or a Hessian that is not positive definite is not.
    fatal = any(
        issubclass(w.category, SingularMatrixWarning)
        or any(text in str(w.message) for text in FATAL_WARNINGS)
        for w in caught
    )
    if fatal or not fit.converged or not _positive_definite(cov):
        return {**out, "note": notes.MIXED_NOT_CONVERGED}
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


def _positive_definite(matrix: np.ndarray) -> bool:
    if not np.all(np.isfinite(matrix)):
        return False
    try:
        np.linalg.cholesky((matrix + matrix.T) / 2)
    except np.linalg.LinAlgError:
        return False
    return True


def trajectory(long: pd.DataFrame, *, y: str) -> list[dict[str, Any]]:
    """Mean and 95 % CI per arm and visit (V0–V3), for the trajectory figure."""
    rows = []
    for arm in ARMS:
        for visit in ("V0", *FOLLOW_UP):
            values = long[(long.arm == arm) & (long.visit == visit)][y]
            rows.append({"arm": arm, "visit": visit, **mean_ci(values)})
    return rows


def rubin_pool(
    estimates: list[float], variances: list[float], *, df_complete: float | None = None
) -> dict[str, Any]:
    """Rubin's rules with the Barnard–Rubin (1999) small-sample degrees of freedom.

    With m imputations, Q̄ the mean estimate, Ū the mean within-imputation variance and B the
    between-imputation variance: T = Ū + (1 + 1/m)·B, λ = (1 + 1/m)·B / T,
    ν_old = (m − 1) / λ², ν_obs = (ν_com + 1) / (ν_com + 3) · ν_com · (1 − λ) and
    ν = ν_old · ν_obs / (ν_old + ν_obs), where ν_com is the complete-data residual df. ν never
    exceeds ν_com (the large-sample ν_old alone can, and is infinite when B = 0).
    ``df_complete=None`` means ν_com = ∞, where ν reduces to ν_old (Rubin 1987)."""
    m = len(estimates)
    q = float(np.mean(estimates))
    within = float(np.mean(variances))
    between = float(np.var(estimates, ddof=1)) if m > 1 else 0.0
    total = within + (1 + 1 / m) * between
    se = math.sqrt(total)
    lam = (1 + 1 / m) * between / total if total > 0 else 0.0
    df_old = (m - 1) / lam**2 if lam > 0 else math.inf
    if df_complete is None:
        df = df_old
    else:
        df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
        df = df_obs if math.isinf(df_old) else df_old * df_obs / (df_old + df_obs)
    if math.isinf(df):
        crit, p = stats.norm.ppf(1 - ALPHA / 2), float(2 * stats.norm.sf(abs(q / se)))
    else:
        crit, p = stats.t.ppf(1 - ALPHA / 2, df), float(2 * stats.t.sf(abs(q / se), df))
    return {
        "estimate": q,
        "se": se,
        "ci_low": q - crit * se,
        "ci_high": q + crit * se,
        "p": p,
        "df": df,
        "df_method": "Barnard-Rubin" if df_complete is not None else "Rubin (large sample)",
        "df_complete": df_complete,
        "df_large_sample": df_old,
        "lambda": lam,
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
    m: int = plan.MI_IMPUTATIONS,
    seed: int = plan.MI_SEED,
    donors: int = plan.MI_PMM_DONORS,
    burn_in: int = plan.MI_BURN_IN,
) -> dict[str, Any]:
    """MICE (statsmodels MICEData, predictive mean matching with ``donors`` donors) over ``y``,
    ``baseline`` and the covariates, ``m`` imputations, the ANCOVA ``y ~ arm + baseline``
    fitted on each, pooled by Rubin's rules with Barnard–Rubin degrees of freedom. The seed
    is fixed and reported, so the result reproduces exactly.

    With nothing missing in ``y`` and ``baseline`` there is nothing to impute: every imputed
    data set would equal the observed one, so the result is the complete-case ANCOVA itself
    (same estimate, CI and p). A covariate with no observed value cannot inform the
    imputation and is left out (listed in ``covariates_dropped``)."""
    data = wide[["arm", y, baseline, *covariates]].dropna(subset=["arm"]).copy()
    out: dict[str, Any] = {
        "m": m,
        "seed": seed,
        "donors": donors,
        "burn_in": burn_in,
        "method": "MICE (predictive mean matching), Rubin's rules, Barnard-Rubin df",
        "n": arm_counts(data),
        "patients_with_missing": int(data[[y, baseline]].isna().any(axis=1).sum()),
        "covariates_dropped": [c for c in covariates if data[c].notna().sum() == 0],
        "remarks": [],
    }
    if out["covariates_dropped"]:
        out["remarks"].append(notes.MI_COVARIATE_DROPPED)
    if out["patients_with_missing"] == 0:
        out["remarks"].append(notes.MI_NOTHING_MISSING)
        complete = ancova(data, y=y, baseline=baseline)
        complete.pop("hc3", None)
        complete.pop("n", None)
        return {**out, **complete, "imputed": False}
    kept = [c for c in covariates if c not in out["covariates_dropped"]]
    data = data.assign(treat=treat(data))[[y, baseline, *kept, "treat"]].astype(float)
    names = dict(
        zip(["y", "baseline", *kept, "treat"], [f"v{i}" for i in range(len(kept) + 3)], strict=True)
    )
    data.columns = list(names.values())
    if data[names["treat"]].nunique() < 2 or data[names["y"]].notna().sum() < 4:
        return {**out, **empty(notes.MI_TOO_FEW)}
    estimates, variances = [], []
    try:
        imputer = MICEData(data, k_pmm=donors, rng=np.random.default_rng(seed))
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
    except (ValueError, np.linalg.LinAlgError) as error:
        return {**out, **empty(notes.MI_FAILED, error=f"{type(error).__name__}: {error}")}
    if len(estimates) < 2:
        return {**out, **empty(notes.MI_FAILED)}
    # complete-data residual df of the analysis model: n − 3 (intercept, arm, baseline)
    pooled = rubin_pool(estimates, variances, df_complete=float(len(data) - 3))
    return {**out, **pooled, "m": m, "m_used": pooled["m"], "imputed": True}
