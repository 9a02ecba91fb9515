"""Issue 10.3: first saves of the same record at the same moment, through the web (threads, each
with its own client and database connection, PostgreSQL). One is saved; every other gets the
conflict message or a field error; nobody gets a 500."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from assessments.models import SpasmAssessment, TreatmentExposure, Visit
from hfs_ecrf.roles import Role
from patients.models import Screening
from tests import factories
from tests.conftest import login, make_user
from tests.factories import ELIGIBLE, SPASM

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
N = 6


def _post_at_once(url: str, clients: list, data: dict) -> list:
    barrier = threading.Barrier(len(clients))
    responses: list = []

    def work(client):
        try:
            barrier.wait(timeout=30)
            responses.append(client.post(url, data))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return responses


@pytest.fixture
def clinicians(alice, site_a):
    users = [alice] + [make_user(f"clin{i}", Role.CLINICIAN, [site_a]) for i in range(N - 1)]
    clients = [login(u) for u in users]
    for c in clients:  # sessions and CSRF set up before the race
        c.get("/")
    return clients


def _assert_one_winner(responses, *, refused_marker: str) -> None:
    statuses = sorted(r.status_code for r in responses)
    assert len(responses) == N
    assert 500 not in statuses
    assert statuses.count(302) >= 1
    for response in responses:
        if response.status_code == 200:
            assert refused_marker in response.content.decode(), response.context["form"].errors


def test_simultaneous_first_saves_of_one_crf(alice, site_a, clinicians):
    factories.allocation_list(["SMR"])
    patient = factories.randomised(site_a, alice)
    url = reverse("assessments:crf", args=[patient.study_id, "V0", "spasm"])
    responses = _post_at_once(url, clinicians, {"action": "draft", "base_version": 0, **SPASM})
    _assert_one_winner(responses, refused_marker='data-testid="conflict"')
    assert SpasmAssessment.objects.count() == 1
    assert SpasmAssessment.objects.get().version == 1


def test_simultaneous_first_saves_of_one_visit(alice, site_a, clinicians):
    factories.allocation_list(["SMR"])
    patient = factories.randomised(site_a, alice)
    url = reverse("assessments:visit", args=[patient.study_id, "V1"])
    day = (patient.allocation.randomised_on + timedelta(days=28)).isoformat()
    responses = _post_at_once(
        url, clinicians, {"visit_date": day, "status": "done", "base_version": 0}
    )
    _assert_one_winner(responses, refused_marker='data-testid="conflict"')
    assert Visit.objects.filter(patient=patient, code="V1").count() == 1


def test_the_same_screening_number_submitted_at_once(site_a, clinicians):
    data = {
        "site": site_a.pk,
        "screening_number": "S-777",
        "screened_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        **{k: "on" for k in ELIGIBLE},
    }
    responses = _post_at_once(reverse("patients:screening_new"), clinicians, data)
    _assert_one_winner(responses, refused_marker="S-777")
    assert Screening.objects.filter(screening_number="S-777").count() == 1


def test_one_form_submitted_twice_at_once_saves_one_record(alice, site_a):
    factories.allocation_list(["SMR"])
    patient = factories.randomised(site_a, alice)
    url = reverse("assessments:records", args=[patient.study_id, "exposure"])
    token = str(uuid.uuid4())
    data = {
        "given_on": timezone.localdate().isoformat(),
        "is_study_b12": "on",
        "product": "cyanocobalamin",
        "dose_ug": "1000",
        "route": "im",
        "submission_token": token,
        "confirm_warnings": "on",  # the arm may be standard therapy: a soft warning
    }
    clients = [login(alice) for _ in range(N)]
    responses = _post_at_once(url, clients, data)
    assert sorted(r.status_code for r in responses) == [302] * N
    assert TreatmentExposure.objects.filter(patient=patient).count() == 1
