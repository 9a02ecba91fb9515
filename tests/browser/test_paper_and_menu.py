"""In Chromium: the monitor downloads a casebook PDF and reads it; blank forms print one form per
page; the data manager's menu stays on one line at 1366 px (issue 13.8 and 13.9)."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from demo.seed import seed_accounts
from tests import factories
from tests.conftest import browser_login
from tests.monitoring.conftest import complete_labs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-paper-pass-1"


def test_monitor_downloads_the_casebook_pdf(page):
    from django.contrib.auth.models import User

    sites = seed_accounts(PASSWORD)
    clinician = User.objects.get(username="clinician_a")
    factories.allocation_list(["SMR", "TAS"], per_stratum=4)
    patient = factories.randomised(sites["SMR"], clinician)
    complete_labs(patient, clinician, b12="312.5")

    browser_login(page, "monitor", PASSWORD)
    page.goto(f"{page.base_url}/patients/{patient.study_id}/")
    with page.expect_download() as download_info:
        page.get_by_test_id("casebook-pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"casebook-{patient.study_id}.pdf"
    reader = PdfReader(download.path())
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    assert patient.study_id in text
    assert "312,500" in text
    assert "Оценка спазма" in text  # Russian form title, Cyrillic rendered
    assert patient.identity.full_name not in text
    assert "Индивидуальная карта" in text


def test_blank_forms_print_one_form_per_page(page):
    seed_accounts(PASSWORD)
    browser_login(page, "clinician_a", PASSWORD)
    page.goto(f"{page.base_url}/visits/blank/V0/")
    assert page.get_by_test_id("paper-form-labs").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    assert not page.get_by_test_id("print").is_visible()
    breaks = page.eval_on_selector_all(
        ".paper-form", "els => els.map(e => getComputedStyle(e).breakAfter)"
    )
    assert breaks[:-1] == ["page"] * (len(breaks) - 1)
    pdf = page.pdf(format="A4")
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 6  # visit page + 5 forms


@pytest.mark.parametrize("width", [1366, 1280])
def test_the_data_managers_menu_stays_on_one_line(page, width):
    seed_accounts(PASSWORD)
    page.set_viewport_size({"width": width, "height": 800})
    browser_login(page, "datamanager", PASSWORD)
    links = page.locator("#mainnav .nav-link")
    assert links.count() >= 7
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count()))}
    heights = {round(links.nth(i).bounding_box()["height"]) for i in range(links.count())}
    assert len(tops) == 1 and max(heights) < 45  # one line, no entry broken over two lines
    assert page.locator("nav.navbar").bounding_box()["height"] < 70
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.get_by_test_id("lang-en").is_visible()
