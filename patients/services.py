"""Enrolment and randomisation: every write the UI, the demo seeder and the importer share."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.instruments import labs
from hfs_ecrf.security import log_event
from hfs_ecrf.validation import FUTURE_DATE
from patients import allocation as allocation_rules
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
REFUSED_NO_CONSENT = _("Randomisation refused: no informed consent is recorded.")
REFUSED_NOT_ELIGIBLE = _(
    "Randomisation refused: the screening checklist does not show the patient as eligible."
)
REFUSED_NO_B12 = _(
    "Randomisation refused: enter the baseline vitamin B12 result first; the stratum depends on it."
)
REFUSED_WITHDRAWN = _("Randomisation refused: the patient has withdrawn from the study.")
REFUSED_NO_LIST = _(
    "Randomisation refused: no allocation list is active. Ask a data manager to create one."
)
STRATUM_EXHAUSTED = _(
    "Randomisation refused: the allocation list has no free slot left in "
    "stratum %(stratum)s. The data managers have been told; try again when "
    "they have extended the list."
)
LIST_IN_USE = _(
    "The active allocation list has already been used to randomise patients; it cannot be replaced."
)
ALREADY_WITHDRAWN = _("The patient is already withdrawn.")
WITHDRAWAL_BEFORE_CONSENT = _("The withdrawal date is before the consent date.")


class RandomisationRefused(ValidationError):
    pass


@transaction.atomic
def screening_record(*, screening: Screening, user: Any) -> Screening:
    screening.screened_by = user
    screening.full_clean()
    screening.save_audited(user=user)
    return screening


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
    errors: dict[str, list] = {}
    today = timezone.localdate()
    if consent.consent_date and consent.consent_date > today:
        errors["consent_date"] = [FUTURE_DATE]
    if identity.date_of_birth and identity.date_of_birth > today:
        errors["date_of_birth"] = [FUTURE_DATE]
    elif identity.date_of_birth and consent.consent_date:
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


def baseline_b12(patient: Patient) -> Any:
    """The baseline B12 in pmol/L, or None when not entered."""
    from assessments.models import LabPanel

    panel = LabPanel.objects.filter(visit__patient=patient, visit__code="V0").first()
    return None if panel is None else panel.b12_pmol_l


def _refusal_reason(patient: Patient) -> Any:
    if patient.screening.outcome != Screening.Outcome.ELIGIBLE:
        return REFUSED_NOT_ELIGIBLE
    if not Consent.objects.filter(patient=patient).exists():
        return REFUSED_NO_CONSENT
    if Withdrawal.objects.filter(patient=patient).exists():
        return REFUSED_WITHDRAWN
    if baseline_b12(patient) is None:
        return REFUSED_NO_B12
    return None


def randomisation_refusal(patient: Patient) -> Any:
    """Why this patient cannot be randomised now, or None when they can."""
    if Allocation.objects.filter(patient=patient).exists():
        return None
    return _refusal_reason(patient) or (
        None if AllocationList.objects.filter(is_active=True).exists() else REFUSED_NO_LIST
    )


def patient_randomise(
    *, patient: Patient, user: Any, randomised_on: date | None = None
) -> Allocation:
    """Give the patient the next free slot of their stratum. Concealed, race-free, once only.

    The patient row is locked first, so a repeated submit waits and then returns the existing
    allocation; then the active list row is locked, so concurrent randomisations take slots
    strictly one after another; the slot itself is selected FOR UPDATE. The database's unique
    constraints (one allocation per patient, one patient per slot) are the last line.

    ``randomised_on`` is for the synthetic demo cohort only (its visits lie in the past); the
    web form never passes it, so a real randomisation is always dated today.
    """
    try:
        with transaction.atomic():
            return _randomise_locked(patient=patient, user=user, randomised_on=randomised_on)
    except IntegrityError:
        existing = Allocation.objects.filter(patient_id=patient.pk).first()
        if existing is None:
            raise
        return existing


def _randomise_locked(*, patient: Patient, user: Any, randomised_on: date | None) -> Allocation:
    patient = (
        Patient.objects.select_for_update().select_related("screening", "site").get(pk=patient.pk)
    )
    existing = Allocation.objects.filter(patient=patient).select_related("slot").first()
    if existing is not None:
        return existing
    reason = _refusal_reason(patient)
    if reason is not None:
        raise RandomisationRefused(reason)
    active = AllocationList.objects.select_for_update().filter(is_active=True).first()
    if active is None:
        raise RandomisationRefused(REFUSED_NO_LIST)
    deficient = bool(labs.is_b12_deficient(baseline_b12(patient)))
    slot = _first_free_slot(active, patient.site, deficient)
    if slot is None:
        label = allocation_rules.stratum_label(patient.site.code, deficient)
        raise RandomisationRefused(STRATUM_EXHAUSTED, params={"stratum": label})
    allocation = Allocation(
        patient=patient,
        slot=slot,
        randomised_by=user,
        randomised_on=randomised_on or timezone.localdate(),
    )
    allocation.save_audited(user=user, reason="randomisation")
    return allocation


def _first_free_slot(active: AllocationList, site: Site, deficient: bool) -> Any:
    used = Allocation.objects.filter(slot__allocation_list=active).values("slot_id")
    return (
        AllocationSlot.objects.select_for_update()
        .filter(allocation_list=active, site=site, b12_deficient=deficient)
        .exclude(pk__in=used)
        .order_by("sequence")
        .first()
    )


@transaction.atomic
def allocation_list_create(
    *,
    slots: list[allocation_rules.Slot],
    user: Any,
    source: str,
    seed: int | None = None,
    per_stratum: int | None = None,
    block_sizes: str = "",
    file_name: str = "",
) -> AllocationList:
    """Store a new list and make it the active one; a list already used is never replaced."""
    current = AllocationList.objects.select_for_update().filter(is_active=True).first()
    if current is not None:
        if Allocation.objects.filter(slot__allocation_list=current).exists():
            raise ValidationError(LIST_IN_USE)
        current.is_active = False
        current.save_audited(user=user, reason="replaced by a new list")
    sites = {s.code: s for s in Site.objects.filter(code__in={s.site for s in slots})}
    missing = sorted({s.site for s in slots} - set(sites))
    if missing:
        raise ValidationError(
            _("Unknown site codes: %(codes)s"), params={"codes": ", ".join(missing)}
        )
    new_list = AllocationList(
        created_by=user,
        source=source,
        seed=seed,
        per_stratum=per_stratum,
        block_sizes=block_sizes,
        file_name=file_name,
    )
    new_list.save_audited(user=user, reason=f"allocation list {source}")
    for slot in slots:
        AllocationSlot(
            allocation_list=new_list,
            site=sites[slot.site],
            b12_deficient=slot.b12_deficient,
            sequence=slot.sequence,
            block=slot.block,
            block_size=slot.block_size,
            arm=slot.arm,
        ).save_audited(user=user, reason=f"allocation list {source}")
    return new_list


def allocation_list_viewed(*, user: Any, allocation_list: AllocationList, request: Any) -> None:
    log_event(
        "allocation_viewed",
        user=user,
        actor=user,
        request=request,
        detail=f"allocation list {allocation_list.pk}",
    )


@transaction.atomic
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


@transaction.atomic
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
