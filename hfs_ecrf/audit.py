"""The audit trail every model holding study data uses.

django-simple-history writes one history row per save or delete (who, when in UTC, every field,
the reason for change). Signal-based history cannot see ``QuerySet.update()``, bulk writes or
deletes, so audited models refuse those paths. On PostgreSQL the database enforces it too
(hfs_ecrf/dbguard.py): a history row can never be changed or deleted, a study table accepts
writes only from ``AuditedModel.save``/``delete``, and the application's role owns no table.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, connections, migrations, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from hfs_ecrf import hooks, write_scope
from hfs_ecrf.data_version import data_version_bump

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
    lazy = getattr(connection, "_audited_write_lazy", None)
    if lazy is not None:  # inside bulk_audited_writes(): the flag follows the statements
        lazy.depth += 1
        try:
            yield
        finally:
            lazy.depth -= 1
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


# Statements that write nothing: they may run while the flag is on.
_READS = ("SELECT", "SAVEPOI", "RELEASE")


class _LazyFlag:
    """An execute wrapper that sets the flag on before a statement inside ``audited_write`` and
    off before any other statement that could write, and only when it changes: a run of audited
    saves with reads in between sets it once, yet no write outside ``audited_write`` ever runs
    with it on."""

    def __init__(self, connection: Any) -> None:
        self.connection, self.depth, self.on, self.busy = connection, 0, False, False

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if not self.busy:
            wanted = self.depth > 0
            if wanted != self.on and (wanted or not sql.lstrip()[:7].upper().startswith(_READS)):
                self.switch(wanted)
        return execute(sql, params, many, context)

    def switch(self, on: bool) -> None:
        self.busy = True
        try:
            _set_flag(self.connection, "on" if on else "off")
        finally:
            self.busy = False
        self.on = on


@contextlib.contextmanager
def bulk_audited_writes(*, using: str = "default") -> Iterator[None]:
    """``write_scope.bulk_writes()`` (savepoints, existence checks and history rows of an all-or-
    nothing import), and on PostgreSQL the audited-write flag switched only when it changes
    (``_LazyFlag``) instead of on and off around every save."""
    connection = connections[using]
    with write_scope.bulk_writes(using=using, guard=audited_write):
        if connection.vendor != "postgresql":
            yield
            return
        lazy = _LazyFlag(connection)
        connection._audited_write_lazy = lazy
        try:
            with connection.execute_wrapper(lazy):
                yield
        finally:
            connection._audited_write_lazy = None
        if lazy.on:
            lazy.switch(False)


@functools.cache
def _history_model(model: type, manager_name: str) -> type:
    return inspect.getattr_static(model, manager_name).model


class AuditHistory(HistoricalRecords):
    """django-simple-history's records; inside ``write_scope.bulk_writes()`` the row of each save
    is built here exactly as simple-history builds it and inserted in bulk with the others."""

    def create_historical_record(self, instance: Any, history_type: str, using: Any = None):
        if not write_scope.active() or self.m2m_fields:
            return super().create_historical_record(instance, history_type, using=using)
        using = using if self.use_base_model_db else None
        history_date = getattr(instance, "_history_date", timezone.now())
        history_user = self.get_history_user(instance)
        reason = self.get_change_reason_for_object(instance, history_type, using)
        # the historical model, without building a manager class as the descriptor does
        model = _history_model(type(instance), self.manager_name)
        attrs = {f.attname: getattr(instance, f.attname) for f in self.fields_included(instance)}
        if getattr(model, "history_relation", None) is not None:
            attrs["history_relation"] = instance
        history_instance = model(
            history_date=history_date,
            history_type=history_type,
            history_user=history_user,
            history_change_reason=reason,
            **attrs,
        )
        sent = {
            "sender": model,
            "instance": instance,
            "history_date": history_date,
            "history_user": history_user,
            "history_change_reason": reason,
            "using": using,
        }
        pre_create_historical_record.send(history_instance=history_instance, **sent)
        write_scope.buffer_history(history_instance, post_create_historical_record.send, **sent)
        return None


class AuditedModel(models.Model):
    """Base for every model that holds study data.

    Each save and delete also moves the data version on (``hfs_ecrf.data_version``), in the same
    transaction and before the row is written.
    """

    objects = AuditedManager()
    history = AuditHistory(inherit=True)

    class Meta:
        abstract = True
        # Related-object access and Django internals use the guarded manager too.
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        created = self._state.adding
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=write_scope.savepoint()):
            data_version_bump(using=using)
            # Locks and the database lock refuse here, so every write path is covered
            # (hooks.py). After the bump: the counter row is held from here to the commit, so
            # a database lock committed while this write waited for it is seen, not missed.
            hooks.check_write(self)
            # The one path through the database's write guard (hfs_ecrf/dbguard.py, PostgreSQL).
            with audited_write(using):
                super().save(*args, **kwargs)
        write_scope.saved(self, created=created)
        hooks.after_save(self, created)

    def _do_insert(self, manager, using, fields, returning_fields, raw):
        # Inside write_scope.bulk_writes(): the new row goes in with others of its table.
        if not raw and write_scope.defer_insert(self, fields, returning_fields, using):
            return [tuple(getattr(self, f.attname) for f in returning_fields)]
        return super()._do_insert(manager, using, fields, returning_fields, raw)

    def clean_fields(self, exclude: Any = None) -> None:
        # Inside write_scope.bulk_writes() the existence of rows saved in the same transaction
        # is known; every other check of every field runs.
        known = write_scope.known_foreign_keys(self)
        super().clean_fields(exclude={*(exclude or ()), *known} if known else exclude)

    def _perform_unique_checks(self, unique_checks: Any) -> dict:
        # Inside write_scope.bulk_writes(): keys that only a row saved there could hold are
        # answered by the scope (write_scope.unique_key_free); every other key is queried.
        checks = [(c, names) for c, names in unique_checks if not _unique_key_free(self, names)]
        return super()._perform_unique_checks(checks)

    def get_constraints(self) -> list:
        constraints = super().get_constraints()
        if not write_scope.active():
            return constraints
        return [
            (model, [c for c in model_constraints if not _unique_constraint_free(self, c)])
            for model, model_constraints in constraints
        ]

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=write_scope.savepoint()):
            data_version_bump(using=using)
            with audited_write(using):
                return super().delete(*args, **kwargs)

    def save_audited(self, *, user: Any, reason: str = "", **kwargs: Any) -> None:
        """Save with the author and reason recorded in the history row."""
        self._history_user = user
        self._change_reason = reason
        self.save(**kwargs)


def _unique_key_free(obj: models.Model, names: Any) -> bool:
    return write_scope.active() and write_scope.unique_key_free(obj, names)


def _unique_constraint_free(obj: models.Model, constraint: Any) -> bool:
    """An unconditional unique constraint on plain fields whose key the scope answers."""
    return (
        isinstance(constraint, models.UniqueConstraint)
        and bool(constraint.fields)
        and constraint.condition is None
        and not constraint.expressions
        and write_scope.unique_key_free(obj, constraint.fields)
    )


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


# Bookkeeping that the history row itself already shows (who, when) or that means nothing to
# people (the row id, the lost-update version).
AUDIT_SKIP = frozenset({"id", "version", "updated_at", "updated_by"})


def audit_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.name not in AUDIT_SKIP]


def user_label(user: Any) -> str:
    """A person as the audit trail names them: full name, else username."""
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


def related_labels(
    records: list[Any], fields: list[models.Field], labels: dict | None = None
) -> dict[tuple[Any, Any], str]:
    """Labels of the objects the foreign keys of these records point to, keyed by (model, pk):
    users by name, study objects by their study label (``audit_label()``, e.g. "SMR-0007 V3").
    One query per related model, whatever the number of records; ``labels`` (updated and
    returned) carries what earlier calls already looked up."""
    labels = {} if labels is None else labels
    for field in fields:
        if not field.is_relation:
            continue
        model = field.related_model
        ids = {getattr(r, field.attname) for r in records} - {None}
        ids -= {pk for (m, pk) in labels if m is model}
        if not ids:
            continue
        queryset = model._default_manager.filter(pk__in=ids)
        queryset = queryset.select_related(*getattr(model, "AUDIT_LABEL_RELATED", ()))
        for obj in queryset:
            if hasattr(obj, "get_username"):
                labels[(model, obj.pk)] = user_label(obj)
            elif hasattr(obj, "audit_label"):
                labels[(model, obj.pk)] = obj.audit_label()
            else:
                labels[(model, obj.pk)] = str(obj)
    return labels


def record_changes(
    previous: Any, record: Any, fields: list[models.Field], labels: dict | None = None
) -> list[tuple[Any, Any, Any]]:
    """(field label, old, new) for one history row against the one before it (None: created)."""
    if previous is None:
        return [
            (field.verbose_name, None, display_value(record, field, labels))
            for field in fields
            if getattr(record, field.attname, None) not in (None, "")
        ]
    return [
        (
            field.verbose_name,
            display_value(previous, field, labels),
            display_value(record, field, labels),
        )
        for field in changed_fields(previous, record, fields)
    ]


def history_rows(obj: models.Model) -> list[dict[str, Any]]:
    """The history of one object as rows of who, when, reason and field changes (old → new)."""
    records = list(
        obj.history.select_related("history_user").order_by("history_date", "history_id")
    )
    fields = audit_fields(type(obj))
    labels = related_labels(records, fields)
    rows = []
    previous = None
    for record in records:
        rows.append(
            {
                "when": record.history_date,
                "who": user_label(record.history_user),
                "type": history_type(record),
                "reason": record.history_change_reason or "",
                "changes": record_changes(previous, record, fields, labels),
            }
        )
        previous = record
    return rows


_HISTORY_TYPES = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


def history_type(record: Any) -> str:
    return _HISTORY_TYPES.get(record.history_type, record.history_type)


def changed_fields(old: Any, new: Any, fields: list[models.Field]) -> list[models.Field]:
    """Fields whose stored value differs between two versions (history rows or objects).

    simple-history's diff_against skips non-editable fields such as derived scores, which an
    audit trail must show, so the comparison is done here.
    """
    return [f for f in fields if getattr(old, f.attname) != getattr(new, f.attname)]


def display_value(record: Any, field: models.Field, labels: dict | None = None) -> Any:
    """A stored value as people read it: the label of a choice, yes/no for a boolean, the
    study label of a related object (from ``related_labels``).
    The one display rule of the audit trail and of record lists."""
    value = getattr(record, field.attname, None)
    if field.is_relation and value is not None and labels is not None:
        return labels.get((field.related_model, value), value)
    if field.choices and value not in (None, ""):
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value
