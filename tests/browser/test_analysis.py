"""In Chromium: an investigator reads the dashboards; figures render offline and download as
SVG and PNG; a clinician is refused."""

from __future__ import annotations

import pytest

from analysis.services import results_refresh
from demo.seed import seed_accounts, seed_cohort
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-test-password"


def test_investigator_sees_figures_and_downloads_svg_and_png(page, tmp_path):
    sites = seed_accounts(PASSWORD)
    seed_cohort(patients=12, seed=8, sites=sites)
    results_refresh()  # what the background worker does after the writes
    browser_login(page, "investigator", PASSWORD)
    page.get_by_test_id("lang-en").click()
    page.wait_for_load_state()
    page.goto(f"{page.base_url}/analysis/mixed/")
    figure = page.locator("figure[data-figure=trajectory] svg")
    assert figure.is_visible()
    assert figure.bounding_box()["width"] > 300
    assert "Data cut" in page.get_by_test_id("data-cut").inner_text()

    with page.expect_download() as svg_download:
        page.click("figure[data-figure=trajectory] a.svg-download")
    svg_path = tmp_path / "figure.svg"
    svg_download.value.save_as(svg_path)
    assert svg_download.value.suggested_filename == "trajectory.svg"
    assert svg_download.value.url.endswith("/analysis/figures/trajectory.svg")  # from the server
    assert svg_path.read_text().startswith("<svg")

    with page.expect_download() as png_download:
        page.click("figure[data-figure=trajectory] a.png-download")
    png_path = tmp_path / "figure.png"
    png_download.value.save_as(png_path)
    assert png_download.value.suggested_filename == "trajectory.png"
    assert png_download.value.url.endswith("/analysis/figures/trajectory.png")  # from the server
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png_path.stat().st_size > 2000

    page.goto(f"{page.base_url}/analysis/")
    assert page.locator("figure[data-figure=consort] svg").is_visible()
    assert page.locator("table[data-table=baseline] tbody tr").count() > 5


def test_a_clinician_cannot_open_the_dashboards(page):
    seed_accounts(PASSWORD)
    browser_login(page, "clinician_a", PASSWORD)
    response = page.goto(f"{page.base_url}/analysis/")
    assert response.status == 403
