"""Monitoring records: data queries and their threads, source data verification, record locks,
investigator e-signatures and the database lock. All audited (simple-history)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from assessments.models import Visit
from hfs_ecrf.audit import AuditedModel
from patients.models import Patient


def _user_fk(verbose_name, *, null: bool = True) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=null,
        blank=null,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )


class DataQuery(AuditedModel):
    """A question about a field, a form, a visit or a patient record, with its message thread."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")

    class Origin(models.TextChoices):
        MANUAL = "manual", _("raised by a person")
        SOFT_WARNING = "soft_warning", _("confirmed soft warning")
        OUT_OF_WINDOW = "out_of_window", _("visit out of window")

    UNRESOLVED = (Status.OPEN, Status.ANSWERED)

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("visit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    form_code = models.CharField(_("form"), max_length=16, blank=True)
    field_name = models.CharField(_("field"), max_length=64, blank=True)
    status = models.CharField(
        _("query status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    origin = models.CharField(
        _("origin"), max_length=16, choices=Origin.choices, default=Origin.MANUAL
    )
    # Automatic queries name their finding, so one finding makes at most one unresolved query.
    finding = models.CharField(_("finding"), max_length=120, blank=True, editable=False)
    raised_by = _user_fk(_("raised by"))
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    closed_by = _user_fk(_("closed by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    closed_automatically = models.BooleanField(
        _("closed automatically"), default=False, editable=False
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("data query")
        verbose_name_plural = _("data queries")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "finding"],
                condition=Q(status__in=["open", "answered"]) & ~Q(finding=""),
                name="one_unresolved_query_per_finding",
            )
        ]
        indexes = [
            # open-query counts per patient and per visit (patient list, record status grid)
            models.Index(fields=["status", "patient"], name="query_status_patient"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.target_label}"

    AUDIT_LABEL_RELATED = ("patient", "visit")

    def audit_label(self) -> str:
        return _("query #%(n)s (%(target)s)") % {"n": self.pk, "target": self.target_label}

    @property
    def is_resolved(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def target_label(self) -> str:
        parts = [self.patient.study_id if self.patient_id else ""]
        if self.visit_id:
            parts.append(self.visit.code)
        if self.form_code:
            parts.append(self.form_code)
        if self.field_name:
            parts.append(self.field_name)
        return " · ".join(p for p in parts if p)


class QueryMessage(AuditedModel):
    class Kind(models.TextChoices):
        RAISED = "raised", _("raised")
        ANSWER = "answer", _("answer")
        CLOSE = "close", _("closed")
        REOPEN = "reopen", _("re-opened")
        AUTO_CLOSE = "auto_close", _("closed automatically")

    query = models.ForeignKey(
        DataQuery, verbose_name=_("query"), on_delete=models.PROTECT, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    author = _user_fk(_("author"))
    at = models.DateTimeField(_("when"), auto_now_add=True)
    text = models.TextField(_("message"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("query message")
        verbose_name_plural = _("query messages")

    def __str__(self) -> str:
        return f"{self.query_id} {self.kind}"


class FormVerification(AuditedModel):
    """Source data verification of one form; a later change of the form marks it changed."""

    class Status(models.TextChoices):
        VERIFIED = "verified", _("verified")
        CHANGED = "changed", _("changed since verification")

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="+"
    )
    form_code = models.CharField(_("form"), max_length=16)
    status = models.CharField(_("verification"), max_length=10, choices=Status.choices)
    verified_by = _user_fk(_("verified by"))
    verified_at = models.DateTimeField(_("verified at"), editable=False)
    verified_version = models.PositiveIntegerField(_("form version verified"), editable=False)
    changed_by = _user_fk(_("changed by"))
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("form verification")
        verbose_name_plural = _("form verifications")
        constraints = [
            models.UniqueConstraint(fields=["visit", "form_code"], name="one_verification_per_form")
        ]

    def __str__(self) -> str:
        return f"{self.visit} {self.form_code} {self.status}"


class FieldVerification(AuditedModel):
    """Source data verification of one field of a form, with the value verified; a later
    change of that field's value marks it changed (other fields' changes leave it)."""

    Status = FormVerification.Status

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="+"
    )
    form_code = models.CharField(_("form"), max_length=16)
    field_name = models.CharField(_("field"), max_length=64)
    status = models.CharField(_("verification"), max_length=10, choices=Status.choices)
    verified_value = models.TextField(_("value verified"), blank=True, editable=False)
    verified_by = _user_fk(_("verified by"))
    verified_at = models.DateTimeField(_("verified at"), editable=False)
    changed_by = _user_fk(_("changed by"))
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("field verification")
        verbose_name_plural = _("field verifications")
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "form_code", "field_name"], name="one_verification_per_field"
            )
        ]

    def __str__(self) -> str:
        return f"{self.visit} {self.form_code}.{self.field_name} {self.status}"


class RecordLock(AuditedModel):
    """A lock on a form (visit + form code), a visit (visit only) or a whole patient."""

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("visit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    form_code = models.CharField(_("form"), max_length=16, blank=True)
    locked_by = _user_fk(_("locked by"))
    locked_at = models.DateTimeField(_("locked at"), editable=False)
    unlocked_by = _user_fk(_("unlocked by"))
    unlocked_at = models.DateTimeField(_("unlocked at"), null=True, blank=True, editable=False)
    unlock_reason = models.CharField(_("reason for unlocking"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("record lock")
        verbose_name_plural = _("record locks")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "visit", "form_code"],
                condition=Q(unlocked_at__isnull=True),
                name="one_active_lock_per_target",
            )
        ]
        indexes = [
            # the write guard: active locks of one patient
            models.Index(fields=["patient", "unlocked_at"], name="lock_patient_active"),
        ]

    def __str__(self) -> str:
        return " · ".join(
            p
            for p in (str(self.patient), self.visit.code if self.visit_id else "", self.form_code)
            if p
        )


class Signature(AuditedModel):
    """An investigator's electronic signature of a casebook (or one visit), 21 CFR 11.50."""

    class Meaning(models.TextChoices):
        APPROVE = "approve", _("I have reviewed and approve these data")
        REVIEWED = "reviewed", _("I have reviewed these data")

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("visit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signer = _user_fk(_("signed by"), null=False)
    printed_name = models.CharField(_("printed name"), max_length=200)
    meaning = models.CharField(_("meaning"), max_length=10, choices=Meaning.choices)
    signed_at = models.DateTimeField(_("signed at (UTC)"))
    signed_at_local = models.CharField(_("signed at (local time)"), max_length=64)
    data_hash = models.CharField(_("hash of the signed data (SHA-256)"), max_length=64)
    invalidated_at = models.DateTimeField(_("invalidated at"), null=True, blank=True)
    invalidated_reason = models.CharField(_("invalidated because"), max_length=300, blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        verbose_name = _("electronic signature")
        verbose_name_plural = _("electronic signatures")

    def __str__(self) -> str:
        return f"{self.printed_name} {self.signed_at:%Y-%m-%d %H:%M} UTC"

    @property
    def is_valid(self) -> bool:
        return self.invalidated_at is None


class StudyLock(AuditedModel):
    """The database lock: while one is active (not unlocked), every write is refused."""

    reason = models.CharField(_("reason for locking"), max_length=300)
    override = models.TextField(
        _("locked with records not locked"),
        blank=True,
        help_text=_("what was not locked when the data manager overrode the check"),
    )
    locked_by = _user_fk(_("locked by"))
    locked_at = models.DateTimeField(_("locked at"), editable=False)
    unlocked_by = _user_fk(_("unlocked by"))
    unlocked_at = models.DateTimeField(_("unlocked at"), null=True, blank=True, editable=False)
    unlock_reason = models.CharField(_("reason for unlocking"), max_length=300, blank=True)

    class Meta:
        ordering = ["-locked_at", "-id"]
        verbose_name = _("database lock")
        verbose_name_plural = _("database locks")

    def __str__(self) -> str:
        return f"{self.locked_at:%Y-%m-%d %H:%M}"
