from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.audit import AuditedModel
from hfs_ecrf.validation import future_dates

IMMUTABLE_ALLOCATION = _("An allocation can never be changed or deleted.")


class Site(AuditedModel):
    code = models.CharField(
        _("site code"),
        max_length=8,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Z]{2,8}$", _("Use 2 to 8 capital Latin letters, e.g. SMR."))
        ],
        help_text=_("2 to 8 capital Latin letters; the prefix of every study ID at the site."),
    )
    name = models.CharField(_("name"), max_length=200)
    is_demo = models.BooleanField(
        _("synthetic demo site"),
        default=False,
        editable=False,
        help_text=_("created by seed_demo; its patients are invented"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class SiteMembership(AuditedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="site_memberships",
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="memberships"
    )

    class Meta:
        verbose_name = _("site membership")
        verbose_name_plural = _("site memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="one_membership_per_user_site")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.site.code}"


class Arm(models.TextChoices):
    STANDARD = "standard", _("standard therapy")
    B12 = "b12", _("standard therapy + vitamin B12")


# --- screening -------------------------------------------------------------------------------


class Screening(AuditedModel):
    """One row per person screened, enrolled or not (the CONSORT screening log)."""

    class Outcome(models.TextChoices):
        ELIGIBLE = "eligible", _("eligible")
        NOT_ELIGIBLE = "not_eligible", _("not eligible")
        DECLINED = "declined", _("eligible, declined to take part")

    # criterion field -> (is an inclusion criterion, the reason code when it fails)
    CRITERIA = {
        "inc_adult": (True, "age_under_18"),
        "inc_hfs_confirmed": (True, "hfs_not_confirmed"),
        "inc_consent_able": (True, "cannot_consent"),
        "exc_recent_b12": (False, "recent_b12"),
        "exc_prior_mvd": (False, "prior_mvd"),
        "exc_pregnancy": (False, "pregnancy"),
        "exc_renal_hepatic": (False, "renal_hepatic"),
        "exc_movement_disorder": (False, "movement_disorder"),
    }

    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT)
    screening_number = models.CharField(
        _("screening number"),
        max_length=20,
        validators=[RegexValidator(r"^[A-Za-z0-9-]+$", _("Letters, digits and hyphens only."))],
        help_text=_("As written in the site's screening log, e.g. S-014."),
    )
    screened_on = models.DateField(_("screening date"))
    inc_adult = models.BooleanField(_("aged 18 or over"), default=False)
    inc_hfs_confirmed = models.BooleanField(
        _("hemifacial spasm confirmed clinically"), default=False
    )
    inc_consent_able = models.BooleanField(
        _("able and willing to give informed consent"), default=False
    )
    exc_recent_b12 = models.BooleanField(
        _("B12 supplementation or injection in the last 3 months"), default=False
    )
    exc_prior_mvd = models.BooleanField(_("prior microvascular decompression"), default=False)
    exc_pregnancy = models.BooleanField(_("pregnant or breastfeeding"), default=False)
    exc_renal_hepatic = models.BooleanField(_("severe renal or hepatic disease"), default=False)
    exc_movement_disorder = models.BooleanField(_("another movement disorder"), default=False)
    declined = models.BooleanField(
        _("eligible but declined to take part"),
        default=False,
        help_text=_("Tick when an eligible person chooses not to take part."),
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, editable=False)
    failure_reasons = models.CharField(
        _("reasons not eligible"), max_length=200, blank=True, editable=False
    )
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("screened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-screened_on", "-id"]
        verbose_name = _("screening")
        verbose_name_plural = _("screening log")
        # the screening log's order: a page is read from the index, not sorted from every row
        indexes = [models.Index(fields=["-screened_on", "-id"], name="screening_log_order")]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "screening_number"], name="unique_screening_number_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"{self.site.code} {self.screening_number}"

    def save(self, *args, **kwargs) -> None:
        self.outcome, reasons = self.decide()
        self.failure_reasons = ",".join(reasons)
        super().save(*args, **kwargs)

    def decide(self) -> tuple[str, list[str]]:
        """Eligibility follows from the checklist; a person who fails keeps every reason."""
        reasons = [
            reason
            for field, (inclusion, reason) in self.CRITERIA.items()
            if getattr(self, field) != inclusion
        ]
        if reasons:
            return self.Outcome.NOT_ELIGIBLE, reasons
        if self.declined:
            return self.Outcome.DECLINED, []
        return self.Outcome.ELIGIBLE, []

    def clean(self) -> None:
        if self.screened_on and self.screened_on > timezone.localdate():
            raise ValidationError({"screened_on": _("The screening date cannot be in the future.")})


# --- the enrolled patient ---------------------------------------------------------------------


class Patient(AuditedModel):
    """An enrolled participant, known to clinical records only by the pseudonymous study ID."""

    study_id = models.CharField(_("study ID"), max_length=16, unique=True, editable=False)
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="patients"
    )
    sequence = models.PositiveIntegerField(_("number at site"), editable=False)
    screening = models.OneToOneField(
        Screening, verbose_name=_("screening"), on_delete=models.PROTECT, related_name="patient"
    )
    age_at_consent = models.PositiveSmallIntegerField(_("age at consent (years)"), editable=False)
    enrolled_at = models.DateTimeField(_("enrolled at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["study_id"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        constraints = [
            models.UniqueConstraint(fields=["site", "sequence"], name="unique_sequence_per_site")
        ]

    def __str__(self) -> str:
        return self.study_id

    def audit_label(self) -> str:
        return self.study_id

    def delete(self, *args, **kwargs):
        # Study IDs are never reused, so enrolled patients are never deleted.
        raise ValidationError(_("Enrolled patients are never deleted; record a withdrawal."))

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        # The patient page composes several apps; it lives in monitoring (ARCHITECTURE.md).
        return reverse("monitoring:patient_detail", kwargs={"study_id": self.study_id})

    # The properties below read relations that selectors load up front (no query per patient);
    # progress through the visits is assessments.selectors.patient_progress.

    @property
    def allocation_or_none(self) -> Allocation | None:
        return _related_or_none(self, "allocation")

    @property
    def withdrawal_or_none(self) -> Withdrawal | None:
        return _related_or_none(self, "withdrawal")

    @property
    def identity_or_none(self) -> Identity | None:
        """None for a patient imported without identity data ("identity not recorded")."""
        return _related_or_none(self, "identity")


class PatientStatus(models.TextChoices):
    SCREENED = "screened", _("screened")
    ENROLLED = "enrolled", _("enrolled")
    RANDOMISED = "randomised", _("randomised")
    WITHDRAWN = "withdrawn", _("withdrawn")
    COMPLETED = "completed", _("completed")


def _related_or_none(obj: models.Model, name: str):
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


class Identity(AuditedModel):
    """Identifying data, kept apart: only clinicians of the patient's site ever see it."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="identity")
    full_name = models.CharField(_("full name"), max_length=200)
    date_of_birth = models.DateField(_("date of birth"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    medical_record_number = models.CharField(_("medical record number"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")

    def __str__(self) -> str:
        return f"identity of {self.patient_id}"


class Consent(AuditedModel):
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="consent")
    consent_date = models.DateField(_("date of consent"))
    information_sheet_version = models.CharField(
        _("information sheet version"), max_length=40, help_text=_("e.g. 2.1 of 2026-03-01")
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("consent taken by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"consent of {self.patient_id}"


class Sex(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")


class AffectedSide(models.TextChoices):
    LEFT = "left", _("left")
    RIGHT = "right", _("right")
    BILATERAL = "bilateral", _("bilateral")


class MedicalHistory(AuditedModel):
    patient = models.OneToOneField(
        Patient, on_delete=models.PROTECT, related_name="medical_history"
    )
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices)
    disease_duration_months = models.PositiveSmallIntegerField(
        _("disease duration"),
        validators=[MinValueValidator(0), MaxValueValidator(1200)],
        help_text=_("months since the first spasm, 0–1200"),
    )
    affected_side = models.CharField(
        _("affected side"), max_length=10, choices=AffectedSide.choices
    )
    prior_botulinum_toxin = models.BooleanField(_("prior botulinum toxin"), default=False)
    prior_carbamazepine = models.BooleanField(_("prior carbamazepine"), default=False)
    other_treatment = models.CharField(_("other prior treatment"), max_length=200, blank=True)
    diabetes = models.BooleanField(_("diabetes"), default=False)
    hypertension = models.BooleanField(_("hypertension"), default=False)

    class Meta:
        verbose_name = _("demographics and history")
        verbose_name_plural = _("demographics and history")

    def __str__(self) -> str:
        return f"history of {self.patient_id}"


# --- allocation --------------------------------------------------------------------------------


class AllocationList(AuditedModel):
    class Source(models.TextChoices):
        GENERATED = "generated", _("generated")
        UPLOADED = "uploaded", _("uploaded")
        IMPORTED = "imported", _("imported with randomised patients")

    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    seed = models.BigIntegerField(_("seed"), null=True, blank=True)
    per_stratum = models.PositiveIntegerField(_("slots per stratum"), null=True, blank=True)
    block_sizes = models.CharField(_("block sizes"), max_length=40, blank=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("allocation list")
        verbose_name_plural = _("allocation lists")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="one_active_allocation_list",
            )
        ]

    def __str__(self) -> str:
        return f"allocation list {self.pk} ({self.source})"


class AllocationSlot(AuditedModel):
    allocation_list = models.ForeignKey(
        AllocationList, on_delete=models.PROTECT, related_name="slots"
    )
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT)
    b12_deficient = models.BooleanField(_("baseline B12 deficient stratum"))
    sequence = models.PositiveIntegerField(_("sequence in stratum"))
    block = models.PositiveIntegerField(_("block"))
    block_size = models.PositiveSmallIntegerField(_("block size"))
    arm = models.CharField(_("arm"), max_length=10, choices=Arm.choices)

    class Meta:
        ordering = ["site", "-b12_deficient", "sequence"]
        verbose_name = _("allocation slot")
        verbose_name_plural = _("allocation slots")
        constraints = [
            models.UniqueConstraint(
                # Its index also serves "first free slot of this stratum".
                fields=["allocation_list", "site", "b12_deficient", "sequence"],
                name="unique_slot_in_stratum",
            )
        ]

    def __str__(self) -> str:
        return f"{self.site_id}/{int(self.b12_deficient)}/{self.sequence}"


class Allocation(AuditedModel):
    """A patient's randomisation: written once, never changed or deleted."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="allocation")
    slot = models.OneToOneField(AllocationSlot, on_delete=models.PROTECT, related_name="allocation")
    arm = models.CharField(_("arm"), max_length=10, choices=Arm.choices, editable=False)
    randomised_at = models.DateTimeField(_("randomised at"), default=timezone.now, editable=False)
    randomised_on = models.DateField(_("randomisation date"), editable=False)
    randomised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("randomised by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_from = models.CharField(_("imported from"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")

    def __str__(self) -> str:
        return f"{self.patient_id}: {self.arm}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValidationError(IMMUTABLE_ALLOCATION)
        self.arm = self.slot.arm
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(IMMUTABLE_ALLOCATION)


class Withdrawal(AuditedModel):
    class Reason(models.TextChoices):
        LOST = "lost_to_follow_up", _("lost to follow-up")
        CONSENT = "withdrew_consent", _("withdrew consent")
        ADVERSE_EVENT = "adverse_event", _("adverse event")
        INVESTIGATOR = "investigator_decision", _("investigator decision")
        OTHER = "other", _("other")

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="withdrawal")
    withdrawn_on = models.DateField(_("date of withdrawal"))
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    reason_other = models.CharField(_("other reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")

    def __str__(self) -> str:
        return f"withdrawal of {self.patient_id}"

    def clean(self) -> None:
        if self.reason == self.Reason.OTHER and not self.reason_other.strip():
            raise ValidationError({"reason_other": _("Describe the other reason.")})
        errors = future_dates(self, "withdrawn_on")
        if errors:
            raise ValidationError(errors)
