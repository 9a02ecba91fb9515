"""The patient list: what it shows, and a cost that does not grow with the number of patients."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients import services
from patients.models import Withdrawal
from randomisation import services as randomisation_services
from tests import factories
from tests.conftest import login


def _queries_for_list(user) -> int:
    client = login(user)
    client.get(reverse("home"))  # warm the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("monitoring:patient_list"))
    assert response.status_code == 200
    return len(captured)


def _add_patients(n, site, user):
    for i in range(n):
        patient = factories.ready_to_randomise(site, user)
        if i % 2 == 0:
            randomisation_services.patient_randomise(patient=patient, user=user)
        if i % 5 == 0:
            services.patient_withdraw(
                withdrawal=Withdrawal(
                    patient=patient,
                    withdrawn_on=patient.consent.consent_date,
                    reason="lost_to_follow_up",
                ),
                user=user,
            )


def test_query_count_is_the_same_at_10_and_200_patients(
    alice, site_a, django_assert_max_num_queries
):
    factories.allocation_list(["SMR"], per_stratum=200)
    _add_patients(10, site_a, alice)
    at_10 = _queries_for_list(alice)
    _add_patients(190, site_a, alice)
    at_200 = _queries_for_list(alice)
    assert at_200 == at_10
    client = login(alice)
    with django_assert_max_num_queries(15):
        client.get(reverse("monitoring:patient_list"))


def test_list_shows_status_arm_and_next_visit(alice, site_a):
    factories.allocation_list(["SMR"])
    enrolled = factories.enrol(site_a, alice)
    randomised = factories.ready_to_randomise(site_a, alice)
    allocation = randomisation_services.patient_randomise(patient=randomised, user=alice)
    body = login(alice).get(reverse("monitoring:patient_list")).content.decode()
    assert enrolled.study_id in body and randomised.study_id in body
    assert allocation.get_arm_display() in body
    assert "V0 · " in body  # next visit of the randomised patient


def test_the_arm_is_hidden_when_the_setting_says_so(alice, site_a, settings):
    settings.ARM_VISIBLE_TO_ROLES = ["data_manager"]
    factories.allocation_list(["SMR"])
    patient = factories.ready_to_randomise(site_a, alice)
    allocation = randomisation_services.patient_randomise(patient=patient, user=alice)
    body = login(alice).get(reverse("monitoring:patient_list")).content.decode()
    assert allocation.get_arm_display() not in body
    detail = login(alice).get(patient.get_absolute_url()).content.decode()
    assert 'data-testid="arm"' not in detail


def test_a_clinician_lists_only_own_site(alice, bob, site_a, site_b):
    mine = factories.enrol(site_a, alice)
    theirs = factories.enrol(site_b, bob)
    body = login(alice).get(reverse("monitoring:patient_list")).content.decode()
    assert mine.study_id in body
    assert theirs.study_id not in body
