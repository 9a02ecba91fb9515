"""No lost update: the one version check and the one insert-race rule of every service.

A versioned model has ``version`` (PositiveIntegerField). Its edit form sends back the version
it was opened at (``hfs_ecrf.forms.VersionedFormMixin``, hidden ``base_version``). A service locks
the stored row, calls :func:`check_version` and bumps the version:

* stale version → :class:`ConflictError` with the other person's changes (from the history);
* no version at all (a tampered or truncated POST) → refused too, with the current values;
* programmatic callers that own the data (seeder, importer) pass nothing: :data:`UNCHECKED`.

Two first saves of the same record at once both pass validation; the database's unique
constraint lets one in. :func:`save_new` runs the insert in a savepoint and turns the loser's
IntegrityError into the same conflict (or a field error), never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from hfs_ecrf import write_scope
from hfs_ecrf.audit import changed_fields

CONFLICT = _(
    "This form was saved again while you were editing it (who saved it is shown below). "
    "Nothing of yours was saved; the changes are shown below. Re-enter your changes on the "
    "current version."
)
VERSION_MISSING = _(
    "The form was sent without the version it was opened at, so other people's changes could "
    "not be checked. Nothing was saved; the current values are shown below. Open the form again."
)


class _Unchecked:
    def __repr__(self) -> str:
        return "UNCHECKED"


UNCHECKED: Any = _Unchecked()
SKIPPED_FIELDS = {"id", "version", "updated_at"}


class ConflictError(ValidationError):
    """The record changed since the user opened it; ``changes`` lists (field, theirs, who)."""

    def __init__(self, changes: list[tuple[str, Any, Any]], message: Any = CONFLICT):
        super().__init__(message)
        self.changes = changes


def _fields(obj: models.Model) -> list[models.Field]:
    return [f for f in type(obj)._meta.concrete_fields if f.name not in SKIPPED_FIELDS]


def changes_since(current: models.Model, base_version: int) -> list[tuple[str, Any, Any]]:
    """What changed between the user's version and the latest one, and who saved it."""
    latest = current.history.order_by("-history_id").first()
    if latest is None:
        return []
    base = current.history.filter(version=base_version).order_by("-history_id").first()
    who = latest.history_user
    if base is None:  # created meanwhile, or a version that never existed: all current values
        return [
            (f.verbose_name, getattr(latest, f.attname), who)
            for f in _fields(current)
            if getattr(latest, f.attname, None) not in (None, "")
        ]
    return [
        (f.verbose_name, getattr(latest, f.attname), who)
        for f in changed_fields(base, latest, _fields(current))
    ]


def check_version(current: models.Model | None, base_version: Any) -> None:
    """Refuse a save started from another version than the stored (locked) ``current``."""
    if base_version is UNCHECKED or current is None:
        return
    if base_version in (None, ""):
        raise ConflictError(changes_since(current, 0), VERSION_MISSING)
    if current.version != base_version:
        raise ConflictError(changes_since(current, base_version))


def locked(obj: models.Model) -> models.Model | None:
    """The stored row of ``obj``, locked until the transaction ends (None if it is new)."""
    if obj.pk is None:
        return None
    return type(obj).objects.select_for_update().filter(pk=obj.pk).first()


def next_version(current: models.Model | None) -> int:
    return (current.version + 1) if current is not None else 1


def save_new(
    obj: models.Model,
    *,
    user: Any,
    reason: str = "",
    on_conflict: Callable[[], ValidationError],
) -> None:
    """Insert ``obj`` through the audited save in a savepoint; if a concurrent save took its
    unique key first, raise ``on_conflict()`` instead of the database error."""
    try:  # (no savepoint inside write_scope.bulk_writes(): any failure rolls back everything)
        with transaction.atomic(savepoint=write_scope.savepoint()):
            obj.save_audited(user=user, reason=reason)
    except IntegrityError as error:
        obj.pk = None
        raise on_conflict() from error
