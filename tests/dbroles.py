"""The PostgreSQL pass runs as the application's role, as production does.

tests/pgcluster.py exports DATABASE_URL (the app role) and DATABASE_OWNER_URL (the owner). The
test database is created and migrated as the owner (so the migrations' grants and triggers are
made as in production), the tests then connect as the app role, and what only an owner may do
(flushing the tables after a transactional test, dropping the test database) is done as the
owner again. Without DATABASE_OWNER_URL (SQLite, or one PostgreSQL role) nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

import dj_database_url
from django.db import connections

OWNER_URL = os.environ.get("DATABASE_OWNER_URL", "")


def owner_credentials() -> dict[str, str] | None:
    if not OWNER_URL:
        return None
    parsed = dj_database_url.parse(OWNER_URL)
    return {"USER": parsed["USER"], "PASSWORD": parsed["PASSWORD"]}


_app_credentials: dict[str, str] = {}


def _switch(credentials: dict[str, str]) -> None:
    """Reconnect every connection with other credentials."""
    for connection in connections.all():
        if not _app_credentials:
            _app_credentials.update(
                {k: connection.settings_dict.get(k, "") for k in ("USER", "PASSWORD")}
            )
        connection.close()
        connection.settings_dict.update(credentials)


def use_owner() -> None:
    credentials = owner_credentials()
    if credentials is not None:
        _switch(credentials)


def use_app() -> None:
    if owner_credentials() is not None and _app_credentials:
        _switch(dict(_app_credentials))


@contextlib.contextmanager
def as_owner() -> Iterator[None]:
    use_owner()
    try:
        yield
    finally:
        use_app()


def flush_as_owner() -> None:
    """Transactional tests flush (TRUNCATE) every table afterwards: only the owner may."""
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown
    if getattr(original, "as_owner", False):
        return

    def teardown(self: TransactionTestCase) -> None:
        with as_owner():
            original(self)

    teardown.as_owner = True  # type: ignore[attr-defined]
    TransactionTestCase._fixture_teardown = teardown


@contextlib.contextmanager
def owner_cursor() -> Iterator[object]:
    """A separate connection to the test database as the owner (rolled back at the end)."""
    import psycopg2

    settings_dict = connections["default"].settings_dict
    credentials = owner_credentials() or {
        "USER": settings_dict["USER"],
        "PASSWORD": settings_dict["PASSWORD"],
    }
    conn = psycopg2.connect(
        dbname=settings_dict["NAME"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or None,
        user=credentials["USER"],
        password=credentials["PASSWORD"] or None,
    )
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.rollback()
        conn.close()


def other_sessions(*, wait: float = 10.0) -> list[tuple]:
    """The other client sessions connected to the test database (PostgreSQL; SQLite: none).

    A thread closes its connections as it ends, a moment after its last request has been
    answered: the sessions are read again for up to ``wait`` seconds before they count."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    deadline = time.monotonic() + wait
    while True:
        with connection.cursor() as cursor:
            # autovacuum workers have no role (usesysid): they are not sessions of ours
            cursor.execute(
                "SELECT pid, usename, application_name, backend_start, state, query"
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND usesysid IS NOT NULL"
            )
            rows = cursor.fetchall()
        if not rows or time.monotonic() > deadline:
            connection.close()
            return rows
        time.sleep(0.2)
