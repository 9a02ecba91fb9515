"""The whole analysis plan on one dataset, as one JSON-ready document (SAP: "The results
document"). No Django imports: it takes the dataset builder's frames."""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks

from analysis import plan
from analysis.stats import association, comparisons, flow, longitudinal, notes
from analysis.stats.common import arm_counts, jsonable

logger = logging.getLogger(__name__)
PACKAGES = ("django", "pandas", "numpy", "scipy", "statsmodels")


def software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        versions["hfs-ecrf"] = metadata.version("hfs-ecrf")
    except metadata.PackageNotFoundError:
        versions["hfs-ecrf"] = "source"
    return versions


def analysis_frame(dataset: Any) -> pd.DataFrame:
    """The randomised patients, one row each (``dataset.wide()``'s rows and columns), every
    visit variable numeric (``pd.to_numeric(errors="coerce")``), with the derived totals the
    plan refers to.

    ``wide()`` spreads all visit variables in one pivot, which makes every column of
    Python objects (hundreds of MB at 50 000 patients) only for them to be parsed back to
    numbers; here a float variable goes straight into one float block (filled in place, no
    intermediate copies), any other through the same object values and ``to_numeric``."""
    long, patients = dataset.long, dataset.patients
    pids, patient_codes = np.unique(long.study_id.to_numpy(object), return_inverse=True)
    visits, visit_codes = np.unique(long.visit.to_numpy(object), return_inverse=True)
    if long.duplicated(["study_id", "visit"]).any():  # as ``pivot`` refuses them
        raise ValueError("Index contains duplicate entries, cannot reshape")
    randomised = patients.arm.notna().to_numpy()
    wide = patients[randomised].reset_index(drop=True)
    at = pd.Index(pids).get_indexer(wide.study_id)
    # the wide row of each long row (-1: not randomised)
    row_of = np.full(len(pids), -1)
    row_of[at[at >= 0]] = np.flatnonzero(at >= 0)
    target = row_of[patient_codes]
    names = [f"{v}__{visit}" for v in dataset.analysis_variables() for visit in visits]
    floats = [n for n in names if long[n.rsplit("__", 1)[0]].dtype == np.float64]
    block = np.full((len(floats), len(wide)), np.nan)
    others: dict[str, np.ndarray] = {}
    for variable in dataset.analysis_variables():
        column = long[variable]
        if column.dtype == np.float64:
            values = column.to_numpy()
            for j, visit in enumerate(visits):
                rows = (visit_codes == j) & (target >= 0)
                block[floats.index(f"{variable}__{visit}"), target[rows]] = values[rows]
            continue
        cells = np.full((len(pids), len(visits)), np.nan, dtype=object)
        cells[patient_codes, visit_codes] = column.astype(object).to_numpy()
        for j, visit in enumerate(visits):
            numeric = pd.to_numeric(pd.Series(cells[:, j], index=pids), errors="coerce")
            others[f"{variable}__{visit}"] = (
                numeric.to_numpy()[at]
                if (at >= 0).all()
                else numeric.reindex(wide.study_id).to_numpy()
            )
    position = {name: k for k, name in enumerate(names)}
    spread = create_dataframe_from_blocks(
        [
            (block, np.array([position[n] for n in floats], dtype=np.intp)),
            *(
                (values.reshape(1, -1), np.array([position[n]], dtype=np.intp))
                for n, values in others.items()
            ),
        ],
        index=wide.index,
        columns=pd.Index(names),
    )
    frame = pd.concat([wide, spread], axis=1)
    frame.index = np.flatnonzero(randomised)  # wide()'s row labels
    for visit in ("V0", "V3"):
        if f"hads_a__{visit}" in frame:
            frame[f"hads_total__{visit}"] = frame[f"hads_a__{visit}"] + frame[f"hads_d__{visit}"]
    return frame


SECTIONS = (
    "consort",
    "baseline",
    "primary",
    "secondary",
    "responders",
    "correlations",
    "correlation_matrix",
    "regression",
    "mixed_model",
    "subgroups",
    "missing_data",
    "safety",
)

# The columns of the long frame the sections read (the primary outcome per patient and visit):
# a section that needs another long column adds it here. Only these are copied, not the
# whole long dataset (hundreds of MB at 50 000 patients).
LONG_COLUMNS = ("study_id", "arm", "visit", plan.PRIMARY)

LIST_SECTIONS = {"secondary", "correlations", "regression"}


@dataclass(frozen=True)
class Inputs:
    """What every section reads: the randomised patients wide and long (``LONG_COLUMNS``),
    and the raw tables."""

    wide: pd.DataFrame
    long: pd.DataFrame
    patients: pd.DataFrame
    screening: pd.DataFrame
    adverse_events: pd.DataFrame
    cut: str

    def without_rows(self) -> Inputs:
        """The same columns with no rows: a failed section's skeleton is computed on this, so
        the document keeps its shape (every estimate None) for whoever reads it."""
        return Inputs(
            self.wide.iloc[:0],
            self.long.iloc[:0],
            self.patients.iloc[:0],
            self.screening.iloc[:0],
            self.adverse_events.iloc[:0],
            self.cut,
        )


