"""The patient list and the record status grid: one page of rows, searched and filtered in SQL,
with a query count that does not grow with the number of patients (issue 12, point 2)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Visit
from assessments.selectors import (
    patient_progress,
    patients_with_visits,
    progress_status_q,
    visit_grid,
    visits_by_patient,
)
from assessments.services import visit_save
from monitoring import services as monitoring_services
from monitoring.models import DataQuery
from patients import services as patient_services
from patients.models import Allocation, Patient, Withdrawal
from tests import factories
from tests.conftest import login

LISTS = ["monitoring:patient_list", "assessments:status"]


@pytest.fixture(autouse=True)
def english(settings):
    """The texts below are the English originals (the study's default language is Russian)."""
    settings.LANGUAGE_CODE = "en"


def listed(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'data-study-id="([^"]+)"', response.content.decode())


def _get(client, url_name: str, **params):
    return client.get(reverse(url_name), params)


# --- cost and pages ----------------------------------------------------------------------------


def _page_queries(client, url_name: str, **params) -> tuple[int, list[str], list[dict]]:
    with CaptureQueriesContext(connection) as captured:
        response = _get(client, url_name, **params)
    return len(captured), listed(response), captured.captured_queries


def _in_list_sizes(queries: list[dict], table: str) -> list[int]:
    """How many patient ids each query on ``table`` asked for (``"patient_id" IN (…)``)."""
    sizes = []
    for q in queries:
        match = re.search(rf'FROM "{table}" .*?"patient_id" IN \(([^)]*)\)', q["sql"])
        if match:
            sizes.append(len(match.group(1).split(",")))
    return sizes


def test_lists_load_one_page_and_keep_a_flat_query_count(
    alice, mona, site_a, django_assert_max_num_queries
):
    for _ in range(10):
        factories.enrol(site_a, alice)
    client = login(mona)
    client.get(reverse("home"))  # warm the session
    at_10 = {name: _page_queries(client, name)[0] for name in LISTS}
    at_10["patients:screening_list"] = _page_queries(client, "patients:screening_list")[0]
    for _ in range(190):
        factories.enrol(site_a, alice)
    monitoring_services.query_raise(
        patient=Patient.objects.order_by("study_id").first(), user=mona, text="check consent"
    )
    for name in LISTS:
        count, ids, queries = _page_queries(client, name)
        assert count == at_10[name], name
        assert len(ids) == 50 and ids == sorted(ids), name
        # visits and open-query counts are read for the page's 50 patients only
        assert _in_list_sizes(queries, "assessments_visit") == [50], name
        assert set(_in_list_sizes(queries, "monitoring_dataquery")) == {50}, name
        body = _get(client, name).content.decode()
        assert "1–50 of 200" in body and "Page 1 of 4" in body
    count, _, _ = _page_queries(client, "patients:screening_list")
    assert count == at_10["patients:screening_list"]
    screening_body = _get(client, "patients:screening_list").content.decode()
    assert screening_body.count('data-testid="screening-row"') == 50
    with django_assert_max_num_queries(11):
        _get(client, "monitoring:patient_list", status="enrolled", page="3")


def test_page_links_keep_the_filters_and_stale_page_numbers_land_on_a_real_page(alice, site_a):
    patients = [factories.enrol(site_a, alice) for _ in range(55)]
    client = login(alice)
    for name in LISTS:
        first = _get(client, name, status="enrolled")
        assert 'href="?status=enrolled&amp;page=2"' in first.content.decode()
        second = listed(_get(client, name, status="enrolled", page="2"))
        assert second == [p.study_id for p in patients[50:]]
        assert listed(_get(client, name, page="99")) == second  # past the end: the last page
        assert listed(_get(client, name, page="abc")) == listed(first)  # not a number: page 1


# --- filters -----------------------------------------------------------------------------------


@pytest.fixture
def cohort(alice, bob, mona, site_a, site_b):
    """One patient per status and visit state, at two sites; one with an open query."""
    factories.allocation_list(["SMR", "TAS"], per_stratum=6)
    enrolled = factories.enrol(site_a, alice)
    randomised = factories.randomised(site_a, alice)
    late = randomised.allocation.randomised_on + timedelta(days=40)  # window 28 ± 4
    visit_save(
        visit=Visit(patient=randomised, code="V1", visit_date=late, status=Visit.Status.DONE),
        user=alice,
        confirmed=True,
    )
    completed = factories.randomised(site_a, alice)
    factories.visit(completed, alice, "V3")
    missed = factories.randomised(site_a, alice)
    visit = Visit(patient=missed, code="V2", status=Visit.Status.MISSED, missed_reason="away")
    visit_save(visit=visit, user=alice)
    withdrawn = factories.randomised(site_b, bob)
    patient_services.patient_withdraw(
        withdrawal=Withdrawal(
            patient=withdrawn,
            withdrawn_on=withdrawn.allocation.randomised_on,
            reason="lost_to_follow_up",
        ),
        user=bob,
    )
    monitoring_services.query_raise(patient=enrolled, user=mona, text="check consent")
    return {
        "enrolled": enrolled,
        "randomised": randomised,
        "completed": completed,
        "missed": missed,
        "withdrawn": withdrawn,
    }


def ids(*patients) -> list[str]:
    return sorted(p.study_id for p in patients)


PROGRESS_STATUSES = ("withdrawn", "completed", "randomised", "enrolled")  # patient_progress's


def _sql_statuses(patients) -> dict[str, list[str]]:
    """Study ID -> the statuses whose SQL conditions (``progress_status_q``) select the patient."""
    found: dict[str, list[str]] = {p.study_id: [] for p in patients}
    for status in PROGRESS_STATUSES:
        for patient in patients.filter(progress_status_q(status)):
            found[patient.study_id].append(status)
    return found


def test_the_sql_status_is_the_status_of_patient_progress(cohort, dana):
    patients = patients_with_visits(dana)
    sql = _sql_statuses(patients)
    statuses = {p.study_id: (sql[p.study_id], patient_progress(p).status) for p in patients}
    assert len(statuses) == 5
    assert all(found == [python] for found, python in statuses.values()), statuses
    assert sorted(python for _, python in statuses.values()) == [
        "completed",
        "enrolled",
        "randomised",
        "randomised",
        "withdrawn",
    ]


def test_list_visits_read_as_rows_give_what_the_prefetched_visits_give(cohort, dana):
    """The list pages read visits as plain rows (visits_by_patient): the same visits in the
    same order, the same progress and the same grid as from the prefetched model instances."""
    patients = list(patients_with_visits(dana))
    rows = visits_by_patient([p.pk for p in patients])
    assert sum(len(v) for v in rows.values()) > len(patients)
    for patient in patients:
        prefetched = list(patient.visits.all())
        assert [(v.pk, v.code, v.status, v.out_of_window) for v in prefetched] == [
            (v.pk, v.code, v.status, v.out_of_window) for v in rows[patient.pk]
        ]
        assert patient_progress(patient, rows[patient.pk]) == patient_progress(patient)

    def plain(grid):
        return [
            [(c["spec"].code, c["visit"] and c["visit"].pk, c["forms"]) for c in row["cells"]]
            for row in grid
        ]

    assert plain(visit_grid(patients, rows)) == plain(visit_grid(patients))


@pytest.mark.parametrize("status", ["enrolled", "randomised", "completed", "withdrawn"])
def test_the_status_filter_selects_what_the_sql_status_says(status, cohort, dana):
    """The filter's plain conditions (no CASE over every patient) pick exactly the patients
    whose ``patient_progress`` status is ``status``."""
    expected = sorted(
        p.study_id for p in patients_with_visits(dana) if patient_progress(p).status == status
    )
    assert expected
    found = patients_with_visits(dana).filter(progress_status_q(status))
    assert sorted(p.study_id for p in found) == expected


@pytest.mark.parametrize("url_name", LISTS)
def test_each_status_filter_lists_exactly_its_patients(url_name, cohort, dana):
    client = login(dana)
    c = cohort
    expected = {
        "enrolled": ids(c["enrolled"]),
        "randomised": ids(c["randomised"], c["missed"]),
        "completed": ids(c["completed"]),
        "withdrawn": ids(c["withdrawn"]),
    }
    for status, study_ids in expected.items():
        assert listed(_get(client, url_name, status=status)) == study_ids, status


@pytest.mark.parametrize("url_name", LISTS)
def test_search_site_and_arm_filters(url_name, cohort, dana):
    client = login(dana)
    everyone = ids(*cohort.values())
    assert listed(_get(client, url_name)) == everyone
    target = cohort["completed"].study_id
    assert listed(_get(client, url_name, q=target.lower())) == [target]
    assert listed(_get(client, url_name, q="SMR-")) == ids(
        cohort["enrolled"], cohort["randomised"], cohort["completed"], cohort["missed"]
    )
    assert listed(_get(client, url_name, site="TAS")) == ids(cohort["withdrawn"])
    for arm in ("standard", "b12"):
        in_arm = sorted(
            Allocation.objects.filter(arm=arm).values_list("patient__study_id", flat=True)
        )
        assert listed(_get(client, url_name, arm=arm)) == in_arm
    # filters combine
    assert listed(_get(client, url_name, site="SMR", status="withdrawn")) == []


@pytest.mark.parametrize("url_name", LISTS)
def test_a_role_blind_to_the_arm_can_neither_see_nor_filter_by_it(
    url_name, cohort, alice, settings
):
    settings.ARM_VISIBLE_TO_ROLES = ["data_manager"]
    client = login(alice)
    arm = cohort["randomised"].allocation.arm
    response = _get(client, url_name, arm=arm)
    assert 'name="arm"' not in response.content.decode()
    assert listed(response) == ids(
        cohort["enrolled"], cohort["randomised"], cohort["completed"], cohort["missed"]
    )


@pytest.mark.parametrize("url_name", LISTS)
def test_visit_state_filters(url_name, cohort, dana):
    client = login(dana)
    c = cohort
    assert listed(_get(client, url_name, visit="V1", visit_state="out_of_window")) == ids(
        c["randomised"]
    )
    assert listed(_get(client, url_name, visit_state="missed")) == ids(c["missed"])
    assert listed(_get(client, url_name, visit="V3", visit_state="done")) == ids(c["completed"])
    assert listed(_get(client, url_name, visit="V0", visit_state="not_started")) == ids(
        c["enrolled"]
    )
    assert listed(_get(client, url_name, visit="V1", visit_state="done")) == ids(c["randomised"])


@pytest.mark.parametrize("url_name", LISTS)
def test_open_queries_filter(url_name, cohort, mona, dana):
    # the consent query raised by Mona, and the automatic one of the out-of-window V1
    with_queries = ids(cohort["enrolled"], cohort["randomised"])
    unresolved = DataQuery.objects.filter(status__in=DataQuery.UNRESOLVED)
    assert sorted({q.patient.study_id for q in unresolved}) == with_queries
    assert listed(_get(login(dana), url_name, open_queries="on")) == with_queries
    for query in unresolved.filter(patient=cohort["randomised"]):
        monitoring_services.query_close(query=query, user=mona, text="accepted")
    assert listed(_get(login(dana), url_name, open_queries="on")) == ids(cohort["enrolled"])
    body = _get(login(mona), url_name).content.decode()
    assert 'name="open_queries"' in body


@pytest.mark.parametrize("url_name", LISTS)
@pytest.mark.parametrize(
    ("params", "field", "said"),
    [
        ({"status": "lost"}, "Status", ["“lost”", "enrolled, randomised, withdrawn, completed"]),
        ({"site": "XYZ"}, "Site", ["“XYZ”", "SMR"]),
        ({"visit": "V9", "visit_state": "done"}, "Visit", ["“V9”", "V0, V1, V2, V3"]),
        ({"visit_state": "late"}, "Visit state", ["“late”", "not_started, expected"]),
        ({"visit_state": "not_started"}, "Visit", ["has not started", "V0, V1, V2, V3"]),
        ({"arm": "placebo"}, "Arm", ["“placebo”", "standard, b12"]),
    ],
)
def test_an_invalid_filter_is_a_clear_error_and_lists_nobody(
    url_name, params, field, said, cohort, alice
):
    response = _get(login(alice), url_name, **params)
    assert response.status_code == 200
    assert listed(response) == []
    body = response.content.decode()
    errors = re.search(r'data-testid="filter-errors">(.*?)</div>', body, re.S).group(1)
    assert f"<li>{field}: " in errors
    for text in said:
        assert text in errors
