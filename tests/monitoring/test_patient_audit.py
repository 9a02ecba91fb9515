"""Issue 13.7: the audit trail for humans, and a patient's whole trail on one page."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from assessments.models import FormStatus, LabPanel, SpasmAssessment, Visit
from assessments.services import crf_save
from hfs_ecrf.audit import history_rows
from monitoring.patient_audit import patient_audit
from tests import factories
from tests.conftest import login
from tests.monitoring.conftest import complete_labs, lab_panel


def _raise_query(client, patient, text="Please check B12 against source"):
    return client.post(
        reverse("monitoring:query_raise", args=[patient.study_id]),
        {"visit": "V0", "form_code": "labs", "field_name": "b12_value", "text": text},
    )


def _changed_b12(patient, user):
    complete_labs(patient, user)
    panel = lab_panel(patient)
    panel.b12_value = Decimal("260")
    crf_save(form=panel, user=user, action="complete", reason="transcription error")


def _ru(text) -> str:
    """The page speaks the study's language (Russian) by default."""
    with translation.override("ru"):
        return str(translation.gettext(str(text)) if isinstance(text, str) else text)


def _page(user, patient, **params) -> str:
    url = reverse("monitoring:patient_history", args=[patient.study_id])
    response = login(user).get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_names_labels_and_study_labels_instead_of_ids(alice, mona, smr_patient):
    alice.first_name, alice.last_name = "Alice", "Karimova"
    alice.save()
    _changed_b12(smr_patient, alice)
    visit = Visit.objects.get(patient=smr_patient, code="V0")
    with translation.override("en"):
        rows = history_rows(lab_panel(smr_patient))
        created = {str(f): new for f, _old, new in rows[0]["changes"]}
        last = {str(f): (old, new) for f, old, new in rows[-1]["changes"]}
        labels = {str(f) for row in rows for f, *_ in row["changes"]}
    # the visit by its study label, not its database id
    assert created["visit"] == f"{smr_patient.study_id} V0"
    assert rows[-1]["who"] == "Alice Karimova"
    assert last["vitamin B12"] == (Decimal("250.000"), Decimal("260.000"))
    assert not {"updated by", "updated at", "version"} & set(last)
    # "ever complete" has a label now
    assert "once complete" in labels and "ever_complete" not in labels
    with translation.override("ru"):
        rows = history_rows(lab_panel(smr_patient))
        status_label = str(FormStatus.COMPLETE.label)
        field_label = str(LabPanel._meta.get_field("status").verbose_name)
        states = [n for row in rows for f, _o, n in row["changes"] if str(f) == field_label]
    assert status_label != "complete" and status_label in states  # choice label, in Russian

    body = _page(mona, smr_patient)
    assert f"visit {visit.pk}" not in body
    assert "Alice Karimova" in body
    assert "transcription error" in body
    assert f"{smr_patient.study_id} V0 {_ru(LabPanel.TITLE)}" in body


def test_the_patient_page_gathers_every_form_visit_record_and_query(alice, mona, smr_patient):
    _changed_b12(smr_patient, alice)
    assert _raise_query(login(mona), smr_patient).status_code == 302
    with translation.override("en"):
        rows = patient_audit(smr_patient)
        objects = {r.object_label for r in rows}
    sid = smr_patient.study_id
    assert {f"{sid} · patient", f"{sid} · consent", f"{sid} V0", f"{sid} V0 Laboratory"} <= objects
    assert any(label.startswith("query #") for label in objects)
    assert [r.when for r in rows] == sorted(r.when for r in rows)
    body = _page(mona, smr_patient)
    assert "Please check B12 against source" in body  # the query message


def test_filter_by_form_and_date(alice, mona, smr_patient):
    _changed_b12(smr_patient, alice)
    with translation.override("en"):
        labs_only = patient_audit(smr_patient, form_code="labs")
        assert labs_only and {r.form_code for r in labs_only} == {"labs"}
        assert len(labs_only) < len(patient_audit(smr_patient))
    today = timezone.localdate()
    assert patient_audit(smr_patient, until=today - timedelta(days=1)) == []
    assert patient_audit(smr_patient, since=today, until=today)
    body = _page(mona, smr_patient, form="labs")
    assert f"{smr_patient.study_id} V0 {_ru(LabPanel.TITLE)}" in body
    assert f"{smr_patient.study_id} · {_ru('consent')}" not in body
    body = _page(
        mona, smr_patient, since=today.isoformat(), until=(today - timedelta(1)).isoformat()
    )
    assert _ru("The end of the range must not be before its start.") in body


def test_another_sites_patient_is_404(bob, smr_patient):
    url = reverse("monitoring:patient_history", args=[smr_patient.study_id])
    assert login(bob).get(url).status_code == 404


def test_identity_is_never_in_the_trail(alice, mona, smr_patient):
    identity = smr_patient.identity
    for user in (alice, mona):
        body = _page(user, smr_patient)
        assert identity.full_name not in body


def _fill_visits(patient, user, codes):
    for code in codes:
        if code != "V0":
            factories.visit(patient, user, code)
        visit = Visit.objects.get(patient=patient, code=code)
        spasm = SpasmAssessment.objects.filter(visit=visit).first() or SpasmAssessment(visit=visit)
        for vas in (30, 40):
            spasm.vas_frequency, spasm.vas_intensity = vas, vas
            spasm.jankovic_severity = spasm.jankovic_frequency = 2
            crf_save(form=spasm, user=user, action="save", reason="re-read")
            spasm.refresh_from_db()


@pytest.mark.parametrize("codes", [("V0", "V1"), ("V0", "V1", "V2", "V3")], ids=["2", "4"])
def test_query_count_is_flat(codes, alice, mona, smr_patient, django_assert_max_num_queries):
    """Two visits or the whole schedule (4 visits, each form saved repeatedly): the same bound."""
    _fill_visits(smr_patient, alice, codes)
    _raise_query(login(mona), smr_patient)
    with django_assert_max_num_queries(30):
        rows = patient_audit(smr_patient)
    assert len({r.object_label for r in rows if re.search(r" V\d ", r.object_label)}) >= len(codes)
