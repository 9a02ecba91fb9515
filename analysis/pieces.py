"""One table from the pieces of it built chunk by chunk, as if built in one go. No Django.

A table built from all rows at once and the same table built from chunks of rows differ only in
their column types: pandas infers each column's type from the values it sees, so a column of
whole numbers is ``int64`` in a chunk without gaps and ``float64`` in the whole table (which
has gaps), a column of ``None`` only is ``object`` in one chunk and ``float64`` in the whole.
``combine`` gives each column the type of the whole (inferred again from the union of the
values when the chunks disagree, as ``DataFrame.from_records`` does for the whole), and shares
equal strings and dates (one Python object per distinct value, not one per row).

The result is built column by column (each column its own block), so the whole is never held
twice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks
from pandas.api.types import infer_dtype

SHARED_KINDS = {"string", "date"}


def shared_objects(column: pd.Series) -> pd.Series:
    """The same column (type, values, missing values as they were) with one Python object per
    distinct string or date."""
    if column.dtype != object and not isinstance(column.dtype, pd.StringDtype):
        return column
    values = column.to_numpy(dtype=object)
    if infer_dtype(values, skipna=True) not in SHARED_KINDS:
        return column
    codes, uniques = pd.factorize(values)
    out = np.asarray(uniques, dtype=object).take(np.maximum(codes, 0)) if len(uniques) else values
    missing = codes < 0
    out[missing] = values[missing]
    return pd.Series(out, index=column.index, name=column.name, dtype=column.dtype)


def compact(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """A chunk's frame as its columns, each its own array (the frame can be let go) with
    shared objects."""
    return {name: shared_objects(frame[name].copy()) for name in frame.columns}


def combine(pieces: list[dict[str, pd.Series]], columns: list[str]) -> pd.DataFrame:
    """The frame of the chunks' columns (``compact``) one after the other, with the column
    types of the frame built from all rows at once. The pieces are emptied as they are read:
    each column is its own block (no consolidated copy of the whole), so the whole is never
    held twice."""
    blocks: list[tuple[object, np.ndarray]] = []
    length = 0
    for at, name in enumerate(columns):
        values = _column([piece.pop(name) for piece in pieces])
        length = len(values)
        if isinstance(values.dtype, np.dtype):
            blocks.append((values.to_numpy().reshape(1, -1), np.array([at])))
        else:
            blocks.append((values.array, np.array([at])))
    return create_dataframe_from_blocks(
        blocks, index=pd.RangeIndex(length), columns=pd.Index(columns)
    )


def _column(parts: list[pd.Series]) -> pd.Series:
    """One column from its pieces, typed as if inferred from all its values at once."""
    if not any(len(part) for part in parts):
        # no rows anywhere: the type of a chunk that had something to type it by
        typed = [part for part in parts if part.dtype != object]
        return (typed or parts)[0].reset_index(drop=True)
    parts = [part for part in parts if len(part)]
    kinds = {str(part.dtype) for part in parts}
    if len(kinds) == 1:
        out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        return out.reset_index(drop=True)
    values = np.concatenate([part.to_numpy(dtype=object) for part in parts])
    if pd.isna(values).all():
        # a column with no value anywhere keeps the type of its source (None: ``object``)
        return pd.Series(values, dtype=object)
    retyped = pd.DataFrame.from_records([(v,) for v in values]).iloc[:, 0]
    return shared_objects(retyped.rename(None))