def compute_results(dataset: Any, *, sha256: str | None = None) -> dict[str, Any]:
    """The results document. Each section is computed on its own: one that raises is logged
    and reported with a note (``SECTION_FAILED``) and its skeleton (every estimate None); the
    other sections are unaffected. Failed sections are also listed in ``section_notes``.
    ``sha256``: the dataset's digest when the caller has it already (hashing the long table is
    the dearest step of a large document)."""
    inputs = Inputs(
        wide=analysis_frame(dataset),
        long=dataset.long.loc[
            dataset.long.arm.notna().to_numpy(), [c for c in LONG_COLUMNS if c in dataset.long]
        ],
        patients=dataset.patients,
        screening=dataset.screening,
        adverse_events=dataset.adverse_events,
        cut=dataset.data_cut.isoformat(),
    )
    drafts = dict(getattr(dataset, "drafts_excluded", {}) or {})
    results: dict[str, Any] = {
        "data_cut": inputs.cut,
        "dataset_sha256": sha256 or dataset.sha256(),
        "software": software_versions(),
        "drafts_excluded": {
            "total": sum(drafts.values()),
            "by_form": drafts,
            "analysable_statuses": list(plan.ANALYSABLE_FORM_STATUSES),
        },
    }
    failed: dict[str, str] = {}
    for name in SECTIONS:
        results[name] = guarded(name, BUILDERS[name], inputs, failed)
    results["section_notes"] = failed
    return jsonable(results)


def guarded(
    name: str,
    build: Callable[[Inputs], Any],
    inputs: Inputs,
    failed: dict[str, str],
) -> Any:
    """``build(inputs)``, or, if it raises, its skeleton on no rows marked with the note."""
    try:
        return build(inputs)
    except Exception as error:  # noqa: BLE001 - one section's failure must not kill the rest
        logger.exception("analysis section %r could not be computed", name)
        failed[name] = notes.SECTION_FAILED
        try:
            skeleton = _blank(build(inputs.without_rows()))
        except Exception:  # noqa: BLE001 - no skeleton then, only the note
            skeleton = [{}] if name in LIST_SECTIONS else {}
        error_text = f"{type(error).__name__}: {error}"
        if isinstance(skeleton, list):
            return [{**row, "note": notes.SECTION_FAILED, "error": error_text} for row in skeleton]
        return {
            **skeleton,
            "population": skeleton.get("population"),
            "data_cut": inputs.cut,
            "n": arm_counts(inputs.wide) if "n" in skeleton else None,
            "note": notes.SECTION_FAILED,
            "error": error_text,
        }


