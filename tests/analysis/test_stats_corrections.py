"""Issue 12 point 4: the corrected statistics, each against statsmodels/scipy called directly on
the same numbers or the textbook formula written out here. Pure: no database."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.imputation.mice import MICE, MICEData
from statsmodels.stats.multitest import multipletests

from analysis import plan
from analysis.stats import comparisons, longitudinal, notes
from tests.analysis.test_stats import REL, trial

# --- Holm and Benjamini–Hochberg over the pre-specified family -------------------------------


def _family_frame(with_data: list[str], without: list[str], seed: int = 2) -> pd.DataFrame:
    """Outcomes in ``with_data`` have V0 and V3 values; the others are absent or all blank."""
    base = trial(n=60, seed=seed)
    rng = np.random.default_rng(seed)
    frame = base[["study_id", "arm"]].copy()
    for k, outcome in enumerate(with_data):
        frame[f"{outcome}__V0"] = base.y__V0 + rng.normal(0, 5, len(base))
        frame[f"{outcome}__V3"] = base.y__V3 * (1 + 0.1 * k) + rng.normal(0, 5, len(base))
    for k, outcome in enumerate(without):
        if k % 2:  # one absent altogether, one present but never filled in
            frame[f"{outcome}__V0"] = np.nan
            frame[f"{outcome}__V3"] = np.nan
    return frame


def _raw_p(frame: pd.DataFrame, outcome: str) -> float:
    data = frame.assign(b12arm=(frame.arm == "b12").astype(int))
    fit = smf.ols(f"{outcome}__V3 ~ b12arm + {outcome}__V0", data).fit()
    return float(fit.pvalues["b12arm"])


def test_holm_keeps_the_full_key_secondary_family_when_three_of_six_have_data():
    family = plan.KEY_SECONDARY
    assert len(family) == 6
    with_data, without = family[:3], family[3:]
    frame = _family_frame(with_data, without)
    rows = comparisons.secondary(frame, {"key_secondary": family}, {"key_secondary": "holm"})
    assert [r["outcome"] for r in rows] == family  # every outcome keeps its place

    raw = sorted((_raw_p(frame, o), o) for o in with_data)
    # Holm by hand with m = 6: multipliers 6, 5, 4 for the three ranks, running max, cap 1
    expected, running = {}, 0.0
    for rank, (p, outcome) in enumerate(raw, start=1):
        running = max(running, min(1.0, (6 - rank + 1) * p))
        expected[outcome] = running
    got = {r["outcome"]: r for r in rows}
    for outcome in with_data:
        assert got[outcome]["estimable"] is True
        assert got[outcome]["p_adjusted"] == pytest.approx(expected[outcome], rel=REL)
        assert got[outcome]["family_size"] == 6
    for outcome in without:
        assert got[outcome]["estimable"] is False
        assert got[outcome]["p_adjusted"] is None
        assert got[outcome]["ancova"]["note"] in {notes.NO_DATA, notes.ARM_WITHOUT_PAIRS}
    # the same as statsmodels on the family with the not-estimable members counted (as p = 1),
    # and not what statsmodels gives over the three that happen to have data
    padded = multipletests([p for p, _ in raw] + [1.0] * 3, method="holm")[1][:3]
    assert [expected[o] for _, o in raw] == pytest.approx(list(padded), rel=REL)
    shrunk = multipletests([p for p, _ in raw], method="holm")[1]
    assert got[raw[0][1]]["p_adjusted"] == pytest.approx(2 * shrunk[0], rel=REL)  # 6p vs 3p


def test_benjamini_hochberg_keeps_the_full_exploratory_family():
    family = plan.EXPLORATORY
    with_data, without = family[:5], family[5:]
    frame = _family_frame(with_data, without, seed=8)
    rows = comparisons.secondary(frame, {"exploratory": family}, {"exploratory": "fdr_bh"})
    m = len(family)
    raw = sorted((_raw_p(frame, o), o) for o in with_data)
    # BH by hand: m·p(j)/j, running minimum from the largest rank down, cap 1
    expected, running = {}, 1.0
    for rank in range(len(raw), 0, -1):
        p, outcome = raw[rank - 1]
        running = min(running, m * p / rank)
        expected[outcome] = running
    got = {r["outcome"]: r["p_adjusted"] for r in rows}
    for outcome in with_data:
        assert got[outcome] == pytest.approx(expected[outcome], rel=REL)
    assert all(got[o] is None for o in without)
    padded = multipletests([p for p, _ in raw] + [1.0] * len(without), method="fdr_bh")[1]
    assert [expected[o] for _, o in raw] == pytest.approx(list(padded[: len(raw)]), rel=REL)


def test_adjustment_with_the_whole_family_estimable_is_statsmodels_exactly():
    p = [0.003, 0.04, 0.011, 0.5, 0.02, 0.049]
    for method in ("holm", "fdr_bh"):
        assert comparisons.adjust(p, method) == pytest.approx(
            list(multipletests(p, method=method)[1]), rel=REL
        )


# --- Barnard–Rubin degrees of freedom ---------------------------------------------------------


def test_barnard_rubin_degrees_of_freedom_by_the_formula():
    estimates, variances, df_com = [1.0, 1.4, 0.8, 1.1], [0.04, 0.05, 0.03, 0.045], 27.0
    pooled = longitudinal.rubin_pool(estimates, variances, df_complete=df_com)
    m = 4
    u_bar = sum(variances) / m
    b = sum((e - sum(estimates) / m) ** 2 for e in estimates) / (m - 1)
    t = u_bar + (1 + 1 / m) * b
    gamma = (1 + 1 / m) * b / t
    nu_old = (m - 1) / gamma**2
    nu_obs = df_com * (df_com + 1) * (1 - gamma) / (df_com + 3)
    nu = 1 / (1 / nu_old + 1 / nu_obs)
    assert pooled["df"] == pytest.approx(nu, rel=REL)
    assert pooled["df"] < df_com  # never more than the complete data would give
    assert pooled["df_large_sample"] == pytest.approx(nu_old, rel=REL)
    assert pooled["se"] == pytest.approx(math.sqrt(t), rel=REL)
    q = sum(estimates) / m
    half = stats.t.ppf(0.975, nu) * math.sqrt(t)
    assert (pooled["ci_low"], pooled["ci_high"]) == pytest.approx((q - half, q + half), rel=REL)
    assert pooled["p"] == pytest.approx(2 * stats.t.sf(q / math.sqrt(t), nu), rel=REL)


def test_barnard_rubin_without_between_variance_is_the_observed_data_df():
    pooled = longitudinal.rubin_pool([2.0, 2.0, 2.0], [0.1, 0.1, 0.1], df_complete=57.0)
    assert pooled["df"] == pytest.approx(57.0 * 58.0 / 60.0, rel=REL)  # finite, not ∞
    assert math.isinf(pooled["df_large_sample"])


def _mi_frame(seed: int = 9) -> pd.DataFrame:
    frame = trial(n=80, seed=seed, missing=0.15)
    return frame


def test_multiple_imputation_pools_exactly_what_statsmodels_mice_pools_with_5_donors():
    """The same imputations drawn by statsmodels' own MICE driver (PMM with the plan's donors,
    the same seed) and pooled by its ``combine``: the estimate and the Rubin standard error
    agree; the df is Barnard–Rubin with ν_com = n − 3."""
    assert plan.MI_PMM_DONORS == 5
    frame = _mi_frame()
    ours = longitudinal.multiple_imputation(
        frame, y="y__V3", baseline="y__V0", covariates=["b12"], m=8, seed=42, burn_in=5
    )
    assert ours["donors"] == 5 and ours["imputed"] is True
    data = frame[["y__V3", "y__V0", "b12"]].assign(treat=(frame.arm == "b12").astype(float))
    data.columns = ["v0", "v1", "v2", "v3"]
    imputer = MICEData(data.astype(float), k_pmm=5, rng=np.random.default_rng(42))
    ref = MICE("v0 ~ v3 + v1", sm.OLS, imputer, n_skip=0).fit(n_burnin=5, n_imputations=8)
    i = list(ref.exog_names).index("v3")
    assert ours["estimate"] == pytest.approx(ref.params[i], rel=REL)
    assert ours["se"] == pytest.approx(ref.bse[i], rel=REL)
    # Barnard–Rubin df from the same between/within variances
    lam = ours["lambda"]
    assert lam == pytest.approx(ref.frac_miss_info[i], rel=REL)
    nu_com = len(frame) - 3
    nu_old = (8 - 1) / lam**2
    nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lam)
    assert ours["df"] == pytest.approx(nu_old * nu_obs / (nu_old + nu_obs), rel=REL)


def test_more_donors_give_a_different_imputation():
    frame = _mi_frame()
    five = longitudinal.multiple_imputation(
        frame, y="y__V3", baseline="y__V0", covariates=["b12"], m=5, seed=42
    )
    twenty = longitudinal.multiple_imputation(
        frame, y="y__V3", baseline="y__V0", covariates=["b12"], m=5, seed=42, donors=20
    )
    assert five["donors"] == 5 and twenty["donors"] == 20
    assert five["estimate"] != twenty["estimate"]


def test_multiple_imputation_with_nothing_missing_is_the_complete_case_result_exactly():
    frame = trial(n=60, seed=12)
    frame.loc[::7, "b12"] = np.nan  # a covariate gap changes nothing: y and baseline are complete
    mi = longitudinal.multiple_imputation(frame, y="y__V3", baseline="y__V0", covariates=["b12"])
    cc = comparisons.ancova(frame, y="y__V3", baseline="y__V0")
    for key in ("estimate", "se", "ci_low", "ci_high", "p"):
        assert mi[key] == cc[key], key
    ref = smf.ols("y__V3 ~ b12arm + y__V0", frame.assign(b12arm=(frame.arm == "b12") * 1)).fit()
    assert mi["ci_low"] == pytest.approx(ref.conf_int().loc["b12arm", 0], rel=REL)
    assert mi["p"] == pytest.approx(ref.pvalues["b12arm"], rel=REL)
    assert mi["imputed"] is False and notes.MI_NOTHING_MISSING in mi["remarks"]


def test_multiple_imputation_without_any_baseline_b12_drops_that_covariate():
    frame = _mi_frame().assign(b12=np.nan)
    mi = longitudinal.multiple_imputation(
        frame, y="y__V3", baseline="y__V0", covariates=["b12", "age"], m=5, seed=42
    )
    assert mi["covariates_dropped"] == ["b12"]
    assert notes.MI_COVARIATE_DROPPED in mi["remarks"]
    same = longitudinal.multiple_imputation(
        frame, y="y__V3", baseline="y__V0", covariates=["age"], m=5, seed=42
    )
    assert mi["estimate"] == same["estimate"] and mi["estimate"] is not None


# --- the mixed model that cannot be supported -------------------------------------------------


def _long(visits: tuple[str, ...], n: int = 30, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        arm = "b12" if i % 2 else "standard"
        base, u = rng.normal(60, 10), rng.normal(0, 5)
        rows.append({"study_id": f"P{i}", "arm": arm, "visit": "V0", "f": base})
        for k, visit in enumerate(visits, start=1):
            value = base * (0.9 if arm == "b12" else 0.97) ** k + u + rng.normal(0, 3)
            rows.append({"study_id": f"P{i}", "arm": arm, "visit": visit, "f": value})
    return pd.DataFrame(rows)


def test_mixed_model_with_a_single_follow_up_visit_reports_a_note_not_numbers():
    result = longitudinal.mixed_model(_long(("V3",)), y="f")
    assert result["note"] == notes.MIXED_NOT_IDENTIFIABLE
    assert result["by_visit"] == [] and "fixed_effects" not in result
    assert result["n"] == {"standard": 15, "b12": 15}


def test_mixed_model_without_a_valid_fit_reports_a_note_and_the_warnings():
    long = _long(("V1", "V2", "V3"))
    follow = long.visit != "V0"
    # every follow-up value an exact function of baseline and arm: no residual variance
    baseline = long.groupby("study_id").f.transform("first")
    long.loc[follow, "f"] = baseline[follow] * 0.5 + (long.arm[follow] == "b12") * 5
    result = longitudinal.mixed_model(long, y="f")
    assert result["note"] == notes.MIXED_NOT_CONVERGED
    assert result["by_visit"] == [] and result["warnings"]


def test_mixed_model_on_good_data_reports_no_note():
    result = longitudinal.mixed_model(_long(("V1", "V2", "V3")), y="f")
    assert "note" not in result and len(result["by_visit"]) == 3
