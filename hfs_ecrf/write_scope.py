"""Bulk writes: the cheaper write path of an import that is all or nothing.

An import (``analysis.exports.importer``) saves tens of thousands of rows through the same
services and the same audited save as the web forms, inside one transaction that is rolled
back as a whole on any error. Inside ``bulk_writes()`` three costs of that path are dropped,
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

Everything else (forms, services, model validation, the write guards and hooks, the audited
write flag of the database guard, the data version) runs as it does outside the scope.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connections, models, transaction

HISTORY_BATCH = 2000

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


_scope: ContextVar[_Scope | None] = ContextVar("hfs_ecrf_bulk_writes", default=None)


class NotInTransaction(RuntimeError):
    """``bulk_writes`` needs the caller's transaction: without it nothing would roll back."""


@contextmanager
def bulk_writes(*, using: str = "default") -> Iterator[None]:
    """Writes inside are all or nothing for the caller, who must already be in ``atomic()`` and
    roll back on any exception (see the module docstring). Buffered history rows are written
    before the scope ends."""
    if not connections[using].in_atomic_block:
        raise NotInTransaction("bulk_writes() must run inside transaction.atomic()")
    scope = _Scope(using=using)
    token = _scope.set(scope)
    try:
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
    if created:
        scope.created.add((model, obj.pk))
        scope.created_models.add(model)


def created_here(model: type, pk: Any) -> bool:
    """Whether the row was inserted in this scope: then every row that refers to it was written
    in this scope too (no one else can see it yet), so what the scope saved is all there is."""
    scope = _scope.get()
    return scope is not None and (model._meta.concrete_model, pk) in scope.created


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


def _flush(scope: _Scope) -> None:
    for model, rows in scope.history.items():
        if rows:
            model._default_manager.using(scope.using).bulk_create(rows)
    for after, sent in scope.after_flush:
        after(**sent)
    scope.history.clear()
    scope.after_flush.clear()
    scope.held = 0
