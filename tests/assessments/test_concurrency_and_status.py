"""No lost update between two editors; the record-status grid's cost is flat."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import SpasmAssessment
from tests import factories
from tests.conftest import login, make_user
from tests.factories import SPASM


def test_the_second_of_two_simultaneous_editors_is_refused_and_nothing_is_lost(alice, site_a):
    from hfs_ecrf.roles import Role

    carol = make_user("carol", Role.CLINICIAN, [site_a])
    factories.allocation_list(["SMR"])
    patient = factories.randomised(site_a, alice)
    url = reverse("assessments:crf", args=[patient.study_id, "V0", "spasm"])
    first, second = login(alice), login(carol)
    first.post(url, {"action": "draft", "base_version": 0, **SPASM})
    # both open version 1
    v1 = SpasmAssessment.objects.get().version
    first.get(url)
    second.get(url)
    first.post(url, {"action": "draft", "base_version": v1, **SPASM, "vas_frequency": "70"})
    response = second.post(
        url, {"action": "draft", "base_version": v1, **SPASM, "vas_intensity": "20"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="conflict"' in body
    assert "70" in body  # what changed meanwhile is shown
    assert 'value="20"' in body  # the second editor's input is still on screen
    saved = SpasmAssessment.objects.get()
    assert (saved.vas_frequency, saved.vas_intensity, saved.version) == (70, 55, 2)


def test_two_first_saves_of_a_new_form_do_not_overwrite_each_other(alice, site_a):
    factories.allocation_list(["SMR"])
    patient = factories.randomised(site_a, alice)
    url = reverse("assessments:crf", args=[patient.study_id, "V0", "spasm"])
    client = login(alice)
    client.post(url, {"action": "draft", "base_version": 0, **SPASM})
    response = client.post(
        url, {"action": "draft", "base_version": 0, **SPASM, "vas_frequency": "10"}
    )
    assert 'data-testid="conflict"' in response.content.decode()
    assert SpasmAssessment.objects.get().vas_frequency == 64


def _status_queries(user) -> int:
    client = login(user)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("assessments:status")).status_code == 200
    return len(captured)


def _add(n, site, user):
    for _ in range(n):
        patient = factories.randomised(site, user)
        factories.visit(patient, user, "V1")


def test_record_status_query_count_is_flat_from_10_to_200_patients(alice, site_a):
    factories.allocation_list(["SMR"], per_stratum=220)
    _add(10, site_a, alice)
    at_10 = _status_queries(alice)
    _add(190, site_a, alice)
    assert _status_queries(alice) == at_10


def test_record_status_shows_each_forms_state(alice, site_a):
    factories.allocation_list(["SMR"])
    patient = factories.randomised(site_a, alice)
    login(alice).post(
        reverse("assessments:crf", args=[patient.study_id, "V0", "spasm"]),
        {"action": "complete", "base_version": 0, **SPASM},
    )
    body = login(alice).get(reverse("assessments:status")).content.decode()
    assert patient.study_id in body
    assert 'class="badge state-complete' in body
    assert "state-not_started" in body


def test_record_status_cells_link_each_form_with_its_badge(alice, site_a):
    """Badges built once per page are the template tag's badges; each links to its form."""
    from assessments.templatetags.study_states import form_title, state_badge

    factories.allocation_list(["SMR"])
    patient = factories.randomised(site_a, alice)
    login(alice).post(
        reverse("assessments:crf", args=[patient.study_id, "V0", "spasm"]),
        {"action": "complete", "base_version": 0, **SPASM},
    )
    body = login(alice).get(reverse("assessments:status")).content.decode()
    url = reverse("assessments:crf", args=[patient.study_id, "V0", "spasm"])
    badge = state_badge("complete", form_title("spasm"))
    assert f'<a href="{url}" class="text-decoration-none">{badge}</a> ' in body
    # a visit not yet started: badges without links
    assert f"{state_badge('not_started', form_title('spasm'))} " in body
    assert reverse("assessments:crf", args=[patient.study_id, "V3", "spasm"]) not in body
