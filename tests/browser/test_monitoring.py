"""The monitoring workflow in Chromium: query → answer and correction → close and verify →
patient lock → investigator signature."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from assessments.models import CRF_MODELS, LabPanel
from assessments.services import crf_save
from demo.seed import seed_accounts
from monitoring import services
from monitoring.models import DataQuery, RecordLock, Signature
from tests import factories
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-demo-pass-1"


def test_query_to_signature(page):
    from django.contrib.auth.models import User

    sites = seed_accounts(PASSWORD)
    clinician = User.objects.get(username="clinician_a")
    factories.allocation_list(["SMR", "TAS"], per_stratum=4)
    patient = factories.randomised(sites["SMR"], clinician)
    panel = LabPanel.objects.get(visit__patient=patient)
    panel.cortisol_value, panel.dopamine_value = Decimal("400"), Decimal("100")
    panel.sample_time = time(9, 0)
    crf_save(form=panel, user=clinician, action="draft")
    visit = panel.visit
    for code in ("spasm", "rand36", "hads", "hdrs"):
        crf_save(
            form=CRF_MODELS[code](visit=visit),
            user=clinician,
            action="not_done",
            not_done_reason="demo",
        )
    monitor = User.objects.get(username="monitor")
    for code in ("spasm", "rand36", "hads", "hdrs"):
        services.form_verify(visit=visit, form_code=code, user=monitor)
    labs_url = f"{page.base_url}/visits/{patient.study_id}/V0/labs/"

    # the monitor raises a query on the B12 value
    browser_login(page, "monitor", PASSWORD)
    page.goto(labs_url)
    page.select_option("[data-testid=raise-query] select[name=field_name]", "b12_value")
    page.fill("[data-testid=raise-query] input[name=text]", "B12 differs from the lab report")
    page.click("[data-testid=raise-query] button")
    page.wait_for_selector("[data-testid=field-queries-b12_value]")
    query = DataQuery.objects.get(origin="manual")
    page.context.clear_cookies()

    # the clinician answers and corrects the value with a reason
    browser_login(page, "clinician_a", PASSWORD)
    page.goto(f"{page.base_url}/monitoring/queries/{query.pk}/")
    page.fill("#query-form textarea[name=text]", "Typo, corrected to 260")
    page.click("[data-testid=answer]")
    page.wait_for_selector("[data-testid=query-status]")
    page.goto(labs_url)
    page.fill("input[name=b12_value]", "260")
    page.click("[data-testid=save-complete]")
    page.wait_for_load_state()
    page.context.clear_cookies()
    assert LabPanel.objects.get(pk=panel.pk).status == "complete"

    # the monitor closes the query and verifies the form
    browser_login(page, "monitor", PASSWORD)
    page.goto(f"{page.base_url}/monitoring/queries/{query.pk}/")
    page.click("[data-testid=close]")
    page.wait_for_load_state()
    page.goto(labs_url)
    page.click("[data-testid=verify]")
    page.wait_for_selector("[data-testid=verification].text-bg-success")
    page.context.clear_cookies()

    # the data manager locks the patient
    browser_login(page, "datamanager", PASSWORD)
    page.goto(f"{page.base_url}{patient.get_absolute_url()}")
    page.click("[data-testid=lock-patient]")
    page.wait_for_selector("[data-testid=patient-locked]")
    assert RecordLock.objects.filter(patient=patient, visit__isnull=True).exists()
    page.context.clear_cookies()

    # the investigator signs
    browser_login(page, "investigator", PASSWORD)
    page.goto(f"{page.base_url}{patient.get_absolute_url()}")
    page.click("[data-testid=sign]")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=sign-submit]")
    page.wait_for_selector("[data-testid=signature].text-success")
    assert Signature.objects.get().is_valid
    query.refresh_from_db()
    assert query.status == "closed"
