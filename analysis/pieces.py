"""One table from the pieces of it built chunk by chunk, as if built in one go. No Django.

A table built from all rows at once and the same table built from chunks of rows differ only in
their column types: pandas infers each column's type from the values it sees, so a column of
whole numbers is ``int64`` in a chunk without gaps and ``float64`` in the whole table (which
has gaps), a column of ``None`` only is ``object`` in one chunk and ``float64`` in the whole.
``Stack`` gives each column the type of the whole (inferred again from the union of the values,
as ``DataFrame.from_records`` does for the whole, when the chunks disagree) and shares equal
strings and dates (one Python object per distinct value, not one per row).

Each column is copied as it comes into one array of its own, allocated for the whole table
(``capacity`` rows; grown if more come), so the chunks' frames are let go at once, the whole is
never held twice, and what is kept does not pin the memory of the chunks read after it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks
from pandas.api.types import infer_dtype, is_object_dtype

SHARED_KINDS = {"string", "date"}


def shared_objects(column: pd.Series, pool: dict[Any, Any] | None = None) -> pd.Series:
    """The same column (type, values, missing values as they were) with one Python object per
    distinct string or date (the one in ``pool`` if it has one)."""
    if column.dtype != object and not isinstance(column.dtype, pd.StringDtype):
        return column
    values = column.to_numpy(dtype=object)
    if infer_dtype(values, skipna=True) not in SHARED_KINDS:
        return column
    codes, uniques = pd.factorize(values)
    if not len(uniques):
        return column
    if pool is not None:
        uniques = [pool.setdefault(value, value) for value in uniques]
    out = np.asarray(uniques, dtype=object).take(np.maximum(codes, 0))
    missing = codes < 0
    out[missing] = values[missing]
    return pd.Series(out, index=column.index, name=column.name, dtype=column.dtype)


class Stack:
    """Frames with the same columns, added chunk by chunk; ``frame()`` is the one table."""

    def __init__(self, capacity: int = 0) -> None:
        self.capacity = capacity
        self.length = 0
        self.columns: list[str] = []
        self.kinds: dict[str, Any] = {}  # each column's type in the chunks so far
        self.mixed: set[str] = set()  # columns whose chunks disagree: kept as objects
        self.stores: dict[str, np.ndarray] = {}
        self.pools: dict[str, dict[Any, Any]] = {}
        self.empty: pd.DataFrame | None = None

    def add(self, frame: pd.DataFrame) -> None:
        self.columns = self.columns or list(frame.columns)
        if not len(frame):
            if self.empty is None or _typed(frame) > _typed(self.empty):
                self.empty = frame  # a chunk with no rows types the columns of no rows
            return
        end = self.length + len(frame)
        for name in self.columns:
            part = frame[name]
            store = self._store(name, part, end)
            if store.dtype == object:
                part = shared_objects(part, self.pools.setdefault(name, {}))
                store[self.length : end] = part.to_numpy(dtype=object)
            else:
                store[self.length : end] = part.to_numpy()
        self.length = end

    def _store(self, name: str, part: pd.Series, end: int) -> np.ndarray:
        store = self.stores.get(name)
        if store is None:
            self.kinds[name] = part.dtype
            kind = part.dtype if isinstance(part.dtype, np.dtype) else np.dtype(object)
            store = np.empty(max(self.capacity, end), dtype=kind)
        elif name not in self.mixed and str(part.dtype) != str(self.kinds[name]):
            self.mixed.add(name)
            kept = store[: self.length]
            store = np.empty(len(store), dtype=object)
            store[: self.length] = pd.Series(kept, dtype=self.kinds[name]).to_numpy(dtype=object)
        if len(store) < end:
            grown = np.empty(max(end, 2 * len(store)), dtype=store.dtype)
            grown[: self.length] = store[: self.length]
            store = grown
        self.stores[name] = store
        return store

    def frame(self) -> pd.DataFrame:
        """The whole table (the stack is emptied)."""
        if not self.length:
            assert self.empty is not None, "nothing was added"
            return self.empty.reset_index(drop=True)
        blocks: list[tuple[Any, np.ndarray]] = []
        for at, name in enumerate(self.columns):
            values = self.stores.pop(name)[: self.length]
            kind = self.kinds[name]
            if name in self.mixed:
                column = _retyped(values)
                values = column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
            elif not isinstance(kind, np.dtype):
                values = pd.array(values, dtype=kind)
            block = values.reshape(1, -1) if isinstance(values, np.ndarray) else values
            blocks.append((block, np.array([at])))
        self.pools.clear()
        return create_dataframe_from_blocks(
            blocks, index=pd.RangeIndex(self.length), columns=pd.Index(self.columns)
        )


def combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames (chunks of one table) as one table, typed as the table built in one go."""
    stack = Stack(sum(len(frame) for frame in frames))
    for frame in frames:
        stack.add(frame)
    return stack.frame()


def _typed(frame: pd.DataFrame) -> int:
    return sum(not is_object_dtype(dtype) for dtype in frame.dtypes)


def _retyped(values: np.ndarray) -> pd.Series:
    """A column whose chunks had different types, typed from all its values at once."""
    if pd.isna(values).all():
        # a column with no value anywhere keeps the type of its source (None: ``object``)
        return pd.Series(values, dtype=object)
    retyped = pd.DataFrame.from_records([(v,) for v in values]).iloc[:, 0]
    return shared_objects(retyped.rename(None))
