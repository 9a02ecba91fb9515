"""Runs a benchmark on PostgreSQL: DATABASE_URL when it names one, else a throwaway cluster."""

from __future__ import annotations

import os
from collections.abc import Callable


def on_postgres(run: Callable[[], None]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hfs_ecrf.settings")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        run()
        return
    from tests.pgcluster import throwaway_cluster

    with throwaway_cluster() as cluster_url:
        os.environ["DATABASE_URL"] = cluster_url
        run()
