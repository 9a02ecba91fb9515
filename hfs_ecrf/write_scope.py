"""Bulk writes: the cheaper write path of an import that is all or nothing.

An import (``analysis.exports.importer``) saves tens of thousands of rows through the same
services and the same audited save as the web forms, inside one transaction that is rolled
back as a whole on any error. Inside ``bulk_writes()`` five costs of that path are dropped,
none of them a validation rule:

* **No savepoints.** The services and ``AuditedModel.save`` open their atomic blocks without a
  savepoint (``atomic``/``savepoint()``): a failure can no longer be undone row by row, so it
  dooms the whole transaction — the caller must stop at the first error and roll back (the
  importer then runs again without this scope to report every error).
* **No existence checks of rows the transaction itself wrote.** ``full_clean`` asks the database
  whether each foreign key's row exists; for a row saved in this scope, or one the caller read
  and vouches for (``know``), the answer is known (``known_foreign_keys``). Nothing is rolled back
  row by row here, so a row saved in the scope stays saved; the database's own foreign-key
  constraints still check every row at commit.
* **History rows in bulk.** The audit trail's row of each save is built at the save, exactly as
  django-simple-history builds it (who, when, reason, every field), and inserted with the others
  of its table in one statement (``buffer_history``; at most ``HISTORY_BATCH`` rows are held).
* **No uniqueness queries that only a row of the scope could answer.** A unique key holding a
  row inserted in the scope (e.g. the patient of a consent) can only be taken by a row saved in
  the scope, and the scope keeps the unique keys of every row it saved (``unique_key_free``).
* **New rows in bulk.** The INSERT of a new row (``defer_insert``, from the audited save) takes
  its primary key from the table's own sequence (ids reserved in blocks) and is held with the
  values Django would have inserted, after the save's validation, guards, signals and hooks ran
  as usual. Held rows are inserted, many per statement, before any SQL statement that names
  their table (so every read, update or delete sees them), at most ``INSERT_BATCH`` at a time,
  and when the scope ends. Foreign keys are checked by the database at commit (Django declares
  them deferred), unique constraints when the rows go in: an error there fails the whole pass
  like any other.

Everything else (forms, services, model validation, the write guards and hooks, the audited
write flag of the database guard, the data version) runs as it does outside the scope.
"""

from __future__ import annotations

import copy
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connections, models, transaction

HISTORY_BATCH = 2000
INSERT_BATCH = 2000
ID_BLOCK = 100  # primary keys reserved at a time per table (those left unused are a gap)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class _Scope:
    using: str
    known: set[tuple[type, Any]] = field(default_factory=set)
    created: set[tuple[type, Any]] = field(default_factory=set)
    created_models: set[type] = field(default_factory=set)
    memos: dict[str, dict] = field(default_factory=dict)
    history: dict[type, list] = field(default_factory=lambda: defaultdict(list))
    held: int = 0
    after_flush: list[tuple[Callable[..., None], dict]] = field(default_factory=list)
    guard: Callable[[str], Any] | None = None
    inserts: dict[str, _Held] = field(default_factory=dict)  # by table, in first-held order
    inserts_held: int = 0
    inserting: bool = False
    ids: dict[type, list] = field(default_factory=dict)
    unique_keys: set[tuple] = field(default_factory=set)


@dataclass
class _Held:
    model: type
    fields: list
    rows: list = field(default_factory=list)


_scope: ContextVar[_Scope | None] = ContextVar("hfs_ecrf_bulk_writes", default=None)


class NotInTransaction(RuntimeError):
    """``bulk_writes`` needs the caller's transaction: without it nothing would roll back."""


