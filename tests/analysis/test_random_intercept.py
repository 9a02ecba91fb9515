"""The vectorised random-intercept MixedLM against statsmodels' own MixedLM, fitted here on
the same numbers: estimates, their covariance, variances, likelihood, convergence and
warnings. Pure: no database."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from analysis.stats.random_intercept import RandomInterceptMixedLM, fit_random_intercept

FORMULA = "value ~ baseline + treat * C(visit)"


def repeated(seed: int, patients: int, *, sd_patient: float, missing: float) -> pd.DataFrame:
    """One to three follow-up visits per patient (unbalanced), values missing at random."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(patients):
        treat, base, own = float(rng.integers(0, 2)), rng.normal(40, 8), rng.normal(0, sd_patient)
        visits = rng.choice(["V1", "V2", "V3"], size=int(rng.integers(1, 4)), replace=False)
        for visit in visits:
            effect = treat * {"V1": -1.0, "V2": -2.0, "V3": -4.0}[visit]
            noise = rng.normal(0, 3)
            value = 0.6 * base + effect + own + noise
            rows.append((f"P{i:05d}", treat, str(visit), base, value))
    data = pd.DataFrame(rows, columns=["study_id", "treat", "visit", "baseline", "value"])
    data.loc[rng.random(len(data)) < missing, "value"] = np.nan
    return data.dropna().reset_index(drop=True)


def fits(data: pd.DataFrame, formula: str = FORMULA):
    out = []
    for fit in (
        lambda: smf.mixedlm(formula, data, groups=data["study_id"]).fit(reml=True),
        lambda: fit_random_intercept(formula, data, data["study_id"]),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = fit()
        out.append((result, sorted(str(w.message) for w in caught)))
    return out


@pytest.mark.parametrize(
    ("seed", "patients", "sd_patient", "missing"),
    [
        (1, 40, 2.0, 0.0),  # small
        (2, 300, 4.0, 0.25),  # unbalanced groups, a quarter of the values missing
        (3, 120, 0.5, 0.1),  # small between-patient variance
        (4, 1500, 3.0, 0.3),  # many groups
        (5, 60, 10.0, 0.4),  # variance between patients dominates
    ],
)
def test_the_fit_is_statsmodels_mixedlm(seed, patients, sd_patient, missing):
    data = repeated(seed, patients, sd_patient=sd_patient, missing=missing)
    assert data.groupby("study_id").size().nunique() > 1  # unbalanced
    (theirs, their_warnings), (ours, our_warnings) = fits(data)
    assert ours.model._vectorised(
        np.asarray(ours.cov_re_unscaled)
    )  # not statsmodels' loop in disguise
    assert ours.converged == theirs.converged
    assert our_warnings == their_warnings
    assert list(ours.fe_params.index) == list(theirs.fe_params.index)
    np.testing.assert_allclose(ours.fe_params, theirs.fe_params, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.cov_params(), theirs.cov_params(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.bse_fe, theirs.bse_fe, rtol=1e-9)
    np.testing.assert_allclose(ours.cov_re, theirs.cov_re, rtol=1e-9)
    assert ours.scale == pytest.approx(theirs.scale, rel=1e-9)
    assert ours.llf == pytest.approx(theirs.llf, rel=1e-12)


def test_likelihood_score_and_hessian_equal_statsmodels_away_from_the_optimum():
    data = repeated(6, 200, sd_patient=3.0, missing=0.2)
    ours = RandomInterceptMixedLM.from_formula(FORMULA, data, groups=data["study_id"])
    theirs = smf.mixedlm(FORMULA, data, groups=data["study_id"])
    for model in (ours, theirs):
        model.reml, model.cov_pen, model.fe_pen, model._freepat = True, None, None, None
    for packed in (np.array([0.3]), np.array([1.0]), np.array([2.5])):
        assert ours.loglike(packed) == pytest.approx(theirs.loglike(packed), rel=1e-12)
        np.testing.assert_allclose(ours.score(packed), theirs.score(packed), rtol=1e-9)
    fe = np.linspace(1.0, 2.0, ours.k_fe)
    full = np.concatenate([fe, [0.7]])
    ours.use_sqrt = theirs.use_sqrt = False
    np.testing.assert_allclose(ours.hessian(full)[0], theirs.hessian(full)[0], rtol=1e-9)
    assert ours.get_scale(fe, np.array([[0.7]]), np.zeros(0)) == pytest.approx(
        theirs.get_scale(fe, np.array([[0.7]]), np.zeros(0)), rel=1e-12
    )


def test_no_variance_between_patients_gives_statsmodels_boundary_fit_and_warnings():
    """The variance on the boundary (zero): statsmodels' own code path and warnings."""
    data = repeated(7, 150, sd_patient=0.0, missing=0.0)
    (theirs, their_warnings), (ours, our_warnings) = fits(data)
    assert our_warnings == their_warnings
    assert ours.converged == theirs.converged
    np.testing.assert_allclose(ours.fe_params, theirs.fe_params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.cov_re, theirs.cov_re, atol=1e-9)
    assert ours.scale == pytest.approx(theirs.scale, rel=1e-7)


def test_a_single_visit_model_and_one_value_per_patient():
    """Not identifiable (the analysis reports a note before fitting): the fixed effects and
    their covariance still agree; the variance's own row is numerically meaningless in both."""
    data = repeated(8, 200, sd_patient=2.0, missing=0.1)
    v3 = data[data.visit == "V3"]
    (theirs, tw), (ours, ow) = fits(v3, "value ~ baseline + treat")
    assert ow == tw and ours.converged == theirs.converged
    np.testing.assert_allclose(ours.fe_params, theirs.fe_params, rtol=1e-7, atol=1e-9)
    k = ours.k_fe
    np.testing.assert_allclose(
        ours.cov_params().iloc[:k, :k], theirs.cov_params().iloc[:k, :k], rtol=1e-6
    )
