"""In Chromium (issue 13): Enter never changes a form's state; a full visit in one flow with
its page loads counted; live scores while typing; every page in Russian for each role with no
untranslated catalogue entry or raw code; no sideways scroll at 390 px; skip link and titles."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth.models import User

from assessments.models import CRF_MODELS, SpasmAssessment
from assessments.schedule import VISITS
from demo.seed import seed_accounts
from patients.models import Site
from tests import factories
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-test-password"
RAW_CODES = re.compile(
    r"\b(not_started|not_done|prior_mvd|very_severe|deficient|borderline|abnormal|"
    r"b12_value|rand36|spasm|complete|draft)\b|/min\b|pmol/L|nmol/L"
)


def _setup():
    seed_accounts(PASSWORD)
    factories.allocation_list(["SMR", "TAS"])
    alice = User.objects.get(username="clinician_a")
    patient = factories.randomised(Site.objects.get(code="SMR"), alice, days_ago=40)
    return alice, patient


def _fill(page, form_code):
    """Enough answers for each form to be complete, without soft warnings."""
    if form_code == "spasm":
        page.fill("#id_vas_frequency", "60")
        page.fill("#id_vas_intensity", "50")
        page.check("#id_jankovic_severity_2")
        page.check("#id_jankovic_frequency_3")
    elif form_code == "labs":
        page.fill("#id_sample_date", page.input_value("#id_sample_date") or "2020-01-01")
        page.fill("#id_sample_time", "08:15")
        page.fill("#id_b12_value", "300")
        page.fill("#id_cortisol_value", "400")
        page.fill("#id_dopamine_value", "100")
    else:
        for name in CRF_MODELS[form_code].ITEMS:
            page.click(f"label[for=id_{name}_1]")


def test_enter_never_changes_a_form_state(page):
    alice, patient = _setup()
    browser_login(page, "clinician_a", PASSWORD)
    base = f"{page.base_url}/visits/{patient.study_id}/V0"
    for form_code in ("spasm", "rand36", "hads", "hdrs"):
        page.goto(f"{base}/{form_code}/")
        _fill(page, form_code)
        page.get_by_test_id("save-complete").click()
        page.wait_for_load_state()
        if not page.get_by_test_id("form-status").count():
            print(page.locator("main").inner_text())
        assert page.get_by_test_id("form-status").inner_text() == "заполнена", form_code
        # Enter in the first text box, or on a radio answer: a plain save, still complete
        target = page.locator("#crf-form input[type=text], #crf-form input[type=number]").first
        if form_code != "spasm":
            target = page.locator("#crf-form input[type=radio]:checked").first
        page.fill("#id_reason_for_change", "checked again")
        target.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        model = CRF_MODELS[form_code]
        saved = model.objects.get(visit__patient=patient, visit__code="V0")
        assert (saved.status, saved.version) == ("complete", 2), form_code
    # a new form: Enter saves a draft, never "complete"
    page.goto(f"{base}/labs/")
    page.fill("#id_b12_value", "300")
    with page.expect_navigation():
        page.press("#id_b12_value", "Enter")
    assert CRF_MODELS["labs"].objects.get(visit__patient=patient).status == "draft"


def test_a_full_visit_in_one_flow_with_page_loads_counted(page, capsys):
    alice, patient = _setup()
    browser_login(page, "clinician_a", PASSWORD)
    loads = []
    page.on("load", lambda p: loads.append(p.url))
    day0 = patient.allocation.randomised_on

    # after: patient page → visit → "save and open the forms" → "complete and next" × 5
    page.goto(f"{page.base_url}{patient.get_absolute_url()}")
    page.get_by_test_id("visit-V1").click()
    page.wait_for_load_state()
    assert "Плановая дата" in page.get_by_test_id("visit-window").inner_text()
    page.fill("#id_visit_date", day0.replace(day=day0.day).isoformat())
    page.fill("#id_visit_date", (day0 + __import__("datetime").timedelta(days=28)).isoformat())
    page.check("#id_status_0")
    page.get_by_test_id("save-visit-next").click()
    page.wait_for_load_state()
    for number, form_code in enumerate(VISITS["V1"].forms, start=1):
        assert f"/V1/{form_code}/" in page.url
        progress = page.get_by_test_id("progress").inner_text()
        assert f"{number - 1} из {len(VISITS['V1'].forms)}" in progress
        _fill(page, form_code)
        if form_code == "spasm":
            page.locator("#live-scores", has_text="5").wait_for()  # live Jankovic total
        page.get_by_test_id("complete-next").click()
        page.wait_for_load_state()
    assert page.url.endswith(f"/visits/{patient.study_id}/V1/")
    assert "2 из 2" in page.get_by_test_id("progress").inner_text()
    after_short = len(loads)

    # V0 has 5 forms: the full-visit figure of the issue
    loads.clear()
    page.goto(f"{page.base_url}{patient.get_absolute_url()}")
    page.get_by_test_id("visit-V0").click()
    page.wait_for_load_state()
    page.get_by_test_id("save-visit-next").click()
    page.wait_for_load_state()
    for form_code in VISITS["V0"].forms:
        if form_code in ("spasm", "labs"):  # entered at baseline already: complete them
            page.goto(f"{page.base_url}/visits/{patient.study_id}/V0/{form_code}/")
            page.wait_for_load_state()
        _fill(page, form_code)
        page.get_by_test_id("complete-next").click()
        page.wait_for_load_state()
        if page.get_by_test_id("warnings-summary").count():
            page.check("#id_confirm_warnings")
            page.get_by_test_id("complete-next").click()
            page.wait_for_load_state()
    after_full = len(loads) - 2  # the two baseline forms opened by hand above
    statuses = [
        m.objects.get(visit__patient=patient, visit__code="V0").status for m in CRF_MODELS.values()
    ]
    assert set(statuses) == {"complete"}
    assert after_full <= 8
    with capsys.disabled():
        print(f"\npage loads, V1 (2 forms): {after_short}; V0 (5 forms): {after_full}")
    assert SpasmAssessment.objects.filter(visit__patient=patient).count() == 2


def _catalogue_english() -> list[str]:
    path = Path(settings.BASE_DIR) / "locale/ru/LC_MESSAGES/django.po"
    return [
        e.msgid
        for e in polib.pofile(str(path))
        if e.msgstr
        and e.msgstr != e.msgid
        and len(e.msgid) >= 12
        and " " in e.msgid
        and "%" not in e.msgid
        and "{" not in e.msgid
    ]


PAGES_BY_ROLE = {
    "clinician_a": [
        "/",
        "/patients/",
        "/patients/screening/",
        "/visits/status/",
        "{p}",
        "/visits/{s}/V0/",
        "/visits/{s}/V0/spasm/",
        "/visits/{s}/V0/labs/",
        "/visits/{s}/V0/rand36/",
        "/visits/{s}/V0/hads/",
        "/visits/{s}/V0/hdrs/",
        "/visits/{s}/records/ae/",
        "/visits/{s}/records/exposure/",
        "/visits/{s}/records/conmed/",
        "/patients/{s}/history/",
        "/visits/{s}/V1/",
    ],
    "monitor": ["/", "/patients/", "/visits/status/", "{p}", "/visits/{s}/V0/spasm/"],
    "investigator": ["/", "/patients/", "/visits/status/", "{p}"],
    "datamanager": ["/", "/patients/", "/visits/status/", "{p}", "/patients/allocation/"],
}


def test_every_main_page_in_russian_for_each_role_phone_width_titles(page):
    alice, patient = _setup()
    factories.visit(patient, alice, "V1", day=28)
    english = _catalogue_english()
    page.set_viewport_size({"width": 390, "height": 844})
    problems = []
    titles = {}
    for username, paths in PAGES_BY_ROLE.items():
        page.context.clear_cookies()
        browser_login(page, username, PASSWORD)
        for path in paths:
            url = path.format(p=patient.get_absolute_url(), s=patient.study_id)
            page.goto(f"{page.base_url}{url}")
            assert page.locator("html").get_attribute("lang") == "ru"
            text = page.locator("body").inner_text()
            for msgid in english:
                if msgid in text:
                    problems.append((username, url, "untranslated", msgid))
            for match in RAW_CODES.finditer(text):
                problems.append((username, url, "code", match.group(0)))
            if username == "clinician_a":
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 390:
                    problems.append((username, url, "scrollWidth", width))
                titles.setdefault(page.title(), []).append(url)
    print("\n".join(map(str, problems)))
    assert problems == []
    assert {t: u for t, u in titles.items() if len(u) > 1} == {}
    # skip link is the first thing Tab reaches; the 403 page keeps the menu
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "skip-link"
    page.context.clear_cookies()
    browser_login(page, "monitor", PASSWORD)
    page.goto(f"{page.base_url}/patients/allocation/")
    assert page.get_by_test_id("error-403").count() == 1
    assert page.locator("nav.navbar").count() == 1
