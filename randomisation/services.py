"""Allocation lists, randomisation and the baseline B12 that sets the stratum: every write the
UI, the command, the demo seeder and the tests share. The allocation models stay in patients
(their tables predate this app); the rules of the lists are pure, in randomisation/allocation.py.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.instruments import labs
from assessments.models import FormStatus, LabPanel
from assessments.schedule import BASELINE_VISIT
from assessments.services import crf_save, visit_get_or_create
from hfs_ecrf.security import log_event
from hfs_ecrf.versioning import UNCHECKED
from patients.models import (
    Allocation,
    AllocationList,
    AllocationSlot,
    Arm,
    Consent,
    Patient,
    Screening,
    Site,
    Withdrawal,
)
from randomisation import allocation, selectors

assert tuple(Arm.values) == allocation.ARMS  # noqa: S101 - the pure generator and the model agree

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
ALREADY_RANDOMISED = _("The patient is randomised; edit the baseline labs in the visit forms.")


class RandomisationRefused(ValidationError):
    pass


def _refusal_reason(patient: Patient) -> Any:
    if patient.screening.outcome != Screening.Outcome.ELIGIBLE:
        return REFUSED_NOT_ELIGIBLE
    if not Consent.objects.filter(patient=patient).exists():
        return REFUSED_NO_CONSENT
    if Withdrawal.objects.filter(patient=patient).exists():
        return REFUSED_WITHDRAWN
    if selectors.baseline_b12(patient) is None:
        return REFUSED_NO_B12
    return None


def randomisation_prerequisites(patient: Patient) -> list[dict[str, Any]]:
    """What randomisation needs, each with whether it is met: shown neutrally before anyone
    tries (the refusal messages are for an attempt)."""
    checks = [
        (
            _("eligible on the screening checklist"),
            patient.screening.outcome == Screening.Outcome.ELIGIBLE,
        ),
        (_("informed consent recorded"), Consent.objects.filter(patient=patient).exists()),
        (_("not withdrawn"), not Withdrawal.objects.filter(patient=patient).exists()),
        (
            _("baseline vitamin B12 entered (it sets the stratum)"),
            selectors.baseline_b12(patient) is not None,
        ),
        (_("an allocation list is active"), AllocationList.objects.filter(is_active=True).exists()),
    ]
    return [{"label": label, "met": met} for label, met in checks]


def randomisation_stratum(patient: Patient) -> dict[str, Any] | None:
    """The stratum the patient will be randomised in (site and baseline B12), in words."""
    b12 = selectors.baseline_b12(patient)
    if b12 is None:
        return None
    deficient = bool(labs.is_b12_deficient(b12))
    return {
        "site": patient.site.code,
        "b12": b12,
        "deficient": deficient,
        "b12_label": STRATUM_DEFICIENT if deficient else STRATUM_NOT_DEFICIENT,
    }


STRATUM_DEFICIENT = _("B12 deficient (below 148 pmol/L)")
STRATUM_NOT_DEFICIENT = _("B12 not deficient (148 pmol/L or above)")


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
    deficient = bool(labs.is_b12_deficient(selectors.baseline_b12(patient)))
    slot = _first_free_slot(active, patient.site, deficient)
    if slot is None:
        label = allocation.stratum_label(patient.site.code, deficient)
        raise RandomisationRefused(STRATUM_EXHAUSTED, params={"stratum": label})
    taken = Allocation(
        patient=patient,
        slot=slot,
        randomised_by=user,
        randomised_on=randomised_on or timezone.localdate(),
    )
    taken.save_audited(user=user, reason="randomisation")
    return taken


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
    slots: list[allocation.Slot],
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


def allocation_list_generate(
    *, seed: int, sites: list[str], per_stratum: int, block_sizes: list[int], user: Any
) -> AllocationList:
    """Generate a list from a seed (randomisation/allocation.py) and make it the active one:
    the one path of the web page, ``generate_allocation``, the demo seeder and the tests."""
    slots = allocation.generate_list(
        seed=seed, sites=sites, per_stratum=per_stratum, block_sizes=block_sizes
    )
    return allocation_list_create(
        slots=slots,
        user=user,
        source=AllocationList.Source.GENERATED,
        seed=seed,
        per_stratum=per_stratum,
        block_sizes=",".join(map(str, allocation.check_block_sizes(block_sizes))),
    )


@transaction.atomic
def baseline_b12_save(
    *,
    patient: Patient,
    panel: LabPanel,
    user: Any,
    confirmed: bool = False,
    reason: str = "",
    base_version: Any = UNCHECKED,
) -> LabPanel:
    """The baseline B12 before randomisation: the same save as the visit's lab form (versioned,
    audited, soft warnings confirmed); a panel already complete stays complete."""
    if Allocation.objects.filter(patient=patient).exists():
        raise ValidationError(ALREADY_RANDOMISED)
    panel.visit = visit_get_or_create(patient=patient, code=BASELINE_VISIT, user=user)
    return crf_save(
        form=panel,
        user=user,
        action="complete" if panel.status == FormStatus.COMPLETE else "draft",
        reason=reason,
        confirmed=confirmed,
        base_version=base_version,
    )
