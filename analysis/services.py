"""Results for the current data, computed once per data state."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from analysis.dataset import Dataset, build_dataset
from analysis.results import compute_results


def current_results() -> tuple[dict[str, Any], Dataset]:
    """The results document for the data as stored now. The dataset is always read afresh;
    the statistics are reused while the dataset's hash is unchanged."""
    dataset = build_dataset()
    key = f"analysis-results:{dataset.sha256()}"
    results = cache.get(key)
    if results is None:
        results = compute_results(dataset)
        cache.set(key, results, timeout=3600)
    return results, dataset
