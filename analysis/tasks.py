"""Background work of the analysis: the stored results follow the data (django-tasks).

``results_refresh_task`` is enqueued after every commit that wrote study data
(``hfs_ecrf.data_version.data_changed``); while one is still waiting to run, no second one is
queued: the one that runs computes the latest version, whatever the number of writes before it.
It first waits, if it must, so that computing takes at most half of the worker's time
(``results_refresh_pause``), and the worker gives itself the lowest CPU priority
(``lowest_cpu_priority``): the pages are served first.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from analysis.models import AnalysisResult
from analysis.services import results_refresh

MAX_PAUSE = 120.0  # seconds


def results_refresh_pause(*, now: datetime | None = None) -> float:
    """Seconds to wait before the next computation so that computing takes at most
    ``ANALYSIS_WORKER_SHARE`` percent of the worker's time: after a computation that took D
    seconds (the latest stored result's), the next starts no sooner than D × (100 / share − 1)
    seconds after it was stored (at 50 %: D seconds; never more than ``MAX_PAUSE``).

    Under a stream of writes the worker would otherwise compute back to back (up to ~20 s of
    CPU per version at 10 000 patients) beside the web workers; the writes meanwhile are
    coalesced into the one waiting task. Results then lag by at most about twice the
    computation (e.g. ~6 s at 62 patients, ~40 s at 10 000); with no recent computation there
    is no wait."""
    share = settings.ANALYSIS_WORKER_SHARE
    if not 0 < share < 100:
        return 0.0
    latest = AnalysisResult.objects.only("computed_at", "duration_seconds").first()
    if latest is None:
        return 0.0
    rest = min(latest.duration_seconds * (100 / share - 1), MAX_PAUSE)
    since = ((now or timezone.now()) - latest.computed_at).total_seconds()
    return max(0.0, min(rest - since, rest))


def lowest_cpu_priority() -> None:
    """Give the computing thread the lowest CPU priority (nice 19): the recomputation then uses
    the time the requests leave over. (Linux sets nice per thread: the thread that runs the
    tasks, the main one with ``--no-reload``, and the threads it starts later; threads started
    before, e.g. a BLAS pool, keep theirs, and the session's priority below covers them.)

    Linux shares the CPU fairly between sessions first ("autogroups"), and nice only orders the
    processes within one: a worker started by a supervisor leads its own session, and nice alone
    would still give it as much CPU as all of gunicorn's workers together (measured: at 10 000
    patients under load it took a quarter of the two cores). A session leader therefore also
    lowers its session's priority. Where the supervisor puts each service in its own cgroup
    (systemd), the cgroup's weight decides instead: see the README (CPUWeight)."""
    if not hasattr(os, "setpriority"):  # not a Unix: the operator sets the priority
        return
    os.setpriority(os.PRIO_PROCESS, 0, 19)
    if os.getsid(0) == os.getpid():
        try:
            with open("/proc/self/autogroup", "w") as autogroup:
                autogroup.write("19")
        except OSError:  # not Linux, or a kernel without autogroups: nice is all there is
            pass


@task()
def results_refresh_task() -> int:
    """Compute and store the results of the current data version; returns that version."""
    if isinstance(results_refresh_task.get_backend(), DatabaseBackend):  # in its own worker
        if settings.ANALYSIS_WORKER_LOWEST_PRIORITY:
            lowest_cpu_priority()
        pause = results_refresh_pause()
        if pause:
            time.sleep(pause)
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
