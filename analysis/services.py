"""Stored results: the plan is computed once per data version, in the background, and kept in
the database (shared by every worker and restart). Requests only read (``results_state``)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone, translation

from analysis.dashboard import figures as drawing
from analysis.dashboard.charts import FIGURES, build_figure
from analysis.dataset import Dataset, build_dataset
from analysis.models import AnalysisResult, FinalResults, StoredFigure
from analysis.results import compute_results
from hfs_ecrf.data_version import SINGLETON, DataVersion, data_version_current
from monitoring.guards import active_study_lock
from monitoring.models import StudyLock

logger = logging.getLogger(__name__)

# stored results kept besides the latest (older ones are deleted after each computation)
RESULTS_KEPT = 5


@dataclass(frozen=True)
class ResultsState:
    """What a page shows: the stored results (None before the first computation), the current
    data version, the active database lock, and the final results the shown result is of.

    Under a database lock the page shows the lock's final results; otherwise the latest."""

    result: AnalysisResult | None
    data_version: int
    lock: StudyLock | None = None
    finals: tuple[FinalResults, ...] = ()

    @property
    def final(self) -> FinalResults | None:
        """The final results of the active database lock, if the page shows them."""
        if self.lock is None:
            return None
        return next((f for f in self.finals if f.lock_id == self.lock.pk), None)

    @property
    def final_pending(self) -> bool:
        """The database is locked and its final results are not stored yet."""
        return self.lock is not None and self.final is None

    @property
    def final_unlocked(self) -> FinalResults | None:
        """The shown result is the final results of a database lock since unlocked (no newer
        results yet)."""
        if self.lock is not None:
            return None
        return next(iter(self.finals), None)

    @property
    def after_unlock(self) -> StudyLock | None:
        """The unlocked database lock these results were computed after (they supersede its
        final results)."""
        if self.result is None or self.lock is not None or self.finals:
            return None
        return self.result.after_unlock

    @property
    def stale(self) -> bool:
        if self.final is not None:  # under the lock the data cannot change
            return False
        return self.result is None or self.result.data_version < self.data_version


def results_state() -> ResultsState:
    """The results a page shows and the current data version: a few queries, no computation.

    The stored document is not read here (the pages keep what they build from it per result:
    ``analysis.dashboard.kept``); ``result.document`` reads it when asked for. Usually (no
    database lock has ever concerned the latest results: none active, they are no lock's final
    results and were not computed after an unlock) one query reads it all; otherwise the lock
    and the final results are read one by one."""
    latest = (
        AnalysisResult.objects.defer("document")
        .annotate(
            current_version=Subquery(
                DataVersion.objects.filter(pk=SINGLETON).values("version")[:1]
            ),
            study_locked=Exists(StudyLock.objects.filter(unlocked_at__isnull=True)),
            has_finals=Exists(FinalResults.objects.filter(result=OuterRef("pk"))),
        )
        .first()
    )
    if latest is not None and not (
        latest.study_locked or latest.has_finals or latest.after_unlock_id is not None
    ):
        return ResultsState(latest, latest.current_version or 0)
    lock = active_study_lock()
    result = None
    if lock is not None:
        final = (
            FinalResults.objects.filter(lock=lock, result__isnull=False)
            .select_related("result__after_unlock__unlocked_by")
            .defer("result__document")
            .first()
        )
        result = final.result if final is not None else None
    if result is None:
        result = (
            AnalysisResult.objects.select_related("after_unlock__unlocked_by")
            .defer("document")
            .first()
        )
    finals: tuple[FinalResults, ...] = ()
    if result is not None:
        finals = tuple(
            FinalResults.objects.filter(result=result).select_related(
                "lock__locked_by", "lock__unlocked_by"
            )
        )
    return ResultsState(result, data_version_current(), lock, finals)


def stored_figures(
    result: AnalysisResult, names: list[str], language: str, skip: str | None = None
) -> dict[str, Any]:
    """The stored figures ``names`` of ``result`` in ``language`` (name -> StoredFigure);
    ``skip`` ("svg" or "png"): a format not read from the database (the PNG of a 10 000-point
    scatter plot is ~140 kB, its SVG ~1.5 MB)."""
    rows = StoredFigure.objects.filter(result=result, language=language, name__in=names)
    if skip is not None:
        rows = rows.defer(skip)
    return {row.name: row for row in rows}


