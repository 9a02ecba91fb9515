"""The data version: one number that changes with every write to study data.

A single row holds it. Every audited save or delete (``hfs_ecrf.audit.AuditedModel``) adds one to
it with ``F() + 1`` in the same transaction as the write, so the new number becomes visible exactly
when the data it stands for does, and reading it is one query. Whoever keeps results computed from
the data (the analysis) compares the version its results were computed on with this one, and
listens to ``data_changed``, sent once the transaction has committed.

The counter row is locked from the first audited write of a transaction until it commits (writes
are serialised, which an eCRF's write rate allows). The bump comes *before* each row write, so an
audited write never waits for the counter while holding a row another writer may need; take
``select_for_update`` locks before a transaction's first audited write.
"""

from __future__ import annotations

from django.db import connections, models, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

SINGLETON = 1

# sent after the commit of a transaction that wrote study data (once per audited write)
data_changed = Signal()


class DataVersion(models.Model):
    """The single row counting the writes to study data. Not audited itself."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON)
    version = models.BigIntegerField(_("data version"), default=0)
    changed_at = models.DateTimeField(_("last change"), null=True)

    class Meta:
        app_label = "hfs_ecrf"
        verbose_name = _("data version")
        verbose_name_plural = _("data version")

    def __str__(self) -> str:
        return str(self.version)


def data_version_bump(*, using: str = "default") -> None:
    """Add one to the data version inside the caller's transaction; announce it on commit.

    Once per transaction is enough: no one sees the versions in between. So when this
    transaction already holds a bump that will commit with the caller's write (made at the
    caller's level or above, not in a savepoint since released or rolled back), nothing is done:
    a transaction that bumps first thing (an import) moves the version once for all its rows."""
    connection = connections[using]
    if _bump_pending(connection):
        return
    rows = DataVersion.objects.using(using).filter(pk=SINGLETON)
    if not rows.update(version=F("version") + 1, changed_at=Now()):
        DataVersion.objects.using(using).get_or_create(pk=SINGLETON)
        rows.update(version=F("version") + 1, changed_at=Now())
    announce = _Announce()
    transaction.on_commit(announce, using=using)
    if connection.in_atomic_block:
        connection._data_version_bump = (announce, len(connection.run_on_commit) - 1)


class _Announce:
    """The commit hook of one bump (its identity tells whether the bump is still pending)."""

    def __call__(self) -> None:
        data_changed.send(sender=DataVersion)


def _bump_pending(connection) -> bool:
    """Whether this transaction's last bump will commit with whatever is written now: its hook
    is still queued (a rolled-back savepoint drops it, the end of the transaction clears them
    all) and was queued at this savepoint level or an enclosing one."""
    pending = getattr(connection, "_data_version_bump", None)
    if pending is None or not connection.in_atomic_block:
        return False
    announce, index = pending
    hooks = connection.run_on_commit
    if index >= len(hooks) or hooks[index][1] is not announce:
        return False  # moved or gone: bump again (always correct)
    return hooks[index][0] <= set(connection.savepoint_ids)


def data_version_current(*, using: str = "default") -> int:
    """The current data version (0 before the first write). One query."""
    value = (
        DataVersion.objects.using(using).filter(pk=SINGLETON).values_list("version", flat=True)
    ).first()
    return value or 0


def data_version_stamp(*, using: str = "default") -> tuple[int, str]:
    """The current data version and the time of its change, read together (one query).

    The time tells apart two commits that reached the same number after one was rolled back
    (a test's transaction, an aborted import): keys built on it never mix their data."""
    row = (
        DataVersion.objects.using(using)
        .filter(pk=SINGLETON)
        .values_list("version", "changed_at")
        .first()
    )
    version, changed_at = row or (0, None)
    return version, changed_at.isoformat() if changed_at else ""
