"""The list pages' content kept per data version (hfs_ecrf/list_cache.py): a page asked again is
served without its rows being read again, every write shows at once, and what one user's scope
allows is never shown to another."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Visit
from hfs_ecrf.roles import Role
from monitoring import services as monitoring_services
from patients import services as patient_services
from patients.models import Patient, SiteMembership, Withdrawal
from tests import factories
from tests.conftest import login, make_user

LISTS = ["monitoring:patient_list", "patients:screening_list", "assessments:status"]
ROWS_MARK = {
    "monitoring:patient_list": 'data-testid="patient-row"',
    "patients:screening_list": 'data-testid="screening-row"',
    "assessments:status": 'data-testid="status-row"',
}


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def _ids(body: str) -> list[str]:
    return re.findall(r'data-study-id="([^"]+)"', body)


def _tokens(body: str) -> list[str]:
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)


def _unmasked(body: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def _get(client, name: str, **params) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.content.decode(), len(captured)


@pytest.mark.parametrize("name", LISTS)
def test_a_page_asked_again_is_served_kept_with_fewer_queries_and_the_same_html(
    name, alice, site_a, django_assert_max_num_queries
):
    for _ in range(3):
        factories.enrol(site_a, alice)
    client = login(alice)
    client.get(reverse("home"))
    first, rendered = _get(client, name, page="1")
    again, kept = _get(client, name, page="1")
    assert _unmasked(again) == _unmasked(first) and first.count(ROWS_MARK[name]) == 3
    assert _tokens(again) != _tokens(first)  # the layout's CSRF tokens are the request's own
    assert kept < rendered
    # the kept page reads no study table: session, user, capabilities, sites, the data version,
    # the demo banner (and the request's savepoint and its release, ATOMIC_REQUESTS in a test)
    with django_assert_max_num_queries(8):
        client.get(reverse(name), {"page": "1"})


def test_every_kind_of_write_shows_on_the_next_request(alice, mona, site_a):
    factories.allocation_list(["SMR"])
    patients = [factories.randomised(site_a, alice) for _ in range(2)]
    client = login(mona)
    body, _ = _get(client, "monitoring:patient_list")
    grid, _ = _get(client, "assessments:status")
    assert _ids(body) == sorted(p.study_id for p in patients)
    assert 'data-testid="open-queries"><span' not in body
    assert 'data-testid="row-queries"' not in grid

    newcomer = factories.enrol(site_a, alice)  # a new patient
    body, _ = _get(client, "monitoring:patient_list")
    assert newcomer.study_id in _ids(body)
    screening, _ = _get(client, "patients:screening_list")
    assert screening.count(ROWS_MARK["patients:screening_list"]) == 3

    monitoring_services.query_raise(patient=patients[0], user=mona, text="check consent")
    body, _ = _get(client, "monitoring:patient_list")
    grid, _ = _get(client, "assessments:status")
    assert '<span class="badge text-bg-danger">1</span>' in body  # an open query
    assert 'data-testid="row-queries">1<' in grid

    patient_services.patient_withdraw(
        withdrawal=Withdrawal(
            patient=Patient.objects.get(pk=patients[1].pk),
            withdrawn_on=patients[1].allocation.randomised_on,
            reason="lost_to_follow_up",
        ),
        user=alice,
    )
    body, _ = _get(client, "monitoring:patient_list", status="withdrawn")
    assert _ids(body) == [patients[1].study_id]

    before, _ = _get(client, "assessments:status")
    factories.visit(patients[0], alice, "V1")  # a visit recorded
    after, _ = _get(client, "assessments:status")
    assert after != before and Visit.objects.filter(patient=patients[0], code="V1").exists()


def test_users_with_other_sites_never_see_each_others_kept_rows(alice, bob, site_a, site_b):
    ours = factories.enrol(site_a, alice)
    theirs = factories.enrol(site_b, bob)
    alice_client, bob_client = login(alice), login(bob)
    for name in LISTS:
        alice_body, _ = _get(alice_client, name)
        bob_body, _ = _get(bob_client, name)  # same role, same querystring, same data version
        if name == "patients:screening_list":
            assert "SMR" in alice_body and 'data-screening="SMR' not in bob_body
            assert "TAS" in bob_body and 'data-screening="TAS' not in alice_body
        else:
            assert _ids(alice_body) == [ours.study_id]
            assert _ids(bob_body) == [theirs.study_id]
    # a site given to Alice shows its patients on her next request
    SiteMembership(user=alice, site=site_b).save_audited(user=None)
    alice.refresh_from_db()
    body, _ = _get(login(alice), "monitoring:patient_list")
    assert _ids(body) == sorted([ours.study_id, theirs.study_id])
    body, _ = _get(bob_client, "monitoring:patient_list")
    assert _ids(body) == [theirs.study_id]


def test_what_is_per_user_is_not_kept(alice, site_a):
    factories.enrol(site_a, alice)
    other = make_user("alina", Role.CLINICIAN, [site_a])  # the same scope as Alice
    alice_body, _ = _get(login(alice), "monitoring:patient_list")
    other_body, _ = _get(login(other), "monitoring:patient_list")
    assert _ids(alice_body) == _ids(other_body)
    assert 'data-testid="who"' in other_body
    assert ">alina<" in other_body and ">alice<" not in other_body
    tokens = [_tokens(body) for body in (alice_body, other_body)]
    assert tokens[0] and tokens[1] and not set(tokens[0]) & set(tokens[1])


def test_another_language_is_another_page(alice, site_a):
    factories.enrol(site_a, alice)
    client = login(alice)
    english, _ = _get(client, "monitoring:patient_list")
    client.post(reverse("set_language"), {"language": "ru", "next": "/"})
    russian, _ = _get(client, "monitoring:patient_list")
    assert "Study ID" in english and "Study ID" not in russian


def test_it_can_be_turned_off(alice, site_a, settings):
    settings.LIST_CACHE_SECONDS = 0
    factories.enrol(site_a, alice)
    client = login(alice)
    client.get(reverse("home"))
    _, first = _get(client, "monitoring:patient_list")
    _, again = _get(client, "monitoring:patient_list")
    assert again == first
