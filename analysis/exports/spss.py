"""The long table as an SPSS .sav file with variable and value labels (pyreadstat)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyreadstat

from analysis.dataset import build_dataset
from analysis.exports.dictionary import dictionary
from analysis.exports.options import ExportOptions, patient_pks
from analysis.exports.shaping import tables


def spss_bytes(options: ExportOptions) -> tuple[bytes, int]:
    """The .sav file's bytes and its number of rows."""
    dataset = build_dataset(patient_pks=patient_pks(options))
    frame = _spss_types(tables(dataset, options)["long"])
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
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hfs_b12.sav"
        pyreadstat.write_sav(
            frame, str(path), column_labels=labels, variable_value_labels=value_labels
        )
        return path.read_bytes(), len(frame)


def _spss_types(frame: pd.DataFrame) -> pd.DataFrame:
    """SPSS has no nullable integers or booleans; other values in text columns become text."""
    frame = frame.copy()
    for column in frame.columns:
        if str(frame[column].dtype) in {"Int64", "boolean", "bool"}:
            frame[column] = frame[column].astype("float64")
        elif frame[column].dtype == object:
            frame[column] = frame[column].map(
                lambda v: v if v is None or isinstance(v, str) else str(v)
            )
    return frame
