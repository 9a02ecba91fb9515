"""CSV text of the export tables, produced chunk by chunk of patients so memory stays flat."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pandas as pd

from analysis.dataset import RECORD_FIELDS, VISIT_VARIABLES, build_dataset, coded_variables
from analysis.exports.options import ExportOptions, ExportResult, patient_pks, patient_queryset
from analysis.exports.shaping import tables

CHUNK_PATIENTS = 2000
INTEGER_KINDS = {"PositiveSmallIntegerField", "PositiveIntegerField", "IntegerField"}


def _integer_variables() -> set[str]:
    names = {
        variable
        for model, mapping in VISIT_VARIABLES.items()
        for field_name, variable in mapping.items()
        if model._meta.get_field(field_name).get_internal_type() in INTEGER_KINDS
    }
    return names | {"age", "disease_duration_months", "visit_day"}


INTEGER_VARIABLES = _integer_variables()


def integers_as_integers(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-number variables written as 3, not 3.0, even in columns with gaps."""
    columns = {
        c: frame[c].astype("Int64")
        for c in frame.columns
        if frame[c].dtype == float and (c.split("__")[0] in INTEGER_VARIABLES or c.endswith("_day"))
    }
    return frame.assign(**columns) if columns else frame


def to_csv_text(frame: pd.DataFrame, header: bool = True) -> str:
    """RFC 4180 CSV (CRLF, minimal quoting), raw codes, whole numbers without '.0'."""
    return integers_as_integers(frame).to_csv(
        index=False, header=header, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL
    )


def stream_csv(
    name: str, options: ExportOptions, result: ExportResult, chunk: int = CHUNK_PATIENTS
) -> Iterator[str]:
    """One CSV table, built and written chunk by chunk of patients."""
    pks = patient_pks(options)
    # the code columns of the whole export, so every chunk has the same header
    coded = coded_variables(patient_queryset(options)) if name in ("long", "wide") else set()
    header_done = False
    result.rows[name] = 0
    for start in range(0, max(len(pks), 1), chunk):
        part = pks[start : start + chunk]
        dataset = build_dataset(patient_pks=part, records=name in RECORD_FIELDS)
        frame = tables(dataset, options, only=name, coded=coded)[name]
        result.rows[name] += len(frame)
        yield to_csv_text(frame, header=not header_done)
        header_done = True
