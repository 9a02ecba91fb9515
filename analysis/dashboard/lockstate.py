"""What the analysis pages, the results JSON and the table CSVs say about the database lock:
these are the final results of a lock, or results computed after an unlock that supersede the
final results, or the lock's final results are still being computed."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from analysis.services import ResultsState

FINAL = gettext_lazy(
    "Final results, database locked at %(locked_at)s by %(who)s (data version %(version)s, "
    "dataset SHA-256 %(sha)s). Reason for the lock: %(reason)s."
)
FINAL_UNLOCKED = gettext_lazy(
    "Final results of the database lock at %(locked_at)s (data version %(version)s, dataset "
    "SHA-256 %(sha)s). The database was unlocked at %(unlocked_at)s by %(who)s: %(reason)s; "
    "results of the data changed since will supersede them."
)
AFTER_UNLOCK = gettext_lazy(
    "Computed after the database was unlocked at %(unlocked_at)s by %(who)s (%(reason)s); the "
    "final results of the database lock at %(locked_at)s are superseded."
)
PENDING = gettext_lazy(
    "The database was locked at %(locked_at)s by %(who)s; its final results are being "
    "computed. Until then the latest stored results are shown."
)


def _when(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i T")


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _who(user: Any) -> str:
    return str(user) if user is not None else "—"


def results_note(state: ResultsState) -> tuple[str, str]:
    """(kind, sentence) for the shown results: ``final``, ``final_unlocked``, ``after_unlock``,
    ``final_pending``, or ("", "") when no database lock concerns them."""
    if state.final is not None:
        lock = state.lock
        return "final", gettext(FINAL) % {
            "locked_at": _when(lock.locked_at),
            "who": _who(lock.locked_by),
            "version": state.final.data_version,
            "sha": state.final.dataset_sha256,
            "reason": lock.reason,
        }
    if state.final_pending:
        lock = state.lock
        return "final_pending", gettext(PENDING) % {
            "locked_at": _when(lock.locked_at),
            "who": _who(lock.locked_by),
        }
    if state.final_unlocked is not None:
        final = state.final_unlocked
        lock = final.lock
        return "final_unlocked", gettext(FINAL_UNLOCKED) % {
            "locked_at": _when(lock.locked_at),
            "version": final.data_version,
            "sha": final.dataset_sha256,
            "unlocked_at": _when(lock.unlocked_at),
            "who": _who(lock.unlocked_by),
            "reason": lock.unlock_reason,
        }
    lock = state.after_unlock
    if lock is not None:
        return "after_unlock", gettext(AFTER_UNLOCK) % {
            "unlocked_at": _when(lock.unlocked_at),
            "who": _who(lock.unlocked_by),
            "reason": lock.unlock_reason,
            "locked_at": _when(lock.locked_at),
        }
    return "", ""


def results_lock_json(state: ResultsState) -> dict[str, Any]:
    """The database lock's part of the results JSON."""
    final = state.final or state.final_unlocked
    after = state.after_unlock
    kind, note = results_note(state)
    return {
        "final": state.final is not None,
        "database_locked_at": _iso(state.lock.locked_at) if state.lock is not None else None,
        "final_results": None
        if final is None
        else {
            "locked_at": _iso(final.lock.locked_at),
            "locked_by": _who(final.lock.locked_by),
            "lock_reason": final.lock.reason,
            "data_version": final.data_version,
            "dataset_sha256": final.dataset_sha256,
            "unlocked_at": _iso(final.lock.unlocked_at),
            "unlocked_by": _who(final.lock.unlocked_by) if final.lock.unlocked_at else None,
            "unlock_reason": final.lock.unlock_reason or None,
        },
        "after_unlock": None
        if after is None
        else {
            "unlocked_at": _iso(after.unlocked_at),
            "unlocked_by": _who(after.unlocked_by),
            "unlock_reason": after.unlock_reason,
            "final_results_of_lock_at": _iso(after.locked_at),
            "final_results_superseded": True,
        },
        "results_note_kind": kind or None,
        "results_note": note or None,
    }
