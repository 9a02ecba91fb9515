"""Screening log, eligibility, enrolment, identity kept apart."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient, Screening
from tests import factories
from tests.conftest import login


def _screening_post(site, **overrides):
    data = {
        "site": site.pk,
        "screening_number": "S-100",
        "screened_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "inc_adult": "on",
        "inc_hfs_confirmed": "on",
        "inc_consent_able": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_an_eligible_person_goes_on_to_enrolment(alice, site_a):
    response = login(alice).post(reverse("patients:screening_new"), _screening_post(site_a))
    screening = Screening.objects.get()
    assert screening.outcome == Screening.Outcome.ELIGIBLE
    assert response["Location"] == reverse("patients:enrol", args=[screening.pk])
    assert screening.history.latest().history_user == alice


def test_a_screen_failure_keeps_every_reason(alice, site_a):
    login(alice).post(
        reverse("patients:screening_new"),
        _screening_post(site_a, inc_hfs_confirmed=None, exc_pregnancy="on", exc_prior_mvd="on"),
    )
    screening = Screening.objects.get()
    assert screening.outcome == Screening.Outcome.NOT_ELIGIBLE
    assert set(screening.failure_reasons.split(",")) == {
        "hfs_not_confirmed",
        "pregnancy",
        "prior_mvd",
    }


def test_a_person_who_declines_is_recorded_as_declined(alice, site_a):
    login(alice).post(reverse("patients:screening_new"), _screening_post(site_a, declined="on"))
    assert Screening.objects.get().outcome == Screening.Outcome.DECLINED


def test_a_duplicate_screening_number_is_refused_naming_the_field(alice, site_a):
    client = login(alice)
    client.post(reverse("patients:screening_new"), _screening_post(site_a))
    response = client.post(reverse("patients:screening_new"), _screening_post(site_a))
    assert response.status_code == 200
    assert "screening_number" in response.context["form"].errors
    assert Screening.objects.count() == 1


def test_the_same_screening_number_may_be_used_at_another_site(alice, bob, site_a, site_b):
    login(alice).post(reverse("patients:screening_new"), _screening_post(site_a))
    login(bob).post(reverse("patients:screening_new"), _screening_post(site_b))
    assert Screening.objects.count() == 2


def test_a_screening_date_in_the_future_is_refused(alice, site_a):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = login(alice).post(
        reverse("patients:screening_new"), _screening_post(site_a, screened_on=tomorrow)
    )
    assert "screened_on" in response.context["form"].errors
    assert not Screening.objects.exists()


def test_a_clinician_cannot_screen_at_another_site(alice, site_b):
    response = login(alice).post(reverse("patients:screening_new"), _screening_post(site_b))
    assert "site" in response.context["form"].errors
    assert not Screening.objects.exists()


def _enrol_post(**overrides):
    data = {
        "identity-full_name": "Karimova Dilnoza",
        "identity-date_of_birth": "1975-03-14",
        "identity-phone": "+998 90 123 45 67",
        "identity-medical_record_number": "MR-7781",
        "consent-consent_date": (timezone.localdate() - timedelta(days=2)).isoformat(),
        "consent-information_sheet_version": "2.1",
        "history-sex": "female",
        "history-disease_duration_months": "26",
        "history-affected_side": "left",
        "history-prior_botulinum_toxin": "on",
    }
    data.update(overrides)
    return data


def test_enrolment_creates_a_pseudonymous_patient(alice, site_a):
    screening = factories.screen(site_a, alice)
    response = login(alice).post(reverse("patients:enrol", args=[screening.pk]), _enrol_post())
    patient = Patient.objects.get()
    assert response["Location"] == patient.get_absolute_url()
    assert patient.study_id == "SMR-0001"
    assert patient.identity.full_name == "Karimova Dilnoza"
    assert patient.consent.taken_by == alice
    expected_age = factories.services.age_in_years(date(1975, 3, 14), patient.consent.consent_date)
    assert patient.age_at_consent == expected_age
    assert patient.medical_history.prior_botulinum_toxin is True


def test_study_ids_count_up_per_site_and_are_unique(alice, bob, site_a, site_b):
    ids = [factories.enrol(site_a, alice).study_id for _ in range(3)]
    ids.append(factories.enrol(site_b, bob).study_id)
    assert ids == ["SMR-0001", "SMR-0002", "SMR-0003", "TAS-0001"]


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"identity-date_of_birth": "2015-01-01"}, "date_of_birth"),
        ({"consent-consent_date": "2099-01-01"}, "consent_date"),
        ({"identity-full_name": ""}, "full_name"),
        ({"history-disease_duration_months": "-3"}, "disease_duration_months"),
        ({"history-affected_side": "up"}, "affected_side"),
    ],
)
def test_bad_enrolment_input_names_the_field_and_saves_nothing(alice, site_a, overrides, field):
    screening = factories.screen(site_a, alice)
    response = login(alice).post(
        reverse("patients:enrol", args=[screening.pk]), _enrol_post(**overrides)
    )
    assert response.status_code == 200
    all_errors = {}
    for name in ("identity", "consent", "history"):
        all_errors.update(response.context[name].errors)
    assert field in all_errors, all_errors
    assert not Patient.objects.exists()


def test_under_18_message_says_the_age(alice, site_a):
    screening = factories.screen(site_a, alice)
    born = timezone.localdate().replace(year=timezone.localdate().year - 17) - timedelta(days=30)
    response = login(alice).post(
        reverse("patients:enrol", args=[screening.pk]),
        _enrol_post(**{"identity-date_of_birth": born.isoformat()}),
    )
    message = " ".join(response.context["identity"].errors["date_of_birth"])
    assert "17" in message and "18" in message


def test_a_screen_failure_cannot_be_enrolled(alice, site_a):
    screening = factories.screen(site_a, alice, exc_pregnancy=True)
    response = login(alice).post(reverse("patients:enrol", args=[screening.pk]), _enrol_post())
    assert response.status_code == 200
    assert not Patient.objects.exists()


def test_a_person_is_enrolled_only_once(alice, site_a):
    patient = factories.enrol(site_a, alice)
    response = login(alice).post(
        reverse("patients:enrol", args=[patient.screening.pk]), _enrol_post()
    )
    assert response.status_code == 200
    assert Patient.objects.count() == 1


def test_identity_is_shown_to_the_sites_clinician_only(alice, mona, ivan, dana, site_a):
    patient = factories.enrol(site_a, alice, name="Secretova Zarina")
    url = patient.get_absolute_url()
    assert "Secretova Zarina" in login(alice).get(url).content.decode()
    for other in (mona, ivan, dana):
        body = login(other).get(url).content.decode()
        assert patient.study_id in body
        assert "Secretova Zarina" not in body


def test_another_sites_clinician_gets_404(alice, bob, site_a):
    patient = factories.enrol(site_a, alice)
    client = login(bob)
    for name in (
        "monitoring:patient_detail",
        "monitoring:patient_history",
        "randomisation:baseline_b12",
        "randomisation:randomise",
        "patients:withdraw",
    ):
        url = reverse(name, args=[patient.study_id])
        assert client.get(url).status_code == 404, name
    screening_url = reverse("patients:enrol", args=[patient.screening.pk])
    assert client.get(screening_url).status_code == 404


def test_monitor_and_investigator_cannot_enter_data(mona, ivan, alice, site_a):
    patient = factories.enrol(site_a, alice)
    for user in (mona, ivan):
        client = login(user)
        assert client.get(reverse("patients:screening_new")).status_code == 403
        assert client.get(reverse("patients:withdraw", args=[patient.study_id])).status_code == 403
        assert (
            client.post(reverse("randomisation:randomise", args=[patient.study_id])).status_code
            == 403
        )


def test_enrolment_is_in_the_audit_trail(alice, site_a):
    patient = factories.enrol(site_a, alice)
    for record in (patient, patient.identity, patient.consent, patient.medical_history):
        entry = record.history.latest()
        assert (entry.history_user, entry.history_change_reason) == (alice, "enrolment")
    response = login(alice).get(reverse("monitoring:patient_history", args=[patient.study_id]))
    assert "SMR-0001" in response.content.decode()