@contextmanager
def bulk_writes(
    *, using: str = "default", guard: Callable[[str], Any] | None = None
) -> Iterator[None]:
    """Writes inside are all or nothing for the caller, who must already be in ``atomic()`` and
    roll back on any exception (see the module docstring). Buffered history rows and held new
    rows are written before the scope ends. ``guard(using)``: the context manager the held rows
    are inserted in (the audited save's pass through the database's write guard); without it,
    new rows are inserted at once."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise NotInTransaction("bulk_writes() must run inside transaction.atomic()")
    scope = _Scope(using=using, guard=guard)
    token = _scope.set(scope)
    try:
        with connection.execute_wrapper(functools.partial(_insert_held_first, scope)):
            yield
            _flush(scope)
    finally:
        _scope.reset(token)


def active() -> bool:
    return _scope.get() is not None


def savepoint() -> bool:
    """Whether a nested atomic block should create a savepoint (not inside ``bulk_writes``)."""
    return _scope.get() is None


def atomic(func: F) -> F:
    """``transaction.atomic`` for a service: without a savepoint inside ``bulk_writes``."""

    @functools.wraps(func)
    def inner(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(savepoint=savepoint()):
            return func(*args, **kwargs)

    return inner  # type: ignore[return-value]


def know(*objs: models.Model) -> None:
    """The caller vouches that these rows exist (it has just read them in this transaction)."""
    scope = _scope.get()
    if scope is not None:
        scope.known.update((type(obj)._meta.concrete_model, obj.pk) for obj in objs)


def saved(obj: models.Model, *, created: bool) -> None:
    """A row saved in the scope (called by the audited save)."""
    scope = _scope.get()
    if scope is None:
        return
    model = type(obj)._meta.concrete_model
    scope.known.add((model, obj.pk))
    for names, fields in _unique_sets(type(obj)):
        scope.unique_keys.add((model, names, tuple(getattr(obj, f.attname) for f in fields)))
    if created:
        scope.created.add((model, obj.pk))
        scope.created_models.add(model)


def created_here(model: type, pk: Any) -> bool:
    """Whether the row was inserted in this scope: then every row that refers to it was written
    in this scope too (no one else can see it yet), so what the scope saved is all there is."""
    scope = _scope.get()
    return scope is not None and (model._meta.concrete_model, pk) in scope.created


@functools.cache
def _unique_sets(model: type) -> tuple[tuple[tuple[str, ...], tuple], ...]:
    """Every set of fields that is unique in ``model``'s table (fields, unique_together,
    unconditional unique constraints), with its fields."""
    checks, _dates = model()._get_unique_checks(include_meta_constraints=True)
    return tuple(
        (tuple(names), tuple(model._meta.get_field(name) for name in names))
        for _cls, names in checks
    )


def unique_key_free(obj: models.Model, names: Any) -> bool:
    """Inside the scope: ``obj``'s values of the unique fields ``names`` are provably taken by no
    other row, because one of them is a row inserted in the scope (a foreign key to it) and no
    row saved in the scope has these values. Then the database need not be asked."""
    scope = _scope.get()
    if scope is None or not scope.created:
        return False
    model = type(obj)._meta.concrete_model
    fields = [model._meta.get_field(name) for name in names]
    values = tuple(getattr(obj, f.attname) for f in fields)
    if not any(
        (f.many_to_one or f.one_to_one)
        and (f.related_model._meta.concrete_model, value) in scope.created
        for f, value in zip(fields, values, strict=True)
    ):
        return False
    return (model, tuple(names), values) not in scope.unique_keys


def none_created(model: type) -> bool:
    """Inside the scope: no row of ``model`` has been inserted in it."""
    scope = _scope.get()
    return scope is not None and model._meta.concrete_model not in scope.created_models


def memo(name: str) -> dict | None:
    """A dict kept for the scope's duration under ``name`` (None outside the scope), for a layer
    to remember what it saved (e.g. the forms of the patient being imported)."""
    scope = _scope.get()
    return None if scope is None else scope.memos.setdefault(name, {})


def known_foreign_keys(obj: models.Model) -> set[str]:
    """Names of ``obj``'s foreign keys whose rows are known to exist in this scope; their field
    validation is nothing but that existence query (no choices limit, no validators)."""
    scope = _scope.get()
    if scope is None or not scope.known:
        return set()
    names = set()
    for f in obj._meta.concrete_fields:
        if not f.many_to_one and not f.one_to_one:
            continue
        value = getattr(obj, f.attname)
        if value is None or f.validators or f.get_limit_choices_to():
            continue
        if f.remote_field.field_name != f.related_model._meta.pk.name:
            continue
        if (f.related_model._meta.concrete_model, value) in scope.known:
            names.add(f.name)
    return names


def buffer_history(history_instance: models.Model, after: Callable[..., None], **sent) -> bool:
    """Hold a built history row for a bulk insert (True), or say there is no scope (False).
    ``after(**sent, history_instance=…)`` runs once the row is in the database."""
    scope = _scope.get()
    if scope is None:
        return False
    scope.history[type(history_instance)].append(history_instance)
    scope.after_flush.append((after, {**sent, "history_instance": history_instance}))
    scope.held += 1
    if scope.held >= HISTORY_BATCH:
        _flush(scope)
    return True


def defer_insert(obj: models.Model, fields: list, returning_fields: list, using: str) -> bool:
    """Hold the INSERT of a new row (True; its primary key is set), or say it must run now
    (False): outside the scope, or a row whose insert returns more than its sequence key."""
    scope = _scope.get()
    if scope is None or scope.guard is None or scope.using != using:
        return False
    model = type(obj)
    meta = model._meta
    pk = meta.pk
    if meta.auto_field is not pk or meta.parents or any(f is not pk for f in returning_fields):
        return False
    values = {f.attname: f.pre_save(obj, True) for f in fields}  # as the INSERT's compiler does
    if any(hasattr(value, "resolve_expression") for value in values.values()):
        return False
    if pk.attname not in values:
        fields = [pk, *fields]
        values[pk.attname] = _next_id(scope, model)
    if values[pk.attname] is None:
        return False
    setattr(obj, pk.attname, values[pk.attname])
    for name, value in values.items():  # what is inserted is what was saved, not later changes
        if isinstance(value, (dict, list)):
            values[name] = copy.deepcopy(value)
    held = scope.inserts.get(meta.db_table)
    if held is not None and held.fields != fields:
        _insert_held(scope, [meta.db_table])
        held = None
    if held is None:
        held = scope.inserts[meta.db_table] = _Held(model, fields)
    held.rows.append(_Row(values))
    scope.inserts_held += 1
    if scope.inserts_held >= INSERT_BATCH:
        _insert_held(scope, list(scope.inserts))
    return True


class _Row:
    """A held row: the values of the INSERT (read by attribute, as from the model instance)."""

    def __init__(self, values: dict) -> None:
        self.__dict__.update(values)


def _next_id(scope: _Scope, model: type) -> Any:
    ids = scope.ids.get(model)
    if not ids:
        ids = scope.ids[model] = _reserve_ids(scope.using, model, ID_BLOCK)
    return ids.pop() if ids else None


def _reserve_ids(using: str, model: type, count: int) -> list:
    """``count`` new primary keys of ``model``'s table, largest first: from its sequence on
    PostgreSQL; on SQLite after the largest ever given (the transaction holds the write lock)."""
    connection = connections[using]
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), column, count],
            )
            return sorted((row[0] for row in cursor.fetchall()), reverse=True)
        if connection.vendor == "sqlite":
            pk, name = connection.ops.quote_name(column), connection.ops.quote_name(table)
            seq = "SELECT max(seq) FROM sqlite_sequence WHERE name = %s"
            cursor.execute(f"SELECT max({pk}) FROM {name} UNION ALL {seq}", [table])  # noqa: S608
            last = max((row[0] or 0 for row in cursor.fetchall()), default=0)
            return list(range(last + count, last, -1))
    return []


def _insert_held_first(scope: _Scope, execute, sql, params, many, context):
    """Execute wrapper: a statement that names a table with held rows runs after they are in."""
    if scope.inserts and not scope.inserting:
        tables = [table for table in scope.inserts if table in sql and _names(table, sql)]
        if tables:
            _insert_held(scope, tables)
    return execute(sql, params, many, context)


def _names(table: str, sql: str) -> bool:
    """Whether ``sql`` names ``table`` (not merely a longer name that starts with it)."""
    return re.search(rf"(?<![\w$]){re.escape(table)}(?![\w$])", sql) is not None


def _insert_held(scope: _Scope, tables: list[str]) -> None:
    connection = connections[scope.using]
    scope.inserting = True
    try:
        with scope.guard(scope.using):
            for table in tables:
                held = scope.inserts.pop(table)
                scope.inserts_held -= len(held.rows)
                manager = held.model._base_manager.using(scope.using)
                size = connection.ops.bulk_batch_size(held.fields, held.rows) or len(held.rows)
                for start in range(0, len(held.rows), size):
                    rows = held.rows[start : start + size]
                    manager._insert(rows, fields=held.fields, using=scope.using, raw=True)
    finally:
        scope.inserting = False


def _flush(scope: _Scope) -> None:
    if scope.inserts:
        _insert_held(scope, list(scope.inserts))
    for model, rows in scope.history.items():
        if rows:
            model._default_manager.using(scope.using).bulk_create(rows)
    for after, sent in scope.after_flush:
        after(**sent)
    scope.history.clear()
    scope.after_flush.clear()
    scope.held = 0
