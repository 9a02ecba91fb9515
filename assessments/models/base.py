"""What every case report form shares: status, version, confirmation of soft warnings and the
missing-data codes of its fields."""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments.models.visit import Visit
from hfs_ecrf.audit import AuditedModel


class FormStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    COMPLETE = "complete", _("complete")
    NOT_DONE = "not_done", _("not done")


class MissingCode(models.TextChoices):
    """Why a field has no value (as REDCap's missing data codes). A coded field stays empty."""

    NOT_DONE = "ND", _("not done")
    UNKNOWN = "UNK", _("unknown / not available")
    NOT_APPLICABLE = "NA", _("not applicable")
    REFUSED = "REF", _("refused")


CODE_NEEDS_EMPTY_VALUE = _(
    "This field has the missing-data code “%(code)s”: leave its value empty, or remove the code."
)
CODE_NOT_ALLOWED = _("“%(code)s” is not a missing-data code; allowed: %(allowed)s.")
CODE_FIELD_UNKNOWN = _(
    "“%(field)s” is not a field of this form that can carry a missing-data code."
)


def validate_missing_codes(value: object) -> None:
    """The shape of ``missing_codes``: field name → one of ``MissingCode``."""
    if not isinstance(value, dict):
        raise ValidationError(_("Missing-data codes must map field names to codes."))
    for code in value.values():
        if code not in MissingCode.values:
            raise ValidationError(
                CODE_NOT_ALLOWED,
                params={"code": code, "allowed": ", ".join(MissingCode.values)},
            )


class CaseReportForm(AuditedModel):
    """One form of one visit. Carries its status, a version for lost-update protection and the
    confirmation of soft warnings."""

    visit = models.OneToOneField(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("form status"), max_length=10, choices=FormStatus.choices, default=FormStatus.DRAFT
    )
    not_done_reason = models.CharField(_("reason not done"), max_length=200, blank=True)
    ever_complete = models.BooleanField(_("once complete"), default=False, editable=False)
    missing_codes = models.JSONField(
        _("missing-data codes"),
        default=dict,
        blank=True,
        validators=[validate_missing_codes],
        help_text=_("field name → code (ND, UNK, NA, REF) for fields left empty on purpose"),
    )
    warnings_confirmed = models.TextField(_("confirmed warnings"), blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )

    FORM_CODE = ""
    TITLE = ""
    # Fields a clinician fills in (order of the form) and those needed for "complete".
    ENTRY_FIELDS: tuple[str, ...] = ()
    REQUIRED_FIELDS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    AUDIT_LABEL_RELATED = ("visit__patient",)

    def audit_label(self) -> str:
        return f"{self.visit.audit_label()} {self.TITLE}"

    @classmethod
    def codable_fields(cls) -> tuple[str, ...]:
        """Entry fields that can be left empty with a missing-data code (not ticks, not
        fields that always hold a value, such as a unit with its default)."""
        return _codable_fields(cls)

    def required_fields(self) -> list[str]:
        """The fields that must be answered (or coded) for "complete"."""
        return list(self.REQUIRED_FIELDS)

    def missing_required(self) -> list[str]:
        """Required fields neither answered nor carrying a missing-data code."""
        codes = self.missing_codes or {}
        return [
            name
            for name in self.required_fields()
            if getattr(self, name) in (None, "") and name not in codes
        ]

    def missing_code_problems(self) -> dict[str, list]:
        """Codes on fields that cannot carry one, or on fields that also hold a value."""
        problems: dict[str, list] = {}
        codable = self.codable_fields()
        for name, code in (self.missing_codes or {}).items():
            if name not in codable:
                problems.setdefault("missing_codes", []).append(
                    ValidationError(CODE_FIELD_UNKNOWN, params={"field": name})
                )
            elif getattr(self, name) not in (None, ""):
                problems.setdefault(name, []).append(
                    ValidationError(CODE_NEEDS_EMPTY_VALUE, params={"code": code})
                )
        return problems

    def compute(self) -> None:
        """Derive the stored scores from the items (overridden per instrument)."""

    def soft_warnings(self, previous: CaseReportForm | None = None) -> dict[str, str]:
        return {}

    def save(self, *args, **kwargs) -> None:
        self.compute()
        super().save(*args, **kwargs)


@functools.cache
def _codable_fields(model: type[CaseReportForm]) -> tuple[str, ...]:
    return tuple(
        name
        for name in model.ENTRY_FIELDS
        if model._meta.get_field(name).blank
        and not isinstance(model._meta.get_field(name), models.BooleanField)
    )
