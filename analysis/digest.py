"""SHA-256 of data frames as CSV, streamed: the digest of ``frame.to_csv(index=False)`` for
each frame in turn, without ever holding the CSV text (hundreds of MB at 50 000 patients) or a
copy of the frame. No Django."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable

import pandas as pd

# pandas formats ``to_csv`` rows in chunks of this many cells (pandas.io.formats.csvs
# _DEFAULT_CHUNKSIZE_CELLS) and some formats depend on the chunk (dates with or without a
# time): blocks written here are whole multiples of that chunk, so the text is byte for byte
# the one-call text (tests/analysis/test_digest.py checks it).
CHUNK_CELLS = 100_000
BLOCK_CHUNKS = 20


class _Hashing(io.TextIOBase):
    def __init__(self, digest: hashlib._Hash) -> None:
        self.digest = digest

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.digest.update(text.encode())
        return len(text)


def csv_sha256(frames: Iterable[tuple[pd.DataFrame, list[str]]]) -> str:
    """Hex SHA-256 of ``frame.drop(columns=drop, errors="ignore").to_csv(index=False)``
    concatenated over ``(frame, drop)`` pairs, computed block by block."""
    digest = hashlib.sha256()
    sink = _Hashing(digest)
    for frame, drop in frames:
        columns = [c for c in frame.columns if c not in set(drop)]
        chunk = (CHUNK_CELLS // (len(columns) or 1)) or 1
        block = chunk * BLOCK_CHUNKS
        if len(frame) == 0:
            frame[columns].to_csv(sink, index=False)
            continue
        for start in range(0, len(frame), block):
            part = frame.iloc[start : start + block][columns]
            part.to_csv(sink, index=False, header=start == 0, chunksize=chunk)
    return digest.hexdigest()
