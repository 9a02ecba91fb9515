"""CSV text of the export tables, produced chunk by chunk of patients so memory stays flat."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pandas as pd

from analysis.dataset import (
    RECORD_FIELDS,
    VISIT_VARIABLES,
    build_dataset,
    coded_variables,
    dataset_chunks,
)
from analysis.exports.long_csv import long_csv
from analysis.exports.options import ExportOptions, ExportResult, patient_queryset
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
    """RFC 4180 CSV (CRLF, minimal quoting), raw codes, whole numbers without '.0'; a missing
    value is an empty cell. Written by the csv module from one list per column (what
    ``DataFrame.to_csv`` writes, without its per-cell formatting pass)."""
    frame = integers_as_integers(frame)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(frame.columns)
    columns = [frame[c].to_numpy(dtype=object, na_value=None) for c in frame.columns]
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()


def stream_csv(
    name: str, options: ExportOptions, result: ExportResult, chunk: int = CHUNK_PATIENTS
) -> Iterator[str]:
    """One CSV table, built and written chunk by chunk of patients; each table of the database
    is read once, in study ID order (``dataset_chunks``)."""
    patients = patient_queryset(options)
    # the code columns of the whole export, so every chunk has the same header
    coded = coded_variables(patients) if name in ("long", "wide") else set()
    result.rows[name] = 0
    if name == "long":  # written straight from the rows read (the same file)
        for text, rows in long_csv(patients, options, coded, chunk):
            result.rows[name] += rows
            yield text
        return
    chunks = dataset_chunks(
        patients,
        restricted=bool(options.sites or options.study_ids),
        chunk=chunk,
        records=name in RECORD_FIELDS,
    )
    header = True
    for dataset in chunks:
        frame = tables(dataset, options, only=name, coded=coded)[name]
        result.rows[name] += len(frame)
        yield to_csv_text(frame, header=header)
        header = False
    if header:  # no patient: the header alone
        dataset = build_dataset(patient_pks=[], records=name in RECORD_FIELDS)
        yield to_csv_text(tables(dataset, options, only=name, coded=coded)[name])
