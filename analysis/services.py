"""Stored results: the plan is computed once per data version, in the background, and kept in
the database (shared by every worker and restart). Requests only read (``results_state``)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation

from analysis.dashboard import figures as drawing
from analysis.dashboard.charts import FIGURES, build_figure
from analysis.dataset import Dataset, build_dataset
from analysis.models import AnalysisResult, StoredFigure
from analysis.results import compute_results
from hfs_ecrf.data_version import data_version_current

logger = logging.getLogger(__name__)

# stored results kept besides the latest (older ones are deleted after each computation)
RESULTS_KEPT = 5


@dataclass(frozen=True)
class ResultsState:
    """What a page shows: the latest stored results (None before the first computation) and
    whether the data have changed since (a recomputation is pending)."""

    result: AnalysisResult | None
    data_version: int

    @property
    def stale(self) -> bool:
        return self.result is None or self.result.data_version < self.data_version


def results_state() -> ResultsState:
    """The latest stored results and the current data version: two queries, no computation."""
    return ResultsState(AnalysisResult.objects.first(), data_version_current())


def stored_figures(result: AnalysisResult, names: list[str], language: str) -> dict[str, Any]:
    """The stored figures ``names`` of ``result`` in ``language`` (name -> StoredFigure)."""
    rows = StoredFigure.objects.filter(result=result, language=language, name__in=names)
    return {row.name: row for row in rows}


def results_refresh() -> AnalysisResult:
    """The stored results of the current data version, computed and stored if there are none.

    The version and the dataset are read in one snapshot (REPEATABLE READ on PostgreSQL; SQLite
    transactions are serialisable), so the results are of exactly that version. If the data
    behind a newer version are the same (same dataset hash), the latest results are carried
    over to it instead of being computed again.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        version = data_version_current()
        latest = AnalysisResult.objects.defer("document").first()
        if latest is not None and latest.data_version >= version:
            return latest
        dataset = build_dataset()
    sha = dataset.sha256()
    if latest is not None and latest.dataset_sha256 == sha:
        AnalysisResult.objects.filter(pk=latest.pk).update(data_version=version)
        return AnalysisResult.objects.get(pk=latest.pk)
    started = time.perf_counter()
    document = compute_results(dataset)
    figures = draw_figures(document, dataset)
    duration = time.perf_counter() - started
    with transaction.atomic():
        result, created = AnalysisResult.objects.get_or_create(
            data_version=version,
            defaults={
                "computed_at": timezone.now(),
                "dataset_sha256": sha,
                "document": document,
                "duration_seconds": duration,
            },
        )
        if created:
            StoredFigure.objects.bulk_create(StoredFigure(result=result, **f) for f in figures)
            kept = AnalysisResult.objects.values_list("pk", flat=True)[: RESULTS_KEPT + 1]
            AnalysisResult.objects.exclude(pk__in=list(kept)).delete()
    logger.info("analysis results of data version %s stored in %.1f s", version, duration)
    return result


def draw_figures(document: dict[str, Any], dataset: Dataset) -> list[dict[str, Any]]:
    """Every dashboard figure in every language, as SVG and PNG; a figure that cannot be drawn
    keeps its error (the page says so; the other figures are unaffected)."""
    drawn = []
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for name in FIGURES:
                try:
                    figure = build_figure(name, document, dataset)
                    svg, png, error = drawing.to_svg(figure), drawing.to_png(figure), ""
                except Exception as exc:  # noqa: BLE001 - one figure's failure must not kill the rest
                    logger.exception("figure %r could not be drawn", name)
                    svg, png, error = "", b"", f"{type(exc).__name__}: {exc}"
                drawn.append(
                    {"language": language, "name": name, "svg": svg, "png": png, "error": error}
                )
    return drawn
