"""The API's protocol: REDCap's error shapes and status codes, rights, the call log, the rate
limit, the token command and the admin."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiCall, ApiToken
from api.tokens import token_create, token_digest
from assessments.models import SpasmAssessment
from demo.seed import seed_accounts, seed_cohort
from patients.models import Patient
from tests.conftest import login


@pytest.fixture
def cohort(db):
    sites = seed_accounts("cohort-password-1")
    seed_cohort(patients=4, seed=3, sites=sites)
    return sites


def _post(token: str, **params):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    return client.post("/api/", {"token": token, **params})


def _token(username: str) -> str:
    return token_create(user=User.objects.get(username=username))[1]


def test_a_bad_token_gets_redcaps_error_shape_in_each_format(cohort):
    for token in ("", "0" * 32, "not-a-token"):
        response = _post(token, content="record", format="json")
        assert response.status_code == 403
        assert response.json() == {"error": "You do not have permissions to use the API"}
    assert _post("0" * 32, content="record", format="csv").content.startswith(b"ERROR: ")
    xml = _post("0" * 32, content="record").content.decode()
    assert "<hash>" in xml and "<error>You do not have permissions" in xml
    row, token = token_create(user=User.objects.get(username="monitor"))
    row.expires_at = timezone.now() - timedelta(minutes=1)
    row.save()
    assert _post(token, content="version").status_code == 403
    logged = ApiCall.objects.filter(status=403)
    assert logged.count() == 6 and logged.filter(user=None).count() == 5


def test_malformed_requests_get_400_with_the_reason(cohort):
    token = _token("datamanager")
    cases = [
        ({"content": "file", "format": "json"}, "content"),
        ({"content": "metadata", "format": "yaml", "returnFormat": "json"}, "format"),
        ({"content": "record", "format": "json", "type": "wide"}, "type"),
        ({"content": "record", "format": "json", "fields": "nonsense"}, "nonsense"),
        ({"content": "record", "format": "json", "events[0]": "v9_arm_1"}, "v9_arm_1"),
        ({"content": "event", "action": "delete", "format": "json"}, "delete"),
        ({"content": "exportFieldNames", "format": "json", "field": "nope"}, "nope"),
        ({"content": "record", "format": "json", "filterLogic": "[age] > 3"}, "filterLogic"),
    ]
    for params, word in cases:
        response = _post(token, **params)
        assert response.status_code == 400, params
        assert word in response.json()["error"], params
    response = Client().get("/api/")
    assert response.status_code == 405


def test_rights_of_the_tokens_user_apply(cohort):
    monitor = _token("monitor")
    patient = Patient.objects.filter(site__code="SMR").first()
    data = json.dumps([{"study_id": patient.study_id, "redcap_event_name": "v0_arm_1"}])
    response = _post(monitor, content="record", action="import", format="json", data=data)
    assert response.status_code == 403 and "Import" in response.json()["error"]
    response = _post(_token("clinician_a"), content="user", format="json")
    assert response.status_code == 403
    users = _post(_token("datamanager"), content="user", format="json").json()
    assert {"clinician_a", "monitor"} <= {u["username"] for u in users}
    nobody = User.objects.create_user("nobody", password="x-long-password-1")
    response = _post(token_create(user=nobody)[1], content="version")
    assert response.status_code == 403


def test_a_token_of_another_site_cannot_write_there(cohort):
    tas = Patient.objects.filter(site__code="TAS").first()
    form = SpasmAssessment.objects.filter(visit__patient=tas).first()
    history = form.history.count()
    data = json.dumps(
        [{"study_id": tas.study_id, "redcap_event_name": "v0_arm_1", "vas_frequency": "10"}]
    )
    response = _post(
        _token("clinician_a"), content="record", action="import", format="json", data=data
    )
    assert response.status_code == 400
    assert tas.study_id in response.json()["error"]
    assert form.history.count() == history


def test_import_csv_unknown_fields_and_read_only_fields_are_refused(cohort):
    patient = Patient.objects.filter(site__code="SMR").first()
    token = _token("clinician_a")
    text = f"study_id,redcap_event_name,shoe_size\n{patient.study_id},v0_arm_1,42\n"
    response = _post(token, content="record", format="csv", data=text, returnFormat="json")
    assert response.status_code == 400 and "shoe_size" in response.json()["error"]
    text = f"study_id,redcap_event_name,age\n{patient.study_id},v0_arm_1,99\n"
    response = _post(token, content="record", format="csv", data=text, returnFormat="json")
    assert response.status_code == 400 and '"age","99"' in response.json()["error"]


def test_every_call_is_logged_and_calls_are_rate_limited(cohort, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    token = _token("investigator")
    for _ in range(3):
        assert _post(token, content="version").status_code == 200
    response = _post(token, content="metadata", format="json")
    assert response.status_code == 429 and "3" in response.json()["error"]
    calls = ApiCall.objects.filter(user__username="investigator").order_by("at")
    assert [c.status for c in calls] == [200, 200, 200, 429]
    assert calls[0].method == "version"
    other = _token("monitor")  # the limit is per token
    assert _post(other, content="version").status_code == 200


def test_api_token_command_prints_a_token_stored_only_hashed(cohort):
    out = io.StringIO()
    call_command("api_token", "clinician_a", "--days", "30", stdout=out)
    token = out.getvalue().strip()
    assert len(token) == 32 and token == token.upper() and int(token, 16) >= 0
    row = ApiToken.objects.get(token_hash=token_digest(token))
    assert token not in {row.token_hash, row.prefix} and row.expires_at is not None
    assert _post(token, content="version").content == b"14.0.0"


def test_data_managers_create_and_revoke_tokens_in_the_admin(cohort):
    dm = login(User.objects.get(username="datamanager"))
    clinician = User.objects.get(username="clinician_a")
    response = dm.post(
        reverse("admin:api_apitoken_add"),
        {"user": clinician.pk, "name": "R script", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    message = next(str(m) for m in response.context["messages"])
    token = message.rsplit(" ", 1)[-1]
    row = ApiToken.objects.get(name="R script")
    assert row.token_hash == token_digest(token) and row.created_by.username == "datamanager"
    assert _post(token, content="version").status_code == 200
    dm.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [row.pk]},
    )
    assert _post(token, content="version").status_code == 403
    assert login(clinician).get(reverse("admin:api_apitoken_changelist")).status_code in (
        302,
        403,
    )
    assert dm.get(reverse("admin:api_apicall_changelist")).status_code == 200
