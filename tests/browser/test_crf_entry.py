"""In Chromium: a complete baseline and a week-12 visit, with a hard error fixed, a soft
warning confirmed, keyboard entry in a radio grid, and the expected scores displayed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assessments.instruments import rand36
from assessments.models import Hads, LabPanel, Rand36
from demo.seed import seed_accounts
from patients.models import Site
from tests import factories
from tests.assessments.test_scoring import VECTOR
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-test-password"


def _open(page, patient, code, form):
    page.goto(f"{page.base_url}/visits/{patient.study_id}/{code}/{form}/")


def _complete(page):
    page.get_by_test_id("save-complete").click()
    page.wait_for_load_state()


def _spasm(page, frequency, intensity="50"):
    page.fill("#id_vas_frequency", frequency)
    page.fill("#id_vas_intensity", intensity)
    page.check("#id_jankovic_severity_2")
    page.check("#id_jankovic_frequency_3")


def _radio(page, name, index):
    page.click(f"label[for=id_{name}_{index}]")


def test_clinician_enters_baseline_and_week_12(page):
    from django.contrib.auth.models import User

    seed_accounts(PASSWORD)
    alice = User.objects.get(username="clinician_a")
    factories.allocation_list(["SMR", "TAS"])
    patient = factories.randomised(Site.objects.get(code="SMR"), alice, days_ago=86)
    browser_login(page, "clinician_a", PASSWORD)
    page.get_by_test_id("lang-en").click()
    page.wait_for_load_state()

    # spasm: a hard error is shown, the typed values stay, then it is fixed
    _open(page, patient, "V0", "spasm")
    _spasm(page, "140")
    _complete(page)
    assert "100" in page.locator("#id_vas_frequency").evaluate(
        "el => el.closest('.mb-3').innerText"
    )
    assert page.input_value("#id_vas_intensity") == "50"
    page.fill("#id_vas_frequency", "70")
    _complete(page)
    assert page.get_by_test_id("score-jankovic").inner_text() == "5"

    # labs in pg/mL and µg/dL; a low B12 is a soft warning that must be confirmed
    _open(page, patient, "V0", "labs")
    page.fill("#id_sample_time", "08:15")
    page.fill("#id_b12_value", "140")
    page.select_option("#id_b12_unit", "pg/mL")
    page.fill("#id_cortisol_value", "14")
    page.select_option("#id_cortisol_unit", "µg/dL")
    page.fill("#id_dopamine_value", "40")
    page.select_option("#id_dopamine_unit", "pg/mL")
    page.fill("#id_reason_for_change", "full panel")
    _complete(page)
    assert page.locator("#id_confirm_warnings").count() == 1
    page.check("#id_confirm_warnings")
    _complete(page)
    assert page.get_by_test_id("score-b12").inner_text() == "103.292"
    assert page.get_by_test_id("score-cortisol").inner_text() == "386.260"
    assert (
        "confirmed" in LabPanel.objects.get(visit__code="V0").history.latest().history_change_reason
    )

    # RAND-36: the published test vector
    _open(page, patient, "V0", "rand36")
    for item, answer in enumerate(VECTOR, start=1):
        _radio(page, f"q{item:02d}", answer - 1)
    _complete(page)
    pcs, mcs = rand36.composites(dict(enumerate(VECTOR, start=1)))
    assert page.get_by_test_id("score-pcs").inner_text() == f"{pcs:.2f}" == "44.40"
    assert page.get_by_test_id("score-mcs").inner_text() == f"{mcs:.2f}" == "32.31"
    assert Rand36.objects.get().status == "complete"

    # HADS by keyboard: focus the first answer of item 1, arrow keys move along the grid
    _open(page, patient, "V0", "hads")
    page.focus("#id_q01_0")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.is_checked("#id_q01_2")
    for item in range(2, 15):
        _radio(page, f"q{item:02d}", 1)
    _complete(page)
    assert Hads.objects.get().q01 == 2
    assert page.get_by_test_id("score-hads-a").inner_text() == "8.0"  # 2 + 6 × 1
    assert page.get_by_test_id("score-hads-d").inner_text() == "7.0"

    _open(page, patient, "V0", "hdrs")
    for item in range(1, 18):
        _radio(page, f"q{item:02d}", 1)
    _complete(page)
    assert page.get_by_test_id("score-hdrs").inner_text() == "17"

    # week 12: visit date, then spasm with a > 50 mm change that must be confirmed
    day0 = patient.allocation.randomised_on
    page.goto(f"{page.base_url}/visits/{patient.study_id}/V3/")
    page.fill("#id_visit_date", (day0 + timedelta(days=84)).isoformat())
    page.check("#id_status_0")
    page.click("#visit-form button[type=submit]")
    page.wait_for_load_state()
    page.get_by_test_id("form-spasm").click()
    _spasm(page, "15", intensity="20")
    _complete(page)
    assert page.locator("#id_confirm_warnings").count() == 1
    page.check("#id_confirm_warnings")
    _complete(page)
    assert page.get_by_test_id("form-status").inner_text() == "complete"

    page.goto(f"{page.base_url}{patient.get_absolute_url()}")
    assert "V3" in page.get_by_test_id("visits").inner_text()
