"""Issue 13.9: the patient casebook PDF and the printable blank forms."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from assessments.models import CRF_MODELS
from assessments.schedule import SCHEDULE, VISITS
from monitoring.models import Signature
from tests.conftest import login, make_user
from tests.monitoring.conftest import complete_labs

PASSWORD = "correct-horse-battery-1"
QUESTION = "Please confirm B12 against the lab report"


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text)


def _casebook(user, patient):
    return login(user).get(reverse("monitoring:casebook_pdf", args=[patient.study_id]))


def _ru(text) -> str:
    with translation.override("ru"):
        return str(translation.gettext(text) if isinstance(text, str) else text)


@pytest.fixture
def documented(alice, mona, ivan, smr_patient):
    """Labs complete, a query raised, the casebook signed by the investigator."""
    complete_labs(smr_patient, alice, b12="312.5")
    login(mona).post(
        reverse("monitoring:query_raise", args=[smr_patient.study_id]),
        {"visit": "V0", "form_code": "labs", "field_name": "b12_value", "text": QUESTION},
    )
    ivan.first_name, ivan.last_name = "Ivan", "Petrov"
    ivan.save()
    response = login(ivan).post(
        reverse("monitoring:sign", args=[smr_patient.study_id]),
        {"meaning": "approve", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.9",
    )
    assert response.status_code == 302
    return smr_patient


def test_casebook_pdf_holds_values_states_queries_signatures_and_audit(mona, documented):
    response = _casebook(mona, documented)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"casebook-{documented.study_id}.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert documented.study_id in text
    for model in CRF_MODELS.values():  # every form title (Russian: the study's language)
        assert _ru(model.TITLE) in text
    assert "312,500" in text  # the entered value, formatted for the Russian locale
    assert _ru("pmol/L") in text  # its unit
    assert _ru("complete") in text  # a form state
    assert QUESTION in text  # the query's message
    signature = Signature.objects.get()
    assert signature.printed_name in text and signature.data_hash[:16] in text
    assert _ru("Audit trail summary") in text
    assert "alice" in text  # who changed what
    # no identity data
    identity = documented.identity
    assert identity.full_name not in text
    assert identity.date_of_birth.isoformat() not in text


def test_casebook_renders_cyrillic(mona, documented):
    text = pdf_text(_casebook(mona, documented).content)
    assert re.search("[а-яА-Я]{4,}", text)  # real Cyrillic letters, not missing glyphs
    assert "\ufffd" not in text


@pytest.mark.parametrize("persona", ["mona", "ivan", "dana"])
def test_monitors_investigators_and_data_managers_may_download(persona, request, documented):
    assert _casebook(request.getfixturevalue(persona), documented).status_code == 200


def test_clinicians_are_refused(alice, documented):
    assert _casebook(alice, documented).status_code == 403


def test_another_sites_monitor_gets_404(site_b, documented):
    from hfs_ecrf.roles import Role

    other = make_user("tas_monitor", Role.MONITOR, [site_b])
    assert _casebook(other, documented).status_code == 404


def test_the_casebook_link_is_on_the_patient_page(mona, alice, documented):
    url = reverse("monitoring:casebook_pdf", args=[documented.study_id])
    page = reverse("monitoring:patient_detail", args=[documented.study_id])
    assert url in login(mona).get(page).content.decode()
    assert url not in login(alice).get(page).content.decode()


# --- blank forms -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(VISITS))
def test_blank_forms_list_every_field_of_every_form_of_the_visit(code, alice):
    response = login(alice).get(reverse("assessments:blank_forms", args=[code]))
    assert response.status_code == 200
    body = response.content.decode()
    with translation.override("ru"):
        for form_code in VISITS[code].forms:
            model = CRF_MODELS[form_code]
            assert f'data-testid="paper-form-{form_code}"' in body
            assert str(model.TITLE) in body
            for name in model.ENTRY_FIELDS:
                label = str(model._meta.get_field(name).verbose_name)
                assert label[:1].upper() + label[1:] in body, (form_code, name)
    others = {c for spec in SCHEDULE for c in spec.forms} - set(VISITS[code].forms)
    for form_code in others:
        assert f'data-testid="paper-form-{form_code}"' not in body


def test_blank_forms_show_ranges_choices_units_and_boxes(alice):
    body = login(alice).get(reverse("assessments:blank_forms", args=["V0"])).content.decode()
    assert body.count('data-testid="paper-field"') > 60
    assert _ru("from %(low)s to %(high)s") % {"low": 0, "high": 100} in body  # VAS validators
    assert _ru("nmol/L") in body and _ru("pg/mL") in body  # unit choices of the lab values
    assert 'class="box"' in body
    css = (settings.BASE_DIR / "static" / "css" / "ecrf.css").read_text()
    assert "@media print" in css and ".paper-form { break-after: page; }" in css


def test_blank_forms_of_an_unknown_visit_are_404(alice):
    assert login(alice).get(reverse("assessments:blank_forms", args=["V9"])).status_code == 404
