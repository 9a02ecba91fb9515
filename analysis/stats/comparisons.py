"""Between-arm comparisons: ANCOVA, percent change, sensitivity tests, secondary outcomes,
responders and the B12-deficiency subgroup (SAP sections 3, 4, 5 and 9)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.stats import notes
from analysis.stats.common import ALPHA, ARMS, arm_counts, empty, full_rank, mean_ci, treat


def _pairs(frame: pd.DataFrame, y: str, baseline: str) -> pd.DataFrame:
    # the columns first, then the rows: no copy of every column of a wide frame
    return frame[["arm", y, baseline]].dropna(subset=[y, baseline, "arm"])


def ancova(frame: pd.DataFrame, *, y: str, baseline: str) -> dict[str, Any]:
    """OLS ``y ~ arm + baseline``: the adjusted difference b12 − standard, its 95 % CI and p,
    with HC3 robust standard errors as a sensitivity. As everywhere in the plan (SAP §7), HC3
    inference uses the t distribution with the residual degrees of freedom (n − 3), not the
    normal: with a few dozen patients per arm the normal understates the uncertainty."""
    data = _pairs(frame, y, baseline)
    n = arm_counts(data)
    if min(n.values()) == 0:
        return empty(notes.ARM_WITHOUT_PAIRS, n=n)
    design = np.column_stack([np.ones(len(data)), treat(data), data[baseline].to_numpy(float)])
    if not full_rank(design):
        return empty(notes.COLLINEAR, n=n)
    model = sm.OLS(data[y].to_numpy(float), design)
    fit = model.fit()
    ci = fit.conf_int(ALPHA)[1]
    robust = model.fit(cov_type="HC3", use_t=True)
    rci = robust.conf_int(ALPHA)[1]
    return {
        "estimate": float(fit.params[1]),
        "se": float(fit.bse[1]),
        "ci_low": float(ci[0]),
        "ci_high": float(ci[1]),
        "p": float(fit.pvalues[1]),
        "n": n,
        "hc3": {
            "estimate": float(robust.params[1]),
            "se": float(robust.bse[1]),
            "ci_low": float(rci[0]),
            "ci_high": float(rci[1]),
            "p": float(robust.pvalues[1]),
            "df": float(robust.df_resid),
            "distribution": "t",
        },
    }


def log_ancova(frame: pd.DataFrame, *, y: str, baseline: str) -> dict[str, Any]:
    """ANCOVA on logs; the relative effect (e^β − 1) × 100 %. Zeros are reported and left out."""
    data = _pairs(frame, y, baseline)
    zero = (data[y] <= 0) | (data[baseline] <= 0)
    excluded = arm_counts(data[zero])
    data = data[~zero]
    logged = data.assign(**{y: np.log(data[y]), baseline: np.log(data[baseline])})
    result = ancova(logged, y=y, baseline=baseline)
    out = {"excluded_zero": excluded, "n": result["n"], "note": result.get("note")}
    if result["estimate"] is None:
        return {**empty(result["note"]), **out}
    to_pct = lambda b: (math.exp(b) - 1) * 100  # noqa: E731
    return {
        **out,
        "estimate": to_pct(result["estimate"]),
        "ci_low": to_pct(result["ci_low"]),
        "ci_high": to_pct(result["ci_high"]),
        "p": result["p"],
        "beta": result["estimate"],
        "se": result["se"],
        "note": None,
    }


def percent_change(frame: pd.DataFrame, *, y: str, baseline: str) -> dict[str, Any]:
    """Per arm: mean of per-patient 100 × (later − baseline) / baseline, SD and 95 % CI.
    Baseline zeros make the ratio undefined: counted in ``zero_baseline``, left out."""
    data = _pairs(frame, y, baseline)
    out = {}
    for arm in ARMS:
        rows = data[data.arm == arm]
        zero = rows[baseline] == 0
        pct = 100 * (rows[y][~zero] - rows[baseline][~zero]) / rows[baseline][~zero]
        out[arm] = {**mean_ci(pct), "zero_baseline": int(zero.sum())}
    return out


def percent_change_of_means(frame: pd.DataFrame, *, y: str, baseline: str) -> dict[str, Any]:
    """Per arm: 100 × (mean later / mean baseline − 1) over patients with both values."""
    data = _pairs(frame, y, baseline)
    out = {}
    for arm in ARMS:
        rows = data[data.arm == arm]
        base = rows[baseline].mean() if len(rows) else float("nan")
        value = 100 * (rows[y].mean() / base - 1) if len(rows) and base else None
        out[arm] = {
            "estimate": value,
            "mean_baseline": _f(base),
            "mean_later": _f(rows[y].mean()),
            "n": int(len(rows)),
        }
    return out


def _f(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def change_sensitivity(frame: pd.DataFrame, *, y: str, baseline: str) -> dict[str, Any]:
    """Welch t-test and Mann–Whitney U on the change, and Hedges g (b12 − standard)."""
    data = _pairs(frame, y, baseline)
    change = data[y] - data[baseline]
    a = change[data.arm == "b12"].to_numpy(float)
    b = change[data.arm == "standard"].to_numpy(float)
    n = {"standard": len(b), "b12": len(a)}
    if len(a) < 2 or len(b) < 2:
        note = notes.TWO_PER_ARM
        return {
            "welch": empty(note, n=n),
            "mann_whitney": empty(note, n=n),
            "hedges_g": empty(note, n=n),
        }
    welch = stats.ttest_ind(a, b, equal_var=False)
    ci = welch.confidence_interval(1 - ALPHA)
    mw = stats.mannwhitneyu(a, b, alternative="two-sided")
    pooled = math.sqrt(
        ((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2)
    )
    g = None
    if pooled > 0:
        g = (a.mean() - b.mean()) / pooled * (1 - 3 / (4 * (len(a) + len(b)) - 9))
    return {
        "welch": {
            "estimate": float(a.mean() - b.mean()),
            "ci_low": float(ci.low),
            "ci_high": float(ci.high),
            "p": float(welch.pvalue),
            "df": float(welch.df),
            "n": n,
        },
        "mann_whitney": {
            "estimate": float(mw.statistic),
            "statistic": "U (b12 vs standard)",
            "p": float(mw.pvalue),
            "ci_low": None,
            "ci_high": None,
            "n": n,
        },
        "hedges_g": {
            "estimate": None if g is None else float(g),
            "ci_low": None,
            "ci_high": None,
            "n": n,
        },
    }


def within_arm_change(frame: pd.DataFrame, *, y: str, baseline: str) -> dict[str, Any]:
    """Per arm: mean change with 95 % CI, paired t-test p and Wilcoxon signed-rank p."""
    data = _pairs(frame, y, baseline)
    out = {}
    for arm in ARMS:
        diff = (data[y] - data[baseline])[data.arm == arm].to_numpy(float)
        summary = mean_ci(diff)
        t_p = w_p = None
        if len(diff) >= 2 and np.ptp(diff) > 0:
            t_p = float(stats.ttest_1samp(diff, 0.0).pvalue)
        if len(diff) >= 1 and np.any(diff != 0):
            w_p = float(stats.wilcoxon(diff).pvalue)
        out[arm] = {
            "estimate": summary["mean"],
            "ci_low": summary["ci_low"],
            "ci_high": summary["ci_high"],
            "sd": summary["sd"],
            "n": summary["n"],
            "p_paired_t": t_p,
            "p_wilcoxon": w_p,
        }
    return out


def adjust(p_values: list[float | None], method: str) -> list[float | None]:
    """Holm ('holm') or Benjamini–Hochberg ('fdr_bh') over a pre-specified family.

    ``p_values`` is the whole family in its fixed order; None marks a member that is not
    estimable on the data at hand. Such a member keeps its place: it gets no adjusted p and
    takes no rank, but it still counts in the family size m (SAP §4) — the plan fixed m before
    any data existed, and shrinking it to the outcomes that happen to have data would make the
    adjustment depend on which data are missing. With the k ≤ m p-values that exist sorted
    p(1) ≤ … ≤ p(k):

    - Holm: p̃(i) = max over j ≤ i of min(1, (m − j + 1) · p(j));
    - Benjamini–Hochberg: p̃(i) = min over j ≥ i of min(1, m · p(j) / j).

    (Both equal statsmodels' ``multipletests`` on the k p-values padded with m − k ones; with
    nothing missing they are exactly ``multipletests``.)
    """
    if method not in {"holm", "fdr_bh"}:
        raise ValueError(f"unknown adjustment {method!r}; allowed: 'holm', 'fdr_bh'")
    m = len(p_values)
    present = [i for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    adjusted: list[float | None] = [None] * m
    if not present:
        return adjusted
    order = sorted(present, key=lambda i: p_values[i])
    p = np.array([p_values[i] for i in order], dtype=float)
    rank = np.arange(1, len(p) + 1)
    if method == "holm":
        corrected = np.maximum.accumulate(np.minimum(1.0, (m - rank + 1) * p))
    else:
        corrected = np.minimum.accumulate(np.minimum(1.0, m * p / rank)[::-1])[::-1]
    for i, value in zip(order, corrected, strict=True):
        adjusted[i] = float(value)
    return adjusted


def secondary(
    wide: pd.DataFrame, families: dict[str, list[str]], methods: dict[str, str]
) -> list[dict[str, Any]]:
    """Each outcome's change per arm and ANCOVA, with p adjusted within its pre-specified
    family; an outcome without data keeps its place, marked not estimable."""
    rows = []
    for family, outcomes in families.items():
        results = []
        for outcome in outcomes:
            y, base = f"{outcome}__V3", f"{outcome}__V0"
            if y not in wide or base not in wide:
                result = {"outcome": outcome, "family": family, "change": {}}
                result["ancova"] = empty(notes.NO_DATA)
            else:
                result = {
                    "outcome": outcome,
                    "family": family,
                    "change": within_arm_change(wide, y=y, baseline=base),
                    "ancova": ancova(wide, y=y, baseline=base),
                }
            result["estimable"] = result["ancova"]["p"] is not None
            results.append(result)
        adjusted = adjust([r["ancova"]["p"] for r in results], methods[family])
        for result, p_adj in zip(results, adjusted, strict=True):
            result["p_adjusted"] = p_adj
            result["adjustment"] = methods[family]
            result["family_size"] = len(outcomes)
        rows += results
    return rows


def responders(
    frame: pd.DataFrame, *, y: str, baseline: str, threshold: float = 50.0
) -> dict[str, Any]:
    """≥ 50 % reduction: n (%) per arm, risk difference (Wald 95 % CI), Fisher exact p and
    the odds ratio from logistic regression adjusted for baseline."""
    data = _pairs(frame, y, baseline)
    data = data[data[baseline] > 0]
    reduction = 100 * (data[baseline] - data[y]) / data[baseline]
    data = data.assign(responder=(reduction >= threshold).astype(int))
    per_arm = {}
    for arm in ARMS:
        rows = data[data.arm == arm]
        k, n = int(rows.responder.sum()), int(len(rows))
        per_arm[arm] = {"responders": k, "n": n, "percent": 100 * k / n if n else None}
    n1, n0 = per_arm["b12"]["n"], per_arm["standard"]["n"]
    out: dict[str, Any] = {"per_arm": per_arm, "threshold_percent": threshold}
    if not n1 or not n0:
        note = notes.ARM_WITHOUT_PAIRS
        return {
            **out,
            "risk_difference": empty(note),
            "fisher": empty(note),
            "odds_ratio": empty(note),
        }
    p1, p0 = per_arm["b12"]["responders"] / n1, per_arm["standard"]["responders"] / n0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    z = stats.norm.ppf(1 - ALPHA / 2)
    out["risk_difference"] = {
        "estimate": p1 - p0,
        "ci_low": p1 - p0 - z * se,
        "ci_high": p1 - p0 + z * se,
        "se": se,
        "n": {"standard": n0, "b12": n1},
    }
    table = [
        [per_arm["b12"]["responders"], n1 - per_arm["b12"]["responders"]],
        [per_arm["standard"]["responders"], n0 - per_arm["standard"]["responders"]],
    ]
    fisher = stats.fisher_exact(table)
    out["fisher"] = {
        "estimate": _f(float(fisher.statistic)),
        "statistic": "sample odds ratio",
        "p": float(fisher.pvalue),
        "ci_low": None,
        "ci_high": None,
    }
    out["odds_ratio"] = _adjusted_odds_ratio(data, baseline)
    return out


def _adjusted_odds_ratio(data: pd.DataFrame, baseline: str) -> dict[str, Any]:
    design = np.column_stack([np.ones(len(data)), treat(data), data[baseline].to_numpy(float)])
    outcome = data.responder.to_numpy(float)
    if not full_rank(design) or outcome.min() == outcome.max():
        return empty(notes.RESPONDERS_BOTH_NEEDED)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.Logit(outcome, design).fit(disp=0, maxiter=200)
    except Exception as error:  # noqa: BLE001 - perfect separation and the like
        return empty(notes.LOGIT_FAILED, error=f"{type(error).__name__}: {error}")
    ci = fit.conf_int(ALPHA)[1]
    if not fit.mle_retvals.get("converged", False) or max(abs(ci)) > 50:
        return empty(notes.LOGIT_SEPARATION)
    return {
        "estimate": math.exp(fit.params[1]),
        "ci_low": math.exp(ci[0]),
        "ci_high": math.exp(ci[1]),
        "p": float(fit.pvalues[1]),
        "beta": float(fit.params[1]),
        "se": float(fit.bse[1]),
    }


def subgroups(
    frame: pd.DataFrame, *, y: str, baseline: str, subgroup: str = "b12_deficient_baseline"
) -> dict[str, Any]:
    """The primary ANCOVA overall and within each subgroup, and the arm × subgroup
    interaction p from ``y ~ baseline + arm + subgroup + arm:subgroup``."""
    data = frame[["arm", y, baseline, subgroup]].dropna(subset=[y, baseline, "arm", subgroup])
    out = {
        "overall": ancova(frame, y=y, baseline=baseline),
        "deficient": ancova(data[data[subgroup] == 1], y=y, baseline=baseline),
        "not_deficient": ancova(data[data[subgroup] == 0], y=y, baseline=baseline),
    }
    t, s = treat(data), data[subgroup].to_numpy(float)
    design = np.column_stack([np.ones(len(data)), data[baseline].to_numpy(float), t, s, t * s])
    if full_rank(design):
        fit = sm.OLS(data[y].to_numpy(float), design).fit()
        ci = fit.conf_int(ALPHA)[4]
        out["interaction"] = {
            "estimate": float(fit.params[4]),
            "ci_low": float(ci[0]),
            "ci_high": float(ci[1]),
            "p": float(fit.pvalues[4]),
            "n": arm_counts(data),
        }
    else:
        out["interaction"] = empty(notes.SUBGROUPS_BOTH_ARMS)
    return out
