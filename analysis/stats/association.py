"""Correlations (pooled, within arm, partialled for arm) and regression on predictors of
effect (SAP sections 6 and 7)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.outliers_influence import variance_inflation_factor

from analysis.stats import notes
from analysis.stats.common import ALPHA, empty, full_rank, treat
from analysis.stats.comparisons import adjust


def fisher_z_ci(r: float, n: int, controls: int = 0) -> tuple[float | None, float | None]:
    """95 % CI of a correlation by Fisher's z; ``controls`` = variables partialled out."""
    df = n - 3 - controls
    if df <= 0 or abs(r) >= 1:
        return None, None
    z, half = math.atanh(r), stats.norm.ppf(1 - ALPHA / 2) / math.sqrt(df)
    return math.tanh(z - half), math.tanh(z + half)


def correlation(
    x: pd.Series, y: pd.Series, *, method: str, control: pd.Series | None = None
) -> dict[str, Any]:
    """Pearson or Spearman r with Fisher-z CI and p; with ``control``, the partial
    correlation given that variable (Spearman: on ranks)."""
    columns = {"x": x, "y": y} if control is None else {"x": x, "y": y, "c": control}
    data = pd.DataFrame(columns).dropna()
    n = len(data)
    if n < 3 or data.x.nunique() < 2 or data.y.nunique() < 2:
        return {**empty(notes.TOO_FEW_FOR_CORRELATION), "r": None, "n": n}
    if method == "spearman":
        data = data.assign(x=data.x.rank(), y=data.y.rank())
    if control is None:
        test = stats.pearsonr(data.x, data.y)
        r, p, k = float(test.statistic), float(test.pvalue), 0
    else:
        design = sm.add_constant(data.c.to_numpy(float))
        if not full_rank(design) or n < 4:
            return {**empty(notes.CONTROL_CONSTANT), "r": None, "n": n}
        rx = data.x - design @ np.linalg.lstsq(design, data.x.to_numpy(float), rcond=None)[0]
        ry = data.y - design @ np.linalg.lstsq(design, data.y.to_numpy(float), rcond=None)[0]
        r = float(np.corrcoef(rx, ry)[0, 1])
        k, df = 1, n - 3
        t = r * math.sqrt(df / (1 - r * r)) if abs(r) < 1 else math.inf
        p = float(2 * stats.t.sf(abs(t), df))
    low, high = fisher_z_ci(r, n, controls=k)
    return {"r": r, "estimate": r, "ci_low": low, "ci_high": high, "p": p, "n": n}


def b12_frequency_correlations(
    wide: pd.DataFrame, *, x: str = "b12_pmol_l", y: str = "vas_frequency"
) -> list[dict[str, Any]]:
    """B12 against spasm frequency at V0, at V3 and for their changes: pooled, within each
    arm and partialled for arm, by Pearson and by Spearman."""
    frames = {
        "V0": (wide.get(f"{x}__V0"), wide.get(f"{y}__V0")),
        "V3": (wide.get(f"{x}__V3"), wide.get(f"{y}__V3")),
    }
    if all(f"{v}__{t}" in wide for v in (x, y) for t in ("V0", "V3")):
        frames["change"] = (
            wide[f"{x}__V3"] - wide[f"{x}__V0"],
            wide[f"{y}__V3"] - wide[f"{y}__V0"],
        )
    rows = []
    for timepoint, (xs, ys) in frames.items():
        if xs is None or ys is None:
            continue
        for method in ("pearson", "spearman"):
            groups = {
                "pooled": correlation(xs, ys, method=method),
                "standard": correlation(
                    xs[wide.arm == "standard"], ys[wide.arm == "standard"], method=method
                ),
                "b12": correlation(xs[wide.arm == "b12"], ys[wide.arm == "b12"], method=method),
                "partial_arm": correlation(
                    xs,
                    ys,
                    method=method,
                    control=pd.Series(treat(wide), index=wide.index).where(wide.arm.notna()),
                ),
            }
            for group, result in groups.items():
                rows.append(
                    {
                        "x": x,
                        "y": y,
                        "timepoint": timepoint,
                        "group": group,
                        "method": method,
                        **result,
                    }
                )
    return rows


def change_matrix(wide: pd.DataFrame, variables: list[str]) -> dict[str, Any]:
    """Pearson correlations of all changes (V3 − V0) with Benjamini–Hochberg adjusted p."""
    changes = {
        v: wide[f"{v}__V3"] - wide[f"{v}__V0"]
        for v in variables
        if f"{v}__V3" in wide and f"{v}__V0" in wide
    }
    names = list(changes)
    cells = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            result = correlation(changes[a], changes[b], method="pearson")
            cells.append({"x": a, "y": b, "r": result["r"], "p": result["p"], "n": result["n"]})
    for cell, p_adj in zip(cells, adjust([c["p"] for c in cells], "fdr_bh"), strict=True):
        cell["p_adjusted"] = p_adj
    return {"variables": names, "cells": cells, "method": "pearson", "adjustment": "fdr_bh"}


def regression(frame: pd.DataFrame, *, outcome: str, predictors: list[str]) -> dict[str, Any]:
    """OLS with HC3 robust standard errors: β, 95 % CI, p, standardised β (β·SDx/SDy), R²,
    adjusted R², n and variance inflation factors.

    Inference uses the t distribution with the residual degrees of freedom n − k − 1 (SAP §7):
    HC3 is the small-sample choice among sandwich estimators, and pairing it with the normal
    distribution (statsmodels' default) would give p-values and intervals too small for a trial
    of a few dozen patients. The document states ``cov_type``, ``distribution`` and ``df``."""
    data = frame[[outcome, *predictors]].dropna().astype(float)
    n = len(data)
    design = sm.add_constant(data[predictors], has_constant="add")
    if not full_rank(design.to_numpy()):
        return {
            "outcome": outcome,
            "n": n,
            "r2": None,
            "r2_adj": None,
            "terms": [],
            "note": notes.COLLINEAR,
        }
    fit = sm.OLS(data[outcome], design).fit(cov_type="HC3", use_t=True)
    ci = fit.conf_int(ALPHA)
    sd_y = data[outcome].std(ddof=1)
    terms = []
    for i, term in enumerate(design.columns):
        is_const = term == "const"
        terms.append(
            {
                "term": "intercept" if is_const else term,
                "estimate": float(fit.params[term]),
                "se": float(fit.bse[term]),
                "ci_low": float(ci.loc[term, 0]),
                "ci_high": float(ci.loc[term, 1]),
                "p": float(fit.pvalues[term]),
                "std_estimate": None
                if is_const or not sd_y
                else float(fit.params[term] * data[term].std(ddof=1) / sd_y),
                "vif": None if is_const else float(variance_inflation_factor(design.to_numpy(), i)),
            }
        )
    return {
        "outcome": outcome,
        "n": n,
        "r2": float(fit.rsquared),
        "r2_adj": float(fit.rsquared_adj),
        "cov_type": "HC3",
        "distribution": "t",
        "df": float(fit.df_resid),
        "terms": terms,
    }
