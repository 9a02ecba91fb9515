"""Background work of the analysis: the stored results follow the data (django-tasks).

``results_refresh_task`` is enqueued after every commit that wrote study data
(``hfs_ecrf.data_version.data_changed``); while one is still waiting to run, no second one is
queued: the one that runs computes the latest version, whatever the number of writes before it.
"""

from __future__ import annotations

from typing import Any

from django_tasks import TaskResultStatus, task
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from analysis.services import results_refresh


@task()
def results_refresh_task() -> int:
    """Compute and store the results of the current data version; returns that version."""
    return results_refresh().data_version


def results_refresh_request(**_signal: Any) -> None:
    """Queue a recomputation unless one is already waiting (receiver of ``data_changed``)."""
    if isinstance(results_refresh_task.get_backend(), DatabaseBackend):
        waiting = DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, task_path=results_refresh_task.module_path
        )
        if waiting.exists():
            return
    results_refresh_task.enqueue()
