"""statsmodels' MixedLM for a random intercept per group, with its per-group loops vectorised.

statsmodels evaluates the (REML) profile likelihood, its score and its Hessian by looping over
the groups in Python, solving a small system per group: with one group per patient that is
seconds per evaluation at 10 000 patients and most of the results document's time. For a
random intercept alone the marginal covariance of group i (size nᵢ, scale profiled out) is
Vᵢ = I + γJ, whose inverse is I − cᵢJ with cᵢ = 1/(nᵢ + 1/γ) (the Sherman–Morrison–Woodbury
form statsmodels itself uses): every per-group quantity then needs only the group's size, the
column sums of its design and response, and the residual sums. This class computes those with
a sparse group-indicator product and overrides only ``get_fe_params``, ``get_scale``,
``loglike``, ``score_full`` and ``hessian``; statsmodels' own ``fit`` (optimiser sequence,
convergence flags, warnings, results object, covariance of the estimates) is unchanged, so the
fit is the same up to floating-point rounding in the sums. Anything else (a singular or zero
variance, penalties, fixed parameters, variance components, random slopes) goes to
statsmodels' own code. Plain functions; no Django."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams

SINGULAR = 1e-10  # statsmodels' tolerance for a singular random-effects covariance


class RandomInterceptMixedLM(MixedLM):
    """``MixedLM`` with a random intercept per group only (``re_formula`` none)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = np.empty(len(self.endog), dtype=np.intp)
        for ix, label in enumerate(self.group_labels):
            codes[self.row_indices[label]] = ix
        groups = len(self.group_labels)
        self._indicator = sparse.csr_matrix(
            (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(groups, len(codes))
        )
        self._sizes = np.bincount(codes, minlength=groups).astype(float)
        self._x_sums = np.asarray(self._indicator @ self.exog)
        self._y_sums = self._indicator @ self.endog
        self._xtx = self.exog.T @ self.exog
        self._xty = self.exog.T @ self.endog

    def _vectorised(self, cov_re: np.ndarray, vcomp: np.ndarray | None = None) -> bool:
        return (
            self.k_re == 1
            and self.k_vc == 0
            and (vcomp is None or len(vcomp) == 0)
            and getattr(self, "cov_pen", None) is None
            and getattr(self, "fe_pen", None) is None
            and getattr(self, "_freepat", None) is None
            and bool(np.all(self.exog_re == 1))
            and bool(np.isfinite(cov_re).all())
            and float(cov_re[0, 0]) >= SINGULAR
        )

    def _c(self, cov_re: np.ndarray) -> np.ndarray:
        """cᵢ with Vᵢ⁻¹ = I − cᵢJ (for V = I + γJ)."""
        return 1.0 / (self._sizes + 1.0 / float(cov_re[0, 0]))

    def _xtvix(self, c: np.ndarray) -> np.ndarray:
        return self._xtx - (self._x_sums * c[:, None]).T @ self._x_sums

    def _residual_sums(self, fe_params: np.ndarray) -> tuple[float, np.ndarray]:
        """r'r and the per-group sums of r = y − Xβ."""
        resid = self.endog - self.exog @ fe_params
        return float(resid @ resid), self._y_sums - self._x_sums @ fe_params

    def _rvir(self, fe_params: np.ndarray, c: np.ndarray) -> float:
        rr, sums = self._residual_sums(fe_params)
        return rr - float(np.sum(c * sums**2))

    def get_fe_params(self, cov_re, vcomp, tol=1e-10):
        if self.k_fe == 0 or not self._vectorised(np.asarray(cov_re), vcomp):
            return super().get_fe_params(cov_re, vcomp, tol)
        c = self._c(cov_re)
        xtvix = self._xtvix(c)
        xtviy = self._xty - self._x_sums.T @ (c * self._y_sums)
        return np.linalg.solve(xtvix, xtviy), False

    def get_scale(self, fe_params, cov_re, vcomp):
        if not self._vectorised(np.asarray(cov_re), vcomp):
            return super().get_scale(fe_params, cov_re, vcomp)
        qf = self._rvir(fe_params, self._c(cov_re))
        return qf / (self.n_totobs - self.k_fe if self.reml else self.n_totobs)

    def loglike(self, params, profile_fe=True):
        if type(params) is not MixedLMParams:
            params = MixedLMParams.from_packed(
                params, self.k_fe, self.k_re, self.use_sqrt, has_fe=False
            )
        if not self._vectorised(params.cov_re, params.vcomp):
            return super().loglike(params, profile_fe)
        cov_re = params.cov_re
        if profile_fe:
            fe_params, _ = self.get_fe_params(cov_re, params.vcomp)
        else:
            fe_params = params.fe_params
        gamma = float(cov_re[0, 0])
        c = self._c(cov_re)
        # log det Vᵢ = log γ + log(nᵢ + 1/γ) (matrix determinant lemma, as statsmodels)
        likeval = -float(np.sum(np.log(gamma) + np.log(self._sizes + 1.0 / gamma))) / 2.0
        qf = self._rvir(fe_params, c)
        n = self.n_totobs
        if self.reml:
            p = self.k_fe
            likeval -= (n - p) * np.log(qf) / 2.0
            _, ld = np.linalg.slogdet(self._xtvix(c))
            likeval -= ld / 2.0
            likeval -= (n - p) * np.log(2 * np.pi) / 2.0
            likeval += (n - p) * np.log(n - p) / 2.0
            likeval -= (n - p) / 2.0
        else:
            likeval -= n * np.log(qf) / 2.0
            likeval -= n * np.log(2 * np.pi) / 2.0
            likeval += n * np.log(n) / 2.0
            likeval -= n / 2.0
        return likeval

    def _pieces(self, params: MixedLMParams) -> dict[str, Any]:
        """The per-group sums both the score and the Hessian are made of, with
        wᵢ = 1 − cᵢnᵢ: Vᵢ⁻¹1 = wᵢ1, aᵢ = Xᵢ'Vᵢ⁻¹1 = wᵢ·colsum(Xᵢ), bᵢ = 1'Vᵢ⁻¹rᵢ = wᵢ·sum(rᵢ),
        dᵢ = 1'Vᵢ⁻¹1 = nᵢwᵢ."""
        c = self._c(params.cov_re)
        rr, sums = self._residual_sums(params.fe_params)
        w = 1.0 - c * self._sizes
        a = self._x_sums * w[:, None]
        b = w * sums
        return {
            "c": c,
            "a": a,
            "b": b,
            "d": self._sizes * w,
            "rvir": rr - float(np.sum(c * sums**2)),
            "xtvix": self._xtvix(c),
            "xtax": a.T @ a,
        }

    def score_full(self, params, calc_fe):
        if calc_fe or not self._vectorised(params.cov_re, params.vcomp):
            return super().score_full(params, calc_fe)
        parts = self._pieces(params)
        fac = self.n_totobs - (self.k_fe if self.reml else 0)
        score = -0.5 * float(np.sum(parts["d"]))
        score += 0.5 * fac * float(np.sum(parts["b"] ** 2)) / parts["rvir"]
        if self.reml:
            xtvixi = np.linalg.inv(parts["xtvix"])
            score += 0.5 * float(np.sum(xtvixi.T * parts["xtax"]))
        return np.zeros(self.k_fe), np.array([score]), np.zeros(0)

    def hessian(self, params):
        if type(params) is not MixedLMParams:
            params = MixedLMParams.from_packed(
                params, self.k_fe, self.k_re, use_sqrt=self.use_sqrt, has_fe=True
            )
        if not self._vectorised(params.cov_re, params.vcomp):
            return super().hessian(params)
        parts = self._pieces(params)
        a, b, d, rvir = parts["a"], parts["b"], parts["d"], parts["rvir"]
        xtvix = parts["xtvix"]
        fac = self.n_totobs - (self.exog.shape[1] if self.reml else 0)
        hess_fe = -fac * xtvix / rvir
        hess_fere = -fac * (a.T @ b) / rvir
        big_b = float(np.sum(b**2))
        big_d = float(np.sum(2 * d * b**2))
        hess_re = float(np.sum(d**2)) / 2 - 0.5 * fac * (big_d / rvir - big_b**2 / rvir**2)
        if self.reml:
            ql = np.linalg.solve(xtvix, parts["xtax"])
            f = (a * (2 * d)[:, None]).T @ a
            hess_re += 0.5 * (float(np.sum(ql.T * ql)) - float(np.trace(np.linalg.solve(xtvix, f))))
        k = self.k_fe
        hess = np.zeros((k + 1, k + 1))
        hess[:k, :k] = hess_fe
        hess[:k, k] = hess_fere
        hess[k, :k] = hess_fere
        hess[k, k] = hess_re
        return hess, False


def fit_random_intercept(formula: str, data: pd.DataFrame, groups: Any, *, reml: bool = True):
    """``smf.mixedlm(formula, data, groups=groups).fit(reml=reml)``, vectorised."""
    return RandomInterceptMixedLM.from_formula(formula, data, groups=groups).fit(reml=reml)
