"""The streamed .sav writer: the same file as pyreadstat's own write of the whole table, and a
peak memory that does not grow with the number of rows. No database."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.exports.sav_stream import Column, SavWriter, storage_width, string_width

TIMESTAMP = slice(92, 109)  # the header's creation date and time


def _table(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "study_id": [f"SMR-{i:05d}" for i in range(rows)],
            "age": rng.integers(18, 80, rows).astype(float),
            "vas_frequency_with_a_long_name": np.where(
                rng.random(rows) < 0.2, np.nan, rng.random(rows) * 10
            ),
            "other_treatment": [
                None if i % 3 else "Кириллица, и ещё " * (i % 40) for i in range(rows)
            ],
            "short": [None if i % 2 else "ab" for i in range(rows)],
            "never": [None] * rows,
            "diabetes": [("True" if i % 2 else "False") if i % 5 else None for i in range(rows)],
        }
    )


KWARGS = {
    "column_labels": {"age": "Age (years)", "other_treatment": "Другое лечение"},
    "variable_value_labels": {"vas_frequency_with_a_long_name": {-92.0: "UNK unknown", 1.0: "one"}},
    "missing_ranges": {"vas_frequency_with_a_long_name": [{"lo": -94.0, "hi": -91.0}]},
}


def _columns(frame: pd.DataFrame) -> list[Column]:
    return [
        Column(c, None if pd.api.types.is_numeric_dtype(frame[c]) else string_width(frame[c]))
        for c in frame.columns
    ]


def _streamed(frame: pd.DataFrame, chunk: int) -> bytes:
    sink = io.BytesIO()
    writer = SavWriter(sink, _columns(frame), **KWARGS)
    for start in range(0, len(frame), chunk):
        writer.write(frame.iloc[start : start + chunk])
    writer.close()
    assert writer.rows == len(frame)
    return sink.getvalue()


def test_it_writes_the_bytes_pyreadstat_writes_for_the_whole_table(tmp_path):
    frame = _table(500)
    frame.loc[5, "vas_frequency_with_a_long_name"] = -92.0  # a user-missing value
    assert max(len(str(v).encode()) for v in frame.other_treatment.dropna()) > 255
    whole = tmp_path / "whole.sav"
    pyreadstat.write_sav(frame, str(whole), **KWARGS)
    for chunk in (1, 7, 500):
        streamed = _streamed(frame, chunk)
        expected = whole.read_bytes()
        assert len(streamed) == len(expected)
        assert streamed[: TIMESTAMP.start] == expected[: TIMESTAMP.start]
        assert streamed[TIMESTAMP.stop :] == expected[TIMESTAMP.stop :]
    path = tmp_path / "streamed.sav"
    path.write_bytes(_streamed(frame, 64))
    read, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert meta.number_rows == 500
    assert read.loc[5, "vas_frequency_with_a_long_name"] == -92.0
    assert meta.missing_ranges == KWARGS["missing_ranges"]
    # SPSS pads text with spaces, so trailing spaces do not come back
    assert read.other_treatment.tolist() == [
        v.rstrip() for v in frame.other_treatment.fillna("").tolist()
    ]


def test_storage_widths_are_readstats():
    assert [storage_width(w) for w in (0, 1, 8, 9, 255, 256, 504, 505)] == [
        8,
        8,
        8,
        16,
        256,
        256 + 8,
        256 + 256,
        256 * 2 + 8,
    ]


def test_a_value_longer_than_its_column_is_refused():
    writer = SavWriter(io.BytesIO(), [Column("x", 2)])
    with pytest.raises(ValueError, match="3 bytes does not fit a string of width 2"):
        writer.write(pd.DataFrame({"x": ["abc"]}))


def _peak(rows: int, chunk: int) -> int:
    """Peak traced memory of writing ``rows`` rows, each chunk made only when written."""
    columns = _columns(_table(chunk))
    columns = [Column(c.name, 2000 if c.width is not None else None) for c in columns]
    sink = open("/dev/null", "wb")  # noqa: SIM115 - a seekable sink that keeps nothing
    tracemalloc.start()
    try:
        writer = SavWriter(sink, columns, **KWARGS)
        for seed in range(rows // chunk):
            writer.write(_table(chunk, seed=seed))
        writer.close()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        sink.close()


def test_peak_memory_does_not_grow_with_the_number_of_rows():
    small, large = _peak(4_000, 1_000), _peak(16_000, 1_000)
    # four times the rows (about 28 MB of cases more) cost at most a tenth more memory
    assert large < small * 1.1, (small, large)
