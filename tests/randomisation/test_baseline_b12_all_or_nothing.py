"""Issue 10.4: the baseline B12 service validates everything first and saves all or nothing."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from assessments.models import LabPanel, Visit
from patients.models import Withdrawal
from patients.services import patient_withdraw
from tests import factories
from tests.conftest import login, post_form


def _b12(patient, value="250", **extra):
    return {
        "sample_date": patient.consent.consent_date.isoformat(),
        "b12_value": value,
        "b12_unit": "pmol/L",
        **extra,
    }


def test_baseline_b12_of_a_withdrawn_patient_is_a_clear_error(alice, site_a):
    patient = factories.enrol(site_a, alice)
    patient_withdraw(
        withdrawal=Withdrawal(
            patient=patient, withdrawn_on=timezone.localdate(), reason="lost_to_follow_up"
        ),
        user=alice,
    )
    url = reverse("randomisation:baseline_b12", args=[patient.study_id])
    response = post_form(login(alice), url, _b12(patient))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not LabPanel.objects.exists()
    assert not Visit.objects.filter(patient=patient).exists()


def test_an_unconfirmed_warning_saves_no_visit_and_hard_errors_show_with_it(alice, site_a):
    patient = factories.enrol(site_a, alice)
    url = reverse("randomisation:baseline_b12", args=[patient.study_id])
    client = login(alice)
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    # an unusual value (soft warning) together with a date in the future (hard error)
    response = post_form(client, url, _b12(patient, value="40", sample_date=future))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "sample_date" in errors  # the hard error is not hidden behind the warning
    assert not Visit.objects.filter(patient=patient).exists()
    assert not LabPanel.objects.exists()
    response = post_form(client, url, _b12(patient, value="40"))
    if response.status_code == 200:  # only a warning: still nothing saved until confirmed
        assert "confirm_warnings" in response.context["form"].errors
        assert not Visit.objects.filter(patient=patient).exists()


def test_a_reference_range_needs_low_below_high(alice, site_a):
    patient = factories.enrol(site_a, alice)
    url = reverse("randomisation:baseline_b12", args=[patient.study_id])
    response = post_form(login(alice), url, _b12(patient))
    assert response.status_code == 302
    panel = LabPanel.objects.get()
    panel.b12_ref_low, panel.b12_ref_high = 300, 200
    from django.core.exceptions import ValidationError

    try:
        panel.full_clean()
    except ValidationError as error:
        assert "b12_ref_high" in error.message_dict
    else:
        raise AssertionError("a reference range with low > high was accepted")


def test_a_date_of_birth_in_year_1_is_refused(alice, site_a):
    screening = factories.screen(site_a, alice)
    url = reverse("patients:enrol", args=[screening.pk])
    data = {
        "identity-full_name": "Old Person",
        "identity-date_of_birth": "0001-01-01",
        "identity-phone": "1",
        "identity-medical_record_number": "MR-1",
        "consent-consent_date": timezone.localdate().isoformat(),
        "consent-information_sheet_version": "2",
        "history-sex": "female",
        "history-disease_duration_months": "12",
        "history-affected_side": "left",
    }
    response = login(alice).post(url, data)
    assert response.status_code == 200
    assert "date_of_birth" in response.context["identity"].errors
