"""Issue 11 point 6: the analysis results at the database lock are stored as the final results
(dataset hash, lock time); the dashboards say so while the lock holds; results computed after an
unlock say that they supersede them; the final results are never pruned."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from analysis import services as analysis_services
from analysis.dataset import build_dataset
from analysis.models import AnalysisResult, FinalResults
from analysis.services import RESULTS_KEPT, results_refresh
from demo.seed import seed_accounts, seed_cohort
from hfs_ecrf.data_version import data_version_current
from hfs_ecrf.hooks import WriteRefused
from monitoring import services as monitoring_services
from monitoring.models import StudyLock
from tests.conftest import login
from tests.factories import change_a_completed_form

PAGES = ("primary", "secondary", "correlations", "regression", "mixed", "subgroups", "safety")


@pytest.fixture
def cohort(db):
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=10, seed=5, sites=sites)
    return sites


def _user(name: str) -> User:
    return User.objects.get(username=name)


def _lock(reason: str = "final analysis") -> StudyLock:
    """The data manager locks the database through the web page (with the override)."""
    response = login(_user("datamanager")).post(
        reverse("monitoring:study_lock"), {"reason": reason, "override": "on"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return StudyLock.objects.get(unlocked_at__isnull=True)


def _unlock(reason: str = "correction requested by the sponsor") -> StudyLock:
    response = login(_user("datamanager")).post(
        reverse("monitoring:study_lock"), {"reason": reason}
    )
    assert response.status_code == 302
    return StudyLock.objects.get(unlock_reason=reason)


def _en(client):
    client.cookies["django_language"] = "en"
    return client


def _pages(client) -> list[str]:
    urls = [reverse("analysis:overview")] + [reverse("analysis:page", args=[p]) for p in PAGES]
    out = []
    for url in urls:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, url
        out.append(response.content.decode())
    return out


def _csv_header(client, table: str = "primary") -> str:
    response = client.get(reverse("analysis:table", args=[table]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return next(csv.reader(io.StringIO(response.content.decode())))[0]


def _local(moment) -> str:
    """Local time with the zone's name, as the pages show it."""
    from django.utils import timezone

    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def test_the_lock_stores_the_final_results_with_the_dataset_hash_and_the_lock_time(cohort):
    before = results_refresh()  # the results of the data as they will be locked
    sha = build_dataset().sha256()
    lock = _lock()
    final = FinalResults.objects.get(lock=lock)
    # linked at once inside the locking request: the stored results are of exactly these data
    assert final.result_id == before.pk
    assert final.dataset_sha256 == sha == before.dataset_sha256
    assert final.data_version == data_version_current()
    assert final.lock.locked_at == lock.locked_at and final.lock.reason == "final analysis"
    assert final.lock.locked_by.username == "datamanager"
    # the background computation after the lock's own write carries them over, still final
    assert results_refresh().pk == before.pk
    assert FinalResults.objects.get(lock=lock).result_id == before.pk
    # under the lock nothing changes
    with pytest.raises(WriteRefused):
        change_a_completed_form()


