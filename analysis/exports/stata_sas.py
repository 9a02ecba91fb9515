"""Stata (.dta) and SAS (XPORT .xpt) files of the long table, with variable and value labels.

The frame is the de-identified long table of the CSV export; labels come from the data
dictionary. XPORT holds variable labels but no value labels, so the SAS download is a ZIP of
the .xpt file and a PROC FORMAT program that attaches the value labels.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat

from analysis.dataset import build_dataset
from analysis.exports.dictionary import dictionary
from analysis.exports.options import ExportOptions, patient_pks
from analysis.exports.shaping import tables

STATA_LABEL_MAX = 80
SAS_NAME_MAX = 32


def labelled_long(options: ExportOptions) -> tuple[pd.DataFrame, dict, dict]:
    """The long table with plain dtypes, its variable labels and its value labels."""
    dataset = build_dataset(patient_pks=patient_pks(options))
    frame = tables(dataset, options)["long"].copy()
    meta = dictionary().drop_duplicates("variable").set_index("variable")
    labels = {c: str(meta.label_en.get(c, c)) for c in frame.columns}
    value_labels: dict[str, dict[int, str]] = {}
    for column in frame.columns:
        allowed = str(meta.allowed.get(column, "") or "")
        if "=" not in allowed or frame[column].dtype == object:
            continue
        try:
            pairs = {int(k): v for k, v in (p.split("=", 1) for p in allowed.split("; "))}
        except ValueError:
            continue
        value_labels[column] = pairs
    for column in frame.columns:
        dtype = str(frame[column].dtype)
        if dtype in {"Int64", "boolean", "bool"}:
            frame[column] = frame[column].astype("float64")
        elif frame[column].dtype == object:
            frame[column] = frame[column].map(
                lambda v: "" if v is None or v != v else v if isinstance(v, str) else str(v)
            )
    return frame, labels, value_labels


def stata_bytes(options: ExportOptions) -> tuple[bytes, int]:
    frame, labels, value_labels = labelled_long(options)
    labels = {k: v[:STATA_LABEL_MAX] for k, v in labels.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hfs_b12.dta"
        pyreadstat.write_dta(
            frame,
            str(path),
            file_label="HFS-B12 long table (de-identified)",
            column_labels=labels,
            variable_value_labels=value_labels,
            version=15,
        )
        return path.read_bytes(), len(frame)


def sas_format_program(value_labels: dict[str, dict[int, str]]) -> str:
    """PROC FORMAT with one numeric format per labelled variable, and the FORMAT statement."""
    lines = ["/* Value labels of hfs_b12_long.xpt: %include this file after reading it. */"]
    lines.append("proc format;")
    names = {}
    for index, (column, pairs) in enumerate(sorted(value_labels.items()), start=1):
        name = f"HFSF{index}F"
        names[column] = name
        body = " ".join(f"{k}='{v.replace(chr(39), chr(39) * 2)}'" for k, v in pairs.items())
        lines.append(f"  value {name} {body};")
    lines.append("run;")
    lines.append("data hfs_b12; set hfs_b12;")
    lines += [f"  format {column} {name}.;" for column, name in names.items()]
    lines.append("run;")
    return "\n".join(lines) + "\n"


def sas_bytes(options: ExportOptions) -> tuple[bytes, int]:
    """ZIP: hfs_b12_long.xpt (XPORT version 8, variable labels) and hfs_b12_formats.sas."""
    frame, labels, value_labels = labelled_long(options)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hfs_b12.xpt"
        pyreadstat.write_xport(
            frame,
            str(path),
            file_label="HFS-B12 long table",
            column_labels=labels,
            table_name="HFS_B12",
            file_format_version=8,
        )
        xpt = path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hfs_b12_long.xpt", xpt)
        archive.writestr("hfs_b12_formats.sas", sas_format_program(value_labels))
    return buffer.getvalue(), len(frame)
