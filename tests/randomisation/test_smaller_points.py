"""Issue 13.10: the smaller points, each with its test."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from assessments import services as crf_services
from assessments.models import TreatmentExposure
from hfs_ecrf.roles import Role
from hfs_ecrf.validation import UnconfirmedWarnings
from patients.models import Arm
from randomisation import services
from tests import factories
from tests.conftest import login, make_user


def _ru(text) -> str:
    with translation.override("ru"):
        return translation.gettext(text) if isinstance(text, str) else str(text)


def _body(user, name, *args, **params) -> str:
    response = login(user).get(reverse(name, args=args), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("b12", "label"),
    [("120", services.STRATUM_DEFICIENT), ("250", services.STRATUM_NOT_DEFICIENT)],
)
def test_the_randomise_confirmation_shows_the_stratum(b12, label, alice, site_a):
    factories.allocation_list(["SMR"])
    patient = factories.ready_to_randomise(site_a, alice, b12=b12)
    body = _body(alice, "randomisation:randomise", patient.study_id)
    assert 'data-testid="stratum"' in body
    assert _ru(label) in body and "SMR" in body
    other = services.STRATUM_NOT_DEFICIENT if b12 == "120" else services.STRATUM_DEFICIENT
    assert _ru(other) not in body


REFUSALS = [
    services.REFUSED_NO_B12,
    services.REFUSED_NO_CONSENT,
    services.REFUSED_NO_LIST,
    services.REFUSED_NOT_ELIGIBLE,
]


def test_no_refusal_before_anyone_tried_prerequisites_shown_neutrally(alice, site_a):
    patient = factories.enrol(site_a, alice)  # no B12, no allocation list yet
    for name in ("monitoring:patient_detail", "randomisation:randomise"):
        body = _body(alice, name, patient.study_id)
        for refusal in REFUSALS:
            assert _ru(refusal) not in body, name
        assert 'data-testid="prerequisites"' in body
        with translation.override("ru"):
            checks = services.randomisation_prerequisites(patient)
            labels = {str(c["label"]): c["met"] for c in checks}
        assert labels[_ru("informed consent recorded")] is True
        assert labels[_ru("baseline vitamin B12 entered (it sets the stratum)")] is False
        for label in labels:
            assert label[:1].upper() + label[1:] in body
    # trying is what gives the refusal
    response = login(alice).post(
        reverse("randomisation:randomise", args=[patient.study_id]), follow=True
    )
    assert _ru(services.REFUSED_NO_B12) in response.content.decode()


def _patients_of_both_arms(site, user):
    factories.allocation_list(["SMR"], per_stratum=12)
    found = {}
    for _ in range(6):  # the first block (2, 4 or 6 slots) holds both arms
        patient = factories.randomised(site, user)
        found.setdefault(patient.allocation.arm, patient)
        if len(found) == 2:
            return found
    raise AssertionError("both arms expected within the first block")


def _dose(patient):
    return TreatmentExposure(
        patient=patient,
        given_on=timezone.localdate() - timedelta(days=1),
        is_study_b12=True,
        product="cyanocobalamin",
        dose_ug=Decimal("1000"),
        route="im",
    )


def test_a_b12_dose_for_standard_therapy_is_a_soft_warning(alice, site_a):
    patients = _patients_of_both_arms(site_a, alice)
    standard, b12 = patients[Arm.STANDARD], patients[Arm.B12]
    # the service decides: refused unless confirmed, nothing saved
    with pytest.raises(UnconfirmedWarnings) as refused:
        crf_services.patient_record_save(record=_dose(standard), user=alice)
    assert "is_study_b12" in refused.value.warnings
    assert not TreatmentExposure.objects.filter(patient=standard, is_study_b12=True).exists()
    record = crf_services.patient_record_save(record=_dose(standard), user=alice, confirmed=True)
    assert (
        str(crf_services.B12_DOSE_FOR_STANDARD_ARM) in record.history.latest().history_change_reason
    )
    # the B12 arm: no warning
    crf_services.patient_record_save(record=_dose(b12), user=alice)

    # the web form shows it amber with the confirmation box
    url = reverse("assessments:records", args=[standard.study_id, "exposure"])
    data = {
        "given_on": timezone.localdate().isoformat(),
        "is_study_b12": "on",
        "product": "cyanocobalamin",
        "dose_ug": "1000",
        "route": "im",
    }
    client = login(alice)
    body = client.post(url, data).content.decode()
    assert 'data-testid="confirm-box"' in body
    assert _ru(crf_services.B12_DOSE_FOR_STANDARD_ARM) in body
    assert TreatmentExposure.objects.filter(patient=standard, is_study_b12=True).count() == 1
    assert client.post(url, {**data, "confirm_warnings": "on"}).status_code == 302
    assert TreatmentExposure.objects.filter(patient=standard, is_study_b12=True).count() == 2


def test_the_allocation_page_does_not_show_the_seed(dana, site_a):
    services.allocation_list_generate(
        seed=987654321, sites=["SMR"], per_stratum=4, block_sizes=[2, 4], user=dana
    )
    body = _body(dana, "randomisation:allocation")
    assert "987654321" not in body
    assert 'data-testid="seed-kept"' in body


def test_the_site_is_preselected_for_a_clinician_with_one_site(alice, site_a, site_b):
    body = _body(alice, "patients:screening_new")
    assert f'<option value="{site_a.pk}" selected>' in body
    both = make_user("two_sites", Role.CLINICIAN, [site_a, site_b])
    body = _body(both, "patients:screening_new")
    assert f'<option value="{site_a.pk}" selected>' not in body
    assert f'<option value="{site_b.pk}" selected>' not in body


def test_the_export_log_shows_filters_in_words(dana, alice, site_a):
    factories.enrol(site_a, alice)
    client = login(dana)
    response = client.get(
        reverse("analysis:export"), {"format": "csv-long", "visits": ["V0", "V3"]}
    )
    b"".join(response.streaming_content)  # the log entry is written once the file is read
    body = _body(dana, "analysis:export")
    assert "{'sites'" not in body and "relative_dates" not in body and "None" not in body
    with translation.override("ru"):
        expected = [str(s) for s in (translation.gettext("every site"), "V0, V3")]
    for text in expected:
        assert text in body
