"""Role × URL matrix: anonymous → login, wrong role → 403, another site's object → 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import login

# url name, kwargs, personas allowed (200)
MATRIX = [
    ("home", {}, {"alice", "bob", "mona", "ivan", "dana", "nobody"}),
    ("monitoring:patient_list", {}, {"alice", "bob", "mona", "ivan", "dana"}),
    ("admin:index", {}, {"dana"}),
    ("admin:auth_user_changelist", {}, {"dana"}),
    ("admin:hfs_ecrf_securityevent_changelist", {}, {"dana"}),
    ("password_change", {}, {"alice", "bob", "mona", "ivan", "dana", "nobody"}),
]


@pytest.mark.parametrize("name,kwargs,allowed", MATRIX)
def test_anonymous_is_sent_to_login(client, db, name, kwargs, allowed):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize("name,kwargs,allowed", MATRIX)
def test_each_role_gets_200_or_403(personas, name, kwargs, allowed):
    url = reverse(name, kwargs=kwargs)
    for persona, user in personas.items():
        status = login(user).get(url).status_code
        expected = 200 if persona in allowed else 403
        assert status == expected, f"{persona} on {url}: {status}, expected {expected}"


def test_site_history_of_another_site_is_404(alice, site_b):
    response = login(alice).get(reverse("site_history", kwargs={"code": site_b.code}))
    assert response.status_code == 404


def test_site_history_of_own_site_shows_the_trail(alice, site_a):
    response = login(alice).get(reverse("site_history", kwargs={"code": site_a.code}))
    assert response.status_code == 200
    assert "Site A" in response.content.decode()


def test_home_rejects_post(alice):
    assert login(alice).post(reverse("home")).status_code == 405


def test_scope_to_sites_gives_clinician_only_own_site(alice, site_a, site_b):
    from patients.selectors import sites_for

    assert list(sites_for(alice)) == [site_a]


def test_investigator_sees_every_site(ivan, site_a, site_b):
    from patients.selectors import sites_for

    assert set(sites_for(ivan)) == {site_a, site_b}


def test_user_without_role_sees_no_site(nobody, site_a):
    from patients.selectors import sites_for

    assert list(sites_for(nobody)) == []