def _blank(value: Any) -> Any:
    """A skeleton computed on no rows says nothing about the data: its counts become None and
    its notes the section's note."""
    if isinstance(value, dict):
        return {
            k: None if k == "n" else notes.SECTION_FAILED if k == "note" else _blank(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_blank(v) for v in value]
    return value


def _section(inputs: Inputs, population: str, n: Any, body: dict[str, Any]) -> dict[str, Any]:
    return {"population": population, "n": n, "data_cut": inputs.cut, **body}


def _primary_columns() -> tuple[str, str]:
    return f"{plan.PRIMARY}__{plan.PRIMARY_VISIT}", f"{plan.PRIMARY}__{plan.BASELINE_VISIT}"


def _mitt(inputs: Inputs) -> pd.DataFrame:
    """The mITT patients' arms (what their counts read: not a copy of the whole frame)."""
    return inputs.wide.loc[inputs.wide.mitt == 1, ["arm"]]


def consort_section(inputs: Inputs) -> dict[str, Any]:
    return _section(inputs, "screened", None, flow.consort(inputs.screening, inputs.patients))


def baseline_section(inputs: Inputs) -> dict[str, Any]:
    rows = flow.baseline_table(inputs.wide, plan.BASELINE_CONTINUOUS, plan.BASELINE_CATEGORICAL)
    return _section(inputs, "ITT", arm_counts(inputs.wide), {"rows": rows})


def primary_section(inputs: Inputs) -> dict[str, Any]:
    wide, (y, base) = inputs.wide, _primary_columns()
    return _section(
        inputs,
        "mITT",
        arm_counts(_mitt(inputs)),
        {
            "outcome": plan.PRIMARY,
            "visit": plan.PRIMARY_VISIT,
            "ancova": comparisons.ancova(wide, y=y, baseline=base),
            "percent_change": comparisons.percent_change(wide, y=y, baseline=base),
            "percent_change_of_means": comparisons.percent_change_of_means(
                wide, y=y, baseline=base
            ),
            "log_ancova": comparisons.log_ancova(wide, y=y, baseline=base),
            "sensitivity": comparisons.change_sensitivity(wide, y=y, baseline=base),
            "per_protocol": comparisons.ancova(
                wide.loc[wide.pp == 1, ["arm", y, base]], y=y, baseline=base
            ),
            "missing": _missing(inputs.long, plan.PRIMARY),
        },
    )


def secondary_section(inputs: Inputs) -> list[dict[str, Any]]:
    return comparisons.secondary(inputs.wide, plan.FAMILIES, plan.FAMILY_ADJUSTMENT)


def responders_section(inputs: Inputs) -> dict[str, Any]:
    y, base = _primary_columns()
    body = comparisons.responders(
        inputs.wide, y=y, baseline=base, threshold=plan.RESPONDER_REDUCTION_PERCENT
    )
    return _section(inputs, "mITT", arm_counts(_mitt(inputs)), body)


def correlations_section(inputs: Inputs) -> list[dict[str, Any]]:
    return association.b12_frequency_correlations(inputs.wide)


def correlation_matrix_section(inputs: Inputs) -> dict[str, Any]:
    return association.change_matrix(inputs.wide, plan.CHANGE_MATRIX)


def regression_section(inputs: Inputs) -> list[dict[str, Any]]:
    """One model per outcome, each on its own: a model that raises is a row with the note."""
    rows = []
    for outcome in plan.REGRESSION_OUTCOMES:
        try:
            rows.append(_regression(inputs.wide, outcome))
        except Exception as error:  # noqa: BLE001 - the other models still stand
            logger.exception("regression of %r could not be computed", outcome)
            rows.append(
                {
                    "outcome": f"{outcome} change (V3 − V0)",
                    "variable": outcome,
                    "population": "ITT, complete cases",
                    "n": None,
                    "r2": None,
                    "r2_adj": None,
                    "terms": [],
                    "note": notes.SECTION_FAILED,
                    "error": f"{type(error).__name__}: {error}",
                }
            )
    return rows


def mixed_model_section(inputs: Inputs) -> dict[str, Any]:
    body = {
        **longitudinal.mixed_model(inputs.long, y=plan.PRIMARY),
        "trajectory": longitudinal.trajectory(inputs.long, y=plan.PRIMARY),
    }
    return _section(inputs, "ITT with follow-up", body.pop("n", None), body)


def subgroups_section(inputs: Inputs) -> dict[str, Any]:
    y, base = _primary_columns()
    body = comparisons.subgroups(inputs.wide, y=y, baseline=base)
    return _section(inputs, "mITT", arm_counts(_mitt(inputs)), body)


def missing_data_section(inputs: Inputs) -> dict[str, Any]:
    wide, (y, base) = inputs.wide, _primary_columns()
    return _section(
        inputs,
        "ITT",
        arm_counts(wide),
        {
            "complete_case": comparisons.ancova(wide, y=y, baseline=base),
            "multiple_imputation": longitudinal.multiple_imputation(
                wide, y=y, baseline=base, covariates=list(plan.MI_COVARIATES)
            ),
            "missing_by_visit": _missing(inputs.long, plan.PRIMARY),
        },
    )


def safety_section(inputs: Inputs) -> dict[str, Any]:
    body = flow.safety(inputs.patients, inputs.adverse_events)
    return _section(inputs, "randomised", arm_counts(inputs.wide), body)


BUILDERS: dict[str, Callable[[Inputs], Any]] = {
    "consort": consort_section,
    "baseline": baseline_section,
    "primary": primary_section,
    "secondary": secondary_section,
    "responders": responders_section,
    "correlations": correlations_section,
    "correlation_matrix": correlation_matrix_section,
    "regression": regression_section,
    "mixed_model": mixed_model_section,
    "subgroups": subgroups_section,
    "missing_data": missing_data_section,
    "safety": safety_section,
}


def _regression(wide: pd.DataFrame, outcome: str) -> dict[str, Any]:
    frame = wide.assign(
        change=wide[f"{outcome}__V3"] - wide[f"{outcome}__V0"],
        baseline=wide[f"{outcome}__V0"],
        treat=(wide.arm == "b12").astype(float),
    )
    result = association.regression(frame, outcome="change", predictors=plan.REGRESSION_PREDICTORS)
    return {
        **result,
        "outcome": f"{outcome} change (V3 − V0)",
        "variable": outcome,
        "population": "ITT, complete cases",
    }


def _missing(long: pd.DataFrame, variable: str) -> list[dict[str, Any]]:
    """Missing values of a variable per arm and visit."""
    rows = []
    for (arm, visit), group in long.groupby(["arm", "visit"]):
        rows.append(
            {
                "arm": arm,
                "visit": visit,
                "expected": int(len(group)),
                "missing": int(group[variable].isna().sum()),
            }
        )
    return rows
