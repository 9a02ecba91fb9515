"""The bulk write scope of an import (hfs_ecrf/write_scope.py): new rows are held and inserted
many per statement, yet every statement that names their table sees them; a uniqueness check
that only a row of the scope could fail is answered by the scope, and still fails when it must."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from hfs_ecrf.audit import bulk_audited_writes
from patients.models import Consent, Patient, Screening, Site


def _patient(site: Site, n: int, user) -> Patient:
    screening = Screening(
        site=site,
        screening_number=f"S{n}",
        screened_on=date(2025, 3, 1),
        inc_adult=True,
        inc_hfs_confirmed=True,
        inc_consent_able=True,
        screened_by=user,
    )
    screening.full_clean()
    screening.save_audited(user=None, reason="test")
    patient = Patient(
        site=site,
        study_id=f"{site.code}-{n:04d}",
        sequence=n,
        screening=screening,
        age_at_consent=50,
    )
    patient.full_clean(exclude=["study_id", "sequence"])
    patient.save_audited(user=None, reason="test")
    return patient


def _inserts(captured, table: str) -> list[str]:
    return [q["sql"] for q in captured if q["sql"].startswith(f'INSERT INTO "{table}"')]


@pytest.mark.django_db
def test_new_rows_go_in_together_and_every_read_sees_them(site_a, alice):
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        with bulk_audited_writes():
            patients = [_patient(site_a, n, alice) for n in range(1, 6)]
            assert all(p.pk for p in patients)  # keys known at the save
            assert not _inserts(captured, "patients_patient")  # held
            # a statement that names the table runs after the held rows are in
            assert Patient.objects.filter(site=site_a).count() == 5
            assert len(_inserts(captured, "patients_patient")) == 1  # one INSERT of 5 rows
            _patient(site_a, 6, alice)
        assert len(_inserts(captured, "patients_patient")) == 2  # the rest at the end
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_scope_answers_uniqueness_only_where_it_knows(site_a, alice):
    with transaction.atomic():
        with bulk_audited_writes():
            patient = _patient(site_a, 1, alice)
            consent = Consent(patient=patient, consent_date=date(2025, 3, 1), taken_by=alice)
            consent.information_sheet_version = "1.0"
            with CaptureQueriesContext(connection) as captured:
                consent.full_clean()  # a new patient's first consent: no query needed
            assert not [q for q in captured if '"patients_consent"' in q["sql"]]
            consent.save_audited(user=None, reason="test")
            second = Consent(patient=patient, consent_date=date(2025, 3, 2), taken_by=alice)
            second.information_sheet_version = "1.0"
            with pytest.raises(ValidationError) as refused:
                second.full_clean()  # the scope saved one: the database is asked, and says so
            assert "patient" in refused.value.message_dict
            # a key of a row that existed before the scope (the site): always asked
            again = Screening(
                site=site_a,
                screening_number="S1",
                screened_on=date(2025, 3, 1),
                inc_adult=True,
                inc_hfs_confirmed=True,
                inc_consent_able=True,
                screened_by=alice,
            )
            with pytest.raises(ValidationError) as refused:
                again.full_clean()
            assert list(refused.value.message_dict) == ["__all__"]
        transaction.set_rollback(True)
