"""Screening, enrolment, withdrawal and the import of patients randomised elsewhere: every
write the UI, the demo seeder and the importer share (randomisation: randomisation/services.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from hfs_ecrf import write_scope
from hfs_ecrf.submissions import create_once, first_record
from hfs_ecrf.validation import plausible_dates
from hfs_ecrf.versioning import save_new
from patients.dates import age_in_years
from patients.models import (
    Allocation,
    AllocationList,
    AllocationSlot,
    Consent,
    Identity,
    MedicalHistory,
    Patient,
    Screening,
    Site,
    Withdrawal,
)

NOT_ELIGIBLE = _("Only an eligible person who has not declined can be enrolled.")
ALREADY_ENROLLED = _("This person is already enrolled.")
UNDER_18 = _(
    "The person is %(age)s years old on the consent date; the trial enrols adults aged 18 or over."
)
CONSENT_BEFORE_BIRTH = _("The consent date is before the date of birth.")
ALREADY_WITHDRAWN = _("The patient is already withdrawn.")
WITHDRAWAL_BEFORE_CONSENT = _("The withdrawal date is before the consent date.")


SCREENING_NUMBER_TAKEN = _("Screening number %(number)s is already used at this site.")


@transaction.atomic
def screening_record(*, screening: Screening, user: Any, submission_token: Any = None) -> Screening:
    """Record one screening. The same form sent twice records it once; two people entering the
    same screening number at once: one is saved, the other gets a field error."""
    earlier = first_record(submission_token, Screening)
    if earlier is not None:
        return earlier
    screening.screened_by = user
    errors = plausible_dates(screening, "screened_on")
    try:
        screening.full_clean(validate_constraints=False)  # a taken number: see taken() below
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)

    def taken() -> ValidationError:
        return ValidationError(
            {
                "screening_number": [
                    ValidationError(
                        SCREENING_NUMBER_TAKEN, params={"number": screening.screening_number}
                    )
                ]
            }
        )

    return create_once(
        screening,
        token=submission_token,
        user=user,
        save=lambda: save_new(screening, user=user, on_conflict=taken),
    )


@transaction.atomic
def patient_enrol(
    *,
    screening: Screening,
    identity: Identity,
    consent: Consent,
    history: MedicalHistory,
    user: Any,
) -> Patient:
    """Create the patient with identity, consent and history in one step."""
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    if screening.outcome != Screening.Outcome.ELIGIBLE:
        raise ValidationError(NOT_ELIGIBLE)
    if Patient.objects.filter(screening=screening).exists():
        raise ValidationError(ALREADY_ENROLLED)
    errors = {
        **plausible_dates(consent, "consent_date"),
        **plausible_dates(identity, births=("date_of_birth",)),
    }
    if "date_of_birth" not in errors and identity.date_of_birth and consent.consent_date:
        if consent.consent_date < identity.date_of_birth:
            errors.setdefault("consent_date", []).append(CONSENT_BEFORE_BIRTH)
        else:
            age = age_in_years(identity.date_of_birth, consent.consent_date)
            if age < 18:
                errors["date_of_birth"] = [ValidationError(UNDER_18, params={"age": age})]
    if errors:
        raise ValidationError(errors)

    # Lock the site row so two enrolments at one site cannot take the same number.
    site = Site.objects.select_for_update().get(pk=screening.site_id)
    sequence = (Patient.objects.filter(site=site).aggregate(n=Max("sequence"))["n"] or 0) + 1
    patient = Patient(
        site=site,
        sequence=sequence,
        study_id=f"{site.code}-{sequence:04d}",
        screening=screening,
        age_at_consent=age_in_years(identity.date_of_birth, consent.consent_date),
    )
    patient.full_clean(exclude=["study_id", "sequence"])
    patient.save_audited(user=user, reason="enrolment")
    consent.taken_by = consent.taken_by if consent.taken_by_id else user
    for record in (identity, consent, history):
        record.patient = patient
        record.full_clean()
        record.save_audited(user=user, reason="enrolment")
    return patient


IDENTITY_ALREADY_RECORDED = _("The identity of this patient is already recorded.")


@transaction.atomic
def identity_record(*, patient: Patient, identity: Identity, user: Any) -> Identity:
    """Add the identity of a patient who has none (imported from another system)."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if Identity.objects.filter(patient=patient).exists():
        raise ValidationError(IDENTITY_ALREADY_RECORDED)
    identity.patient = patient
    errors = plausible_dates(identity, births=("date_of_birth",))
    try:
        identity.full_clean(validate_unique=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    save_new(
        identity,
        user=user,
        reason="identity recorded",
        on_conflict=lambda: ValidationError(IDENTITY_ALREADY_RECORDED),
    )
    return identity


@write_scope.atomic
def patient_withdraw(*, withdrawal: Withdrawal, user: Any) -> Withdrawal:
    patient = Patient.objects.select_for_update().get(pk=withdrawal.patient_id)
    if Withdrawal.objects.filter(patient=patient).exists():
        raise ValidationError(ALREADY_WITHDRAWN)
    consent = Consent.objects.filter(patient=patient).first()
    if consent and withdrawal.withdrawn_on and withdrawal.withdrawn_on < consent.consent_date:
        raise ValidationError({"withdrawn_on": [WITHDRAWAL_BEFORE_CONSENT]})
    withdrawal.recorded_by = user
    withdrawal.full_clean()
    withdrawal.save_audited(user=user, reason="withdrawal")
    return withdrawal


ALREADY_ALLOCATED = _("Patient %(study_id)s already has an allocation; an import never changes it.")
ALREADY_EXISTS = _("Patient %(study_id)s already exists.")


def import_allocation_list(*, user: Any, file_name: str) -> AllocationList:
    """An inactive list holding the slots of patients randomised elsewhere (imported)."""
    imported = AllocationList(
        created_by=user,
        source=AllocationList.Source.IMPORTED,
        file_name=file_name[:200],
        is_active=False,
    )
    imported.save_audited(user=user, reason=f"imported from {file_name}")
    return imported


@write_scope.atomic
def patient_import(
    *,
    site: Site,
    study_id: str,
    age: int,
    consent: Consent,
    history: MedicalHistory,
    user: Any,
    file_name: str,
    allocation_list: AllocationList | None = None,
    arm: str = "",
    randomised_on: date | None = None,
    b12_deficient: bool = False,
) -> Patient:
    """Create a patient moved from paper or another system, with the arm and randomisation
    date they already had (this path bypasses the active allocation list, on purpose)."""
    existing = Patient.objects.filter(study_id=study_id).first()
    if existing is not None:
        allocated = Allocation.objects.filter(patient=existing).exists()
        message = ALREADY_ALLOCATED if allocated else ALREADY_EXISTS
        raise ValidationError(message, params={"study_id": study_id})
    reason = f"imported from {file_name}"
    screening = Screening(
        site=site,
        screening_number=study_id[-20:],
        screened_on=consent.consent_date,
        inc_adult=True,
        inc_hfs_confirmed=True,
        inc_consent_able=True,
        screened_by=user,
    )
    screening.full_clean()
    screening.save_audited(user=user, reason=reason)
    tail = study_id.rsplit("-", 1)[-1]
    sequence = (
        int(tail)
        if tail.isdigit()
        else (Patient.objects.filter(site=site).aggregate(n=Max("sequence"))["n"] or 0) + 1
    )
    patient = Patient(
        site=site, study_id=study_id, sequence=sequence, screening=screening, age_at_consent=age
    )
    patient.full_clean(exclude=["study_id", "sequence"])
    patient.save_audited(user=user, reason=reason)
    consent.taken_by = user
    for record in (consent, history):
        record.patient = patient
        record.full_clean()
        record.save_audited(user=user, reason=reason)
    if arm:
        slot_number = (allocation_list.slots.count() if allocation_list else 0) + 1
        slot = AllocationSlot(
            allocation_list=allocation_list,
            site=site,
            b12_deficient=b12_deficient,
            sequence=slot_number,
            block=1,
            block_size=1,
            arm=arm,
        )
        slot.full_clean()
        slot.save_audited(user=user, reason=reason)
        Allocation(
            patient=patient,
            slot=slot,
            randomised_by=user,
            randomised_on=randomised_on,
            imported_from=file_name[:200],
        ).save_audited(user=user, reason=reason)
    return patient
