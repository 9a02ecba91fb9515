"""In Chromium: screen, consent and history, baseline B12, randomise, see the arm;
another site's clinician cannot open the patient."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from demo.seed import seed_accounts
from patients.models import Patient
from tests import factories
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-test-password"


def test_clinician_enrols_and_randomises_a_patient(page, browser, live_server):
    sites = seed_accounts(PASSWORD)
    factories.allocation_list(list(sites))
    browser_login(page, "clinician_a", PASSWORD)
    page.get_by_test_id("lang-en").click()
    page.wait_for_load_state()
    today = timezone.localdate()

    page.goto(f"{page.base_url}/patients/screening/new/")
    page.fill("#id_screening_number", "S-201")
    page.fill("#id_screened_on", (today - timedelta(days=3)).isoformat())
    for box in ("#id_inc_adult", "#id_inc_hfs_confirmed", "#id_inc_consent_able"):
        page.check(box)
    page.click("#screening-form button[type=submit]")
    page.wait_for_url("**/enrol/")

    page.fill("#id_identity-full_name", "Rahimova Malika")
    page.fill("#id_identity-date_of_birth", "1969-07-21")
    page.fill("#id_consent-consent_date", (today - timedelta(days=2)).isoformat())
    page.fill("#id_consent-information_sheet_version", "2.1")
    page.check("#id_history-sex_0")
    page.fill("#id_history-disease_duration_months", "18")
    page.check("#id_history-affected_side_1")
    page.click("#enrol-form button[type=submit]")
    assert page.get_by_test_id("study-id").inner_text() == "SMR-0001"
    assert "Rahimova Malika" in page.content()

    page.get_by_test_id("enter-b12").click()
    page.fill("#id_sample_date", (today - timedelta(days=1)).isoformat())
    page.fill("#id_b12_value", "180")
    page.select_option("#id_b12_unit", "pg/mL")  # 180 pg/mL = 132.8 pmol/L, deficient
    page.click("#b12-form button[type=submit]")
    assert "132.8" in page.get_by_test_id("baseline-b12").inner_text()

    page.get_by_test_id("randomise").click()
    page.get_by_test_id("confirm-randomise").click()
    page.wait_for_load_state()
    patient = Patient.objects.get()
    arm_label = {"standard": "standard therapy", "b12": "standard therapy + vitamin B12"}
    assert page.get_by_test_id("arm").inner_text() == arm_label[patient.allocation.arm]
    assert patient.allocation.slot.b12_deficient is True

    other = browser.new_context()
    other_page = other.new_page()
    other_page.base_url = page.base_url
    browser_login(other_page, "clinician_b", PASSWORD)
    response = other_page.goto(f"{page.base_url}/patients/SMR-0001/")
    assert response.status == 404
    other.close()
