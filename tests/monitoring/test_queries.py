"""Data queries: lifecycle across roles and sites, automatic queries, audit, counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.services import crf_save
from monitoring import services
from monitoring.models import DataQuery, QueryMessage
from tests import factories
from tests.conftest import login
from tests.monitoring.conftest import complete_labs, lab_panel


def _raise(client, patient, text="Please check B12 against source", field="b12_value"):
    return client.post(
        reverse("monitoring:query_raise", args=[patient.study_id]),
        {"visit": "V0", "form_code": "labs", "field_name": field, "text": text},
    )


def test_full_lifecycle_across_two_roles_and_two_sites(alice, bob, mona, smr_patient):
    response = _raise(login(mona), smr_patient)
    assert response.status_code == 302
    query = DataQuery.objects.get(origin=DataQuery.Origin.MANUAL)
    assert (query.status, query.field_name, query.raised_by) == ("open", "b12_value", mona)

    # Bob (other site) neither sees nor answers it
    bob_client = login(bob)
    assert bob_client.get(reverse("monitoring:query", args=[query.pk])).status_code == 404
    assert (
        smr_patient.study_id not in bob_client.get(reverse("monitoring:queries")).content.decode()
    )
    assert (
        bob_client.post(
            reverse("monitoring:query", args=[query.pk]), {"action": "answer", "text": "x"}
        ).status_code
        == 404
    )

    # the monitor cannot answer for the site
    assert (
        login(mona)
        .post(reverse("monitoring:query", args=[query.pk]), {"action": "answer", "text": "x"})
        .status_code
        == 403
    )
    alice_client = login(alice)
    alice_client.post(
        reverse("monitoring:query", args=[query.pk]),
        {"action": "answer", "text": "Transcription error, corrected"},
    )
    query.refresh_from_db()
    assert query.status == "answered"
    # a clinician cannot close
    assert (
        alice_client.post(
            reverse("monitoring:query", args=[query.pk]), {"action": "close", "text": ""}
        ).status_code
        == 403
    )
    login(mona).post(reverse("monitoring:query", args=[query.pk]), {"action": "reopen", "text": ""})
    query.refresh_from_db()
    assert query.status == "answered"  # re-opening needs a message
    login(mona).post(
        reverse("monitoring:query", args=[query.pk]), {"action": "reopen", "text": "Unit too?"}
    )
    query.refresh_from_db()
    assert query.status == "open"
    services.query_answer(query=query, user=alice, text="Unit checked")
    login(mona).post(reverse("monitoring:query", args=[query.pk]), {"action": "close", "text": ""})
    query.refresh_from_db()
    assert (query.status, query.closed_by) == ("closed", mona)
    kinds = list(query.messages.values_list("kind", flat=True))
    assert kinds == ["raised", "answer", "reopen", "answer", "close"]
    # closed stays readable; every event is in the audit trail
    page = login(mona).get(reverse("monitoring:query", args=[query.pk]))
    assert "Transcription error" in page.content.decode()
    statuses = list(query.history.order_by("history_id").values_list("status", flat=True))
    assert statuses == ["open", "answered", "open", "answered", "closed"]
    assert QueryMessage.history.filter(query_id=query.pk).count() == 5


def test_clinicians_and_investigators_cannot_raise(alice, ivan, smr_patient):
    assert _raise(login(alice), smr_patient).status_code == 403
    assert _raise(login(ivan), smr_patient).status_code == 403
    assert not DataQuery.objects.exists()


def test_a_confirmed_soft_warning_raises_one_query_and_the_fix_closes_it(alice, smr_patient):
    panel = lab_panel(smr_patient)
    panel.b12_value = Decimal("1500")  # above the soft limit of 1100 pmol/L
    crf_save(form=panel, user=alice, confirmed=True)
    crf_save(form=lab_panel(smr_patient), user=alice, confirmed=True)
    queries = DataQuery.objects.filter(origin=DataQuery.Origin.SOFT_WARNING)
    assert queries.count() == 1  # not duplicated on re-save
    query = queries.get()
    assert (query.status, query.field_name, query.form_code) == ("open", "b12_value", "labs")
    panel = lab_panel(smr_patient)
    panel.b12_value = Decimal("500")
    crf_save(form=panel, user=alice)
    query.refresh_from_db()
    assert query.status == "closed" and query.closed_automatically
    assert query.messages.last().kind == QueryMessage.Kind.AUTO_CLOSE


def test_an_out_of_window_visit_raises_a_query_closed_when_the_date_is_fixed(alice, smr_patient):
    visit = factories.visit(smr_patient, alice, "V1", day=40)  # window 28 ± 4
    assert visit.out_of_window
    query = DataQuery.objects.get(origin=DataQuery.Origin.OUT_OF_WINDOW)
    assert query.visit == visit and query.status == "open"
    factories.visit(smr_patient, alice, "V1", day=40)
    assert DataQuery.objects.filter(origin=DataQuery.Origin.OUT_OF_WINDOW).count() == 1
    factories.visit(smr_patient, alice, "V1", day=28)
    query.refresh_from_db()
    assert query.status == "closed" and query.closed_automatically


def test_open_query_counts_show_on_list_visit_form_and_grid(alice, mona, smr_patient):
    complete_labs(smr_patient, alice)
    services.query_raise(
        patient=smr_patient,
        visit=lab_panel(smr_patient).visit,
        form_code="labs",
        field_name="b12_value",
        user=mona,
        text="check",
    )
    client = login(mona)
    listing = client.get(reverse("monitoring:patient_list")).content.decode()
    assert '<td data-testid="open-queries"><span class="badge text-bg-danger">1</span>' in listing
    visit_page = client.get(reverse("assessments:visit", args=[smr_patient.study_id, "V0"]))
    assert 'data-testid="visit-form-queries-labs"' in visit_page.content.decode()
    form_page = client.get(
        reverse("assessments:crf", args=[smr_patient.study_id, "V0", "labs"])
    ).content.decode()
    assert 'data-testid="field-queries-b12_value"' in form_page
    grid = client.get(reverse("assessments:status")).content.decode()
    assert 'data-testid="row-queries">1<' in grid


@pytest.mark.parametrize("n", [10, 200])
def test_patient_list_and_grid_keep_a_flat_query_count(
    n, alice, mona, site_a, django_assert_max_num_queries
):
    patients = [factories.enrol(site_a, alice) for _ in range(n)]
    for patient in patients[:3]:
        services.query_raise(patient=patient, user=mona, text="check consent")
    client = login(mona)
    client.get(reverse("home"))  # warm the session (the list itself would be kept: a new page)
    # no session write (hfs_ecrf/sessions.py); the grid's form states in one query, its open
    # queries per patient and per visit in one more
    with django_assert_max_num_queries(11):
        assert client.get(reverse("monitoring:patient_list")).status_code == 200
    with django_assert_max_num_queries(11):
        assert client.get(reverse("assessments:status")).status_code == 200
