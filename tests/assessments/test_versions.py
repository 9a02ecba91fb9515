"""Issue 10.3/10.5: every edit form carries a version; missing or stale versions are refused
with the other person's changes shown; a visit changed after a complete form needs a reason."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from assessments.models import LabPanel, SpasmAssessment, Visit
from hfs_ecrf.roles import Role
from tests import factories
from tests.conftest import login, make_user, post_form
from tests.factories import SPASM


def _patient(site, user):
    factories.allocation_list([site.code])
    return factories.randomised(site, user)


def test_a_crf_post_without_its_version_does_not_overwrite_a_newer_save(alice, site_a):
    patient = _patient(site_a, alice)
    url = reverse("assessments:crf", args=[patient.study_id, "V0", "spasm"])
    client = login(alice)
    client.post(url, {"action": "draft", "base_version": 0, **SPASM})
    response = client.post(url, {"action": "draft", **SPASM, "vas_frequency": "11"})
    assert response.status_code == 200
    assert 'data-testid="conflict"' in response.content.decode()
    assert SpasmAssessment.objects.get().vas_frequency == 64


def test_a_stale_visit_edit_is_refused_with_the_other_change_shown(alice, site_a, settings):
    settings.LANGUAGE_CODE = "en"
    carol = make_user("carol", Role.CLINICIAN, [site_a])
    patient = _patient(site_a, alice)
    url = reverse("assessments:visit", args=[patient.study_id, "V1"])
    day0 = patient.allocation.randomised_on
    first, second = login(alice), login(carol)
    post_form(first, url, {"visit_date": (day0 + timedelta(days=28)).isoformat(), "status": "done"})
    opened = Visit.objects.get(code="V1").version
    first_page = post_form(
        first, url, {"visit_date": (day0 + timedelta(days=29)).isoformat(), "status": "done"}
    )
    assert first_page.status_code == 302
    late = (day0 + timedelta(days=30)).isoformat()
    response = second.post(url, {"visit_date": late, "status": "done", "base_version": opened})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="conflict"' in body
    theirs = {str(field): value for field, value, _who in response.context["form"].conflict}
    assert theirs["visit date"] == day0 + timedelta(days=29)  # the other person's date
    assert Visit.objects.get(code="V1").visit_date == day0 + timedelta(days=29)
    # no version at all: refused too
    response = second.post(url, {"visit_date": late, "status": "done"})
    assert 'data-testid="conflict"' in response.content.decode()
    assert Visit.objects.get(code="V1").visit_date == day0 + timedelta(days=29)


def test_a_stale_baseline_b12_is_refused(alice, site_a):
    patient = factories.enrol(site_a, alice)
    url = reverse("randomisation:baseline_b12", args=[patient.study_id])
    client = login(alice)
    data = {"sample_date": patient.consent.consent_date.isoformat(), "b12_unit": "pmol/L"}
    assert post_form(client, url, {**data, "b12_value": "250"}).status_code == 302
    response = client.post(url, {**data, "b12_value": "300", "base_version": 0})
    assert 'data-testid="conflict"' in response.content.decode()
    response = client.post(url, {**data, "b12_value": "300"})
    assert 'data-testid="conflict"' in response.content.decode()
    assert LabPanel.objects.get().b12_value == 250


def test_changing_a_visit_after_a_complete_form_needs_a_reason(alice, site_a):
    patient = _patient(site_a, alice)
    url = reverse("assessments:visit", args=[patient.study_id, "V0"])
    crf_url = reverse("assessments:crf", args=[patient.study_id, "V0", "spasm"])
    client = login(alice)
    assert post_form(client, crf_url, {"action": "complete", **SPASM}).status_code == 302
    visit = Visit.objects.get(code="V0")
    new_date = (visit.visit_date - timedelta(days=1)).isoformat()
    response = post_form(client, url, {"visit_date": new_date, "status": "done"})
    assert "reason_for_change" in response.context["form"].errors
    assert Visit.objects.get(code="V0").visit_date == visit.visit_date
    response = post_form(
        client,
        url,
        {"visit_date": new_date, "status": "done", "reason_for_change": "date misread"},
    )
    assert response.status_code == 302
    assert Visit.objects.get(code="V0").history.latest().history_change_reason == "date misread"
