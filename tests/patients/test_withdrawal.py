from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from assessments.models import LabPanel
from assessments.selectors import patient_progress
from assessments.services import WITHDRAWN_NO_NEW_VISITS, visit_get_or_create
from patients.models import Withdrawal
from tests import factories
from tests.conftest import login


def _post(client, patient, **data):
    return client.post(reverse("patients:withdraw", args=[patient.study_id]), data)


def test_withdrawal_is_recorded_with_date_and_reason(alice, site_a):
    patient = factories.ready_to_randomise(site_a, alice)
    response = _post(
        login(alice), patient, withdrawn_on=timezone.localdate().isoformat(), reason="adverse_event"
    )
    assert response.status_code == 302
    withdrawal = Withdrawal.objects.get(patient=patient)
    assert (withdrawal.reason, withdrawal.recorded_by) == ("adverse_event", alice)
    assert withdrawal.history.latest().history_user == alice
    patient.refresh_from_db()
    assert patient_progress(patient).status == "withdrawn"


def test_other_reason_needs_a_description(alice, site_a):
    patient = factories.enrol(site_a, alice)
    response = _post(
        login(alice), patient, withdrawn_on=timezone.localdate().isoformat(), reason="other"
    )
    assert "reason_other" in response.context["form"].errors
    assert not Withdrawal.objects.exists()


@pytest.mark.parametrize("days", [1, 400])
def test_a_future_date_or_one_before_consent_is_refused(alice, site_a, days):
    patient = factories.enrol(site_a, alice)
    when = timezone.localdate() + timedelta(days=days if days == 1 else -days)
    response = _post(
        login(alice), patient, withdrawn_on=when.isoformat(), reason="lost_to_follow_up"
    )
    assert "withdrawn_on" in response.context["form"].errors
    assert not Withdrawal.objects.exists()


def test_a_withdrawn_patient_gets_no_new_visits_but_keeps_data(alice, site_a):
    patient = factories.ready_to_randomise(site_a, alice)
    _post(
        login(alice),
        patient,
        withdrawn_on=timezone.localdate().isoformat(),
        reason="withdrew_consent",
    )
    with pytest.raises(ValidationError, match=re.escape(str(WITHDRAWN_NO_NEW_VISITS))):
        visit_get_or_create(patient=patient, code="V1", user=alice)
    assert LabPanel.objects.filter(visit__patient=patient).exists()
