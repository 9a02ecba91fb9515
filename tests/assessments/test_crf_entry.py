"""Case report forms through the web: validation, scores, status, reason for change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.instruments import rand36
from assessments.models import Hads, Hdrs17, LabPanel, Rand36, SpasmAssessment, Visit
from assessments.services import REASON_REQUIRED
from tests import factories
from tests.assessments.test_scoring import VECTOR
from tests.conftest import login, post_form
from tests.factories import SPASM


def _url(patient, code, form):
    return reverse("assessments:crf", args=[patient.study_id, code, form])


def _post(client, patient, code, form, data, action="draft", base_version=None):
    if base_version is None:
        model = {
            "spasm": SpasmAssessment,
            "labs": LabPanel,
            "rand36": Rand36,
            "hads": Hads,
            "hdrs": Hdrs17,
        }[form]
        existing = model.objects.filter(visit__patient=patient, visit__code=code).first()
        base_version = existing.version if existing else 0
    return client.post(
        _url(patient, code, form), {"action": action, "base_version": base_version, **data}
    )


@pytest.fixture
def patient(alice, site_a):
    factories.allocation_list(["SMR"])
    return factories.randomised(site_a, alice)


def test_a_complete_spasm_form_stores_its_scores(alice, patient):
    response = _post(login(alice), patient, "V0", "spasm", SPASM, action="complete")
    assert response.status_code == 302
    form = SpasmAssessment.objects.get()
    assert (form.status, form.jankovic_total, form.version) == ("complete", 5, 1)


def test_a_hard_error_names_field_range_and_unit_and_saves_nothing(alice, patient):
    response = _post(
        login(alice),
        patient,
        "V0",
        "spasm",
        {**SPASM, "vas_frequency": "150", "jankovic_severity": "7"},
    )
    errors = response.context["form"].errors
    assert "100" in " ".join(errors["vas_frequency"])
    assert "jankovic_severity" in errors
    assert 'value="150"' in response.content.decode()  # what the user typed is kept
    assert not SpasmAssessment.objects.exists()


def test_a_draft_may_have_blanks_but_complete_needs_every_item(alice, patient):
    client = login(alice)
    assert _post(client, patient, "V0", "spasm", {"vas_frequency": "40"}).status_code == 302
    response = _post(client, patient, "V0", "spasm", {"vas_frequency": "40"}, action="complete")
    assert "vas_intensity" in response.context["form"].errors
    assert SpasmAssessment.objects.get().status == "draft"


def test_not_done_needs_a_reason(alice, patient):
    client = login(alice)
    response = _post(client, patient, "V0", "hads", {}, action="not_done")
    assert "not_done_reason" in response.context["form"].errors
    _post(
        client, patient, "V0", "hads", {"not_done_reason": "patient too tired"}, action="not_done"
    )
    assert Hads.objects.get().status == "not_done"


def test_after_complete_every_change_needs_a_reason_kept_in_history(alice, patient):
    client = login(alice)
    _post(client, patient, "V0", "spasm", SPASM, action="complete")
    response = _post(
        client, patient, "V0", "spasm", {**SPASM, "vas_frequency": "60"}, action="complete"
    )
    assert str(REASON_REQUIRED) in " ".join(response.context["form"].errors["reason_for_change"])
    assert SpasmAssessment.objects.get().vas_frequency == 64
    _post(
        client,
        patient,
        "V0",
        "spasm",
        {**SPASM, "vas_frequency": "60", "reason_for_change": "transcription error"},
        action="complete",
    )
    form = SpasmAssessment.objects.get()
    assert form.vas_frequency == 60
    assert form.history.latest().history_change_reason == "transcription error"
    page = client.get(reverse("assessments:crf_history", args=[patient.study_id, "V0", "spasm"]))
    body = page.content.decode()
    assert "transcription error" in body and "64" in body and "60" in body


def test_labs_in_other_units_are_converted_and_the_raw_entry_kept(alice, patient):
    data = {
        "sample_date": (timezone.localdate() - timedelta(days=89)).isoformat(),
        "sample_time": "08:30",
        "b12_value": "400",
        "b12_unit": "pg/mL",
        "cortisol_value": "12",
        "cortisol_unit": "µg/dL",
        "dopamine_value": "50",
        "dopamine_unit": "pg/mL",
        "dopamine_matrix": "plasma",
    }
    response = _post(login(alice), patient, "V0", "labs", data, action="complete")
    assert response.status_code == 302, response.context["form"].errors
    panel = LabPanel.objects.get()
    assert (panel.b12_value, panel.b12_unit) == (400, "pg/mL")
    assert float(panel.b12_pmol_l) == pytest.approx(400 * 0.7378)
    assert float(panel.cortisol_nmol_l) == pytest.approx(12 * 27.59)
    assert float(panel.dopamine_pmol_l) == pytest.approx(50 * 6.528)


def test_an_impossible_lab_value_is_refused_with_range_and_unit(alice, patient):
    client = login(alice)
    client.cookies["django_language"] = "en"  # units are translated in Russian (checked below)
    response = _post(
        client,
        patient,
        "V0",
        "labs",
        {
            "b12_value": "25000",
            "b12_unit": "pg/mL",
            "cortisol_unit": "nmol/L",
            "dopamine_unit": "pmol/L",
            "dopamine_matrix": "plasma",
        },
    )
    message = " ".join(response.context["form"].errors["b12_value"])
    assert "25000" in message and "15000" in message and "pmol/L" in message
    assert LabPanel.objects.get().b12_value == 250  # the baseline entry is untouched
    client.cookies["django_language"] = "ru"
    response = _post(client, patient, "V0", "labs", {**SOFT_BASE, "b12_value": "25000.5"})
    message = " ".join(response.context["form"].errors["b12_value"])
    assert "25000,5" in message and "пмоль/л" in message and "pmol/L" not in message


SOFT_BASE = {
    "b12_unit": "pmol/L",
    "cortisol_unit": "nmol/L",
    "dopamine_unit": "pmol/L",
    "dopamine_matrix": "plasma",
}


def test_a_soft_warning_saves_only_after_confirmation_kept_in_the_audit_trail(alice, patient):
    client = login(alice)
    data = {
        "b12_value": "95",
        "b12_unit": "pmol/L",
        "cortisol_unit": "nmol/L",
        "dopamine_unit": "pmol/L",
        "dopamine_matrix": "plasma",
    }
    response = _post(client, patient, "V0", "labs", data)
    assert "confirm_warnings" in response.context["form"].errors
    assert LabPanel.objects.get().b12_value == 250
    response = _post(client, patient, "V0", "labs", {**data, "confirm_warnings": "on"})
    assert response.status_code == 302
    panel = LabPanel.objects.get()
    assert panel.b12_value == 95
    assert "confirmed" in panel.history.latest().history_change_reason
    assert "b12_value" in panel.warnings_confirmed


def test_a_vas_jump_of_more_than_50_mm_needs_confirmation(alice, patient):
    client = login(alice)
    _post(client, patient, "V0", "spasm", SPASM, action="complete")
    factories.visit(patient, alice, "V1")
    response = _post(client, patient, "V1", "spasm", {**SPASM, "vas_frequency": "5"})
    assert "vas_frequency" in response.context["form"].errors
    assert not SpasmAssessment.objects.filter(visit__code="V1").exists()


def test_rand36_scores_through_the_form_equal_the_published_vector(alice, patient):
    data = {f"q{i:02d}": str(v) for i, v in enumerate(VECTOR, start=1)}
    _post(login(alice), patient, "V0", "rand36", data, action="complete")
    form = Rand36.objects.get()
    assert form.pcs == pytest.approx(44.4028, abs=5e-5)
    assert form.mcs == pytest.approx(32.3110, abs=5e-5)
    assert form.bp == pytest.approx(67.5)
    assert form.pf == pytest.approx(rand36.rand_scales(dict(enumerate(VECTOR, 1)))["pf"])


def test_rand36_answer_out_of_range_is_refused(alice, patient):
    response = _post(login(alice), patient, "V0", "rand36", {"q03": "4"})
    assert "q03" in response.context["form"].errors
    assert not Rand36.objects.exists()


def test_hads_and_hdrs_scores(alice, patient):
    client = login(alice)
    hads = {f"q{i:02d}": str(i % 4) for i in range(1, 15)}
    _post(client, patient, "V0", "hads", hads, action="complete")
    form = Hads.objects.get()
    assert form.anxiety == sum(i % 4 for i in (1, 3, 5, 7, 9, 11, 13))
    assert form.depression == sum(i % 4 for i in (2, 4, 6, 8, 10, 12, 14))
    hdrs_answers = {f"q{i:02d}": "1" for i in range(1, 18)}
    _post(client, patient, "V0", "hdrs", hdrs_answers, action="complete")
    assert Hdrs17.objects.get().total == 17
    response = _post(
        client,
        patient,
        "V0",
        "hdrs",
        {**hdrs_answers, "q16": "", "q16_not_assessed": "on", "reason_for_change": "not weighed"},
        action="complete",
    )
    assert response.status_code == 302
    assert Hdrs17.objects.get().total is None


def test_a_form_the_visit_does_not_expect_is_404(alice, patient):
    factories.visit(patient, alice, "V2")
    assert login(alice).get(_url(patient, "V2", "rand36")).status_code == 404


def test_monitor_reads_but_cannot_save_and_other_site_gets_404(alice, bob, mona, patient):
    _post(login(alice), patient, "V0", "spasm", SPASM)
    assert login(mona).get(_url(patient, "V0", "spasm")).status_code == 200
    assert _post(login(mona), patient, "V0", "spasm", SPASM).status_code == 403
    assert login(bob).get(_url(patient, "V0", "spasm")).status_code == 404


def test_visit_date_rules(alice, patient):
    client = login(alice)
    url = reverse("assessments:visit", args=[patient.study_id, "V1"])
    future = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = post_form(client, url, {"visit_date": future, "status": "done"})
    assert "visit_date" in response.context["form"].errors
    before = (patient.consent.consent_date - timedelta(days=1)).isoformat()
    response = post_form(client, url, {"visit_date": before, "status": "done"})
    assert "visit_date" in response.context["form"].errors
    assert not Visit.objects.filter(code="V1").exists()
    day0 = patient.allocation.randomised_on
    late = (day0 + timedelta(days=28 + 10)).isoformat()
    response = post_form(client, url, {"visit_date": late, "status": "done"})
    assert "confirm_warnings" in response.context["form"].errors
    post_form(client, url, {"visit_date": late, "status": "done", "confirm_warnings": "on"})
    assert Visit.objects.get(code="V1").out_of_window is True
    in_window = (day0 + timedelta(days=30)).isoformat()
    post_form(client, url, {"visit_date": in_window, "status": "done"})
    assert Visit.objects.get(code="V1").out_of_window is False


def test_a_missed_visit_needs_a_reason(alice, patient):
    url = reverse("assessments:visit", args=[patient.study_id, "V2"])
    response = post_form(login(alice), url, {"status": "missed"})
    assert "missed_reason" in response.context["form"].errors
    post_form(login(alice), url, {"status": "missed", "missed_reason": "travelling"})
    assert Visit.objects.get(code="V2").status == "missed"


def test_a_withdrawn_patient_cannot_open_a_new_visit(alice, patient):
    from patients.models import Withdrawal
    from patients.services import patient_withdraw

    patient_withdraw(
        withdrawal=Withdrawal(
            patient=patient, withdrawn_on=timezone.localdate(), reason="lost_to_follow_up"
        ),
        user=alice,
    )
    url = reverse("assessments:visit", args=[patient.study_id, "V1"])
    day = (patient.allocation.randomised_on + timedelta(days=28)).isoformat()
    response = post_form(login(alice), url, {"visit_date": day, "status": "done"})
    assert response.status_code == 200
    assert not Visit.objects.filter(code="V1").exists()
    # the existing baseline stays editable
    assert _post(login(alice), patient, "V0", "spasm", SPASM).status_code == 302


def test_adverse_events_are_recorded_with_checks(alice, patient):
    url = reverse("assessments:records", args=[patient.study_id, "ae"])
    today = timezone.localdate()
    data = {
        "term": "injection site pain",
        "onset_on": today.isoformat(),
        "ended_on": (today - timedelta(days=3)).isoformat(),
        "severity": "mild",
        "relation": "probable",
        "action": "none",
        "outcome": "recovered",
    }
    response = login(alice).post(url, data)
    assert "ended_on" in response.context["form"].errors
    data["ended_on"] = ""
    assert login(alice).post(url, data).status_code == 302
    assert "injection site pain" in login(alice).get(url).content.decode()


def test_dates_in_the_future_are_refused_on_labs_and_records(alice, patient):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = _post(
        login(alice),
        patient,
        "V0",
        "labs",
        {
            "sample_date": tomorrow,
            "b12_value": "300",
            "b12_unit": "pmol/L",
            "cortisol_unit": "nmol/L",
            "dopamine_unit": "pmol/L",
            "dopamine_matrix": "plasma",
        },
    )
    assert "sample_date" in response.context["form"].errors
    url = reverse("assessments:records", args=[patient.study_id, "ae"])
    response = login(alice).post(
        url,
        {
            "term": "rash",
            "onset_on": tomorrow,
            "severity": "mild",
            "relation": "unlikely",
            "action": "none",
            "outcome": "recovering",
        },
    )
    assert "onset_on" in response.context["form"].errors
