"""Issue 11 point 2 (the plus): per-field source data verification; a change of a verified
field resets its mark, a change of another field does not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from monitoring import rules, services
from monitoring.models import FieldVerification, FormVerification
from tests.conftest import login
from tests.monitoring.conftest import complete_labs, lab_panel


def _verify_field(client, patient, field: str):
    return client.post(
        reverse("monitoring:verify_field", args=[patient.study_id, "V0", "labs", field])
    )


def _form_page(client, patient) -> str:
    url = reverse("assessments:crf", args=[patient.study_id, "V0", "labs"])
    client.cookies["django_language"] = "en"
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_monitor_marks_single_fields_and_a_change_of_that_field_resets_its_mark(
    alice, mona, smr_patient
):
    complete_labs(smr_patient, alice, b12="250")
    client = login(mona)
    assert _verify_field(client, smr_patient, "b12_value").status_code == 302
    assert _verify_field(client, smr_patient, "cortisol_value").status_code == 302
    b12 = FieldVerification.objects.get(field_name="b12_value")
    assert (b12.status, b12.verified_by, b12.verified_value) == ("verified", mona, "250")
    assert b12.history.first().history_change_reason == "source data verified: b12_value"
    assert not FormVerification.objects.exists()  # the form as a whole is not verified
    page = _form_page(client, smr_patient)
    assert "Fields verified: 2 of" in page
    assert page.count('data-field-status="verified"') == 2

    complete_labs(smr_patient, alice, b12="250")  # saved again, same value: mark kept
    b12.refresh_from_db()
    assert b12.status == "verified"

    complete_labs(smr_patient, alice, b12="260")  # that field changes: its mark is reset
    b12.refresh_from_db()
    assert (b12.status, b12.changed_by) == ("changed", alice) and b12.changed_at is not None
    assert b12.history.first().history_change_reason == "changed after source data verification"
    cortisol = FieldVerification.objects.get(field_name="cortisol_value")
    assert cortisol.status == "verified"  # another field's change leaves it
    page = _form_page(client, smr_patient)
    assert page.count('data-field-status="changed"') == 1
    assert "Fields verified: 1 of" in page
    assert 'data-testid="verify-field-b12_value"' in page  # to be verified again

    _verify_field(client, smr_patient, "b12_value")
    b12.refresh_from_db()
    assert (b12.status, b12.verified_value, b12.changed_by) == ("verified", "260", None)


def test_a_reset_field_mark_is_named_on_the_monitor_worklist(alice, mona, smr_patient):
    complete_labs(smr_patient, alice, b12="250")
    client = login(mona)
    _verify_field(client, smr_patient, "b12_value")
    _verify_field(client, smr_patient, "cortisol_value")

    def to_verify() -> str:
        client.cookies["django_language"] = "en"
        page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        return page.split('data-testid="to-verify"')[1].split("</ul>")[0]

    assert "changed since verification" not in to_verify()  # listed, nothing changed yet
    complete_labs(smr_patient, alice, b12="260")
    entry = to_verify()
    label = lab_panel(smr_patient)._meta.get_field("b12_value").verbose_name
    assert f"changed since verification: {label}" in entry
    assert "cortisol" not in entry.split("changed since verification")[1].lower()
    _verify_field(client, smr_patient, "b12_value")  # verified again: no longer flagged
    assert "changed since verification" not in to_verify()


def test_only_monitors_verify_fields_of_saved_forms_and_real_fields(alice, mona, smr_patient):
    visit = lab_panel(smr_patient).visit
    with pytest.raises(ValidationError):  # still a draft
        services.field_verify(visit=visit, form_code="labs", field_name="b12_value", user=mona)
    complete_labs(smr_patient, alice)
    assert _verify_field(login(alice), smr_patient, "b12_value").status_code == 403
    with pytest.raises(ValidationError) as refusal:
        services.field_verify(visit=visit, form_code="labs", field_name="colour", user=mona)
    text = " ".join(refusal.value.messages)
    assert "colour" in text and "b12_value" in text  # names the field and what is allowed
    response = _verify_field(login(mona), smr_patient, "colour")
    assert response.status_code == 302
    assert not FieldVerification.objects.exists()


def test_the_field_marks_are_translated(alice, mona, smr_patient):
    complete_labs(smr_patient, alice)
    client = login(mona)
    _verify_field(client, smr_patient, "b12_value")
    client.cookies["django_language"] = "ru"
    url = reverse("assessments:crf", args=[smr_patient.study_id, "V0", "labs"])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Проверено полей: 1 из" in page


def test_values_compare_as_values():
    assert rules.value_text(Decimal("250.00")) == rules.value_text(Decimal("250")) == "250"
    assert rules.value_text(None) == ""
    assert rules.value_text(Decimal("0.50")) == "0.5"
