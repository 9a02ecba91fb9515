"""The export tables of one dataset: patient variables on every visit row, the wide pivot,
the per-patient records; dates made relative (de-identification) and text cells a
spreadsheet would run as a formula neutralised. No database access."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.dataset import (
    PATIENT_FIELDS,
    RECORD_FIELDS,
    VISIT_VARIABLES,
    code_column,
    form_state_columns,
)
from analysis.exports.options import ExportOptions
from assessments.models import CRF_MODELS
from assessments.schedule import VISIT_CODES

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# date column -> its relative name
RELATIVE = {
    "visit_date": None,  # visit_day is already there
    "randomised_on": None,
    "consent_date": "consent_day",
    "withdrawn_on": "withdrawn_day",
    "lab_sample_date": "lab_sample_day",
    "onset_on": "onset_day",
    "ended_on": "end_day",
    "given_on": "given_day",
    "started_on": "start_day",
    "stopped_on": "stop_day",
}
VISIT_COLUMNS = [
    "visit",
    "visit_date",
    "visit_day",
    "visit_status",
    "visit_missed_reason",
    "visit_out_of_window",
]
HIDDEN_PATIENT_VARIABLES = {"patient_pk", "stratum_b12_deficient"}


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ' to text cells a spreadsheet would run as a formula; numbers stay numbers."""
    changed = {}
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        risky = np.fromiter(
            (
                isinstance(v, str) and v.startswith(DANGEROUS_PREFIXES)
                for v in values.to_numpy(dtype=object)  # not .array: slow per item
            ),
            dtype=bool,
            count=len(values),
        )
        if risky.any():
            changed[column] = values.mask(risky, "'" + values.astype(str))
    return frame.assign(**changed) if changed else frame


def patient_columns() -> list[str]:
    return [c for c in PATIENT_FIELDS.values() if c not in HIDDEN_PATIENT_VARIABLES] + ["stratum"]


def tables(
    dataset, options: ExportOptions, only: str | None = None, coded: set[str] | None = None
) -> dict[str, pd.DataFrame]:
    """The export tables of one dataset (one chunk of patients, or all); ``only`` skips the
    work for the others. ``coded``: the variables that get a ``<variable>_code`` column (the
    whole export's, fixed before the first chunk); None: those coded in this dataset."""
    patients = dataset.patients[patient_columns()].copy()
    if coded is None:
        coded = set(dataset.missing_codes.variable)
    out = {"long": _long(dataset, options, patients, coded), "patients": patients}
    for name in RECORD_FIELDS:
        if name in dataset.records:
            out[name] = dataset.records[name]
    if only is not None:
        out = {
            k: v
            for k, v in out.items()
            if k == only or (only == "wide" and k in {"long", "patients"})
        }
    if options.relative_dates:
        reference = _reference(patients).set_axis(patients.study_id)
        for name, frame in out.items():
            # (mapping an empty column onto dates fails in pandas: no patient, no dates)
            ref = frame.study_id.map(reference) if len(frame) else reference.iloc[:0]
            out[name] = _relative(frame, ref.reset_index(drop=True).set_axis(frame.index))
    if only in (None, "wide"):
        out["wide"] = _wide(out["long"], out["patients"])
    return {name: neutralise(frame) for name, frame in out.items()}


def _long(dataset, options: ExportOptions, patients: pd.DataFrame, coded: set[str]) -> pd.DataFrame:
    """One row per patient and visit, the patient's variables repeated on each; a coded
    variable is followed by its ``<variable>_code`` column."""
    visit_columns = [*VISIT_COLUMNS, *_form_columns(options.forms, coded)]
    long = _with_codes(dataset.long, dataset.missing_codes, coded)
    if options.visits:
        long = long[long.visit.isin(options.visits)]
    long = long[["study_id", *visit_columns]].merge(patients, on="study_id", how="left")
    return long[["study_id", *[c for c in patients.columns if c != "study_id"], *visit_columns]]


def _wide(long: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """One row per patient: each visit variable as variable__VISIT, in schedule order."""
    wide = long.pivot(  # noqa: PD010 - one row per patient and visit, no aggregation
        index="study_id",
        columns="visit",
        values=[c for c in long.columns if c not in patients.columns and c != "visit"],
    )
    wide.columns = [f"{var}__{visit}" for var, visit in wide.columns]
    ordered = [
        f"{var}__{visit}"
        for var in dict.fromkeys(c.split("__")[0] for c in wide.columns)
        for visit in VISIT_CODES
        if f"{var}__{visit}" in wide.columns
    ]
    return patients.merge(wide[ordered].reset_index(), on="study_id", how="left")


def _with_codes(long: pd.DataFrame, codes: pd.DataFrame, coded: set[str]) -> pd.DataFrame:
    """The long table with a ``<variable>_code`` column per variable in ``coded``."""
    columns = {code_column(v): pd.Series(None, index=long.index, dtype=object) for v in coded}
    long = long.assign(**columns)
    codes = codes[codes.variable.isin(coded)]
    if codes.empty:
        return long
    found = codes.pivot(index=["study_id", "visit"], columns="variable", values="code")  # noqa: PD010
    found.columns = [code_column(v) for v in found.columns]
    keys = pd.MultiIndex.from_frame(long[["study_id", "visit"]])
    for column in found.columns:
        long[column] = found[column].reindex(keys).to_numpy()
    return long


def _form_columns(forms: list[str] | None, coded: set[str] = frozenset()) -> list[str]:
    """Per form: its variables (each coded one followed by its code column), then its status,
    verification and lock."""
    models = CRF_MODELS.values() if not forms else [CRF_MODELS[f] for f in forms]
    columns = []
    for model in models:
        for variable in VISIT_VARIABLES[model].values():
            columns.append(variable)
            if variable in coded:
                columns.append(code_column(variable))
        columns += form_state_columns(model)
    return columns


def _reference(patients: pd.DataFrame) -> pd.Series:
    randomised = pd.to_datetime(patients.randomised_on)
    return randomised.fillna(pd.to_datetime(patients.consent_date))


def _relative(frame: pd.DataFrame, reference: pd.Series) -> pd.DataFrame:
    """Replace calendar dates by whole days since the patient's reference date."""
    out = frame.copy()
    for column, new in RELATIVE.items():
        if column not in out:
            continue
        if new is not None:
            days = (pd.to_datetime(out[column]) - reference).dt.days
            out.insert(out.columns.get_loc(column), new, days.astype("Int64"))
        out = out.drop(columns=[column])
    return out
