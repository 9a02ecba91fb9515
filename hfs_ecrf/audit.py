"""The audit trail every model holding study data uses.

django-simple-history writes one history row per save or delete (who, when in UTC, every field,
the reason for change). Signal-based history cannot see ``QuerySet.update()``, bulk writes or
deletes, so audited models refuse those paths; on PostgreSQL a trigger also refuses any UPDATE or
DELETE of a history row, so the trail is append-only even to raw SQL.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models, router, transaction
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from hfs_ecrf.data_version import data_version_bump

BULK_WRITE_REFUSED = (
    "Audited records are written one by one so that each change is in the audit trail."
)


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


class AuditedModel(models.Model):
    """Base for every model that holds study data.

    Each save and delete also moves the data version on (``hfs_ecrf.data_version``), in the same
    transaction and before the row is written.
    """

    objects = AuditedManager()
    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True
        # Related-object access and Django internals use the guarded manager too.
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            data_version_bump(using=using)
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            data_version_bump(using=using)
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
                (field.verbose_name, None, _display(record, field))
                for name, field in fields.items()
                if getattr(record, field.attname, None) not in (None, "")
            ]
        else:
            changes = [
                (field.verbose_name, _display(previous, field), _display(record, field))
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


def _display(record: Any, field: models.Field) -> Any:
    value = getattr(record, field.attname, None)
    if field.choices and value not in (None, ""):
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value
