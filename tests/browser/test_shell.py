"""In Chromium: a clinician logs in, sees the home page in Russian, switches to English."""

from __future__ import annotations

import pytest

from demo.seed import seed_accounts
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_logs_in_sees_russian_and_switches_to_english(page):
    seed_accounts("browser-test-password")
    browser_login(page, "clinician_a", "browser-test-password")

    title = page.get_by_test_id("home-title")
    assert title.inner_text() == "Добро пожаловать в eCRF исследования HFS-B12"
    assert page.locator("html").get_attribute("lang") == "ru"

    page.get_by_test_id("lang-en").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("home-title").inner_text() == "Welcome to the HFS-B12 trial eCRF"
    assert page.locator("html").get_attribute("lang") == "en"
    assert "clinician_a" in page.get_by_test_id("who").inner_text()


def test_wrong_password_shows_an_error_and_no_session(page):
    seed_accounts("browser-test-password")
    browser_login(page, "clinician_a", "not-the-password")
    assert "/accounts/login/" in page.url
    assert page.locator(".alert-danger, .errornote, .invalid-feedback").count() >= 1
