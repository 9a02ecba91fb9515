"""Writes of visits and case report forms, shared by the UI, the seeder and the importer."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments import safety
from assessments.instruments import hdrs, seriousness
from assessments.models import CRF_MODELS, CaseReportForm, FormStatus, Hdrs17, Visit
from assessments.models.records import AdverseEvent, SuicideItemReview, TreatmentExposure
from assessments.schedule import VISIT_CODES, VISITS, in_window
from hfs_ecrf import write_scope
from hfs_ecrf.audit import changed_fields
from hfs_ecrf.submissions import create_once, first_record
from hfs_ecrf.validation import refuse_unconfirmed
from hfs_ecrf.versioning import (
    UNCHECKED,
    ConflictError,
    changes_since,
    check_version,
    locked,
    next_version,
    save_new,
)
from patients.models import Allocation, Arm, Patient, Withdrawal

WITHDRAWN_NO_NEW_VISITS = _(
    "The patient has withdrawn: no new visits can be opened. Data already entered stay."
)
REASON_REQUIRED = _("This form was complete before: give a reason for the change.")
VISIT_REASON_REQUIRED = _(
    "A form of this visit has been complete: give a reason for changing the visit."
)
NOT_DONE_REASON_REQUIRED = _("Say why the form was not done.")
REQUIRED_TO_COMPLETE = _("Required to mark the form complete.")
VISIT_BEFORE_CONSENT = _("The visit date is before the patient's consent date (%(consent)s).")
VISIT_IN_FUTURE = _("The visit date cannot be in the future.")
MISSED_REASON_REQUIRED = _("Say why the visit was missed.")
FORM_NOT_EXPECTED = _("Form %(form)s is not part of visit %(visit)s.")
AE_REASON_REQUIRED = _("This adverse event was saved before: give a reason for the change.")
AE_NOT_SERIOUS = _("Only a serious adverse event is acknowledged.")
AE_TOKEN_OF_ANOTHER_PATIENT = _("This form was submitted for another patient; reload the page.")
B12_DOSE_FOR_STANDARD_ARM = _(
    "This patient was allocated standard therapy: a study vitamin B12 dose is not expected. "
    "Check the patient and the product."
)
SUICIDE_ITEM_NOT_ALERTING = _("HDRS item 3 is below 2 on this form: there is nothing to review.")


__all__ = ["ConflictError"]  # the services' conflict, for views and callers


def visit_get_or_create(*, patient: Patient, code: str, user: Any) -> Visit:
    visit = Visit.objects.filter(patient=patient, code=code).first()
    if visit is None:
        if Withdrawal.objects.filter(patient=patient).exists():
            raise ValidationError(WITHDRAWN_NO_NEW_VISITS)
        visit = Visit(patient=patient, code=code)
        try:
            save_new(visit, user=user, reason="visit opened", on_conflict=ValidationError)
        except ValidationError:  # opened by someone else this very moment: use theirs
            visit = Visit.objects.get(patient=patient, code=code)
    return visit


def _visit_conflict(visit: Visit) -> Any:
    def conflict() -> ConflictError:
        existing = Visit.objects.get(patient=visit.patient, code=visit.code)
        return ConflictError(changes_since(existing, 0))

    return conflict


def visit_date_problems(patient: Patient, visit_date: date | None) -> dict[str, list]:
    """Hard errors of a visit date: not in the future, not before consent."""
    if visit_date is None:
        return {}
    if visit_date > timezone.localdate():
        return {"visit_date": [VISIT_IN_FUTURE]}
    consent = getattr(patient, "consent", None)
    if consent is not None and visit_date < consent.consent_date:
        return {
            "visit_date": [
                ValidationError(VISIT_BEFORE_CONSENT, params={"consent": consent.consent_date})
            ]
        }
    return {}


def visit_window_warning(visit: Visit) -> str | None:
    allocation = visit.patient.allocation_or_none
    day0 = allocation.randomised_on if allocation else None
    if visit.visit_date is None or in_window(visit.code, visit.visit_date, day0) is not False:
        return None
    return str(
        _(
            "The date is outside the window of visit %(code)s. It is allowed, and the "
            "visit will be flagged as out of window."
        )
        % {"code": visit.code}
    )


@write_scope.atomic
def visit_save(
    *,
    visit: Visit,
    user: Any,
    reason: str = "",
    confirmed: bool = False,
    base_version: Any = UNCHECKED,
) -> Visit:
    """Record the visit date and status (done, or missed with a reason).

    A date outside the visit's window is a soft warning: refused with ``UnconfirmedWarnings``
    unless ``confirmed``; the confirmed warning goes into the audit trail's reason. Versioned
    (``base_version``, hfs_ecrf/versioning.py); two first saves at once: one wins, the other
    gets the conflict.
    """
    current = locked(visit)
    check_version(current, base_version)
    if visit.pk is None and _withdrawn(visit.patient):
        raise ValidationError(WITHDRAWN_NO_NEW_VISITS)
    errors = visit_date_problems(visit.patient, visit.visit_date)
    if not reason.strip() and current is not None and _visit_edit_needs_reason(current, visit):
        errors["reason_for_change"] = [VISIT_REASON_REQUIRED]
    if visit.status == Visit.Status.MISSED and not visit.missed_reason.strip():
        errors["missed_reason"] = [MISSED_REASON_REQUIRED]
    warning = visit_window_warning(visit)
    warnings = {"visit_date": warning} if warning else {}
    refuse_unconfirmed(warnings, errors, confirmed=confirmed)
    visit.out_of_window = warning is not None
    visit.version = next_version(current)
    history_reason = "; ".join(filter(None, [reason, *warnings.values()]))
    # A new visit's uniqueness is the database's to decide (a concurrent first save: conflict).
    visit.full_clean(validate_constraints=current is not None)
    if current is None:
        save_new(visit, user=user, reason=history_reason, on_conflict=_visit_conflict(visit))
    else:
        visit.save_audited(user=user, reason=history_reason)
    return visit


def _visit_edit_needs_reason(current: Visit, visit: Visit) -> bool:
    """A change of the visit once any of its forms has been complete needs a reason."""
    fields = [Visit._meta.get_field(name) for name in ("visit_date", "status", "missed_reason")]
    if not changed_fields(current, visit, fields):
        return False
    return any(
        model.objects.filter(visit=current, ever_complete=True).exists()
        for model in CRF_MODELS.values()
    )


_NOT_LOOKED_UP = object()


def _saved_forms(patient_id: int) -> dict | None:
    """Inside ``write_scope.bulk_writes()``: the forms saved so far of a patient created there,
    by (model, visit code); None when the database must be asked."""
    memo = write_scope.memo("assessments.patient_forms")
    if memo is None or memo.get("patient") != patient_id:
        return None
    return memo["forms"] if write_scope.created_here(Patient, patient_id) else None


def _remember_form(form: CaseReportForm) -> None:
    memo = write_scope.memo("assessments.patient_forms")
    if memo is None:
        return
    patient_id = form.visit.patient_id
    if memo.get("patient") != patient_id:  # one patient at a time: the import goes by patient
        left = memo.setdefault("left", set())  # patients whose forms were let go: ask the database
        left.add(memo.get("patient"))
        memo.update(patient=None, forms={})
        if patient_id in left or not write_scope.created_here(Patient, patient_id):
            return
        memo["patient"] = patient_id
    memo["forms"][(type(form), form.visit.code)] = form


def _withdrawn(patient: Patient) -> bool:
    if write_scope.created_here(Patient, patient.pk) and write_scope.none_created(Withdrawal):
        return False  # created in this bulk import, and no withdrawal saved there yet
    return Withdrawal.objects.filter(patient=patient).exists()


def previous_form(form: CaseReportForm) -> CaseReportForm | None:
    """The same form at the nearest earlier visit that has it (for soft warnings). While
    ``crf_save`` saves the form, the one it looked up (its after-save hooks ask again)."""
    looked_up = form.__dict__.get("_previous_form", _NOT_LOOKED_UP)
    if looked_up is not _NOT_LOOKED_UP:
        return looked_up
    model = type(form)
    codes = VISIT_CODES[: VISIT_CODES.index(form.visit.code)]
    saved = _saved_forms(form.visit.patient_id)
    if saved is not None:  # a patient created in this bulk import: its forms are all here
        present = [code for code in codes if (model, code) in saved]
        return saved[(model, max(present))] if present else None
    return (
        model.objects.filter(visit__patient_id=form.visit.patient_id, visit__code__in=codes)
        .order_by("-visit__code")
        .first()
    )


@write_scope.atomic
def crf_save(
    *,
    form: CaseReportForm,
    user: Any,
    action: str = "draft",
    base_version: Any = UNCHECKED,
    reason: str = "",
    not_done_reason: str = "",
    confirmed: bool = False,
) -> CaseReportForm:
    """Save one case report form: draft, complete or not done; versioned; audited.

    The form's soft warnings (``soft_warnings`` against the previous visit's form) and its hard
    errors are found together; unconfirmed warnings refuse the save with ``UnconfirmedWarnings``
    unless ``confirmed`` (a form "not done" has no values to warn about). The confirmed warnings
    are kept on the form and in the audit trail.
    ``action`` "save" keeps the form's current state (a new form starts as a draft).

    A field may carry a missing-data code (``form.missing_codes``) instead of a value: then its
    value must be empty, and for "complete" a coded required field counts as answered.

    ``base_version`` is the version the user started from: if the form has changed since, the
    save is refused with the other person's changes (no lost update). Once a form has been
    complete, every change needs a reason, which goes into the audit trail.
    """
    if form.FORM_CODE not in VISITS[form.visit.code].forms:
        raise ValidationError(
            FORM_NOT_EXPECTED, params={"form": form.TITLE, "visit": form.visit.code}
        )
    model = type(form)
    current = locked(form)
    check_version(current, base_version)
    if form.pk is None and base_version not in (UNCHECKED, None, 0):
        existing = model.objects.select_for_update().filter(visit=form.visit).first()
        if existing is not None:
            raise ConflictError(changes_since(existing, 0))
    if action == "save":  # a plain save keeps the state the form had
        action = current.status if current is not None else FormStatus.DRAFT
    errors: dict[str, list] = form.missing_code_problems()
    if current is not None and current.ever_complete and not reason.strip():
        errors["reason_for_change"] = [REASON_REQUIRED]
    if action == "not_done":
        if not not_done_reason.strip():
            errors["not_done_reason"] = [NOT_DONE_REASON_REQUIRED]
        form.status = FormStatus.NOT_DONE
    elif action == "complete":  # every required field answered or carrying a missing-data code
        for name in form.missing_required():
            errors.setdefault(name, []).append(REQUIRED_TO_COMPLETE)
        form.status = FormStatus.COMPLETE
    else:
        form.status = FormStatus.DRAFT
    warnings: dict[str, str] = {}
    if action != "not_done":
        form._previous_form = previous_form(form)
        warnings = form.soft_warnings(form._previous_form)
    confirmed_warnings = refuse_unconfirmed(warnings, errors, confirmed=confirmed)
    form.not_done_reason = not_done_reason if action == "not_done" else ""
    form.ever_complete = bool(form.ever_complete or form.status == FormStatus.COMPLETE)
    if current is not None:
        form.ever_complete = form.ever_complete or current.ever_complete
    form.version = next_version(current)
    form.updated_by = user
    form.warnings_confirmed = confirmed_warnings
    history_reason = reason.strip()
    if confirmed_warnings:
        history_reason = f"{history_reason} [confirmed: {confirmed_warnings}]".strip()
    try:
        form.full_clean(validate_unique=current is not None)
        if current is None:

            def conflict() -> ConflictError:
                return ConflictError(changes_since(model.objects.get(visit=form.visit), 0))

            save_new(form, user=user, reason=history_reason, on_conflict=conflict)
        else:
            form.save_audited(user=user, reason=history_reason)
    finally:
        form.__dict__.pop("_previous_form", None)
    _remember_form(form)
    return form


@write_scope.atomic
def patient_record_save(
    *,
    record: Any,
    user: Any,
    reason: str = "",
    confirmed: bool = False,
    submission_token: Any = None,
) -> Any:
    """Treatment exposure, concomitant medication or adverse event of one patient. A new record
    sent twice with the same ``submission_token`` is saved once (hfs_ecrf/submissions.py).

    A study B12 dose recorded for a patient allocated standard therapy is a soft warning
    (``refuse_unconfirmed``); the confirmation is kept as the reason in the audit trail."""
    earlier = first_record(submission_token, type(record)) if record.pk is None else None
    if earlier is not None:
        return earlier
    # Follow-up of adverse events continues after withdrawal; other new records do not.
    if (
        record.pk is None
        and record._meta.model_name != "adverseevent"
        and Withdrawal.objects.filter(patient=record.patient).exists()
    ):
        raise ValidationError(WITHDRAWN_NO_NEW_VISITS)
    if isinstance(record, AdverseEvent):
        return adverse_event_save(event=record, user=user, reason=reason)
    record.recorded_by = record.recorded_by or user
    record.version = (record.version or 0) + 1 if record.pk else 1
    errors: dict[str, list] = {}
    try:
        record.full_clean()
    except ValidationError as error:
        errors = error.message_dict
    confirmation = refuse_unconfirmed(record_warnings(record), errors, confirmed=confirmed)
    if confirmation:
        reason = f"{reason}; {confirmation}" if reason else confirmation
    if record.pk is not None:
        record.save_audited(user=user, reason=reason)
        return record
    return create_once(
        record,
        token=submission_token,
        user=user,
        save=lambda: record.save_audited(user=user, reason=reason),
    )


def record_warnings(record: Any) -> dict[str, Any]:
    """Soft warnings of a per-patient record: a study B12 dose for the standard-therapy arm."""
    if not isinstance(record, TreatmentExposure) or not record.is_study_b12:
        return {}
    allocation = Allocation.objects.filter(patient_id=record.patient_id).first()
    if allocation is not None and allocation.arm == Arm.STANDARD:
        return {"is_study_b12": B12_DOSE_FOR_STANDARD_ARM}
    return {}


def _first_submission(event: AdverseEvent) -> AdverseEvent:
    """The event an earlier submission of the same form made (a double click)."""
    existing = AdverseEvent.objects.get(submission_token=event.submission_token)
    if existing.patient_id != event.patient_id:
        raise ValidationError(AE_TOKEN_OF_ANOTHER_PATIENT)
    existing.duplicate_submission = True
    return existing


@transaction.atomic
def adverse_event_save(
    *, event: AdverseEvent, user: Any, reason: str = "", base_version: int | None = None
) -> AdverseEvent:
    """Record or follow up an adverse event: versioned, a reason for every change after the
    first save, audited.

    The event is serious when a seriousness criterion is ticked. Becoming serious starts the
    24-hour report clock and, once the transaction commits, e-mails the investigators and data
    managers (once per becoming serious; the home pages show it until acknowledged). A new event
    carrying the ``submission_token`` of one already saved is that event (a double submission).
    """
    current = (
        AdverseEvent.objects.select_for_update().filter(pk=event.pk).first() if event.pk else None
    )
    if current is not None and base_version is not None and current.version != base_version:
        raise ConflictError(changes_since(current, base_version))
    if current is not None and not reason.strip():
        raise ValidationError({"reason_for_change": [AE_REASON_REQUIRED]})
    token = event.submission_token if current is None else current.submission_token
    if (
        current is None
        and token is not None
        and AdverseEvent.objects.filter(submission_token=token).exists()
    ):
        return _first_submission(event)
    event.submission_token = token
    event.recorded_by = event.recorded_by or user
    event.version = current.version + 1 if current is not None else 1
    serious = seriousness.is_serious(event.criteria())
    clock_starts = serious and (current is None or current.serious_since is None)
    if clock_starts:
        event.serious_since, event.acknowledged_at, event.acknowledged_by = (
            timezone.now(),
            None,
            None,
        )
    elif serious:
        # The clock and its acknowledgement belong to the stored row, not to the edited copy.
        event.serious_since = current.serious_since
        event.acknowledged_at = current.acknowledged_at
        event.acknowledged_by_id = current.acknowledged_by_id
    else:
        event.serious_since, event.acknowledged_at, event.acknowledged_by = None, None, None
    event.full_clean(exclude=["submission_token"])
    try:
        with transaction.atomic():
            event.save_audited(user=user, reason=reason.strip())
    except IntegrityError:
        # A simultaneous submission of the same form committed first.
        if current is not None or token is None:
            raise
        return _first_submission(event)
    if clock_starts:
        transaction.on_commit(partial(safety.notify_serious_event, event.pk), robust=True)
    return event


@transaction.atomic
def adverse_event_acknowledge(*, event: AdverseEvent, user: Any) -> AdverseEvent:
    """An investigator or data manager acknowledges a serious event: its alert leaves the home
    pages. Audited; acknowledging twice changes nothing."""
    if not safety.may_acknowledge(user):
        raise PermissionDenied
    current = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    if not current.serious or current.serious_since is None:
        raise ValidationError(AE_NOT_SERIOUS)
    if current.acknowledged_at is None:
        current.acknowledged_at, current.acknowledged_by = timezone.now(), user
        current.save_audited(user=user, reason="serious adverse event acknowledged")
    return current


@transaction.atomic
def suicide_item_review(*, form: Hdrs17, user: Any) -> SuicideItemReview:
    """The investigator has reviewed the HDRS item 3 score shown: its alert leaves the page
    until a higher score is entered. Audited."""
    if not safety.may_review_suicide_item(user):
        raise PermissionDenied
    current = Hdrs17.objects.select_for_update().get(pk=form.pk)
    if not hdrs.suicide_alert(current.q03):
        raise ValidationError(SUICIDE_ITEM_NOT_ALERTING)
    review = SuicideItemReview.objects.filter(hdrs=current).first() or SuicideItemReview(
        hdrs=current
    )
    review.score, review.reviewed_by, review.reviewed_at = current.q03, user, timezone.now()
    review.full_clean()
    review.save_audited(user=user, reason="HDRS item 3 (suicide) reviewed")
    return review
