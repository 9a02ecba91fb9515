"""Issue 10.6: the audit trail is enforced by PostgreSQL, as the application's own role.

The PostgreSQL pass connects as the app role (tests/pgcluster.py, tests/dbroles.py); the test
database was created and migrated by the owner. Each bypass is tried in its own savepoint.
"""

# ruff: noqa: S608 -- table names come from the models, the SQL is the attack being tested
from __future__ import annotations

import psycopg2
import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

from analysis.models import ExportLog
from hfs_ecrf.dbguard import protected_tables
from hfs_ecrf.models import SecurityEvent
from patients.models import Site
from tests import dbroles

pytestmark = pytest.mark.postgres_only


def _refused(sql: str, params: list | None = None) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_tests_run_as_a_role_that_owns_no_table(db):
    if not dbroles.OWNER_URL:
        pytest.skip("one PostgreSQL role (DATABASE_OWNER_URL not set)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
            "AND tableowner = current_user"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is False


@pytest.fixture
def app_role(db):
    if not dbroles.OWNER_URL:
        pytest.skip("one PostgreSQL role (DATABASE_OWNER_URL not set)")


def test_runtime_role_cannot_truncate_history_or_logs(app_role, site_a):
    tables = protected_tables()
    targets = sorted(tables["history"])[:3] + sorted(tables["append_only"])
    targets += [Site._meta.db_table]
    for table in targets:
        _refused(f"TRUNCATE {connection.ops.quote_name(table)} CASCADE")
    assert Site.objects.filter(pk=site_a.pk).exists()
    assert site_a.history.count() == 1


def test_runtime_role_cannot_disable_triggers(app_role, site_a):
    for table in (Site._meta.db_table, Site.history.model._meta.db_table):
        _refused(f"ALTER TABLE {connection.ops.quote_name(table)} DISABLE TRIGGER ALL")


def test_runtime_role_cannot_change_history_or_logs(app_role, alice, site_a):
    SecurityEvent.objects.create(kind="login", username="alice")
    ExportLog.objects.create(user=alice, export_format="csv", rows=1)
    history = connection.ops.quote_name(Site.history.model._meta.db_table)
    _refused(f"DELETE FROM {connection.ops.quote_name(SecurityEvent._meta.db_table)}")
    _refused(f"UPDATE {connection.ops.quote_name(SecurityEvent._meta.db_table)} SET detail = 'x'")
    _refused(f"DELETE FROM {connection.ops.quote_name(ExportLog._meta.db_table)}")
    _refused(f"UPDATE {history} SET history_change_reason = 'x'")
    _refused(f"DELETE FROM {history}")
    assert SecurityEvent.objects.filter(username="alice", kind="login").exists()
    assert ExportLog.objects.filter(user=alice).count() == 1


def test_writes_that_skip_the_audited_save_are_refused_by_the_database(site_a):
    bypasses = [
        lambda: QuerySet(Site).filter(pk=site_a.pk).update(name="x"),
        lambda: Site.objects.filter(pk=site_a.pk)._raw_delete(connection.alias),
        lambda: connection.cursor().execute(
            f"UPDATE {Site._meta.db_table} SET name = 'x' WHERE id = %s", [site_a.pk]
        ),
        lambda: connection.cursor().execute(
            f"INSERT INTO {Site._meta.db_table} (code, name, is_demo) VALUES ('ZZ', 'z', false)"
        ),
    ]
    for bypass in bypasses:
        with pytest.raises(DatabaseError, match="audited save path"), transaction.atomic():
            bypass()
    site_a.refresh_from_db()
    assert site_a.name == "Site A"


def test_the_audited_save_path_still_writes_after_a_refused_bypass(alice, site_a):
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(Site).update(name="x")
    site_a.name = "Renamed"
    site_a.save_audited(user=alice, reason="rename")
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(Site).update(name="y")  # the flag is off again after the save
    site_a.refresh_from_db()
    assert site_a.name == "Renamed"
    assert site_a.history.latest().history_change_reason == "rename"
    alice.site_memberships.get().delete()  # a delete through the model is the audited path
    assert not alice.site_memberships.exists()


def test_every_audited_table_has_the_write_guard(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE '%%_audited_write'"
        )
        guarded = {row[0] for row in cursor.fetchall()}
    assert sorted(protected_tables()["study"] - guarded) == []


def test_history_stays_append_only_even_for_the_owner(site_a):
    table = Site.history.model._meta.db_table
    with dbroles.owner_cursor() as cursor, pytest.raises(psycopg2.Error, match="append-only"):
        cursor.execute(f'DELETE FROM "{table}"')
