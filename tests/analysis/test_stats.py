"""Every statistic against an independent computation on the same numbers: statsmodels'
formula API or scipy called directly here, formulas by hand, and NIST's certified Longley
regression. Pure: no database."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from analysis.stats import association, comparisons, flow, longitudinal

REL = 1e-6


def trial(n: int = 60, seed: int = 1, missing: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n) % 2 == 0, "b12", "standard")
    base = rng.normal(60, 12, n).clip(5, 100)
    effect = np.where(arm == "b12", -0.3, -0.12)
    later = (base * (1 + effect) + rng.normal(0, 6, n)).clip(1, 100)
    b12 = rng.lognormal(np.log(230), 0.4, n)
    frame = pd.DataFrame(
        {
            "study_id": [f"P{i}" for i in range(n)],
            "arm": arm,
            "y__V0": base,
            "y__V3": later,
            "b12": b12,
            "age": rng.normal(50, 10, n),
            "deficient": (b12 < 148).astype(int),
        }
    )
    if missing:
        frame.loc[rng.random(n) < missing, "y__V3"] = np.nan
    return frame


def _ref(frame, formula, **fit):
    data = frame.assign(b12arm=(frame.arm == "b12").astype(int))
    return smf.ols(formula, data).fit(**fit)


def test_ancova_matches_statsmodels_formula_api():
    frame = trial()
    ours = comparisons.ancova(frame, y="y__V3", baseline="y__V0")
    ref = _ref(frame, "y__V3 ~ b12arm + y__V0")
    ci = ref.conf_int().loc["b12arm"]
    assert ours["estimate"] == pytest.approx(ref.params["b12arm"], rel=REL)
    assert ours["se"] == pytest.approx(ref.bse["b12arm"], rel=REL)
    assert (ours["ci_low"], ours["ci_high"]) == pytest.approx((ci[0], ci[1]), rel=REL)
    assert ours["p"] == pytest.approx(ref.pvalues["b12arm"], rel=REL)
    assert ours["n"] == {"standard": 30, "b12": 30}
    # HC3 with t inference on the residual df (SAP §7), not statsmodels' normal default
    robust = _ref(frame, "y__V3 ~ b12arm + y__V0", cov_type="HC3", use_t=True)
    assert ours["hc3"]["se"] == pytest.approx(robust.bse["b12arm"], rel=REL)
    assert ours["hc3"]["p"] == pytest.approx(robust.pvalues["b12arm"], rel=REL)
    rci = robust.conf_int().loc["b12arm"]
    assert (ours["hc3"]["ci_low"], ours["hc3"]["ci_high"]) == pytest.approx(
        (rci[0], rci[1]), rel=REL
    )
    assert ours["hc3"]["df"] == len(frame) - 3


def test_log_ancova_reports_zeros_and_transforms_the_effect():
    frame = trial()
    frame.loc[0, "y__V3"] = 0.0  # a b12 patient
    ours = comparisons.log_ancova(frame, y="y__V3", baseline="y__V0")
    assert ours["excluded_zero"] == {"standard": 0, "b12": 1}
    kept = frame.drop(index=0)
    ref = _ref(kept.assign(ly=np.log(kept.y__V3), lb=np.log(kept.y__V0)), "ly ~ b12arm + lb")
    beta = ref.params["b12arm"]
    low, high = ref.conf_int().loc["b12arm"]
    assert ours["estimate"] == pytest.approx((math.exp(beta) - 1) * 100, rel=REL)
    assert ours["ci_low"] == pytest.approx((math.exp(low) - 1) * 100, rel=REL)
    assert ours["ci_high"] == pytest.approx((math.exp(high) - 1) * 100, rel=REL)


def test_percent_changes_by_hand_and_zero_baseline_reported():
    frame = trial()
    frame.loc[1, "y__V0"] = 0.0  # a standard patient: percent change undefined
    ours = comparisons.percent_change(frame, y="y__V3", baseline="y__V0")
    rows = frame[(frame.arm == "standard") & (frame.y__V0 != 0)]
    pct = 100 * (rows.y__V3 - rows.y__V0) / rows.y__V0
    half = stats.t.ppf(0.975, len(pct) - 1) * pct.std(ddof=1) / math.sqrt(len(pct))
    assert ours["standard"]["mean"] == pytest.approx(pct.mean(), rel=REL)
    assert ours["standard"]["ci_low"] == pytest.approx(pct.mean() - half, rel=REL)
    assert ours["standard"]["zero_baseline"] == 1
    means = comparisons.percent_change_of_means(frame, y="y__V3", baseline="y__V0")
    b12 = frame[frame.arm == "b12"]
    assert means["b12"]["estimate"] == pytest.approx(
        100 * (b12.y__V3.mean() / b12.y__V0.mean() - 1), rel=REL
    )


def test_welch_mann_whitney_and_hedges_g_match_scipy_and_the_formula():
    frame = trial()
    ours = comparisons.change_sensitivity(frame, y="y__V3", baseline="y__V0")
    change = frame.y__V3 - frame.y__V0
    a, b = change[frame.arm == "b12"], change[frame.arm == "standard"]
    welch = stats.ttest_ind(a, b, equal_var=False)
    assert ours["welch"]["p"] == pytest.approx(welch.pvalue, rel=REL)
    assert ours["welch"]["estimate"] == pytest.approx(a.mean() - b.mean(), rel=REL)
    assert ours["mann_whitney"]["p"] == pytest.approx(
        stats.mannwhitneyu(a, b, alternative="two-sided").pvalue, rel=REL
    )
    n1, n2 = len(a), len(b)
    sp = math.sqrt(((n1 - 1) * a.var() + (n2 - 1) * b.var()) / (n1 + n2 - 2))
    g = (a.mean() - b.mean()) / sp * (1 - 3 / (4 * (n1 + n2) - 9))
    assert ours["hedges_g"]["estimate"] == pytest.approx(g, rel=REL)


def test_within_arm_change_matches_paired_tests():
    frame = trial()
    ours = comparisons.within_arm_change(frame, y="y__V3", baseline="y__V0")
    rows = frame[frame.arm == "b12"]
    assert ours["b12"]["p_paired_t"] == pytest.approx(
        stats.ttest_rel(rows.y__V3, rows.y__V0).pvalue, rel=REL
    )
    assert ours["b12"]["p_wilcoxon"] == pytest.approx(
        stats.wilcoxon(rows.y__V3 - rows.y__V0).pvalue, rel=REL
    )


def test_holm_and_benjamini_hochberg_by_hand():
    # a family of five; the fourth member is not estimable but keeps its place: m = 5
    p = [0.01, 0.04, 0.03, None, 0.20]
    holm = comparisons.adjust(p, "holm")
    # sorted 0.01, 0.03, 0.04, 0.20 times 5, 4, 3, 2, running max, capped at 1
    assert holm == pytest.approx([0.05, 0.12, 0.12, None, 0.40])
    bh = comparisons.adjust(p, "fdr_bh")
    # p × m / rank: 0.05, 0.075, 0.0667, 0.25; running min from the top
    assert bh == pytest.approx([0.05, 0.2 / 3, 0.2 / 3, None, 0.25])


def test_responders_fisher_risk_difference_and_adjusted_odds_ratio():
    frame = trial(n=80, seed=4)
    frame.loc[frame.index[:12:2], "y__V3"] = 1.0  # some b12 responders
    frame.loc[frame.index[1:6:2], "y__V3"] = 1.0  # fewer standard responders
    ours = comparisons.responders(frame, y="y__V3", baseline="y__V0")
    resp = (100 * (frame.y__V0 - frame.y__V3) / frame.y__V0 >= 50).astype(int)
    k1, n1 = resp[frame.arm == "b12"].sum(), (frame.arm == "b12").sum()
    k0, n0 = resp[frame.arm == "standard"].sum(), (frame.arm == "standard").sum()
    assert ours["per_arm"]["b12"]["responders"] == k1
    assert ours["fisher"]["p"] == pytest.approx(
        stats.fisher_exact([[k1, n1 - k1], [k0, n0 - k0]]).pvalue, rel=REL
    )
    p1, p0 = k1 / n1, k0 / n0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    assert ours["risk_difference"]["ci_low"] == pytest.approx(
        p1 - p0 - 1.959963984540054 * se, rel=REL
    )
    ref = smf.logit(
        "r ~ b12arm + y__V0", frame.assign(r=resp, b12arm=(frame.arm == "b12").astype(int))
    ).fit(disp=0)
    assert ours["odds_ratio"]["estimate"] == pytest.approx(math.exp(ref.params["b12arm"]), rel=1e-5)


def test_subgroup_interaction_matches_the_formula_model():
    frame = trial(n=120, seed=7)
    ours = comparisons.subgroups(frame, y="y__V3", baseline="y__V0", subgroup="deficient")
    ref = _ref(frame, "y__V3 ~ y__V0 + b12arm * deficient")
    assert ours["interaction"]["p"] == pytest.approx(ref.pvalues["b12arm:deficient"], rel=REL)
    sub = frame[frame.deficient == 1]
    assert ours["deficient"]["estimate"] == pytest.approx(
        _ref(sub, "y__V3 ~ b12arm + y__V0").params["b12arm"], rel=REL
    )


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlations_match_scipy_with_fisher_z_intervals(method):
    frame = trial()
    ours = association.correlation(frame.b12, frame.y__V0, method=method)
    ref = (stats.pearsonr if method == "pearson" else stats.spearmanr)(frame.b12, frame.y__V0)
    r = ref.statistic
    assert ours["r"] == pytest.approx(r, rel=REL)
    assert ours["p"] == pytest.approx(ref.pvalue, rel=1e-5)
    z, half = math.atanh(r), 1.959963984540054 / math.sqrt(len(frame) - 3)
    assert (ours["ci_low"], ours["ci_high"]) == pytest.approx(
        (math.tanh(z - half), math.tanh(z + half)), rel=REL
    )


def test_partial_correlation_for_arm_by_the_textbook_formula():
    frame = trial(n=70, seed=3)
    arm = (frame.arm == "b12").astype(float)
    ours = association.correlation(frame.b12, frame.y__V3, method="pearson", control=arm)
    rxy = np.corrcoef(frame.b12, frame.y__V3)[0, 1]
    rxz = np.corrcoef(frame.b12, arm)[0, 1]
    ryz = np.corrcoef(frame.y__V3, arm)[0, 1]
    partial = (rxy - rxz * ryz) / math.sqrt((1 - rxz**2) * (1 - ryz**2))
    assert ours["r"] == pytest.approx(partial, rel=REL)
    t = partial * math.sqrt((len(frame) - 3) / (1 - partial**2))
    assert ours["p"] == pytest.approx(2 * stats.t.sf(abs(t), len(frame) - 3), rel=REL)


def test_regression_matches_statsmodels_hc3_and_vif_by_hand():
    frame = trial(n=90, seed=5).assign(
        treat=lambda f: (f.arm == "b12").astype(float), change=lambda f: f.y__V3 - f.y__V0
    )
    predictors = ["treat", "y__V0", "b12", "age"]
    ours = association.regression(frame, outcome="change", predictors=predictors)
    ref = smf.ols("change ~ treat + y__V0 + b12 + age", frame).fit(cov_type="HC3", use_t=True)
    terms = {t["term"]: t for t in ours["terms"]}
    for name in predictors:
        assert terms[name]["estimate"] == pytest.approx(ref.params[name], rel=REL)
        assert terms[name]["se"] == pytest.approx(ref.bse[name], rel=REL)
        assert terms[name]["p"] == pytest.approx(ref.pvalues[name], rel=REL)
        low, high = ref.conf_int().loc[name]
        assert (terms[name]["ci_low"], terms[name]["ci_high"]) == pytest.approx(
            (low, high), rel=REL
        )
        assert terms[name]["std_estimate"] == pytest.approx(
            ref.params[name] * frame[name].std() / frame.change.std(), rel=REL
        )
        others = [p for p in predictors if p != name]
        r2 = smf.ols(f"{name} ~ {' + '.join(others)}", frame).fit().rsquared
        assert terms[name]["vif"] == pytest.approx(1 / (1 - r2), rel=REL)
    assert ours["r2"] == pytest.approx(ref.rsquared, rel=REL)
    assert ours["r2_adj"] == pytest.approx(ref.rsquared_adj, rel=REL)


def test_regression_reproduces_nists_certified_longley_results():
    """NIST StRD 'Longley' (higher difficulty): certified coefficients and R²."""
    data = sm.datasets.longley.load_pandas().data
    predictors = ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]
    ours = association.regression(data, outcome="TOTEMP", predictors=predictors)
    certified = {
        "intercept": -3482258.63459582,
        "GNPDEFL": 15.0618722713733,
        "GNP": -0.358191792925910e-01,
        "UNEMP": -2.02022980381683,
        "ARMED": -1.03322686717359,
        "POP": -0.511041056535807e-01,
        "YEAR": 1829.15146461355,
    }
    terms = {t["term"]: t["estimate"] for t in ours["terms"]}
    for name, value in certified.items():
        assert terms[name] == pytest.approx(value, rel=1e-8), name
    assert ours["r2"] == pytest.approx(0.995479004577296, rel=1e-10)


def test_mixed_model_visit_differences_match_statsmodels_directly():
    rng = np.random.default_rng(11)
    rows = []
    for i in range(40):
        arm = "b12" if i % 2 else "standard"
        base, u = rng.normal(60, 10), rng.normal(0, 5)
        rows.append({"study_id": f"P{i}", "arm": arm, "visit": "V0", "f": base})
        for k, visit in enumerate(("V1", "V2", "V3"), start=1):
            drop = (0.1 if arm == "b12" else 0.04) * k * base
            rows.append(
                {
                    "study_id": f"P{i}",
                    "arm": arm,
                    "visit": visit,
                    "f": base - drop + u + rng.normal(0, 3),
                }
            )
    long = pd.DataFrame(rows)
    ours = longitudinal.mixed_model(long, y="f")
    data = (
        long[long.visit != "V0"]
        .merge(
            long[long.visit == "V0"][["study_id", "f"]].rename(columns={"f": "baseline"}),
            on="study_id",
        )
        .assign(treat=lambda d: (d.arm == "b12").astype(float), value=lambda d: d.f)
    )
    ref = smf.mixedlm("value ~ baseline + treat * C(visit)", data, groups=data.study_id).fit(
        reml=True
    )
    names = list(ref.fe_params.index)
    cov = ref.cov_params().loc[names, names]
    v3 = ref.fe_params["treat"] + ref.fe_params["treat:C(visit)[T.V3]"]
    se = math.sqrt(
        cov.loc["treat", "treat"]
        + cov.loc["treat:C(visit)[T.V3]", "treat:C(visit)[T.V3]"]
        + 2 * cov.loc["treat", "treat:C(visit)[T.V3]"]
    )
    got = {row["visit"]: row for row in ours["by_visit"]}
    assert got["V3"]["estimate"] == pytest.approx(v3, rel=REL)
    assert got["V3"]["se"] == pytest.approx(se, rel=REL)
    assert got["V1"]["estimate"] == pytest.approx(ref.fe_params["treat"], rel=REL)


def test_rubins_rules_by_hand():
    pooled = longitudinal.rubin_pool([1.0, 1.4, 0.8], [0.04, 0.05, 0.03])
    within, between = 0.04, np.var([1.0, 1.4, 0.8], ddof=1)
    total = within + (1 + 1 / 3) * between
    assert pooled["estimate"] == pytest.approx(16 / 15, rel=REL)
    assert pooled["se"] == pytest.approx(math.sqrt(total), rel=REL)
    r = (1 + 1 / 3) * between / within
    df = 2 * (1 + 1 / r) ** 2
    assert pooled["df"] == pytest.approx(df, rel=REL)
    assert pooled["ci_low"] == pytest.approx(
        16 / 15 - stats.t.ppf(0.975, df) * math.sqrt(total), rel=REL
    )


def test_multiple_imputation_reproduces_with_its_seed_and_tracks_complete_cases():
    frame = trial(n=80, seed=9, missing=0.15)
    one = longitudinal.multiple_imputation(
        frame, y="y__V3", baseline="y__V0", covariates=["b12"], m=5, seed=42
    )
    two = longitudinal.multiple_imputation(
        frame, y="y__V3", baseline="y__V0", covariates=["b12"], m=5, seed=42
    )
    other = longitudinal.multiple_imputation(
        frame, y="y__V3", baseline="y__V0", covariates=["b12"], m=5, seed=43
    )
    assert one == two
    assert one["estimate"] != other["estimate"]
    assert one["patients_with_missing"] == int(frame.y__V3.isna().sum())
    complete = comparisons.ancova(frame, y="y__V3", baseline="y__V0")
    assert abs(one["estimate"] - complete["estimate"]) < 3 * complete["se"]


# --- edge cases -------------------------------------------------------------------------------


def test_an_arm_without_data_is_reported_not_crashed():
    frame = trial()
    frame.loc[frame.arm == "standard", "y__V3"] = np.nan
    result = comparisons.ancova(frame, y="y__V3", baseline="y__V0")
    assert result["estimate"] is None and "arm" in result["note"]
    assert (
        comparisons.change_sensitivity(frame, y="y__V3", baseline="y__V0")["welch"]["estimate"]
        is None
    )
    assert comparisons.responders(frame, y="y__V3", baseline="y__V0")["fisher"]["p"] is None


def test_a_single_patient():
    frame = trial().iloc[:1]
    assert comparisons.ancova(frame, y="y__V3", baseline="y__V0")["estimate"] is None
    assert association.correlation(frame.b12, frame.y__V0, method="pearson")["r"] is None
    assert comparisons.within_arm_change(frame, y="y__V3", baseline="y__V0")["b12"]["n"] == 1


def test_all_values_missing_for_an_outcome():
    frame = trial().assign(y__V3=np.nan)
    assert comparisons.ancova(frame, y="y__V3", baseline="y__V0")["estimate"] is None
    result = comparisons.secondary(
        frame.rename(columns={"y__V0": "o__V0", "y__V3": "o__V3"}), {"f": ["o"]}, {"f": "holm"}
    )
    assert result[0]["ancova"]["estimate"] is None and result[0]["p_adjusted"] is None


def test_perfect_collinearity_is_reported():
    frame = trial()
    frame["y__V0"] = (frame.arm == "b12").astype(float)  # baseline identical to arm
    result = comparisons.ancova(frame, y="y__V3", baseline="y__V0")
    assert result["estimate"] is None and "collinear" in result["note"]
    reg = association.regression(
        frame.assign(t=(frame.arm == "b12").astype(float)),
        outcome="y__V3",
        predictors=["t", "y__V0"],
    )
    assert reg["terms"] == [] and "collinear" in reg["note"]


def test_consort_baseline_and_safety_counts():
    screening = pd.DataFrame(
        {
            "outcome": ["eligible"] * 4 + ["not_eligible", "declined"],
            "failure_reasons": [""] * 4 + ["pregnancy,prior_mvd", ""],
        }
    )
    patients = pd.DataFrame(
        {
            "study_id": ["A", "B", "C", "D"],
            "arm": ["b12", "standard", "b12", None],
            "withdrawn": [0, 1, 0, 0],
            "withdrawal_reason": [None, "adverse_event", None, None],
            "received_allocation": [1, 1, 0, 0],
            "mitt": [1, 0, 1, 0],
            "age": [40.0, 50.0, 60.0, 30.0],
            "sex": ["female", "male", "female", "male"],
        }
    )
    result = flow.consort(screening, patients)
    assert result["not_eligible_reasons"] == {"pregnancy": 1, "prior_mvd": 1}
    assert result["arms"]["b12"] == {
        "allocated": 2,
        "received_allocation": 1,
        "lost_to_follow_up": 0,
        "discontinued": {},
        "analysed": 2,
    }
    assert result["arms"]["standard"]["discontinued"] == {"adverse_event": 1}
    table = flow.baseline_table(patients, ["age"], ["sex"])
    assert table[0]["arms"]["b12"]["mean"] == 50.0
    female = next(r for r in table if r.get("level") == "female")
    assert female["arms"]["b12"]["percent"] == 100.0
    events = pd.DataFrame(
        {
            "study_id": ["A", "A", "B"],
            "severity": ["mild", "severe", "mild"],
            "serious": [False, True, False],
            "relation": ["possible", "not_related", "unlikely"],
        }
    )
    safety = flow.safety(patients, events)
    assert safety["any"]["b12"]["n"] == 1 and safety["serious"]["b12"]["n"] == 1
    assert safety["related"]["standard"]["n"] == 0
