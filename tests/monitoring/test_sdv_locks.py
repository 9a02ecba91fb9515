"""Verification reset by a change; locks refused by every write path; e-signatures; DB lock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from assessments.services import crf_save
from hfs_ecrf.hooks import WriteRefused
from hfs_ecrf.models import SecurityEvent
from monitoring import services
from monitoring.models import FormVerification, RecordLock, Signature
from patients.models import Site
from tests.conftest import login
from tests.monitoring.conftest import complete_labs, lab_panel


@pytest.fixture
def verified(alice, mona, smr_patient):
    panel = complete_labs(smr_patient, alice)
    login(mona).post(reverse("monitoring:verify", args=[smr_patient.study_id, "V0", "labs"]))
    return panel


def test_a_change_after_verification_marks_it_changed_and_lists_it(
    alice, mona, verified, smr_patient
):
    verification = FormVerification.objects.get()
    assert (verification.status, verification.verified_by) == ("verified", mona)
    complete_labs(smr_patient, alice, b12="260")
    verification.refresh_from_db()
    assert (verification.status, verification.changed_by) == ("changed", alice)
    home = login(mona).get(reverse("home")).content.decode()
    assert "changed since verification" in home or "изменена после проверки" in home
    form_page = login(mona).get(
        reverse("assessments:crf", args=[smr_patient.study_id, "V0", "labs"])
    )
    assert form_page.context["mon"]["verification"].status == "changed"


def test_a_draft_cannot_be_verified(mona, smr_patient):
    with pytest.raises(ValidationError):
        services.form_verify(visit=lab_panel(smr_patient).visit, form_code="labs", user=mona)


def test_lock_refusal_lists_what_is_missing(alice, dana, mona, smr_patient):
    visit = lab_panel(smr_patient).visit
    services.query_raise(patient=smr_patient, visit=visit, form_code="labs", user=mona, text="?")
    with pytest.raises(ValidationError) as refusal:
        services.record_lock(patient=smr_patient, visit=visit, form_code="labs", user=dana)
    text = " ".join(refusal.value.messages)
    assert "V0" in text and "1" in text
    assert not RecordLock.objects.exists()


def _lock_form(dana, smr_patient):
    lock = services.record_lock(
        patient=smr_patient, visit=lab_panel(smr_patient).visit, form_code="labs", user=dana
    )
    return lock


def test_a_locked_form_is_refused_by_the_web_form_the_model_and_shows_who(
    alice, dana, verified, smr_patient
):
    _lock_form(dana, smr_patient)
    client = login(alice)
    url = reverse("assessments:crf", args=[smr_patient.study_id, "V0", "labs"])
    page = client.get(url).content.decode()
    assert 'data-testid="form-locked"' in page and "dana" in page
    assert 'data-testid="save-complete"' not in page  # read-only
    panel = lab_panel(smr_patient)
    response = client.post(
        url,
        {
            "action": "draft",
            "base_version": panel.version,
            "sample_date": panel.sample_date.isoformat(),
            "b12_value": "999",
            "b12_unit": "pmol/L",
            "cortisol_unit": "nmol/L",
            "dopamine_unit": "pmol/L",
            "dopamine_matrix": "plasma",
            "reason_for_change": "try",
        },
    )
    assert response.status_code == 200 and "dana" in response.content.decode()
    assert lab_panel(smr_patient).b12_value == Decimal("250")
    # the path the admin and any other code takes: Model.save()
    panel.b12_value = Decimal("300")
    with pytest.raises(WriteRefused):
        panel.save()


def test_unlock_needs_a_reason_and_is_audited(alice, dana, verified, smr_patient):
    lock = _lock_form(dana, smr_patient)
    with pytest.raises(ValidationError):
        services.record_unlock(lock=lock, user=dana, reason=" ")
    services.record_unlock(lock=lock, user=dana, reason="lab re-issued the report")
    assert lock.history.first().history_change_reason == "unlocked: lab re-issued the report"
    complete_labs(smr_patient, alice, b12="270")  # writable again


def test_patient_lock_covers_visits_and_records(alice, dana, mona, verified, smr_patient):
    from assessments.models import Visit

    for form in ("spasm", "rand36", "hads", "hdrs"):
        from assessments.models import CRF_MODELS

        obj = CRF_MODELS[form](visit=lab_panel(smr_patient).visit)
        crf_save(form=obj, user=alice, action="not_done", not_done_reason="not collected")
        services.form_verify(visit=obj.visit, form_code=form, user=mona)
    services.record_lock(patient=smr_patient, user=dana)
    with pytest.raises(WriteRefused):
        Visit(patient=smr_patient, code="V1").save()


def _sign(client, study_id, password):
    return client.post(
        reverse("monitoring:sign", args=[study_id]),
        {"meaning": "approve", "password": password},
        REMOTE_ADDR="10.0.0.9",
    )


def test_a_wrong_password_is_refused_and_counted_toward_lockout(ivan, smr_patient):
    client = login(ivan)
    response = _sign(client, smr_patient.study_id, "wrong")
    assert response.status_code == 200 and not Signature.objects.exists()
    assert AccessAttempt.objects.get(username="ivan").failures_since_start == 1
    assert SecurityEvent.objects.filter(kind="login_failed", username="ivan").exists()
    for _ in range(4):
        _sign(client, smr_patient.study_id, "wrong")
    # locked out now: even the right password is refused
    _sign(client, smr_patient.study_id, "correct-horse-battery-1")
    assert not Signature.objects.exists()


def test_a_signature_records_its_parts_and_a_later_change_invalidates_it(
    alice, ivan, verified, smr_patient
):
    client = login(ivan)
    assert _sign(client, smr_patient.study_id, "correct-horse-battery-1").status_code == 302
    signature = Signature.objects.get()
    assert signature.printed_name == "ivan" and signature.meaning == "approve"
    assert len(signature.data_hash) == 64 and signature.signed_at_local
    page = client.get(smr_patient.get_absolute_url()).content.decode()
    assert signature.data_hash[:8] in page
    complete_labs(smr_patient, alice, b12="250")  # same data: still valid
    signature.refresh_from_db()
    assert signature.is_valid
    complete_labs(smr_patient, alice, b12="255")
    signature.refresh_from_db()
    assert not signature.is_valid
    assert signature.history.first().history_change_reason == "signed data changed"


def test_database_lock_refuses_every_write_path_and_unlocks_with_reason(
    alice, dana, verified, smr_patient
):
    with pytest.raises(ValidationError) as refusal:
        services.study_lock(user=dana, reason="final")
    assert smr_patient.study_id in " ".join(refusal.value.messages)
    lock = services.study_lock(user=dana, reason="final", override=True)
    assert lock.override == smr_patient.study_id
    with pytest.raises(WriteRefused):
        complete_labs(smr_patient, alice, b12="270")
    # the admin: changing a site is refused with the message, nothing saved
    site = Site.objects.get(code="SMR")
    admin = Client()
    dana.is_superuser = True
    dana.save()
    admin.force_login(dana)
    response = admin.post(
        reverse("admin:patients_site_change", args=[site.pk]),
        {"code": "SMR", "name": "Renamed"},
        follow=True,
    )
    assert "dana" in response.content.decode()
    site.refresh_from_db()
    assert site.name == "Site A"
    services.study_unlock(user=dana, reason="query from the regulator")
    complete_labs(smr_patient, alice, b12="270")
