"""The audit trail: who, when, old/new, reason; no bypass through bulk paths or raw SQL."""

from __future__ import annotations

import psycopg2
import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import translation

from hfs_ecrf.audit import AuditBypassError, AuditedModel, history_rows
from patients.models import Site
from tests import dbroles
from tests.conftest import login


def test_every_save_writes_who_when_and_reason(alice, site_a):
    site_a.name = "Renamed clinic"
    site_a.save_audited(user=alice, reason="typo in the name")
    latest = site_a.history.latest()
    assert latest.history_user == alice
    assert latest.history_change_reason == "typo in the name"
    assert latest.history_date.utcoffset().total_seconds() == 0  # stored in UTC
    with translation.override("en"):
        rows = history_rows(site_a)
        assert [(str(f), old, new) for f, old, new in rows[-1]["changes"]] == [
            ("name", "Site A", "Renamed clinic")
        ]


def test_a_change_made_through_a_request_records_the_user(dana, site_a):
    response = login(dana).post(
        reverse("admin:patients_site_change", args=[site_a.pk]),
        {"code": "SMR", "name": "New name", "reason_for_change": "renamed by the ministry"},
    )
    assert response.status_code == 302
    assert site_a.history.latest().history_user == dana


def test_an_admin_change_of_an_audited_record_needs_a_reason(dana, site_a):
    """Issue 10.5: the admin's change form has a required reason, kept in the history."""
    url = reverse("admin:patients_site_change", args=[site_a.pk])
    response = login(dana).post(url, {"code": "SMR", "name": "New name"})
    assert response.status_code == 200
    assert "reason_for_change" in response.context["adminform"].form.errors
    site_a.refresh_from_db()
    assert site_a.name == "Site A"
    response = login(dana).post(
        url, {"code": "SMR", "name": "New name", "reason_for_change": "renamed by the ministry"}
    )
    assert response.status_code == 302
    latest = site_a.history.latest()
    assert (latest.name, latest.history_change_reason) == ("New name", "renamed by the ministry")


@pytest.mark.parametrize(
    "bypass",
    [
        lambda: Site.objects.all().update(name="x"),
        lambda: Site.objects.bulk_update(list(Site.objects.all()), ["name"]),
        lambda: Site.objects.bulk_create([Site(code="ZZ", name="z")]),
        lambda: Site.objects.all().delete(),
        lambda: Site._base_manager.all().update(name="x"),
    ],
    ids=["update", "bulk_update", "bulk_create", "delete", "base_manager_update"],
)
def test_audited_models_refuse_bulk_paths(site_a, bypass):
    with pytest.raises(AuditBypassError):
        bypass()
    site_a.refresh_from_db()
    assert site_a.name == "Site A"


def _history_models():
    return [
        m
        for m in apps.get_models()
        if m.__name__.startswith("Historical") and hasattr(m, "history_change_reason")
    ]


def _audited_models():
    return [
        m
        for m in apps.get_models()
        if issubclass(m, AuditedModel) and not m.__name__.startswith("Historical")
    ]


def test_every_history_model_is_known():
    assert {m._meta.label for m in _history_models()} >= {
        "patients.HistoricalSite",
        "patients.HistoricalSiteMembership",
    }
    audited = _audited_models()
    assert len(audited) >= 20  # sites, patients, allocation, visits, forms, records
    missing = []
    for model in audited:
        history = getattr(model, "history", None)
        history_model = getattr(history, "model", None)
        if history_model is None or history_model not in _history_models():
            missing.append(model._meta.label)
    assert missing == [], f"audited models without a history model: {missing}"


@pytest.mark.postgres_only
def test_every_audited_models_history_table_has_its_append_only_trigger(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal"
        )
        triggers = set(cursor.fetchall())
    unprotected = [
        model._meta.label
        for model in _audited_models()
        if (
            model.history.model._meta.db_table,
            f"{model.history.model._meta.db_table}_append_only",
        )
        not in triggers
    ]
    assert unprotected == [], f"history tables without the append-only trigger: {unprotected}"


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET history_change_reason = 'x'", "DELETE FROM {t}"]
)
def test_postgres_rejects_changes_to_any_history_table(site_a, statement):
    # As the tables' owner (who could otherwise do anything): the trigger refuses. The app's
    # role is refused even earlier, by privileges (tests/hfs_ecrf/test_database_roles.py).
    with dbroles.owner_cursor() as cursor:
        for model in _history_models():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute("SAVEPOINT attempt")
            with pytest.raises(psycopg2.Error, match="append-only"):
                cursor.execute(statement.format(t=table))
            cursor.execute("ROLLBACK TO SAVEPOINT attempt")
    assert site_a.history.count() == 1


def test_admin_history_view_offers_no_revert(dana, site_a):
    history_id = site_a.history.latest().history_id
    client = login(dana)
    url = reverse("admin:patients_site_simple_history", args=[site_a.pk, history_id])
    assert client.get(url).status_code == 200  # looking is fine
    assert client.post(url, {"code": "XX", "name": "Reverted"}).status_code == 403
    site_a.refresh_from_db()
    assert site_a.name == "Site A"


def test_admin_cannot_delete_audited_records(dana, site_a):
    response = login(dana).post(
        reverse("admin:patients_site_delete", args=[site_a.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Site.objects.filter(pk=site_a.pk).exists()
