"""The screening log: one page at a time, searched and filtered in SQL (issue 12, point 2)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests import factories
from tests.conftest import login


@pytest.fixture(autouse=True)
def english(settings):
    """The texts below are the English originals (the study's default language is Russian)."""
    settings.LANGUAGE_CODE = "en"


def logged(client, **params) -> list[str]:
    response = client.get(reverse("patients:screening_list"), params)
    assert response.status_code == 200
    return sorted(re.findall(r'data-screening="([^"]+)"', response.content.decode()))


@pytest.fixture
def log(alice, bob, site_a, site_b):
    enrolled = factories.enrol(site_a, alice).screening
    eligible = factories.screen(site_a, alice, number="E-100")
    not_eligible = factories.screen(site_a, alice, number="N-200", inc_adult=False)
    declined = factories.screen(site_b, bob, number="D-300", declined=True)
    return {
        "enrolled": str(enrolled),
        "eligible": str(eligible),
        "not_eligible": str(not_eligible),
        "declined": str(declined),
    }


def test_search_and_each_filter(log, dana):
    client = login(dana)
    assert logged(client) == sorted(log.values())
    assert logged(client, q="n-2") == [log["not_eligible"]]
    assert logged(client, site="TAS") == [log["declined"]]
    assert logged(client, outcome="eligible") == sorted([log["enrolled"], log["eligible"]])
    assert logged(client, outcome="not_eligible") == [log["not_eligible"]]
    assert logged(client, outcome="declined") == [log["declined"]]
    assert logged(client, enrolled="yes") == [log["enrolled"]]
    assert logged(client, enrolled="no", site="SMR") == sorted(
        [log["eligible"], log["not_eligible"]]
    )


def test_a_clinician_filters_only_within_own_sites(log, alice):
    client = login(alice)
    assert log["declined"] not in logged(client)
    response = client.get(reverse("patients:screening_list"), {"site": "TAS"})
    body = response.content.decode()
    assert "Site: “TAS” is not allowed; allowed values: SMR." in body
    assert logged(client, site="TAS") == []


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"outcome": "maybe"}, "Outcome: “maybe” is not allowed; allowed values: eligible, "),
        ({"enrolled": "perhaps"}, "Enrolled: “perhaps” is not allowed; allowed values: yes, no."),
    ],
)
def test_invalid_filters_say_what_is_allowed(log, dana, params, said):
    response = login(dana).get(reverse("patients:screening_list"), params)
    assert response.status_code == 200
    assert said in response.content.decode()
    assert 'data-testid="screening-row"' not in response.content.decode()


def test_fifty_per_page_with_the_filters_kept_in_page_links(alice, site_a):
    for i in range(60):
        factories.screen(site_a, alice, number=f"P-{i:03d}")
    client = login(alice)
    first = client.get(reverse("patients:screening_list"), {"q": "P-"}).content.decode()
    assert first.count('data-testid="screening-row"') == 50
    assert "1–50 of 60" in first
    assert 'href="?q=P-&amp;page=2"' in first
    assert len(logged(client, q="P-", page="2")) == 10
