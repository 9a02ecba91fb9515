"""Runs a benchmark on PostgreSQL: DATABASE_URL when it names one, else a throwaway cluster.

Under ``python -m tests.pgcluster -- …`` (DATABASE_OWNER_URL set) the benchmark runs as the
tables' owner in a database of its own, created for the run."""

from __future__ import annotations

import os
from collections.abc import Callable


def on_postgres(run: Callable[[], None]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hfs_ecrf.settings")
    owner = os.environ.get("DATABASE_OWNER_URL", "")
    if owner.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = fresh_database(owner)
        run()
        return
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        run()
        return
    from tests.pgcluster import throwaway_cluster

    with throwaway_cluster() as cluster_url:
        os.environ["DATABASE_URL"] = cluster_url
        run()


def fresh_database(url: str) -> str:
    """A new database owned by the role of ``url`` (on the same server); its URL."""
    import contextlib
    import time

    import psycopg2

    base = url.rstrip("/")
    if base.count("/") > 2:  # a database is named: connect to the maintenance one instead
        base = base.rsplit("/", 1)[0]
    name = f"bench_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    with contextlib.closing(psycopg2.connect(f"{base}/postgres")) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"
