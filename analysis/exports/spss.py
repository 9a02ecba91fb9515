"""The long table as an SPSS .sav file with variable and value labels, written chunk by chunk.

Missing-data codes become SPSS user-missing values: a numeric variable that carries a code holds
the code's reserved value (``SPSS_MISSING_VALUES``, labelled, declared missing as the range
-94 to -91), so SPSS leaves it out of every statistic and still shows why it is missing; the
``<variable>_code`` text column is kept as in the CSV.

Memory does not grow with the number of patients: the long table is built chunk by chunk of
patients (each table read once, as the CSV export does), each chunk is spooled to a temporary
file, and the .sav is written case by case (``sav_stream.SavWriter``) once every column's type
and width is known. A column has the type it would have were the whole table typed at once:
the types are settled on a few rows of each chunk (every kind of value it holds), put together
as one whole read would put them together.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import pandas as pd
from django.utils import translation

from analysis.dataset import CODE_SUFFIX, build_dataset, coded_variables, dataset_chunks
from analysis.exports.csv_tables import CHUNK_PATIENTS
from analysis.exports.dictionary import SPSS_MISSING_VALUES, dictionary
from analysis.exports.options import ExportOptions, patient_queryset
from analysis.exports.sav_stream import Column, SavWriter, string_width
from analysis.exports.shaping import tables
from assessments.models import MissingCode

SPSS_MISSING_RANGE = {
    "lo": min(SPSS_MISSING_VALUES.values()),
    "hi": max(SPSS_MISSING_VALUES.values()),
}


def spss_bytes(options: ExportOptions, chunk: int = CHUNK_PATIENTS) -> tuple[bytes, int]:
    """The .sav file's bytes and its number of rows (small exports and tests; the export
    itself writes to a file with ``spss_write``)."""
    with tempfile.TemporaryFile() as sink:
        rows = spss_write(options, sink, chunk=chunk)
        sink.seek(0)
        return sink.read(), rows


def spss_write(options: ExportOptions, sink: IO[bytes], chunk: int = CHUNK_PATIENTS) -> int:
    """Write the .sav of the chosen patients to ``sink`` (seekable); its number of rows."""
    with tempfile.TemporaryFile() as spool:
        probes = []
        for part in long_parts(options, chunk):
            pickle.dump(part, spool, protocol=pickle.HIGHEST_PROTOCOL)
            probes.append(_probe(part))
        typing = _Typing(probes)
        widths: dict[str, int] = {}
        for part in _spooled(spool):
            typed = typing.apply(part)
            for name in typing.text:
                widths[name] = max(widths.get(name, 1), string_width(typed[name]))
        writer = SavWriter(
            sink,
            [Column(c, widths.get(c, 1) if c in typing.text else None) for c in typing.columns],
            column_labels=typing.labels,
            variable_value_labels=typing.value_labels,
            missing_ranges=typing.missing,
        )
        for part in _spooled(spool):
            writer.write(typing.apply(part))
        writer.close()
    return writer.rows


def long_parts(options: ExportOptions, chunk: int = CHUNK_PATIENTS) -> Iterator[pd.DataFrame]:
    """The long table of the chosen patients, chunk by chunk of patients (at least one part:
    the empty table when no patient is chosen)."""
    patients = patient_queryset(options)
    coded = coded_variables(patients)
    empty = True
    for dataset in dataset_chunks(
        patients, restricted=bool(options.sites or options.study_ids), chunk=chunk
    ):
        empty = False
        yield tables(dataset, options, only="long", coded=coded)["long"]
    if empty:
        yield tables(build_dataset(patient_pks=[]), options, only="long", coded=coded)["long"]


def _spooled(spool: IO[bytes]) -> Iterator[pd.DataFrame]:
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301 - our own temporary file, written above
        except EOFError:
            return


def _probe(part: pd.DataFrame) -> pd.DataFrame:
    """A few rows of ``part``: its first, and per object column one value of each Python type
    the column holds (and a missing one): enough to type each column as all of the part would
    type it (only an object column's values decide its type)."""
    rows = {0} if len(part) else set()
    for at, column in enumerate(part.columns):
        if part[column].dtype != object:
            continue
        values = part[column].to_numpy()
        if pd.api.types.infer_dtype(values, skipna=True) == "string":  # text, maybe missing
            rows.update(_first_of_each(values))
            continue
        seen: set[type] = set()
        for i, value in enumerate(part.iloc[:, at].array):
            kind = type(None) if _missing(value) else type(value)
            if kind not in seen:
                seen.add(kind)
                rows.add(i)
    return part.iloc[sorted(rows)]


def _first_of_each(values: np.ndarray) -> set[int]:
    """Positions of a text column's first value, first None and first other missing value."""
    missing = pd.isna(values)
    none = values == None  # noqa: E711 - elementwise
    first = set()
    for found in (~missing, none, missing & ~none):
        if found.any():
            first.add(int(np.argmax(found)))
    return first


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


class _Typing:
    """Each column's type for the whole table, settled on the chunks' probes: the type the
    column takes when every chunk is put together (a column empty in one chunk, all None:
    text, and not in another is typed again from all its values; yes/no with gaps stays
    text), then as SPSS has it (no nullable integers or booleans; other values in text
    columns become text). ``apply`` gives a chunk these types and the codes' reserved
    values."""

    def __init__(self, probes: list[pd.DataFrame]) -> None:
        self.mixed = [
            c
            for c in probes[0].columns
            if len(kinds := {str(p[c].dtype) for p in probes}) > 1 and "bool" not in kinds
        ]
        whole = pd.concat(probes, ignore_index=True) if len(probes) > 1 else probes[0].copy()
        self.joined = whole.dtypes.to_dict()
        for column in self.mixed:
            whole[column] = whole[column].infer_objects()
        self.inferred = whole.dtypes.to_dict()
        frame = _spss_types(whole)
        self.columns = list(frame.columns)
        meta = dictionary().drop_duplicates("variable").set_index("variable")
        self.labels = {c: str(meta.label_en.get(c, c)) for c in frame.columns}
        self.value_labels: dict[str, dict] = {}
        for column in frame.columns:
            allowed = meta.allowed.get(column, "")
            if "=" in allowed and frame[column].dtype != object:
                pairs = [p.split("=", 1) for p in allowed.split("; ")]
                try:
                    self.value_labels[column] = {float(k): v for k, v in pairs}
                except ValueError:
                    continue
        frame, self.missing = _user_missing(frame, self.value_labels)
        self.text = {c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])}

    def apply(self, part: pd.DataFrame) -> pd.DataFrame:
        part = part.copy()
        for column in part.columns:
            if part[column].dtype != self.joined[column]:
                part[column] = part[column].astype(self.joined[column])
            if column in self.mixed and part[column].dtype != self.inferred[column]:
                part[column] = part[column].astype(self.inferred[column])
        frame, _missing = _user_missing(_spss_types(part), {})
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
