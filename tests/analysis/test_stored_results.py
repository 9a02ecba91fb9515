"""Issue 12 point 1: results computed once per data version, stored in the database, computed in
the background (django-tasks); the dashboards and the JSON only read what is stored."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from analysis.dataset import build_dataset
from analysis.models import AnalysisResult, StoredFigure
from analysis.results import compute_results
from analysis.services import results_refresh
from analysis.tasks import results_refresh_task
from assessments.models import SpasmAssessment
from demo.seed import seed_accounts, seed_cohort
from hfs_ecrf.data_version import data_version_current
from patients.models import Allocation, Patient, Screening, Site
from randomisation import services as randomisation_services
from tests import factories
from tests.conftest import login
from tests.factories import change_a_completed_form

PAGES = ("overview", "primary", "secondary", "correlations", "mixed", "subgroups", "safety")


@pytest.fixture
def cohort(db):
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=10, seed=5, sites=sites)
    return sites


@pytest.fixture
def cohort_with_room(db):
    """The same cohort, its allocation list with room for 200 patients."""
    from tests import factories

    sites = seed_accounts("cohort-password-1")
    factories.allocation_list(list(sites), per_stratum=60)
    seed_cohort(patients=10, seed=5, sites=sites)
    return sites


def test_results_are_computed_once_per_data_version_and_stored(cohort):
    first = results_refresh()
    assert first.data_version == data_version_current()
    dataset = build_dataset()
    assert first.dataset_sha256 == dataset.sha256() == first.document["dataset_sha256"]
    direct = compute_results(dataset)
    assert first.document["primary"]["ancova"] == direct["primary"]["ancova"]
    assert first.duration_seconds > 0
    assert (
        first.figures.filter(language="en").count() == first.figures.filter(language="ru").count()
    )
    # the same version again: nothing computed, the stored row returned
    assert results_refresh().pk == first.pk and AnalysisResult.objects.count() == 1

    change_a_completed_form()
    assert data_version_current() > first.data_version
    second = results_refresh()
    assert second.pk != first.pk and second.data_version == data_version_current()
    assert second.dataset_sha256 != first.dataset_sha256
    assert second.document["dataset_sha256"] == build_dataset().sha256()


def test_a_write_that_leaves_the_dataset_as_it_was_carries_the_results_over(cohort):
    first = results_refresh()
    site = Site.objects.first()
    site.save_audited(user=None, reason="saved again, nothing changed")
    assert data_version_current() > first.data_version
    carried = results_refresh()
    assert carried.pk == first.pk and carried.computed_at == first.computed_at
    assert carried.data_version == data_version_current()


def test_the_dashboard_shows_stored_results_and_says_when_newer_data_are_being_analysed(
    cohort, ivan
):
    client = login(ivan)
    page = client.get(reverse("analysis:overview"))
    assert page.status_code == 200
    assert 'data-testid="results-computing"' in page.content.decode()  # none stored yet
    assert client.get(reverse("analysis:results_json")).status_code == 503

    stored = results_refresh()
    body = client.get(reverse("analysis:overview")).content.decode()
    assert (
        f"data version {stored.data_version}" in body
        or f"версии данных {stored.data_version}" in body
    )
    assert 'data-testid="results-stale"' not in body
    doc = client.get(reverse("analysis:results_json")).json()
    assert doc["data_version"] == stored.data_version
    assert doc["computed_at"] == stored.computed_at.isoformat()
    assert doc["newer_data_being_analysed"] is False
    assert doc["primary"] == stored.document["primary"]

    change_a_completed_form()
    body = client.get(reverse("analysis:overview")).content.decode()
    assert 'data-testid="results-stale"' in body  # the old results, marked
    assert f"data version {stored.data_version}" in body or str(stored.data_version) in body
    doc = client.get(reverse("analysis:results_json")).json()
    assert doc["data_version"] == stored.data_version
    assert doc["current_data_version"] == data_version_current() > stored.data_version
    assert doc["newer_data_being_analysed"] is True


def test_the_computing_page_is_translated(cohort, ivan):
    client = login(ivan)
    client.cookies["django_language"] = "en"
    en = client.get(reverse("analysis:overview"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    ru = login(ivan).get(reverse("analysis:overview"), HTTP_ACCEPT_LANGUAGE="ru")
    assert "The results are being computed" in en
    assert "Результаты вычисляются" in ru.content.decode()


def _tables_read(captured) -> set[str]:
    return {
        name
        for q in captured.captured_queries
        for name in re.findall(r'(?:FROM|JOIN|UPDATE|INTO)\s+"([a-z0-9_]+)"', q["sql"])
    }


# the tables a dataset is built from: a page that reads one of them computes
DATA_TABLES = {m._meta.db_table for m in (Patient, Screening, Allocation, SpasmAssessment)} | {
    "assessments_visit",
    "assessments_labpanel",
    "assessments_adverseevent",
}


def _page_queries(client) -> list[tuple[int, set[str]]]:
    out = []
    for url in [reverse("analysis:results_json")] + [
        reverse("analysis:page", args=[p]) for p in PAGES
    ]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        out.append((len(captured), _tables_read(captured)))
    return out


def test_a_dashboard_request_reads_stored_rows_only_flat_from_10_to_40_patients(
    cohort_with_room, ivan, django_assert_max_num_queries
):
    """Never computes: no table the dataset is built from is read, and the number of
    queries is the same with 10 and with 40 patients."""
    assert Patient.objects.count() <= 12  # the demo cohort of 10 (and its extras)
    results_refresh()
    client = login(ivan)
    client.get(reverse("home"))
    few = _page_queries(client)
    for _count, tables in few:
        assert not tables & DATA_TABLES, tables & DATA_TABLES
        assert {"analysis_analysisresult", "hfs_ecrf_dataversion"} <= tables
    seed_more(30)  # seed_cohort adds only to an empty database: a second batch by hand
    assert Patient.objects.count() >= 40
    results_refresh()
    many = _page_queries(client)
    assert [c for c, _t in many] == [c for c, _t in few]
    with django_assert_max_num_queries(15):
        client.get(reverse("analysis:page", args=["correlations"]))


def seed_more(n: int) -> None:
    staff = {
        s: User.objects.get(username=u) for s, u in (("SMR", "clinician_a"), ("TAS", "clinician_b"))
    }
    for i in range(n):
        site = Site.objects.get(code=("SMR", "TAS")[i % 2])
        patient = factories.ready_to_randomise(
            site, staff[site.code], b12=("250", "100")[i // 2 % 2]
        )
        randomisation_services.patient_randomise(patient=patient, user=staff[site.code])


@pytest.mark.django_db(transaction=True)
def test_committed_writes_queue_one_recomputation_that_the_worker_stores():
    """django-tasks' database backend: many commits, one waiting task; `db_worker` runs it."""
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=4, seed=5, sites=sites)
    tasks = DBTaskResult.objects.filter(task_path=results_refresh_task.module_path)
    assert tasks.filter(status=TaskResultStatus.READY).count() == 1  # debounced
    assert not AnalysisResult.objects.exists()  # nothing computed inside a write

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert tasks.get().status == TaskResultStatus.SUCCESSFUL
    stored = AnalysisResult.objects.get()
    assert stored.data_version == data_version_current()
    assert stored.dataset_sha256 == build_dataset().sha256()
    assert StoredFigure.objects.filter(result=stored).exists()

    change_a_completed_form()
    assert tasks.filter(status=TaskResultStatus.READY).count() == 1
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    latest = AnalysisResult.objects.first()
    assert latest.data_version == data_version_current() > stored.data_version


@pytest.mark.django_db(transaction=True)
def test_with_the_immediate_backend_a_commit_stores_the_results_of_its_version(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    seed_accounts("cohort-password-1")
    site = Site.objects.get(code="SMR")
    site.name = "Samarkand"
    site.save_audited(user=None, reason="renamed")
    assert AnalysisResult.objects.get().data_version == data_version_current()


def test_the_command_still_computes_directly_and_can_store(cohort, capsys):
    call_command("analysis_results", "--out", "-")
    assert not AnalysisResult.objects.exists()
    call_command("analysis_results", "--store")
    assert AnalysisResult.objects.get().data_version == data_version_current()
