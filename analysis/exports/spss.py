"""The long table as an SPSS .sav file with variable and value labels (pyreadstat).

Missing-data codes become SPSS user-missing values: a numeric variable that carries a code holds
the code's reserved value (``SPSS_MISSING_VALUES``, labelled, declared missing as the range
-94 to -91), so SPSS leaves it out of every statistic and still shows why it is missing; the
``<variable>_code`` text column is kept as in the CSV.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyreadstat
from django.utils import translation

from analysis.dataset import CODE_SUFFIX, build_dataset, coded_variables, dataset_chunks
from analysis.exports.csv_tables import CHUNK_PATIENTS
from analysis.exports.dictionary import SPSS_MISSING_VALUES, dictionary
from analysis.exports.options import ExportOptions, patient_queryset
from analysis.exports.shaping import tables
from assessments.models import MissingCode

SPSS_MISSING_RANGE = {
    "lo": min(SPSS_MISSING_VALUES.values()),
    "hi": max(SPSS_MISSING_VALUES.values()),
}


def spss_bytes(options: ExportOptions) -> tuple[bytes, int]:
    """The .sav file's bytes and its number of rows."""
    frame = _spss_types(long_frame(options))
    meta = dictionary().drop_duplicates("variable").set_index("variable")
    labels = {c: str(meta.label_en.get(c, c)) for c in frame.columns}
    value_labels = {}
    for column in frame.columns:
        allowed = meta.allowed.get(column, "")
        if "=" in allowed and frame[column].dtype != object:
            pairs = [p.split("=", 1) for p in allowed.split("; ")]
            try:
                value_labels[column] = {float(k): v for k, v in pairs}
            except ValueError:
                continue
    frame, missing = _user_missing(frame, value_labels)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hfs_b12.sav"
        pyreadstat.write_sav(
            frame,
            str(path),
            column_labels=labels,
            variable_value_labels=value_labels,
            missing_ranges=missing,
        )
        return path.read_bytes(), len(frame)


def long_frame(options: ExportOptions, chunk: int = CHUNK_PATIENTS) -> pd.DataFrame:
    """The long table of the chosen patients, built chunk by chunk of patients (each table read
    once, as the CSV export does) so that only the long table itself is held whole; each
    column has the type it would have were the table built at once."""
    patients = patient_queryset(options)
    coded = coded_variables(patients)
    parts = [
        tables(dataset, options, only="long", coded=coded)["long"]
        for dataset in dataset_chunks(
            patients, restricted=bool(options.sites or options.study_ids), chunk=chunk
        )
    ]
    if not parts:
        return tables(build_dataset(patient_pks=[]), options, only="long", coded=coded)["long"]
    # a column empty in one chunk (all None: text) and not in another is typed again from all
    # its values, as one whole read would have typed it (yes/no with gaps stays text)
    mixed = [
        c
        for c in parts[0].columns
        if len(kinds := {str(p[c].dtype) for p in parts}) > 1 and "bool" not in kinds
    ]
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    del parts
    for column in mixed:
        frame[column] = frame[column].infer_objects()
    return frame


def _user_missing(frame: pd.DataFrame, value_labels: dict) -> tuple[pd.DataFrame, dict]:
    """Coded numeric values as their reserved user-missing value (labelled); the declared
    missing ranges. Changes ``frame`` in place."""
    missing = {}
    with translation.override("en"):  # the file's labels are English, as the dictionary's
        code_labels = {
            value: f"{code} {MissingCode(code).label}"
            for code, value in SPSS_MISSING_VALUES.items()
        }
    for column in [c for c in frame.columns if c.endswith(CODE_SUFFIX)]:
        variable = column.removesuffix(CODE_SUFFIX)
        if variable not in frame or frame[variable].dtype.kind != "f":
            continue
        reserved = frame[column].map(lambda code: SPSS_MISSING_VALUES.get(code))
        frame[variable] = frame[variable].where(reserved.isna(), reserved.astype("float64"))
        missing[variable] = [SPSS_MISSING_RANGE]
        value_labels[variable] = {**value_labels.get(variable, {}), **code_labels}
    return frame, missing


def _spss_types(frame: pd.DataFrame) -> pd.DataFrame:
    """SPSS has no nullable integers or booleans; other values in text columns become text.
    Changes ``frame`` in place, one column at a time."""
    for column in frame.columns:
        if str(frame[column].dtype) in {"Int64", "boolean", "bool"}:
            frame[column] = frame[column].astype("float64")
        elif frame[column].dtype == object:
            frame[column] = frame[column].map(
                lambda v: v if v is None or isinstance(v, str) else str(v)
            )
    return frame
