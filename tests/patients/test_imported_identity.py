"""Issue 10.7: a patient imported without identity data works for clinicians."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Consent, Identity, MedicalHistory
from patients.services import patient_import
from tests.conftest import login, post_form


@pytest.fixture
def imported(site_a, dana):
    return patient_import(
        site=site_a,
        study_id="SMR-0042",
        age=51,
        consent=Consent(
            consent_date=timezone.localdate() - timedelta(days=30),
            information_sheet_version="2.1",
        ),
        history=MedicalHistory(sex="female", disease_duration_months=12, affected_side="left"),
        user=dana,
        file_name="bundle.zip",
    )


def test_clinician_sees_identity_not_recorded_and_can_add_it(alice, mona, imported):
    url = reverse("monitoring:patient_detail", args=[imported.study_id])
    response = login(alice).get(url)
    assert response.status_code == 200
    assert 'data-testid="identity-missing"' in response.content.decode()
    assert 'data-testid="identity-missing"' not in login(mona).get(url).content.decode()

    add = reverse("patients:identity_add", args=[imported.study_id])
    assert login(mona).get(add).status_code == 403
    data = {
        "full_name": "Karimova Dilnoza",
        "date_of_birth": "0001-01-01",
        "phone": "+998 90 111 22 33",
        "medical_record_number": "MR-42",
    }
    response = post_form(login(alice), add, data)
    assert "date_of_birth" in response.context["form"].errors  # born before 1900
    assert not Identity.objects.filter(patient=imported).exists()
    data["date_of_birth"] = "1974-03-02"
    assert post_form(login(alice), add, data).status_code == 302
    identity = Identity.objects.get(patient=imported)
    assert identity.history.latest().history_user.username == "alice"
    assert "Karimova Dilnoza" in login(alice).get(url).content.decode()
    assert login(alice).get(add).status_code == 302  # already recorded


def test_another_sites_clinician_cannot_add_identity(bob, imported):
    add = reverse("patients:identity_add", args=[imported.study_id])
    assert login(bob).get(add).status_code == 404
