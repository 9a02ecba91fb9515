"""The SPSS export written chunk by chunk is the file pyreadstat writes for the whole long table
(the way it was written before: every chunk put together, typed, then written at once)."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from analysis.exports import spss
from analysis.exports.files import export_file
from analysis.exports.options import ExportOptions

TIMESTAMP = slice(92, 109)  # the header's creation date and time


def _whole(options: ExportOptions, path) -> bytes:
    """The .sav of the whole long table, put together and typed at once, by pyreadstat."""
    parts = list(spss.long_parts(options, chunk=2))
    mixed = [
        c
        for c in parts[0].columns
        if len(kinds := {str(p[c].dtype) for p in parts}) > 1 and "bool" not in kinds
    ]
    frame = pd.concat(parts, ignore_index=True)
    for column in mixed:
        frame[column] = frame[column].infer_objects()
    typing = spss._Typing([frame])
    frame, _missing = spss._user_missing(spss._spss_types(frame), {})
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels=typing.labels,
        variable_value_labels=typing.value_labels,
        missing_ranges=typing.missing,
    )
    return path.read_bytes()


@pytest.mark.parametrize(
    "options",
    [
        ExportOptions(),
        ExportOptions(relative_dates=False),
        ExportOptions(visits=["V0", "V3"], forms=["spasm", "hdrs"]),
        ExportOptions(study_ids=["nobody"]),  # no patient: the variables, no case
    ],
)
def test_the_chunked_file_is_the_whole_tables_file(cohort, tmp_path, options):
    expected = _whole(options, tmp_path / "whole.sav")
    for chunk in (2, 3, 2000):
        data, rows = spss.spss_bytes(options, chunk=chunk)
        assert rows == pyreadstat.read_sav(str(tmp_path / "whole.sav"))[1].number_rows
        assert len(data) == len(expected)
        assert data[: TIMESTAMP.start] == expected[: TIMESTAMP.start]
        assert data[TIMESTAMP.stop :] == expected[TIMESTAMP.stop :]


def test_the_export_streams_the_file_from_disk_in_blocks(cohort, tmp_path):
    file = export_file("spss", ExportOptions(), user=None)
    assert file.on_disk and file.log is not None
    blocks = list(file.chunks)
    assert all(len(block) <= 1 << 20 for block in blocks)
    path = tmp_path / "x.sav"
    path.write_bytes(b"".join(blocks))
    frame, meta = pyreadstat.read_sav(str(path))
    assert meta.number_rows == file.log.rows == len(frame) > 0
