"""An SPSS .sav file written case by case, so memory does not grow with the number of rows.

pyreadstat (ReadStat) writes a whole DataFrame. Here ReadStat writes the dictionary (every
record before the data: variables, labels, value labels, missing values, long names, very long
strings, encoding) for a one-row sample typed and sized as the whole table; this module then
writes the cases itself, uncompressed, byte for byte as ReadStat's ``sav_write_double`` /
``sav_write_string`` / ``sav_write_missing_*`` would (8-byte little-endian doubles, SYSMIS for a
missing number, space-padded strings, a very long string's 255-byte pieces at a 256-byte
stride), and at the end patches the two case counts (the header's int32 at offset 80 and the
64-bit count of record 7, subtype 16). The result reads back exactly as pyreadstat's own file
of the whole table (tests/analysis/test_sav_stream.py compares the bytes).

No Django: plain pandas, numpy and pyreadstat.
"""

from __future__ import annotations

import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyreadstat

SYSMIS = struct.pack("<Q", 0xFFEFFFFFFFFFFFFF)  # ReadStat's SAV_MISSING_DOUBLE (-DBL_MAX)
NCASES_AT = 80  # the header's int32 number of cases
MAX_SHORT_STRING = 255


def storage_width(user_width: int) -> int:
    """Bytes a string of ``user_width`` takes in a case (ReadStat's ``sav_variable_width``)."""
    if user_width > MAX_SHORT_STRING:
        segments = (user_width + 251) // 252
        last = ((user_width - (segments - 1) * 252) + 7) // 8 * 8
        return (segments - 1) * 256 + last
    if user_width == 0:
        return 8
    return (user_width + 7) // 8 * 8


def string_width(values: pd.Series) -> int:
    """The width pyreadstat gives a text column: its longest value in UTF-8 bytes, at least 1."""
    present = values.dropna().to_numpy(dtype=object)
    return max([1, *(len(str(v).encode("utf-8")) for v in present)])


@dataclass(frozen=True)
class Column:
    name: str
    width: int | None  # None: numeric; else the string's width in bytes


class SavWriter:
    """Write a .sav to ``sink`` (a seekable binary file): ``write(frame)`` per chunk of rows,
    then ``close()``. ``columns`` fixes each column's kind and width for the whole file; the
    other arguments are pyreadstat.write_sav's."""

    def __init__(self, sink: BinaryIO, columns: list[Column], **write_sav: Any) -> None:
        self.sink, self.columns, self.rows = sink, columns, 0
        header, case_size = _dictionary(columns, write_sav)
        self._widths = [None if c.width is None else storage_width(c.width) for c in columns]
        if sum(8 if w is None else w for w in self._widths) != case_size:
            raise ValueError("the case layout differs from the dictionary ReadStat wrote")
        self._start = sink.tell()
        self._cases_record = _cases_record_at(header)
        sink.write(header)

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (its columns named and typed as ``columns``)."""
        if frame.empty:
            return
        fields = []
        for column, width in zip(self.columns, self._widths, strict=True):
            fields.append(_encoded(frame[column.name], column.width, width))
        cases = np.empty(len(frame), dtype=[(f"f{i}", f.dtype) for i, f in enumerate(fields)])
        for i, values in enumerate(fields):
            cases[f"f{i}"] = values
        self.sink.write(cases.tobytes())
        self.rows += len(frame)

    def close(self) -> None:
        """Patch the number of cases into the header (int32) and record 7/16 (int64)."""
        end = self.sink.tell()
        self.sink.seek(self._start + NCASES_AT)
        self.sink.write(struct.pack("<i", self.rows if self.rows < 2**31 else -1))
        self.sink.seek(self._start + self._cases_record + 24)
        self.sink.write(struct.pack("<Q", self.rows))
        self.sink.seek(end)


def _encoded(values: pd.Series, width: int | None, storage: int | None) -> np.ndarray:
    """One column as the bytes of its cells: doubles (SYSMIS where missing) or padded text."""
    if width is None or storage is None:
        numbers = pd.to_numeric(values, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
        out = numbers.astype("<f8").view("<u8")
        out[np.isnan(numbers)] = np.frombuffer(SYSMIS, dtype="<u8")[0]
        return out.view("<f8")
    texts = values.to_numpy(dtype=object, na_value=None)
    if width > MAX_SHORT_STRING:  # very long strings: 255 bytes in each 256-byte segment
        return np.array([_padded(v, width, storage) for v in texts], dtype=f"S{storage}")
    encoded = [b"" if v is None else str(v).encode("utf-8") for v in texts]
    longest = max(map(len, encoded), default=0)
    if longest > width:
        raise ValueError(f"a value of {longest} bytes does not fit a string of width {width}")
    return np.array([e.ljust(storage, b" ") for e in encoded], dtype=f"S{storage}")


def _padded(value: Any, width: int, storage: int) -> bytes:
    """``sav_write_string``: spaces, then the value's bytes, 255 per 256-byte segment."""
    if value is None or value == "":
        return b" " * storage
    data = str(value).encode("utf-8")
    if len(data) > width:
        raise ValueError(f"a value of {len(data)} bytes does not fit a string of width {width}")
    pieces = [data[i : i + 255] for i in range(0, len(data), 255)]
    return b" ".join(pieces).ljust(storage, b" ")


def _dictionary(columns: list[Column], write_sav: dict[str, Any]) -> tuple[bytes, int]:
    """Everything ReadStat writes before the data, for these columns; the size of one case."""
    sample = pd.DataFrame(
        {
            c.name: pd.Series([np.nan], dtype="float64")
            if c.width is None
            else pd.Series(["x" * c.width], dtype=object)
            for c in columns
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dictionary.sav"
        pyreadstat.write_sav(sample, str(path), **write_sav)
        data = path.read_bytes()
    if data[:4] != b"$FL2" or struct.unpack_from("<i", data, 72)[0] != 0:
        raise ValueError("ReadStat wrote a compressed or unknown file")
    case_size = 8 * struct.unpack_from("<i", data, 68)[0]
    return data[:-case_size], case_size


def _cases_record_at(header: bytes) -> int:
    """Offset of record 7, subtype 16 (the 64-bit number of cases, 1 in the sample)."""
    record = struct.pack("<iiiiQQ", 7, 16, 8, 2, 1, 1)
    at = header.rfind(record)
    if at < 0 or header.count(record) != 1:
        raise ValueError("no number-of-cases record in ReadStat's dictionary")
    return at
