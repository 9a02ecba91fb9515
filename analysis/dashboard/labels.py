"""Translated labels for tables and figures (the pure modules receive them as plain text)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analysis.dataset import PATIENT_FIELDS, VISIT_VARIABLES
from assessments.instruments.labs import B12_DEFICIENT_BELOW
from patients.models import Patient, Screening, Withdrawal


class LabelBook(dict):
    """The tables' labels; a prefixed key is looked up in the data dictionary:
    ``var:<variable>``, ``level:<variable>:<level>``, ``code:<code>``, ``arm:<arm>``."""

    def __missing__(self, key: str) -> str:
        kind, _sep, name = key.partition(":")
        if kind == "var":
            return variable_label(name)
        if kind == "level":
            variable, _sep, level = name.partition(":")
            return category_label(variable, level)
        if kind == "code":
            return code_label(name)
        if kind == "arm":
            return short_arm_labels().get(name, name)
        raise KeyError(key)


def short_arm_labels() -> dict[str, str]:
    return {"standard": _("standard"), "b12": _("B12")}


def table_labels() -> LabelBook:
    return LabelBook(
        {
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
    )


def arm_labels() -> dict[str, str]:
    return {"standard": _("standard therapy"), "b12": _("standard therapy + vitamin B12")}


# --- the data dictionary: variables, levels and codes in the user's language ----------------

DERIVED = {
    "hads_total": gettext_lazy("HADS total"),
    "b12_deficient_baseline": gettext_lazy("B12 deficient at baseline"),
    "male": gettext_lazy("male sex"),
    "treat": gettext_lazy("vitamin B12 arm"),
    "baseline": gettext_lazy("baseline value"),
    "const": gettext_lazy("intercept"),
    "stratum": gettext_lazy("randomisation stratum"),
}


@cache
def _fields() -> dict[str, Any]:
    """Analysis variable -> the model field it comes from (its verbose_name is the label)."""
    fields = {}
    for model, mapping in VISIT_VARIABLES.items():
        for field_name, variable in mapping.items():
            fields[variable] = model._meta.get_field(field_name)
    for path, variable in PATIENT_FIELDS.items():
        model, field = Patient, None
        for part in path.split("__"):
            field = model._meta.get_field(part)
            model = field.related_model or model
        fields[variable] = field
    return fields


def variable_label(variable: str) -> str:
    """A variable's label from the data dictionary: ``b12_pmol_l__V0`` -> 'vitamin B12
    (pmol/L), V0'; an unknown name is shown as it is."""
    name, _sep, visit = variable.partition("__")
    field = _fields().get(name)
    label = str(field.verbose_name) if field is not None else str(DERIVED.get(name, name))
    return f"{label}, {visit}" if visit else label


def axis_label(variable: str) -> str:
    """A variable's label with its unit when the label does not carry it already."""
    label, unit = variable_label(variable), str(UNITS.get(variable.partition("__")[0], ""))
    return f"{label}, {unit}" if unit and unit not in label else label


UNITS = {"vas_frequency": gettext_lazy("mm"), "vas_intensity": gettext_lazy("mm")}


def level_label(variable: str, level: Any) -> str:
    """A category of a baseline variable: the choice's label, yes/no for a yes/no variable."""
    text = str(level)
    field = _fields().get(variable)
    if text in {"True", "False", "1.0", "0.0", "1", "0"} and (
        variable in DERIVED or getattr(field, "get_internal_type", lambda: "")() == "BooleanField"
    ):
        return str(_("yes") if text in {"True", "1.0", "1"} else _("no"))
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(text, text))
    return text


def category_label(variable: str, level: Any) -> str:
    """'variable: level' for a row of the baseline table."""
    return f"{variable_label(variable)}: {level_label(variable, level)}"


def code_label(code: str) -> str:
    """A group, method, time point, family or adjustment method of the results document."""
    for names in (correlation_labels(), _families(), _adjustments()):
        if code in names:
            return str(names[code])
    return code


def _families() -> dict[str, str]:
    return {"key_secondary": _("key secondary"), "exploratory": _("exploratory")}


def _adjustments() -> dict[str, str]:
    return {"holm": _("Holm"), "fdr_bh": _("Benjamini–Hochberg")}


def adjustment_label(method: str | None) -> str:
    return "" if method is None else str(_adjustments().get(method, method))


def correlation_labels() -> dict[str, str]:
    """Groups, methods and time points of the correlation table."""
    return {
        "pooled": _("all patients"),
        "standard": _("standard therapy"),
        "b12": _("standard therapy + vitamin B12"),
        "partial_arm": _("all patients, adjusted for arm (partial)"),
        "pearson": _("Pearson"),
        "spearman": _("Spearman"),
        "change": _("change V0→V3"),
    }


def screening_reason_label(code: str) -> str:
    """A reason for not being eligible (a criterion's failure code): the criterion's label."""
    for field_name, (inclusion, reason) in Screening.CRITERIA.items():
        if reason == code:
            label = Screening._meta.get_field(field_name).verbose_name
            return str(
                _("does not meet: %(criterion)s") % {"criterion": label} if inclusion else label
            )
    return code


def withdrawal_reason_label(code: str) -> str:
    return str(dict(Withdrawal.Reason.choices).get(code, code))
