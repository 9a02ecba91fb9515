"""Write guards and after-save hooks: how an upper layer takes part in lower-layer writes.

Locks, the database lock, source data verification, automatic queries and e-signatures belong
to ``monitoring``, which sits above ``patients`` and ``assessments``; those apps must not import
it. Instead every audited save (``AuditedModel.save``, the one path services, the importer, the
seeder and the admin all end in) calls the functions registered here: each *guard* may refuse the
write by raising ``WriteRefused`` (a ``ValidationError``, so forms and the importer report it like
any other error); each *after-save hook* reacts inside the same transaction. ``monitoring``
registers its functions in ``MonitoringConfig.ready()``. With nothing registered, writes are plain.

*Patient list filters* work the same way for reads: the patient lists (``assessments.filters``)
offer a checkbox for each filter registered here, so ``monitoring`` adds "with open queries"
without the lower layer importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError


class WriteRefused(ValidationError):
    """A guard refused a write (locked record, locked database)."""


WriteGuard = Callable[[Any], None]
AfterSaveHook = Callable[[Any, bool], None]

_guards: dict[str, WriteGuard] = {}
_after_save: dict[str, AfterSaveHook] = {}


def register_write_guard(name: str, guard: WriteGuard) -> None:
    """Register (or replace, by name: ``ready()`` may run twice) a guard."""
    _guards[name] = guard


def register_after_save(name: str, hook: AfterSaveHook) -> None:
    _after_save[name] = hook


def check_write(obj: Any) -> None:
    """Raise ``WriteRefused`` if any registered guard refuses writing ``obj``."""
    for guard in _guards.values():
        guard(obj)


def after_save(obj: Any, created: bool) -> None:
    for hook in _after_save.values():
        hook(obj, created)


@dataclass(frozen=True)
class PatientListFilter:
    """A checkbox on the patient lists: ``apply`` narrows a queryset of patients (in SQL)."""

    label: Any
    apply: Callable[[Any], Any]


_patient_list_filters: dict[str, PatientListFilter] = {}


def register_patient_list_filter(name: str, *, label: Any, apply: Callable[[Any], Any]) -> None:
    """Register (or replace, by name) a filter offered on the patient lists."""
    _patient_list_filters[name] = PatientListFilter(label=label, apply=apply)


def patient_list_filters() -> dict[str, PatientListFilter]:
    return dict(_patient_list_filters)
