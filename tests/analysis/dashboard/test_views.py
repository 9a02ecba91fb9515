"""The dashboard pages, figure and table downloads: who may open them, what they show."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from analysis.services import results_refresh
from demo.seed import seed_accounts, seed_cohort
from tests.conftest import login


@pytest.fixture
def cohort(db):
    cache.clear()
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=16, seed=5, sites=sites)
    results_refresh()  # what the background task does after the writes
    return sites


@pytest.mark.parametrize("name", ["analysis:overview", "analysis:results_json"])
def test_clinicians_and_monitors_cannot_open_the_analysis(cohort, name):
    from django.contrib.auth.models import User

    alice, mona = User.objects.get(username="clinician_a"), User.objects.get(username="monitor")
    for user in (alice, mona):
        assert login(user).get(reverse(name)).status_code == 403
    assert login(alice).get(reverse("analysis:figure", args=["forest"])).status_code == 403
    assert login(alice).get(reverse("analysis:figure_png", args=["forest"])).status_code == 403
    assert login(mona).get(reverse("analysis:table", args=["primary"])).status_code == 403


def test_every_dashboard_page_renders_with_figures_and_csv_links(cohort, dana):
    client = login(dana)
    for page in (
        "overview",
        "primary",
        "secondary",
        "correlations",
        "regression",
        "mixed",
        "subgroups",
        "safety",
    ):
        response = client.get(reverse("analysis:page", args=[page]))
        assert response.status_code == 200, page
        body = response.content.decode()
        assert 'data-testid="data-cut"' in body
        assert "Population" in body or "Популяция" in body
    body = client.get(reverse("analysis:page", args=["mixed"])).content.decode()
    assert "<svg" in body
    for figure in ("consort", "enrolment", "trajectory", "scatter_v0", "heatmap", "forest"):
        response = client.get(reverse("analysis:figure", args=[figure]))
        assert response["Content-Type"] == "image/svg+xml"
        assert response.content.startswith(b"<svg")
        png = client.get(reverse("analysis:figure_png", args=[figure]))
        assert png["Content-Type"] == "image/png"
        assert png["Content-Disposition"] == f'attachment; filename="{figure}.png"'
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n" and len(png.content) > 20_000
    assert client.get("/analysis/figures/pie.png").status_code == 404
    csv_text = client.get(reverse("analysis:table", args=["primary"])).content.decode()
    assert "mITT" in csv_text and "data cut" in csv_text
