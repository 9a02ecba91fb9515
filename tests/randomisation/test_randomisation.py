"""Randomisation: refused without its preconditions, stratified, once only, immutable."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from hfs_ecrf.models import SecurityEvent
from patients import services
from patients.models import Allocation, AllocationList, AllocationSlot
from randomisation import allocation as allocation_rules
from randomisation import services as randomisation_services
from tests import factories
from tests.conftest import login


def _randomise(user, patient):
    return login(user).post(
        reverse("randomisation:randomise", args=[patient.study_id]), follow=True
    )


def test_randomise_takes_the_first_slot_of_the_patients_stratum(alice, site_a):
    factories.allocation_list(["SMR"])
    patient = factories.ready_to_randomise(site_a, alice, b12="300")
    response = _randomise(alice, patient)
    allocation = Allocation.objects.get(patient=patient)
    first = AllocationSlot.objects.get(site=site_a, b12_deficient=False, sequence=1)
    assert allocation.slot == first
    assert allocation.arm == first.arm
    assert allocation.randomised_by == alice
    assert allocation.get_arm_display() in response.content.decode()


def test_a_b12_deficient_patient_gets_the_deficient_stratum(alice, site_a):
    factories.allocation_list(["SMR"])
    # 150 pg/mL = 110.7 pmol/L: deficient
    patient = factories.enrol(site_a, alice)
    factories.baseline_b12(patient, alice, value="150", unit="pg/mL")
    allocation = randomisation_services.patient_randomise(patient=patient, user=alice)
    assert allocation.slot.b12_deficient is True


def test_consecutive_patients_follow_the_list(alice, site_a):
    factories.allocation_list(["SMR"], seed=99)
    patients = [factories.ready_to_randomise(site_a, alice) for _ in range(8)]
    arms = [randomisation_services.patient_randomise(patient=p, user=alice).arm for p in patients]
    expected = allocation_rules.generate_stratum(
        seed=99, site="SMR", b12_deficient=False, per_stratum=30, block_sizes=[2, 4, 6]
    )
    assert arms == [s.arm for s in expected[:8]]


def test_a_repeated_submit_returns_the_existing_allocation(alice, site_a):
    factories.allocation_list(["SMR"])
    patient = factories.ready_to_randomise(site_a, alice)
    first = randomisation_services.patient_randomise(patient=patient, user=alice)
    _randomise(alice, patient)
    assert randomisation_services.patient_randomise(patient=patient, user=alice) == first
    assert Allocation.objects.count() == 1


def test_randomisation_needs_a_baseline_b12(alice, site_a):
    factories.allocation_list(["SMR"])
    patient = factories.enrol(site_a, alice)
    response = _randomise(alice, patient)
    assert str(randomisation_services.REFUSED_NO_B12) in response.content.decode()
    assert not Allocation.objects.exists()


def test_randomisation_needs_an_active_list(alice, site_a):
    patient = factories.ready_to_randomise(site_a, alice)
    with pytest.raises(
        ValidationError, match=re.escape(str(randomisation_services.REFUSED_NO_LIST))
    ):
        randomisation_services.patient_randomise(patient=patient, user=alice)


def test_a_withdrawn_patient_cannot_be_randomised(alice, site_a):
    factories.allocation_list(["SMR"])
    patient = factories.ready_to_randomise(site_a, alice)
    from patients.models import Withdrawal

    services.patient_withdraw(
        withdrawal=Withdrawal(
            patient=patient, withdrawn_on=patient.consent.consent_date, reason="withdrew_consent"
        ),
        user=alice,
    )
    with pytest.raises(
        ValidationError, match=re.escape(str(randomisation_services.REFUSED_WITHDRAWN))
    ):
        randomisation_services.patient_randomise(patient=patient, user=alice)


def test_confirmation_page_comes_before_the_allocation(alice, site_a):
    factories.allocation_list(["SMR"])
    patient = factories.ready_to_randomise(site_a, alice)
    response = login(alice).get(reverse("randomisation:randomise", args=[patient.study_id]))
    assert response.status_code == 200
    assert 'data-testid="confirm-randomise"' in response.content.decode()
    assert not Allocation.objects.exists()


def test_an_exhausted_stratum_tells_clinician_and_data_manager(alice, dana, site_a):
    factories.allocation_list(["SMR"], per_stratum=2)
    slots_in_stratum = AllocationSlot.objects.filter(b12_deficient=False).count()
    for _ in range(slots_in_stratum):
        randomisation_services.patient_randomise(
            patient=factories.ready_to_randomise(site_a, alice), user=alice
        )
    late = factories.ready_to_randomise(site_a, alice)
    response = _randomise(alice, late)
    assert "SMR/B12-not-deficient" in response.content.decode()
    assert not Allocation.objects.filter(patient=late).exists()
    home = login(dana).get(reverse("home")).content.decode()
    assert 'data-testid="stratum-warning"' in home
    assert "SMR/B12-not-deficient" in home


def test_an_allocation_can_never_be_changed_or_deleted(alice, dana, site_a):
    factories.allocation_list(["SMR"])
    allocation = randomisation_services.patient_randomise(
        patient=factories.ready_to_randomise(site_a, alice), user=alice
    )
    allocation.arm = "b12" if allocation.arm == "standard" else "standard"
    with pytest.raises(ValidationError):
        allocation.save()
    with pytest.raises(ValidationError):
        allocation.delete()
    with pytest.raises(Exception):  # noqa: B017 - the guarded queryset refuses bulk paths
        Allocation.objects.filter(pk=allocation.pk).update(arm="b12")
    assert Allocation.objects.get().arm == allocation.slot.arm
    # no admin path either
    client = login(dana)
    assert client.get("/admin/patients/allocation/").status_code == 404


def test_one_allocation_per_patient_and_one_patient_per_slot_in_the_database(alice, site_a):
    from django.db import IntegrityError, transaction

    factories.allocation_list(["SMR"])
    a = factories.ready_to_randomise(site_a, alice)
    b = factories.ready_to_randomise(site_a, alice)
    allocation = randomisation_services.patient_randomise(patient=a, user=alice)
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation(patient=b, slot=allocation.slot, randomised_on=timezone.localdate()).save()
    other_slot = AllocationSlot.objects.exclude(pk=allocation.slot_id).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation(patient=a, slot=other_slot, randomised_on=timezone.localdate()).save()


def test_a_used_list_cannot_be_replaced(alice, dana, site_a):
    factories.allocation_list(["SMR"])
    randomisation_services.patient_randomise(
        patient=factories.ready_to_randomise(site_a, alice), user=alice
    )
    response = login(dana).post(
        reverse("randomisation:allocation"),
        {"generate": "1", "gen-seed": "5", "gen-per_stratum": "10", "gen-block_sizes": "2,4"},
        follow=True,
    )
    assert str(randomisation_services.LIST_IN_USE) in response.content.decode()
    assert AllocationList.objects.count() == 1


def test_an_unused_list_can_be_replaced(dana, site_a):
    factories.allocation_list(["SMR"])
    login(dana).post(
        reverse("randomisation:allocation"),
        {"generate": "1", "gen-seed": "5", "gen-per_stratum": "10", "gen-block_sizes": "2,4"},
    )
    assert AllocationList.objects.count() == 2
    assert AllocationList.objects.get(is_active=True).seed == 5


def test_upload_of_a_valid_list(dana, site_a, site_b):
    from django.core.files.uploadedfile import SimpleUploadedFile

    slots = allocation_rules.generate_list(
        seed=4, sites=["SMR", "TAS"], per_stratum=6, block_sizes=[2]
    )
    upload = SimpleUploadedFile("list.csv", allocation_rules.to_csv(slots).encode())
    login(dana).post(reverse("randomisation:allocation"), {"upload": "1", "up-file": upload})
    active = AllocationList.objects.get(is_active=True)
    assert active.source == "uploaded"
    assert active.slots.count() == len(slots)


def test_a_malformed_upload_saves_nothing_and_names_the_rows(dana, site_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = "site,b12_deficient,sequence,block,block_size,arm\nSMR,1,1,1,2,b12\nSMR,1,2,1,2,maybe\n"
    response = login(dana).post(
        reverse("randomisation:allocation"),
        {"upload": "1", "up-file": SimpleUploadedFile("bad.csv", text.encode())},
    )
    assert response.status_code == 200
    assert "row 3: arm" in response.content.decode()
    assert not AllocationList.objects.exists()


def test_only_data_managers_see_the_list_and_each_view_is_logged(personas, site_a):
    factories.allocation_list(["SMR"])
    url = reverse("randomisation:allocation")
    for name, user in personas.items():
        expected = 200 if name == "dana" else 403
        assert login(user).get(url).status_code == expected, name
    assert SecurityEvent.objects.filter(kind="allocation_viewed").count() == 1


def test_generate_allocation_command(db, site_a, site_b, tmp_path):
    from django.core.management import call_command

    out = tmp_path / "list.csv"
    call_command(
        "generate_allocation",
        "--seed",
        "12",
        "--per-stratum",
        "8",
        "--block-sizes",
        "2,4",
        "--csv-out",
        str(out),
    )
    active = AllocationList.objects.get(is_active=True)
    assert active.seed == 12
    expected = allocation_rules.generate_list(
        seed=12, sites=["SMR", "TAS"], per_stratum=8, block_sizes=[2, 4]
    )
    assert active.slots.count() == len(expected)
    assert allocation_rules.parse_csv(out.read_text(), known_sites=["SMR", "TAS"]) == expected
