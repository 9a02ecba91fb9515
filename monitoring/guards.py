"""What monitoring registers into the lower layers' writes (``hfs_ecrf.hooks``).

Guards: a locked record or a locked database refuses the write, naming who locked it and when.
After-save hooks: a verified form that changes is marked "changed since verification"; confirmed
soft warnings and out-of-window visits raise (or, when the data no longer show them, close)
automatic queries; a change to signed data invalidates the signature.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from assessments.models import CaseReportForm, Visit
from assessments.services import previous_form
from hfs_ecrf.hooks import (
    WriteRefused,
    register_after_save,
    register_patient_list_filter,
    register_write_guard,
)
from monitoring import rules
from monitoring.models import (
    DataQuery,
    FieldVerification,
    FormVerification,
    QueryMessage,
    RecordLock,
    Signature,
    StudyLock,
)
from monitoring.selectors import signed_data_hash, with_open_queries
from patients.models import Patient, SiteMembership

RECORD_LOCKED = _(
    "%(what)s is locked (by %(who)s on %(when)s): it cannot be changed. A data manager can "
    "unlock it with a reason."
)
DATABASE_LOCKED = _(
    "The database is locked (by %(who)s on %(when)s): no data can be changed. A data manager "
    "can unlock it with a reason."
)
AUTO_CLOSED = _("Closed automatically: the change of the data removed the finding.")
VERIFICATION_RESET = "changed after source data verification"

# Access management goes on under a database lock (new staff may need to read the data).
_NOT_STUDY_DATA = (StudyLock, SiteMembership)


def target_of(obj: Any) -> tuple[int | None, int | None, str | None] | None:
    """(patient id, visit id, form code) of a record, or None when it belongs to no patient."""
    if isinstance(obj, CaseReportForm):
        return obj.visit.patient_id, obj.visit_id, obj.FORM_CODE
    if isinstance(obj, Visit):
        return obj.patient_id, obj.pk, None
    if isinstance(obj, Patient):
        return obj.pk, None, None
    patient_id = getattr(obj, "patient_id", None)
    if patient_id is not None and obj._meta.app_label in {"patients", "assessments"}:
        return patient_id, None, None
    return None


def active_study_lock() -> StudyLock | None:
    return StudyLock.objects.filter(unlocked_at__isnull=True).select_related("locked_by").first()


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _refuse_study_lock(lock: StudyLock | None) -> None:
    if lock is not None:
        raise WriteRefused(
            DATABASE_LOCKED, params={"who": lock.locked_by, "when": _when(lock.locked_at)}
        )


def refuse_locked(obj: Any) -> None:
    if isinstance(obj, _NOT_STUDY_DATA):
        return
    scope = _scope.get()
    _refuse_study_lock(scope.study_lock if scope is not None else active_study_lock())
    if obj._meta.app_label == "monitoring":
        return
    target = target_of(obj)
    if target is None or target[0] is None or _new_patient(target[0]):
        return
    patient_id, visit_id, form_code = target
    locks = RecordLock.objects.filter(
        patient_id=patient_id, unlocked_at__isnull=True
    ).select_related("locked_by", "visit", "patient")
    for lock in locks:
        if rules.lock_covers(
            (lock.visit_id, lock.form_code), visit_id=visit_id, form_code=form_code
        ):
            raise WriteRefused(
                RECORD_LOCKED,
                params={"what": str(lock), "who": lock.locked_by, "when": _when(lock.locked_at)},
            )


def reset_verification(form: CaseReportForm) -> None:
    if _new_patient(form.visit.patient_id):
        return
    verification = FormVerification.objects.filter(
        visit_id=form.visit_id, form_code=form.FORM_CODE, status=FormVerification.Status.VERIFIED
    ).first()
    if verification is None or verification.verified_version == form.version:
        return
    verification.status = FormVerification.Status.CHANGED
    verification.changed_by = form.updated_by
    verification.changed_at = timezone.now()
    verification.save_audited(user=form.updated_by, reason=VERIFICATION_RESET)


def reset_field_verifications(form: CaseReportForm) -> None:
    """A verified field whose value is no longer the one verified is marked changed."""
    if _new_patient(form.visit.patient_id):
        return
    verified = FieldVerification.objects.filter(
        visit_id=form.visit_id, form_code=form.FORM_CODE, status=FieldVerification.Status.VERIFIED
    )
    for verification in verified:
        if rules.value_text(getattr(form, verification.field_name, None)) == (
            verification.verified_value
        ):
            continue
        verification.status = FieldVerification.Status.CHANGED
        verification.changed_by = form.updated_by
        verification.changed_at = timezone.now()
        verification.save_audited(user=form.updated_by, reason=VERIFICATION_RESET)


def sync_finding_queries(
    *,
    patient_id: int,
    visit: Visit,
    form_code: str,
    origin: str,
    findings: dict[str, str],
    user: Any,
) -> None:
    """One unresolved query per current finding; unresolved ones whose finding is gone close."""
    prefix = f"{origin}:{visit.pk}:{form_code}:"
    scope = _scope.get()
    if _new_patient(patient_id) and prefix not in scope.raised:
        unresolved = {}
    else:
        unresolved = {
            q.finding: q
            for q in DataQuery.objects.filter(
                patient_id=patient_id, finding__startswith=prefix, status__in=DataQuery.UNRESOLVED
            )
        }
    if findings and scope is not None:
        scope.raised.add(prefix)
    for field, message in findings.items():
        key = prefix + field
        if key in unresolved:
            continue
        query = DataQuery(
            patient_id=patient_id,
            visit=visit,
            form_code=form_code,
            field_name=field,
            origin=origin,
            finding=key,
        )
        query.save_audited(user=user, reason="raised automatically")
        QueryMessage(query=query, kind=QueryMessage.Kind.RAISED, text=str(message)).save_audited(
            user=user, reason="raised automatically"
        )
    wanted = {prefix + field for field in findings}
    for key, query in unresolved.items():
        if key in wanted:
            continue
        query.status = DataQuery.Status.CLOSED
        query.closed_at = timezone.now()
        query.closed_automatically = True
        query.save_audited(user=user, reason="closed automatically: finding removed")
        QueryMessage(
            query=query, kind=QueryMessage.Kind.AUTO_CLOSE, text=str(AUTO_CLOSED)
        ).save_audited(user=user, reason="closed automatically: finding removed")


def sync_form_queries(form: CaseReportForm) -> None:
    # The save went through, so every soft warning the data still carry was confirmed.
    findings = form.soft_warnings(previous_form(form))
    sync_finding_queries(
        patient_id=form.visit.patient_id,
        visit=form.visit,
        form_code=form.FORM_CODE,
        origin=DataQuery.Origin.SOFT_WARNING,
        findings=findings,
        user=form.updated_by,
    )


def sync_visit_queries(visit: Visit) -> None:
    findings = {}
    if visit.out_of_window:
        findings["visit_date"] = _(
            "Visit %(code)s on %(date)s is outside its window. Please confirm the date or explain."
        ) % {"code": visit.code, "date": visit.visit_date}
    sync_finding_queries(
        patient_id=visit.patient_id,
        visit=visit,
        form_code="",
        origin=DataQuery.Origin.OUT_OF_WINDOW,
        findings=findings,
        user=getattr(visit, "_history_user", None),
    )


def invalidate_signatures(obj: Any) -> None:
    target = target_of(obj)
    if target is None or target[0] is None or _new_patient(target[0]):
        return
    patient_id, visit_id, _form = target
    signatures = [
        s
        for s in Signature.objects.filter(patient_id=patient_id, invalidated_at__isnull=True)
        if s.visit_id is None or s.visit_id == visit_id
    ]
    if not signatures:
        return
    for signature in signatures:
        if signed_data_hash(signature.patient, signature.visit) == signature.data_hash:
            continue
        signature.invalidated_at = timezone.now()
        signature.invalidated_reason = f"{obj._meta.verbose_name} changed: {obj}"
        signature.save_audited(
            user=getattr(obj, "_history_user", None), reason="signed data changed"
        )


def after_save(obj: Any, created: bool) -> None:
    if obj._meta.app_label == "monitoring":
        return
    scope = _scope.get()
    if scope is not None and created and isinstance(obj, Patient):
        scope.new_patients.add(obj.pk)
    if isinstance(obj, CaseReportForm):
        reset_verification(obj)
        reset_field_verifications(obj)
        sync_form_queries(obj)
    elif isinstance(obj, Visit):
        sync_visit_queries(obj)
    invalidate_signatures(obj)


def register() -> None:
    register_write_guard("monitoring.locks", refuse_locked)
    register_after_save("monitoring.reactions", after_save)
    register_patient_list_filter(
        "open_queries", label=_("with open queries"), apply=with_open_queries
    )


@dataclasses.dataclass
class _ImportScope:
    study_lock: StudyLock | None
    new_patients: set[int] = dataclasses.field(default_factory=set)
    raised: set[str] = dataclasses.field(
        default_factory=set
    )  # finding prefixes with a query raised here


_scope: ContextVar[_ImportScope | None] = ContextVar("monitoring_import_scope", default=None)


def _new_patient(patient_id: int | None) -> bool:
    scope = _scope.get()
    return scope is not None and patient_id in scope.new_patients


@contextmanager
def import_scope() -> Iterator[None]:
    """Writes of an import that creates its patients, inside one transaction: the database
    lock is read once on entry and again on exit (a lock taken meanwhile refuses the whole
    import), and for a patient created inside the scope the per-save look-ups of record locks,
    signatures, verifications and open queries are skipped: none of them can exist for a
    patient that no one else can see yet (queries this scope raises itself are tracked)."""
    scope = _ImportScope(study_lock=active_study_lock())
    token = _scope.set(scope)
    try:
        yield
        if scope.study_lock is None:
            _refuse_study_lock(active_study_lock())
    finally:
        _scope.reset(token)
