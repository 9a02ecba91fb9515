"""Issue 10.4: no input a user can send gives a 500, and a refused POST saves nothing.

Every form page is fetched (GET) as its user, its field names are read from the HTML, then it
is posted with hostile values in every field at once: out-of-range and non-numbers, 10 000
characters, dates from year 1 to 9999 and beyond, tampered hidden fields (version, submission
token, action) and choice values that are not offered. The test client re-raises any server
error, so a 500 fails the test with its traceback.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from hfs_ecrf.audit import AuditedModel
from patients.models import Consent, MedicalHistory, Withdrawal
from patients.services import patient_import, patient_withdraw
from tests import factories
from tests.conftest import login

_NAMES = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([\w-]+)"')
HOSTILE = [
    "99999999999999999999999999",
    "-1",
    "1e309",
    "NaN",
    "abc",
    "x" * 10_000,
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2024-02-30",
    "",
    "zzz-not-a-choice",
    "<script>alert(1)</script>",
    "\x00",
]
TAMPERED = {
    "base_version": ["-5", "abc", "99999999999999999999999", "", "0"],
    "submission_token": ["not-a-uuid", "00000000-0000-0000-0000-000000000000", ""],
    "action": ["delete", "complete", "not_done", ""],
    "site": ["999999", "-1", "abc"],
}


def _field_names(html: str) -> list[str]:
    return sorted(set(_NAMES.findall(html)) - {"csrfmiddlewaretoken"})


def _rows() -> int:
    return sum(
        m.history.model.objects.count()
        for m in apps.get_models()
        if issubclass(m, AuditedModel) and not m._meta.proxy
    )


def _pages(site_a, alice, dana):
    factories.allocation_list(["SMR"])
    patient = factories.randomised(site_a, alice)
    factories.visit(patient, alice, "V1")
    enrolled = factories.enrol(site_a, alice)  # not randomised: baseline B12 page
    withdrawn = factories.enrol(site_a, alice)
    patient_withdraw(
        withdrawal=Withdrawal(
            patient=withdrawn, withdrawn_on=timezone.localdate(), reason="lost_to_follow_up"
        ),
        user=alice,
    )
    imported = patient_import(
        site=site_a,
        study_id="SMR-0900",
        age=50,
        consent=Consent(
            consent_date=timezone.localdate() - timedelta(days=9), information_sheet_version="2"
        ),
        history=MedicalHistory(sex="male", disease_duration_months=3, affected_side="right"),
        user=dana,
        file_name="bundle.zip",
    )
    screening = factories.screen(site_a, alice)
    sid = patient.study_id
    pages = [
        reverse("patients:screening_new"),
        reverse("patients:enrol", args=[screening.pk]),
        reverse("patients:withdraw", args=[sid]),
        reverse("patients:identity_add", args=[imported.study_id]),
        reverse("randomisation:baseline_b12", args=[enrolled.study_id]),
        reverse("randomisation:baseline_b12", args=[withdrawn.study_id]),
        reverse("assessments:visit", args=[sid, "V1"]),
        reverse("assessments:visit", args=[sid, "V2"]),
        reverse("assessments:visit", args=[withdrawn.study_id, "V1"]),
    ]
    from assessments.schedule import VISITS

    pages += [reverse("assessments:crf", args=[sid, "V0", code]) for code in VISITS["V0"].forms]
    pages += [
        reverse("assessments:records", args=[sid, kind]) for kind in ("exposure", "conmed", "ae")
    ]
    return [(alice, url) for url in pages] + [(dana, reverse("randomisation:allocation"))]


def _payloads(names: list[str]) -> list[dict]:
    payloads = [{name: value for name in names} for value in HOSTILE]
    for value in ("0001-01-01", "9999-12-31"):  # one date extreme with otherwise sane fields
        payloads.append(
            {name: value if "date" in name or name.endswith("_on") else "1" for name in names}
        )
    for field, values in TAMPERED.items():
        if field in names:
            payloads += [{**{n: "1" for n in names}, field: v} for v in values]
    return payloads


@pytest.mark.django_db
def test_no_form_gives_a_500_and_a_refused_post_saves_nothing(site_a, alice, dana):
    checked = 0
    for user, url in _pages(site_a, alice, dana):
        client = login(user)
        page = client.get(url)
        assert page.status_code in (200, 302), url
        names = _field_names(page.content.decode()) if page.status_code == 200 else ["x"]
        for payload in _payloads(names):
            before = _rows()
            response = client.post(url, payload)
            assert response.status_code != 500, (url, payload)
            if response.status_code == 200:
                assert _rows() == before, f"{url} saved something on a refused POST"
            checked += 1
    assert checked > 200
