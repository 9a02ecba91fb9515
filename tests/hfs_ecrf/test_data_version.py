"""Issue 12 point 1: the data version moves with every write to any analysis input, in the
writer's own transaction, and not with reads."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from assessments.models import Hads, Hdrs17, LabPanel, Rand36, SpasmAssessment, Visit
from assessments.models.records import AdverseEvent, ConcomitantMedication, TreatmentExposure
from assessments.services import crf_save, patient_record_save, visit_get_or_create
from hfs_ecrf.data_version import DataVersion, data_version_current
from patients.models import Withdrawal
from patients.services import patient_withdraw
from randomisation import services as randomisation_services
from tests import factories
from tests.conftest import login


def moves(write) -> object:
    """Run ``write``; assert the data version went up; return what ``write`` returned."""
    before = data_version_current()
    value = write()
    assert data_version_current() > before, write
    return value


def test_every_kind_of_input_write_moves_the_data_version(site_a, alice):
    factories.allocation_list(["SMR"])
    moves(lambda: factories.screen(site_a, alice))
    consented = timezone.localdate() - timedelta(days=110)
    patient = moves(lambda: factories.enrol(site_a, alice, consented=consented))
    moves(lambda: factories.baseline_b12(patient, alice))  # visit and lab panel
    day0 = timezone.localdate() - timedelta(days=100)
    moves(
        lambda: randomisation_services.patient_randomise(
            patient=patient, user=alice, randomised_on=day0
        )
    )
    patient.refresh_from_db()
    moves(lambda: factories.visit(patient, alice, "V0"))
    v3 = moves(lambda: factories.visit(patient, alice, "V3"))
    forms = {
        "spasm": SpasmAssessment(visit=v3, vas_frequency=40, vas_intensity=30),
        "labs": LabPanel(visit=v3, b12_value=Decimal("300"), b12_unit="pmol/L"),
        "rand36": Rand36(visit=v3),
        "hads": Hads(visit=v3),
        "hdrs": Hdrs17(visit=v3),
    }
    for form in forms.values():
        moves(lambda form=form: crf_save(form=form, user=alice))
    form = SpasmAssessment.objects.get(visit=v3)
    form.vas_frequency = 35
    moves(lambda: crf_save(form=form, user=alice, base_version=form.version))  # a change
    today = timezone.localdate()
    records = [
        AdverseEvent(
            patient=patient,
            term="headache",
            onset_on=today - timedelta(days=2),
            severity="mild",
            relation="unlikely",
            outcome="recovered",
        ),
        TreatmentExposure(
            patient=patient,
            given_on=today - timedelta(days=3),
            is_study_b12=True,
            product="cyanocobalamin",
            dose_ug=Decimal("500"),
            route="im",
        ),
        ConcomitantMedication(patient=patient, medication="carbamazepine"),
    ]
    for record in records:
        moves(lambda record=record: patient_record_save(record=record, user=alice, confirmed=True))
    moves(records[2].delete)  # the delete path too
    withdrawal = Withdrawal(patient=patient, withdrawn_on=today, reason="lost_to_follow_up")
    moves(lambda: patient_withdraw(withdrawal=withdrawal, user=alice))
    assert Visit.objects.filter(patient=patient).count() == 2


def test_a_rolled_back_write_leaves_the_version_as_it_was(site_a, alice):
    """The bump is part of the writer's transaction: rolled back with it."""
    patient = factories.enrol(site_a, alice)
    before = data_version_current()
    with pytest.raises(RuntimeError), transaction.atomic():
        visit_get_or_create(patient=patient, code="V0", user=alice)
        assert data_version_current() == before + 1  # visible inside the transaction
        raise RuntimeError("roll back")
    assert data_version_current() == before
    assert not Visit.objects.filter(patient=patient).exists()


def test_read_only_requests_do_not_move_it(site_a, alice, ivan):
    patient = factories.enrol(site_a, alice)
    before = data_version_current()
    clinician, investigator = login(alice), login(ivan)
    for client, url in [
        (clinician, reverse("monitoring:patient_list")),
        (clinician, reverse("monitoring:patient_detail", args=[patient.study_id])),
        (investigator, reverse("analysis:overview")),
        (investigator, reverse("analysis:results_json")),
    ]:
        assert client.get(url).status_code in {200, 503}, url
    assert data_version_current() == before


def test_reading_it_is_one_query(db, django_assert_num_queries):
    DataVersion.objects.filter(pk=1).exists()
    with django_assert_num_queries(1):
        data_version_current()


def test_the_stamp_is_one_query_and_moves_with_every_write(site_a, alice):
    from hfs_ecrf.data_version import data_version_stamp

    before = data_version_stamp()
    factories.enrol(site_a, alice)
    after = data_version_stamp()
    assert after[0] > before[0] and after[1] and after != before
    assert after[0] == data_version_current()
