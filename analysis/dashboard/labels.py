"""Translated labels for tables and figures (the pure modules receive them as plain text)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from assessments.instruments.labs import B12_DEFICIENT_BELOW


def table_labels() -> dict[str, str]:
    return {
        "primary": _("Primary outcome: VAS spasm frequency at week 12 (ANCOVA)"),
        "analysis": _("Analysis"),
        "estimate": _("Estimate"),
        # xgettext:no-python-format
        "ci": _("95 % CI"),
        "ancova": _("ANCOVA V3 ~ arm + V0, difference b12 − standard (mm)"),
        "ancova_hc3": _("ANCOVA with HC3 robust standard errors"),
        "per_protocol": _("ANCOVA, per-protocol population"),
        # xgettext:no-python-format
        "log_ancova": _("ANCOVA on logs: relative effect (%)"),
        "welch": _("Welch t-test on the change (mm)"),
        "mann_whitney": _("Mann–Whitney U on the change"),
        "hedges_g": _("Hedges g on the change"),
        "percent_change": _("Percent change of VAS frequency, V0 to V3"),
        "arm": _("Arm"),
        # xgettext:no-python-format
        "mean_pct": _("Mean of per-patient % changes"),
        # xgettext:no-python-format
        "pct_of_means": _("% change of the arm means"),
        "zero_baseline": _("Zero at baseline (left out)"),
        "standard": _("standard therapy"),
        "b12": _("standard therapy + vitamin B12"),
        "secondary": _("Secondary outcomes: change V0 to V3 and ANCOVA"),
        "outcome": _("Outcome"),
        "family": _("Family"),
        "change": _("change"),
        "p_adjusted": _("adjusted p"),
        # xgettext:no-python-format
        "responders": _("Responders: at least 50 % reduction in VAS frequency"),
        "risk_difference": _("Risk difference b12 − standard"),
        "fisher": _("Fisher exact test"),
        "odds_ratio": _("Odds ratio adjusted for baseline"),
        "correlations": _("Serum B12 and VAS spasm frequency"),
        "timepoint": _("Time point"),
        "group": _("Group"),
        "method": _("Method"),
        "regression": _("Predictors of effect (OLS, HC3)"),
        "term": _("Term"),
        "std_beta": _("Standardised β"),
        "r2_adj": _("Adjusted R²"),
        "mixed": _("Mixed model: arm difference by visit"),
        "visit": _("Visit"),
        "subgroups": _("Subgroups by baseline B12 deficiency"),
        "subgroup": _("Subgroup"),
        "overall": _("All patients"),
        "deficient": _("B12 deficient (< %(threshold)s pmol/L)")
        % {"threshold": B12_DEFICIENT_BELOW},
        "not_deficient": _("B12 not deficient"),
        "interaction": _("Arm × deficiency interaction"),
        "missing_data": _("Sensitivity for missing data"),
        "complete_case": _("Complete cases"),
        "multiple_imputation": _("Multiple imputation"),
        "completeness": _("Missing VAS frequency by arm and visit"),
        "expected": _("Patients"),
        "missing": _("Missing"),
        "safety": _("Adverse events"),
        "patients_with": _("Patients with"),
        "any_ae": _("at least one adverse event"),
        "serious_ae": _("a serious adverse event"),
        "related_ae": _("an event related to treatment"),
        "severity": _("severity"),
        "mild": _("mild"),
        "moderate": _("moderate"),
        "severe": _("severe"),
        "baseline": _("Baseline characteristics (no p-values, CONSORT item 15)"),
        "variable": _("Variable"),
    }


def arm_labels() -> dict[str, str]:
    return {"standard": _("standard therapy"), "b12": _("standard therapy + vitamin B12")}
