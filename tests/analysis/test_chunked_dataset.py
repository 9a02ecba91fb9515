"""The whole trial's dataset read in chunks of patients (the memory-saving path) is the dataset
read in one go: same frames (columns, types, values, order), same SHA-256, same results
document; the lean analysis frame is ``wide()`` made numeric."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from analysis.dataset import build_dataset
from analysis.pieces import combine
from analysis.results import analysis_frame, compute_results

FRAMES = ("patients", "long", "screening", "adverse_events", "missing_codes")


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert_frame_equal(a, b, check_exact=True, check_column_type=True, check_index_type=True)
    assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes]


@pytest.mark.django_db
@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_chunked_dataset_and_document_equal_the_whole(cohort, chunk):
    whole, chunked = build_dataset(chunk=None), build_dataset(chunk=chunk)
    assert len(whole.patients) > chunk
    for name in FRAMES:
        same(getattr(whole, name), getattr(chunked, name))
    assert chunked.drafts_excluded == whole.drafts_excluded
    assert chunked.sha256() == whole.sha256()
    chunked.data_cut = whole.data_cut
    assert json.dumps(compute_results(chunked)) == json.dumps(compute_results(whole))


@pytest.mark.django_db
def test_analysis_frame_is_wide_made_numeric(cohort):
    dataset = build_dataset()
    reference = dataset.wide()  # every patient: each column made numeric as a whole
    numeric = {
        name: pd.to_numeric(reference[name], errors="coerce")
        for name in reference.columns
        if "__" in name
    }
    reference = reference.assign(**numeric)
    reference = reference[reference.arm.notna()].copy()
    for visit in ("V0", "V3"):
        reference[f"hads_total__{visit}"] = (
            reference[f"hads_a__{visit}"] + reference[f"hads_d__{visit}"]
        )
    same(analysis_frame(dataset), reference)


def test_combined_chunks_have_the_types_of_the_whole():
    """Each column typed as ``from_records`` types the whole column, whatever the chunks saw."""
    day = date(2026, 1, 15)
    rows = [
        (1, None, True, "a", day, 1.5, None),
        (2, None, False, "b", None, 2.5, None),
        (None, 3, None, None, day, None, None),
        (4, 5, True, "a", day, 3.0, None),
    ]
    names = ["whole_ints", "late_ints", "flags", "text", "on", "value", "nothing"]
    whole = pd.DataFrame.from_records(rows, columns=names)
    for cut in ([2], [1, 3], [1, 2, 3]):
        bounds = [0, *cut, len(rows)]
        chunks = [
            pd.DataFrame.from_records(rows[a:b], columns=names)
            for a, b in zip(bounds, bounds[1:], strict=False)
        ]
        assert {str(c.whole_ints.dtype) for c in chunks} != {"float64"}  # chunks disagree
        combined = combine(chunks)
        same(combined, whole)
        assert combined.on.iloc[0] is combined.on.iloc[3]  # one object per distinct date
        assert np.isnan(combined.whole_ints.iloc[2])
