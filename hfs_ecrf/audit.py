"""The audit trail every model holding study data uses.

django-simple-history writes one history row per save or delete (who, when in UTC, every field,
the reason for change). Signal-based history cannot see ``QuerySet.update()``, bulk writes or
deletes, so audited models refuse those paths. On PostgreSQL the database enforces it too
(hfs_ecrf/dbguard.py): a history row can never be changed or deleted, a study table accepts
writes only from ``AuditedModel.save``/``delete``, and the application's role owns no table.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, connections, migrations, models, router, transaction
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from hfs_ecrf import hooks

BULK_WRITE_REFUSED = (
    "Audited records are written one by one so that each change is in the audit trail."
)


# Transaction-local flag that lets a statement pass the write guard of audited tables.
FLAG = "hfs_ecrf.audited_write"


class AuditBypassError(RuntimeError):
    """A write path that would skip the audit trail was used on an audited model."""


class AuditedQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditBypassError(BULK_WRITE_REFUSED)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AuditBypassError(BULK_WRITE_REFUSED)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list:
        raise AuditBypassError(BULK_WRITE_REFUSED)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditBypassError(BULK_WRITE_REFUSED)

    delete.queryset_only = True  # type: ignore[attr-defined]


AuditedManager = models.Manager.from_queryset(AuditedQuerySet)


@contextlib.contextmanager
def audited_write(using: str) -> Iterator[None]:
    """Let the statements inside pass the write guard of the audited tables (PostgreSQL).

    The flag is transaction-local and switched off again right after, so a raw write later in
    the same transaction is still refused; on an error the savepoint's rollback reverts it."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    depth = getattr(connection, "_audited_write_depth", 0)
    if depth:
        connection._audited_write_depth = depth + 1
        try:
            yield
        finally:
            connection._audited_write_depth = depth
        return
    block = (
        contextlib.nullcontext() if connection.in_atomic_block else transaction.atomic(using=using)
    )
    with block:
        _set_flag(connection, "on")
        connection._audited_write_depth = 1
        try:
            yield
        except BaseException:
            connection._audited_write_depth = 0
            with contextlib.suppress(DatabaseError):  # an aborted transaction resets it anyway
                _set_flag(connection, "off")
            raise
        connection._audited_write_depth = 0
        _set_flag(connection, "off")


def _set_flag(connection: Any, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [FLAG, value])


class AuditedModel(models.Model):
    """Base for every model that holds study data."""

    objects = AuditedManager()
    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True
        # Related-object access and Django internals use the guarded manager too.
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Locks and the database lock refuse here, so every write path is covered (hooks.py).
        hooks.check_write(self)
        created = self._state.adding
        # The one path through the database's write guard (hfs_ecrf/dbguard.py, PostgreSQL).
        with audited_write(kwargs.get("using") or router.db_for_write(type(self), instance=self)):
            super().save(*args, **kwargs)
        hooks.after_save(self, created)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        with audited_write(kwargs.get("using") or router.db_for_write(type(self), instance=self)):
            return super().delete(*args, **kwargs)

    def save_audited(self, *, user: Any, reason: str = "", **kwargs: Any) -> None:
        """Save with the author and reason recorded in the history row."""
        self._history_user = user
        self._change_reason = reason
        self.save(**kwargs)


_GUARD_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION audit_history_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def protect_history_tables(*model_labels: str) -> migrations.RunPython:
    """Migration operation: on PostgreSQL, make the named history tables reject UPDATE/DELETE.

    On other databases it does nothing (SQLite has no roles to protect against anyway).
    """

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(_GUARD_FUNCTION_SQL, params=None)
        for label in model_labels:
            table = apps.get_model(label)._meta.db_table
            trigger = f"{table}_append_only"
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{trigger}" ON "{table}"')
            schema_editor.execute(
                f'CREATE TRIGGER "{trigger}" BEFORE UPDATE OR DELETE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_history_is_append_only()"
            )

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)


def history_rows(obj: models.Model) -> list[dict[str, Any]]:
    """The history of one object as rows of who, when, reason and field changes (old → new)."""
    records = obj.history.select_related("history_user").order_by("history_date", "history_id")
    fields = {f.name: f for f in obj._meta.concrete_fields if f.name not in {"id", "version"}}
    rows = []
    previous = None
    for record in records:
        if previous is None:
            changes = [
                (field.verbose_name, None, display_value(record, field))
                for name, field in fields.items()
                if getattr(record, field.attname, None) not in (None, "")
            ]
        else:
            changes = [
                (field.verbose_name, display_value(previous, field), display_value(record, field))
                for field in changed_fields(previous, record, list(fields.values()))
            ]
        rows.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "type": _HISTORY_TYPES.get(record.history_type, record.history_type),
                "reason": record.history_change_reason or "",
                "changes": changes,
            }
        )
        previous = record
    return rows


_HISTORY_TYPES = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


def changed_fields(old: Any, new: Any, fields: list[models.Field]) -> list[models.Field]:
    """Fields whose stored value differs between two versions (history rows or objects).

    simple-history's diff_against skips non-editable fields such as derived scores, which an
    audit trail must show, so the comparison is done here.
    """
    return [f for f in fields if getattr(old, f.attname) != getattr(new, f.attname)]


def display_value(record: Any, field: models.Field) -> Any:
    """A stored value as people read it: the label of a choice, yes/no for a boolean.
    The one display rule of the audit trail and of record lists."""
    value = getattr(record, field.attname, None)
    if field.choices and value not in (None, ""):
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value
