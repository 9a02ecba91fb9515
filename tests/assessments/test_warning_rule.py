"""Soft warnings are decided by the services, without HTTP: unconfirmed ones refuse the save
with a typed error that carries them (and any hard error found at the same time)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assessments.models import LabPanel, Visit
from assessments.services import crf_save, visit_save
from hfs_ecrf.validation import UnconfirmedWarnings
from randomisation.services import baseline_b12_save
from tests import factories


@pytest.fixture
def patient(alice, site_a):
    factories.allocation_list(["SMR"])
    return factories.randomised(site_a, alice)


def _low_b12(patient) -> LabPanel:
    panel = LabPanel.objects.get(visit__patient=patient, visit__code="V0")
    panel.b12_value, panel.b12_unit = Decimal("95"), "pmol/L"
    return panel


def test_crf_save_refuses_an_unconfirmed_warning_and_names_it(alice, patient):
    with pytest.raises(UnconfirmedWarnings) as refused:
        crf_save(form=_low_b12(patient), user=alice)
    assert set(refused.value.warnings) == {"b12_value"}
    assert "b12_value" in refused.value.error_dict
    assert LabPanel.objects.get().b12_value == 250  # nothing saved


def test_crf_save_with_confirmation_keeps_the_warning_in_form_and_audit_trail(alice, patient):
    panel = crf_save(form=_low_b12(patient), user=alice, confirmed=True)
    panel.refresh_from_db()
    assert panel.b12_value == 95
    assert panel.warnings_confirmed.startswith("b12_value: ")
    assert "[confirmed: b12_value: " in panel.history.latest().history_change_reason


def test_warnings_and_hard_errors_are_reported_together(alice, patient):
    # "complete" without cortisol and dopamine is a hard error, the low B12 a warning
    with pytest.raises(UnconfirmedWarnings) as refused:
        crf_save(form=_low_b12(patient), user=alice, action="complete")
    assert set(refused.value.error_dict) == {"b12_value", "cortisol_value", "dopamine_value"}
    assert set(refused.value.warnings) == {"b12_value"}
    with pytest.raises(ValidationError) as still:  # confirming does not lift a hard error
        crf_save(form=_low_b12(patient), user=alice, action="complete", confirmed=True)
    assert not isinstance(still.value, UnconfirmedWarnings)
    assert set(still.value.error_dict) == {"cortisol_value", "dopamine_value"}
    assert LabPanel.objects.get().b12_value == 250


def test_a_form_not_done_has_no_values_to_warn_about(alice, patient):
    panel = crf_save(form=_low_b12(patient), user=alice, action="not_done", not_done_reason="x")
    assert panel.status == "not_done"
    assert panel.warnings_confirmed == ""


def test_visit_save_refuses_an_unconfirmed_out_of_window_date(alice, patient):
    day0 = patient.allocation.randomised_on
    visit = Visit(patient=patient, code="V1", visit_date=day0 + timedelta(days=38), status="done")
    with pytest.raises(UnconfirmedWarnings) as refused:
        visit_save(visit=visit, user=alice)
    assert set(refused.value.warnings) == {"visit_date"}
    assert not Visit.objects.filter(code="V1").exists()
    saved = visit_save(visit=visit, user=alice, confirmed=True)
    assert saved.out_of_window is True
    assert saved.history.latest().history_change_reason == str(refused.value.warnings["visit_date"])


def test_baseline_b12_entry_follows_the_same_rule(alice, site_a):
    patient = factories.enrol(site_a, alice)
    low = LabPanel(sample_date=patient.consent.consent_date, b12_value=Decimal("95"))
    low.b12_unit = "pmol/L"
    with pytest.raises(UnconfirmedWarnings):
        baseline_b12_save(patient=patient, panel=low, user=alice)
    assert not LabPanel.objects.exists()
    baseline_b12_save(patient=patient, panel=low, user=alice, confirmed=True)
    assert LabPanel.objects.get().b12_value == 95