def test_results_stored_before_other_data_are_not_final_the_worker_computes_them(cohort):
    old = results_refresh()
    change_a_completed_form()  # the stored results are of older data
    lock = _lock()
    final = FinalResults.objects.get(lock=lock)
    assert final.result is None and final.dataset_sha256 == build_dataset().sha256()
    assert final.dataset_sha256 != old.dataset_sha256

    client = _en(login(_user("investigator")))
    body = client.get(reverse("analysis:overview"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-kind="final_pending"' in body
    assert "its final results are being computed" in body
    doc = client.get(reverse("analysis:results_json")).json()
    assert doc["final"] is False and doc["database_locked_at"] == lock.locked_at.isoformat()

    computed = results_refresh()  # what the background task runs
    assert computed.pk != old.pk
    final.refresh_from_db()
    assert final.result_id == computed.pk
    assert computed.dataset_sha256 == final.dataset_sha256
    assert computed.document["dataset_sha256"] == final.dataset_sha256


@pytest.mark.django_db(transaction=True)
def test_the_lock_queues_the_computation_and_the_worker_stores_the_final_results():
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=4, seed=5, sites=sites)
    lock = monitoring_services.study_lock(user=_user("datamanager"), reason="final", override=True)
    assert FinalResults.objects.get(lock=lock).result is None
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    final = FinalResults.objects.get(lock=lock)
    assert final.result is not None
    assert final.result.dataset_sha256 == final.dataset_sha256 == build_dataset().sha256()


def test_every_analysis_page_the_json_and_the_csv_say_final_while_the_lock_holds(cohort):
    client = _en(login(_user("investigator")))
    stored = results_refresh()
    for body in _pages(client):
        assert "Final results" not in body
    assert client.get(reverse("analysis:results_json")).json()["final"] is False

    lock = _lock()
    final = FinalResults.objects.get(lock=lock)
    expected = f"Final results, database locked at {_local(lock.locked_at)}"
    for body in _pages(client):
        assert 'data-kind="final"' in body
        assert expected in body
        assert f"data version {final.data_version}" in body
        assert f"dataset SHA-256 {stored.dataset_sha256}" in body
        assert "final analysis" in body  # the reason for the lock
    doc = client.get(reverse("analysis:results_json")).json()
    assert doc["final"] is True
    assert doc["database_locked_at"] == lock.locked_at.isoformat()
    assert doc["final_results"]["dataset_sha256"] == stored.dataset_sha256
    assert doc["final_results"]["locked_by"] == "datamanager"
    assert doc["final_results"]["lock_reason"] == "final analysis"
    assert doc["results_note"].startswith("Final results, database locked at")
    assert doc["newer_data_being_analysed"] is False
    header = _csv_header(client)
    assert "Final results, database locked at" in header and stored.dataset_sha256 in header

    # in Russian too
    ru = login(_user("investigator")).get(reverse("analysis:overview"), HTTP_ACCEPT_LANGUAGE="ru")
    assert "Окончательные результаты, база данных заблокирована" in ru.content.decode()


def test_unlock_needs_a_reason_and_results_after_it_supersede_the_final_ones(cohort):
    final_result = results_refresh()
    lock = _lock()
    # no reason: refused by the page and the service, nothing unlocked
    page = login(_user("datamanager")).post(reverse("monitoring:study_lock"), {"reason": " "})
    assert page.status_code == 200
    with pytest.raises(Exception, match="reason"):
        monitoring_services.study_unlock(user=_user("datamanager"), reason="  ")
    assert StudyLock.objects.get(pk=lock.pk).unlocked_at is None

    unlocked = _unlock()
    history = unlocked.history.first()
    assert history.history_change_reason == (
        "database unlocked: correction requested by the sponsor"
    )
    assert history.history_user.username == "datamanager"

    client = _en(login(_user("investigator")))
    # no new results yet: the page shows the final results and says the lock is lifted
    body = client.get(reverse("analysis:overview"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-kind="final_unlocked"' in body
    assert f"The database was unlocked at {_local(unlocked.unlocked_at)}" in body
    assert client.get(reverse("analysis:results_json")).json()["final"] is False

    change_a_completed_form()
    after = results_refresh()
    assert after.pk != final_result.pk and after.after_unlock_id == lock.pk
    expected = f"Computed after the database was unlocked at {_local(unlocked.unlocked_at)}"
    for body in _pages(client):
        assert 'data-kind="after_unlock"' in body and expected in body
        assert (
            f"final results of the database lock at {_local(lock.locked_at)} are superseded" in body
        )
        assert "Final results, database locked" not in body
    doc = client.get(reverse("analysis:results_json")).json()
    assert doc["final"] is False and doc["database_locked_at"] is None
    assert doc["after_unlock"] == {
        "unlocked_at": unlocked.unlocked_at.isoformat(),
        "unlocked_by": "datamanager",
        "unlock_reason": "correction requested by the sponsor",
        "final_results_of_lock_at": lock.locked_at.isoformat(),
        "final_results_superseded": True,
    }
    assert "Computed after the database was unlocked" in _csv_header(client)
    ru = login(_user("investigator")).get(reverse("analysis:overview"), HTTP_ACCEPT_LANGUAGE="ru")
    assert "Вычислены после разблокировки базы данных" in ru.content.decode()
    # the final results stay stored, of the locked data
    final = FinalResults.objects.get(lock=lock)
    assert final.result_id == final_result.pk
    assert final.result.dataset_sha256 == final.dataset_sha256 != after.dataset_sha256


def test_after_an_unlock_results_of_unchanged_data_are_new_not_the_final_ones_carried_over(
    cohort,
):
    final_result = results_refresh()
    lock = _lock()
    final_version = FinalResults.objects.get(lock=lock).data_version
    _unlock()
    after = results_refresh()  # same data, but after the unlock: new results, saying so
    assert after.pk != final_result.pk and after.after_unlock_id == lock.pk
    assert after.dataset_sha256 == final_result.dataset_sha256
    final_result.refresh_from_db()
    assert final_result.data_version <= final_version  # the final row keeps its version


def test_the_final_results_survive_the_pruning_of_old_results(cohort, monkeypatch):
    assert RESULTS_KEPT == 5
    monkeypatch.setattr(analysis_services, "RESULTS_KEPT", 1)  # fewer computations to prune
    results_refresh()
    lock = _lock()
    final = FinalResults.objects.get(lock=lock)
    _unlock()
    computed = []
    for _ in range(3):
        change_a_completed_form()
        computed.append(results_refresh().pk)
    # the latest two are kept, the older ones pruned…
    assert not AnalysisResult.objects.filter(pk=computed[0]).exists()
    assert set(
        AnalysisResult.objects.filter(final_of__isnull=True).values_list("pk", flat=True)
    ) == set(computed[1:])
    # …but not the final results, older than all of them
    assert AnalysisResult.objects.filter(pk=final.result_id).exists()
    assert AnalysisResult.objects.count() == 3


def test_an_unlock_before_the_worker_ran_computes_the_final_results_first(cohort):
    change_a_completed_form()
    lock = _lock()
    sha_at_lock = FinalResults.objects.get(lock=lock).dataset_sha256
    assert not AnalysisResult.objects.exists()
    unlocked = _unlock()
    final = FinalResults.objects.get(lock=unlocked)
    assert final.result is not None and final.result.dataset_sha256 == sha_at_lock
    change_a_completed_form()
    after = results_refresh()
    assert after.dataset_sha256 != sha_at_lock and after.after_unlock_id == lock.pk


def test_a_failure_of_the_final_computation_does_not_block_the_unlock(cohort, monkeypatch):
    lock = _lock()

    def broken():
        raise RuntimeError("no memory")

    monkeypatch.setattr(analysis_services, "results_refresh", broken)
    _unlock()
    assert StudyLock.objects.get(pk=lock.pk).unlocked_at is not None
    assert FinalResults.objects.get(lock=lock).result is None
