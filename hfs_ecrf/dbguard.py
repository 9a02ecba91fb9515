"""The audit trail enforced by PostgreSQL itself, not only by Python.

Two database roles: the *owner* runs the migrations and owns every table; the *app* role
(``DATABASE_APP_ROLE``) is the one the web application connects as. After every ``migrate`` (run
as the owner) :func:`enforce` does, on PostgreSQL only:

* on every audited model's table, a statement trigger that refuses INSERT/UPDATE/DELETE unless
  the write comes through the audited save path (:func:`audited_write`, used by
  ``AuditedModel.save``/``delete``, sets a transaction-local flag around the one statement);
  ``QuerySet.update()``, ``_raw_delete()`` and raw SQL from a shell are refused by the database;
* on every history table, the append-only trigger (also installed by the apps' migrations);
* if the app role exists: it may SELECT/INSERT/UPDATE/DELETE study tables, only SELECT/INSERT
  history tables and the append-only logs (models with ``APPEND_ONLY = True``), only SELECT
  ``django_migrations``; it is never granted TRUNCATE, and as it owns nothing it cannot
  ``ALTER TABLE … DISABLE TRIGGER``.

SQLite has no roles or such triggers; there the Python guard (``AuditedQuerySet``) stands alone.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections, transaction

from hfs_ecrf.audit import FLAG, AuditedModel

logger = logging.getLogger(__name__)

_WRITE_GUARD_SQL = f"""
CREATE OR REPLACE FUNCTION audit_write_guard() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('{FLAG}', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'study data are written only through the audited save path: % on % refused',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

_APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION audit_history_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _audited_models() -> list[type]:
    return [
        m
        for m in apps.get_models()
        if issubclass(m, AuditedModel) and not m._meta.proxy and m._meta.managed
    ]


def protected_tables() -> dict[str, set[str]]:
    """Table names by kind: ``study`` (audited), ``history``, ``append_only`` (logs)."""
    study = _audited_models()
    return {
        "study": {m._meta.db_table for m in study},
        "history": {m.history.model._meta.db_table for m in study},
        "append_only": {
            m._meta.db_table for m in apps.get_models() if getattr(m, "APPEND_ONLY", False)
        },
    }


def _owns(cursor: Any, table: str) -> bool:
    cursor.execute(
        "SELECT tableowner = current_user FROM pg_tables "
        "WHERE schemaname = current_schema() AND tablename = %s",
        [table],
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def enforce(*, using: str = "default") -> None:
    """Install the triggers and the app role's privileges; idempotent, PostgreSQL only.
    Does nothing when the connected role does not own the tables (then it is the app role)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    tables = protected_tables()
    existing = set(connection.introspection.table_names())
    qn = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        study = sorted(tables["study"] & existing)
        if not study or not _owns(cursor, study[0]):
            return
        cursor.execute(_WRITE_GUARD_SQL)
        cursor.execute(_APPEND_ONLY_SQL)
        for table in study:
            trigger = qn(f"{table}_audited_write")
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {qn(table)}")
            cursor.execute(
                f"CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE OR DELETE ON {qn(table)} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_write_guard()"
            )
        for table in sorted(tables["history"] & existing):
            trigger = qn(f"{table}_append_only")
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {qn(table)}")
            cursor.execute(
                f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {qn(table)} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_history_is_append_only()"
            )
        _grant(cursor, qn, tables, existing)


def _grant(cursor: Any, qn: Any, tables: dict[str, set[str]], existing: set[str]) -> None:
    role = getattr(settings, "DATABASE_APP_ROLE", "")
    if not role:
        return
    cursor.execute("SELECT rolname <> current_user FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is None or not row[0]:
        logger.warning("DATABASE_APP_ROLE %r does not exist or is the owner: no grants", role)
        return
    app = qn(role)
    cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}")
    insert_only = tables["history"] | tables["append_only"]
    for table in sorted(existing):
        if table == "django_migrations":
            privileges = "SELECT"
        elif table in insert_only:
            privileges = "SELECT, INSERT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        cursor.execute(f"GRANT {privileges} ON {qn(table)} TO {app}")


def enforce_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    enforce(using=using)
