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

from django.db import models, transaction
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
    """Add one to the data version inside the caller's transaction; announce it on commit."""
    rows = DataVersion.objects.using(using).filter(pk=SINGLETON)
    if not rows.update(version=F("version") + 1, changed_at=Now()):
        DataVersion.objects.using(using).get_or_create(pk=SINGLETON)
        rows.update(version=F("version") + 1, changed_at=Now())
    transaction.on_commit(_announce, using=using)


def _announce() -> None:
    data_changed.send(sender=DataVersion)


def data_version_current(*, using: str = "default") -> int:
    """The current data version (0 before the first write). One query."""
    value = (
        DataVersion.objects.using(using).filter(pk=SINGLETON).values_list("version", flat=True)
    ).first()
    return value or 0
