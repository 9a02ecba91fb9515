"""The streamed dataset digest is the SHA-256 of the one-call CSV text. Pure: no database."""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis import digest
from analysis.digest import CHUNK_CELLS, csv_sha256


def frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(rows)
    out = pd.DataFrame(
        {
            "study_id": [f"P{i:05d}" for i in range(rows)],
            "value": rng.normal(size=rows),
            "count": rng.integers(0, 9, rows),
            "flag": rng.random(rows) < 0.5,
            "text": rng.choice(["a", "b,c", 'say "x"', None], rows),
            "on": [date(2025, 1, 1 + i % 28) for i in range(rows)],
            # midnight everywhere except near the end: pandas writes dates-only per chunk
            "at": pd.to_datetime(
                [
                    pd.Timestamp(2025, 2, 1, 0 if i < rows - 3 else 9, 30 * (i >= rows - 3))
                    for i in range(rows)
                ]
            ),
            "state": rng.choice(["draft", "complete"], rows),
        }
    )
    out.loc[rng.random(rows) < 0.2, "value"] = np.nan
    return out


@pytest.mark.parametrize("rows", [0, 1, CHUNK_CELLS // 8 + 1, 5 * (CHUNK_CELLS // 8) + 5])
def test_streamed_digest_equals_the_digest_of_the_whole_csv(rows, monkeypatch):
    monkeypatch.setattr(digest, "BLOCK_CHUNKS", 2)  # several blocks without a huge frame
    first, second = frame(rows), frame(rows + 3)
    expected = hashlib.sha256()
    expected.update(first.to_csv(index=False).encode())
    expected.update(second.drop(columns=["state"]).to_csv(index=False).encode())
    assert csv_sha256([(first, []), (second, ["state", "absent"])]) == expected.hexdigest()
