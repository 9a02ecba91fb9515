"""Builders for test data that go through the same services as the UI."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from assessments.models import LabPanel, SpasmAssessment
from assessments.services import crf_save
from patients import services
from patients.models import Consent, Identity, MedicalHistory, Screening
from randomisation import services as randomisation_services

_numbers = itertools.count(1)

# A complete spasm assessment as the web form posts it.
SPASM = {
    "vas_frequency": "64",
    "vas_intensity": "55",
    "jankovic_severity": "3",
    "jankovic_frequency": "2",
}

ELIGIBLE = {
    "inc_adult": True,
    "inc_hfs_confirmed": True,
    "inc_consent_able": True,
}


def screen(site, user, number: str | None = None, **criteria) -> Screening:
    screening = Screening(
        site=site,
        screening_number=number or f"S-{next(_numbers):04d}",
        screened_on=timezone.localdate() - timedelta(days=20),
        **{**ELIGIBLE, **criteria},
    )
    return services.screening_record(screening=screening, user=user)


def enrol(
    site,
    user,
    *,
    born: date = date(1970, 5, 1),
    consented: date | None = None,
    sex: str = "female",
    name: str = "Ivanova Anna",
):
    screening = screen(site, user)
    return services.patient_enrol(
        screening=screening,
        identity=Identity(
            full_name=name,
            date_of_birth=born,
            phone="+998 90 000 00 00",
            medical_record_number=f"MR{screening.pk:05d}",
        ),
        consent=Consent(
            consent_date=consented or timezone.localdate() - timedelta(days=15),
            information_sheet_version="2.1",
        ),
        history=MedicalHistory(sex=sex, disease_duration_months=30, affected_side="left"),
        user=user,
    )


def baseline_b12(patient, user, value: str = "250", unit: str = "pmol/L") -> LabPanel:
    """The baseline B12 through the randomisation service; unusual test values are confirmed."""
    panel = LabPanel(
        sample_date=timezone.localdate() - timedelta(days=14),
        b12_value=Decimal(value),
        b12_unit=unit,
    )
    return randomisation_services.baseline_b12_save(
        patient=patient, panel=panel, user=user, confirmed=True
    )


def allocation_list(site_codes, *, seed: int = 7, per_stratum: int = 30, user=None):
    return randomisation_services.allocation_list_generate(
        seed=seed, sites=list(site_codes), per_stratum=per_stratum, block_sizes=[2, 4, 6], user=user
    )


def ready_to_randomise(site, user, b12: str = "250"):
    patient = enrol(site, user)
    baseline_b12(patient, user, value=b12)
    return patient


def randomised(site, user, *, b12: str = "250", days_ago: int = 90):
    """A randomised patient whose day 0 lies ``days_ago`` days back, V0 done on day 0."""
    from assessments.models import Visit
    from assessments.services import visit_save

    patient = enrol(site, user, consented=timezone.localdate() - timedelta(days=days_ago + 5))
    baseline_b12(patient, user, value=b12)
    randomisation_services.patient_randomise(
        patient=patient, user=user, randomised_on=timezone.localdate() - timedelta(days=days_ago)
    )
    patient.refresh_from_db()
    v0 = Visit.objects.get(patient=patient, code="V0")
    v0.visit_date = timezone.localdate() - timedelta(days=days_ago)
    v0.status = Visit.Status.DONE
    visit_save(visit=v0, user=user)
    return patient


def visit(patient, user, code: str, day: int | None = None, confirmed: bool = True):
    from assessments.models import Visit
    from assessments.schedule import VISITS
    from assessments.services import visit_save

    day0 = patient.allocation.randomised_on
    obj = Visit.objects.filter(patient=patient, code=code).first() or Visit(
        patient=patient, code=code
    )
    obj.visit_date = day0 + timedelta(days=VISITS[code].day if day is None else day)
    obj.status = Visit.Status.DONE
    return visit_save(visit=obj, user=user, confirmed=confirmed)


def change_a_completed_form() -> None:
    """A correction of one completed spasm form (with its reason): one write of study data."""
    form = SpasmAssessment.objects.filter(vas_frequency__isnull=False).first()
    form.vas_frequency = (form.vas_frequency + 7) % 100
    crf_save(
        form=form,
        user=form.updated_by,
        action="complete",
        reason="corrected",
        base_version=form.version,
    )