def _last_unlocked_pk() -> int | None:
    """The database lock unlocked last (results computed since are "after its unlock")."""
    return (
        StudyLock.objects.filter(unlocked_at__isnull=False)
        .order_by("-unlocked_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )


def results_refresh() -> AnalysisResult:
    """The stored results of the current data version, computed and stored if there are none.

    The version, the database lock and the dataset are read in one snapshot (REPEATABLE READ on
    PostgreSQL; SQLite transactions are serialisable), so the results are of exactly that
    version. If the data behind a newer version are the same (same dataset hash) and no
    database lock was unlocked in between, the latest results are carried over to it instead of
    being computed again. Under a database lock the results become its final results.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        version = data_version_current()
        lock = active_study_lock()
        unlocked = _last_unlocked_pk()
        latest = AnalysisResult.objects.defer("document").first()
        current = latest is not None and latest.data_version >= version
        if not current:
            dataset = build_dataset()
    if current:
        _finalise(lock, latest, version)
        return latest
    sha = dataset.sha256()
    if latest is not None and latest.dataset_sha256 == sha and latest.after_unlock_id == unlocked:
        AnalysisResult.objects.filter(pk=latest.pk).update(data_version=version)
        result = AnalysisResult.objects.get(pk=latest.pk)
        _finalise(lock, result, version)
        return result
    started = time.perf_counter()
    document = compute_results(dataset, sha256=sha)
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
                "after_unlock_id": unlocked,
            },
        )
        if created:
            StoredFigure.objects.bulk_create(StoredFigure(result=result, **f) for f in figures)
            kept = AnalysisResult.objects.values_list("pk", flat=True)[: RESULTS_KEPT + 1]
            # final results are kept for good (and protected by their foreign key)
            AnalysisResult.objects.exclude(pk__in=list(kept)).filter(final_of__isnull=True).delete()
    logger.info("analysis results of data version %s stored in %.1f s", version, duration)
    _finalise(lock, result, version)
    return result


def _finalise(lock: StudyLock | None, result: AnalysisResult, version: int) -> None:
    """Under database lock ``lock`` (read in the snapshot ``result`` was computed in), make
    ``result`` the lock's final results unless they are stored already."""
    if lock is None:
        return
    with transaction.atomic():
        final, created = FinalResults.objects.select_for_update().get_or_create(
            lock=lock,
            defaults={
                "data_version": version,
                "dataset_sha256": result.dataset_sha256,
                "result": result,
            },
        )
        if created or final.result_id is not None:
            return
        if final.dataset_sha256 != result.dataset_sha256:
            logger.error(
                "the data changed under the database lock of %s: results of data version %s "
                "not made final",
                lock,
                version,
            )
            return
        final.result = result
        final.save(update_fields=["result"])
    logger.info("results of data version %s are the final results of %s", version, lock)


def results_finalise(lock: StudyLock) -> FinalResults:
    """Listener of the database lock, inside the locking transaction: record the data version
    and the dataset hash of the moment of the lock, and link the stored results of exactly that
    dataset if there are any. Otherwise the background computation, which the lock's own write
    queues, stores them and links them (``results_refresh``); before the database is unlocked
    at the latest (``results_before_unlock``). Building the dataset to hash it takes well under
    a second; computing the plan takes longer and is not done here."""
    sha = build_dataset().sha256()
    stored = AnalysisResult.objects.defer("document").filter(dataset_sha256=sha).first()
    return FinalResults.objects.create(
        lock=lock, data_version=data_version_current(), dataset_sha256=sha, result=stored
    )


def results_before_unlock(lock: StudyLock) -> None:
    """Listener of the database unlock, before the lock is lifted: if the final results of
    ``lock`` were not computed yet (no worker ran since the lock), compute them now, while the
    data are still those of the lock. A failure is logged and does not stop the unlock."""
    final = FinalResults.objects.filter(lock=lock).first()
    if final is not None and final.result_id is not None:
        return
    try:
        with transaction.atomic():
            results_refresh()
    except Exception:  # noqa: BLE001 - the unlock must stay possible
        logger.exception("the final results of %s could not be computed before the unlock", lock)


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
