"""Randomisation under real concurrency (PostgreSQL only: only there do row locks hold)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from patients.models import Allocation, AllocationSlot, Patient
from randomisation import services as randomisation_services
from tests import factories

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _run_at_once(targets):
    barrier = threading.Barrier(len(targets))
    results, errors = {}, []

    def work(key, fn):
        try:
            barrier.wait(timeout=30)
            results[key] = fn()
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(k, fn)) for k, fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


def test_twenty_simultaneous_randomisations_take_distinct_consecutive_slots(alice, site_a):
    factories.allocation_list(["SMR"], per_stratum=40)
    patients = [factories.ready_to_randomise(site_a, alice) for _ in range(20)]
    results, errors = _run_at_once(
        [
            (
                p.pk,
                lambda p=p: randomisation_services.patient_randomise(patient=p, user=alice).slot_id,
            )
            for p in patients
        ]
    )
    assert errors == []
    slots = AllocationSlot.objects.filter(pk__in=results.values())
    assert len(set(results.values())) == 20
    assert sorted(s.sequence for s in slots) == list(range(1, 21))
    prefix = list(
        AllocationSlot.objects.filter(site=site_a, b12_deficient=False)
        .order_by("sequence")
        .values_list("arm", flat=True)[:20]
    )
    taken = list(Allocation.objects.order_by("slot__sequence").values_list("arm", flat=True))
    assert taken == prefix


def test_two_simultaneous_randomisations_of_one_patient_give_one_allocation(alice, site_a):
    factories.allocation_list(["SMR"])
    patient = factories.ready_to_randomise(site_a, alice)
    results, errors = _run_at_once(
        [
            (i, lambda: randomisation_services.patient_randomise(patient=patient, user=alice).pk)
            for i in range(2)
        ]
    )
    assert errors == []
    assert len(set(results.values())) == 1
    assert Allocation.objects.count() == 1
    assert Patient.objects.count() == 1
