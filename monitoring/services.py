"""Writes of monitoring: queries, verification, locks, e-signatures and the database lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import CRF_MODELS, FormStatus, Visit
from monitoring import rules, selectors
from monitoring.guards import active_study_lock
from monitoring.models import (
    DataQuery,
    FieldVerification,
    FormVerification,
    QueryMessage,
    RecordLock,
    Signature,
    StudyLock,
)
from patients.models import Patient

MESSAGE_REQUIRED = _("Write a message.")
REASON_REQUIRED = _("Give a reason.")
WRONG_STATUS = _("This query is %(status)s: that step is not possible now.")
NOT_VERIFIABLE = _("Only a form that is complete or marked not done can be verified.")
NOT_A_FIELD = _("%(field)s is not a field of this form; its fields are: %(fields)s.")
CANNOT_LOCK = _("It cannot be locked yet: %(problems)s.")
ALREADY_LOCKED = _("It is already locked.")
NOT_LOCKED = _("It is not locked.")
WRONG_PASSWORD = _("The password is not correct. Nothing was signed.")
STUDY_ALREADY_LOCKED = _("The database is already locked.")
STUDY_NOT_LOCKED = _("The database is not locked.")
PATIENTS_NOT_LOCKED = _(
    "Not every randomised patient is locked: %(patients)s. Lock them, or lock the database "
    "with the override."
)

# Upper layers (analysis: store the final results with the dataset hash) register here; they
# are called inside the locking transaction with the new StudyLock.
STUDY_LOCK_LISTENERS: dict[str, Callable[[StudyLock], None]] = {}
# …and here: called inside the unlocking transaction before the lock is lifted (the data are
# still those of the lock), with the active StudyLock.
STUDY_UNLOCK_LISTENERS: dict[str, Callable[[StudyLock], None]] = {}


def _message(query: DataQuery, kind: str, text: str, user: Any, reason: str) -> None:
    QueryMessage(query=query, kind=kind, author=user, text=text).save_audited(
        user=user, reason=reason
    )


@transaction.atomic
def query_raise(
    *,
    patient: Patient,
    user: Any,
    text: str,
    visit: Visit | None = None,
    form_code: str = "",
    field_name: str = "",
) -> DataQuery:
    if not text.strip():
        raise ValidationError({"text": [MESSAGE_REQUIRED]})
    query = DataQuery(
        patient=patient,
        visit=visit,
        form_code=form_code,
        field_name=field_name,
        raised_by=user,
        origin=DataQuery.Origin.MANUAL,
    )
    query.full_clean()
    query.save_audited(user=user, reason="query raised")
    _message(query, QueryMessage.Kind.RAISED, text.strip(), user, "query raised")
    return query


def _step(query: DataQuery, allowed: tuple[str, ...]) -> DataQuery:
    current = DataQuery.objects.select_for_update().get(pk=query.pk)
    if current.status not in allowed:
        raise ValidationError(WRONG_STATUS, params={"status": current.get_status_display()})
    return current


@transaction.atomic
def query_answer(*, query: DataQuery, user: Any, text: str) -> DataQuery:
    """The site answers an open query."""
    if not text.strip():
        raise ValidationError({"text": [MESSAGE_REQUIRED]})
    query = _step(query, (DataQuery.Status.OPEN,))
    query.status = DataQuery.Status.ANSWERED
    query.save_audited(user=user, reason="query answered")
    _message(query, QueryMessage.Kind.ANSWER, text.strip(), user, "query answered")
    return query


@transaction.atomic
def query_close(*, query: DataQuery, user: Any, text: str = "") -> DataQuery:
    """The monitor or data manager closes a query; it stays readable."""
    query = _step(query, DataQuery.UNRESOLVED)
    query.status = DataQuery.Status.CLOSED
    query.closed_by = user
    query.closed_at = timezone.now()
    query.save_audited(user=user, reason="query closed")
    _message(
        query, QueryMessage.Kind.CLOSE, text.strip() or str(_("Closed.")), user, "query closed"
    )
    return query


@transaction.atomic
def query_reopen(*, query: DataQuery, user: Any, text: str) -> DataQuery:
    if not text.strip():
        raise ValidationError({"text": [MESSAGE_REQUIRED]})
    query = _step(query, (DataQuery.Status.ANSWERED, DataQuery.Status.CLOSED))
    query.status = DataQuery.Status.OPEN
    query.closed_by = None
    query.closed_at = None
    query.closed_automatically = False
    query.save_audited(user=user, reason="query re-opened")
    _message(query, QueryMessage.Kind.REOPEN, text.strip(), user, "query re-opened")
    return query


@transaction.atomic
def form_verify(*, visit: Visit, form_code: str, user: Any) -> FormVerification:
    """Source data verification of a whole form at its current version."""
    form = CRF_MODELS[form_code].objects.filter(visit=visit).first()
    if form is None or form.status == FormStatus.DRAFT:
        raise ValidationError(NOT_VERIFIABLE)
    verification = FormVerification.objects.filter(
        visit=visit, form_code=form_code
    ).first() or FormVerification(visit=visit, form_code=form_code)
    verification.status = FormVerification.Status.VERIFIED
    verification.verified_by = user
    verification.verified_at = timezone.now()
    verification.verified_version = form.version
    verification.changed_by = None
    verification.changed_at = None
    verification.save_audited(user=user, reason="source data verified")
    return verification


@transaction.atomic
def field_verify(*, visit: Visit, form_code: str, field_name: str, user: Any) -> FieldVerification:
    """Source data verification of one field of a form, at its current value."""
    model = CRF_MODELS[form_code]
    if field_name not in model.ENTRY_FIELDS:
        error = ValidationError(
            NOT_A_FIELD, params={"field": field_name, "fields": ", ".join(model.ENTRY_FIELDS)}
        )
        raise ValidationError({"field_name": [error]})
    form = model.objects.filter(visit=visit).first()
    if form is None or form.status == FormStatus.DRAFT:
        raise ValidationError(NOT_VERIFIABLE)
    verification = FieldVerification.objects.filter(
        visit=visit, form_code=form_code, field_name=field_name
    ).first() or FieldVerification(visit=visit, form_code=form_code, field_name=field_name)
    verification.status = FieldVerification.Status.VERIFIED
    verification.verified_value = rules.value_text(getattr(form, field_name))
    verification.verified_by = user
    verification.verified_at = timezone.now()
    verification.changed_by = None
    verification.changed_at = None
    verification.save_audited(user=user, reason=f"source data verified: {field_name}")
    return verification


@transaction.atomic
def record_lock(
    *, patient: Patient, user: Any, visit: Visit | None = None, form_code: str = ""
) -> RecordLock:
    """Lock a form (visit + form code), a visit, or the whole patient."""
    if RecordLock.objects.filter(
        patient=patient, visit=visit, form_code=form_code, unlocked_at__isnull=True
    ).exists():
        raise ValidationError(ALREADY_LOCKED)
    if form_code:
        problems = selectors.form_lock_problems(visit, form_code)
    elif visit is not None:
        problems = selectors.visit_lock_problems(visit)
    else:
        problems = selectors.patient_lock_problems(patient)
    if problems:
        raise ValidationError(CANNOT_LOCK, params={"problems": "; ".join(problems)})
    lock = RecordLock(
        patient=patient, visit=visit, form_code=form_code, locked_by=user, locked_at=timezone.now()
    )
    lock.save_audited(user=user, reason="locked")
    return lock


@transaction.atomic
def record_unlock(*, lock: RecordLock, user: Any, reason: str) -> RecordLock:
    if not reason.strip():
        raise ValidationError({"reason": [REASON_REQUIRED]})
    if lock.unlocked_at is not None:
        raise ValidationError(NOT_LOCKED)
    lock.unlocked_by = user
    lock.unlocked_at = timezone.now()
    lock.unlock_reason = reason.strip()
    lock.save_audited(user=user, reason=f"unlocked: {reason.strip()}")
    return lock


def casebook_sign(
    *,
    request: Any,
    user: Any,
    password: str,
    meaning: str,
    patient: Patient,
    visit: Visit | None = None,
) -> Signature:
    """Sign by re-entering the password (21 CFR 11.200: two components, ID and password).

    The password goes through ``authenticate`` like a login, so django-axes counts a wrong one
    toward the lockout and refuses a locked-out user. Not atomic on purpose: the failure record
    must survive the refusal.
    """
    checked = authenticate(request, username=user.get_username(), password=password)
    if checked is None or checked.pk != user.pk:
        raise ValidationError({"password": [WRONG_PASSWORD]})
    return _signature_save(user=user, meaning=meaning, patient=patient, visit=visit)


@transaction.atomic
def _signature_save(*, user: Any, meaning: str, patient: Patient, visit: Visit | None) -> Signature:
    now = timezone.now()
    local = timezone.localtime(now)
    signature = Signature(
        patient=patient,
        visit=visit,
        signer=user,
        printed_name=user.get_full_name() or user.get_username(),
        meaning=meaning,
        signed_at=now,
        signed_at_local=f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({local:%z})",
        data_hash=selectors.signed_data_hash(patient, visit),
    )
    signature.full_clean()
    signature.save_audited(user=user, reason="signed")
    return signature


def unlocked_randomised_patients() -> list[str]:
    locked = set(
        RecordLock.objects.filter(visit__isnull=True, unlocked_at__isnull=True).values_list(
            "patient_id", flat=True
        )
    )
    return [
        p.study_id
        for p in Patient.objects.filter(allocation__isnull=False).order_by("study_id")
        if p.pk not in locked
    ]


@transaction.atomic
def study_lock(*, user: Any, reason: str, override: bool = False) -> StudyLock:
    if not reason.strip():
        raise ValidationError({"reason": [REASON_REQUIRED]})
    if active_study_lock() is not None:
        raise ValidationError(STUDY_ALREADY_LOCKED)
    missing = unlocked_randomised_patients()
    if missing and not override:
        raise ValidationError(PATIENTS_NOT_LOCKED, params={"patients": ", ".join(missing)})
    lock = StudyLock(
        reason=reason.strip(),
        override=", ".join(missing),
        locked_by=user,
        locked_at=timezone.now(),
    )
    lock.save_audited(user=user, reason=f"database locked: {reason.strip()}")
    for listener in STUDY_LOCK_LISTENERS.values():
        listener(lock)
    return lock


@transaction.atomic
def study_unlock(*, user: Any, reason: str) -> StudyLock:
    if not reason.strip():
        raise ValidationError({"reason": [REASON_REQUIRED]})
    lock = active_study_lock()
    if lock is None:
        raise ValidationError(STUDY_NOT_LOCKED)
    for listener in STUDY_UNLOCK_LISTENERS.values():
        listener(lock)
    lock.unlocked_by = user
    lock.unlocked_at = timezone.now()
    lock.unlock_reason = reason.strip()
    lock.save_audited(user=user, reason=f"database unlocked: {reason.strip()}")
    return lock
