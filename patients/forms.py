from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.models import LabPanel
from hfs_ecrf.forms import DateInput, SoftWarningsMixin, StudyModelForm
from patients import allocation as allocation_rules
from patients.models import Consent, Identity, MedicalHistory, Screening, Withdrawal


class ScreeningForm(StudyModelForm):
    class Meta:
        model = Screening
        fields = [
            "site",
            "screening_number",
            "screened_on",
            "inc_adult",
            "inc_hfs_confirmed",
            "inc_consent_able",
            "exc_recent_b12",
            "exc_prior_mvd",
            "exc_pregnancy",
            "exc_renal_hepatic",
            "exc_movement_disorder",
            "declined",
        ]
        widgets = {"screened_on": DateInput()}

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        if sites is not None and sites.count() == 1:
            self.fields["site"].initial = sites.first()

    def validate_unique(self) -> None:
        # Name the field when the screening number is taken at this site.
        try:
            self.instance.validate_constraints()
        except forms.ValidationError:
            self.add_error(
                "screening_number",
                _("Screening number %(number)s is already used at this site.")
                % {"number": self.cleaned_data.get("screening_number")},
            )


class IdentityForm(StudyModelForm):
    class Meta:
        model = Identity
        fields = ["full_name", "date_of_birth", "phone", "medical_record_number"]
        widgets = {"date_of_birth": DateInput()}


class ConsentForm(StudyModelForm):
    class Meta:
        model = Consent
        fields = ["consent_date", "information_sheet_version"]
        widgets = {"consent_date": DateInput()}


class MedicalHistoryForm(StudyModelForm):
    class Meta:
        model = MedicalHistory
        fields = [
            "sex",
            "disease_duration_months",
            "affected_side",
            "prior_botulinum_toxin",
            "prior_carbamazepine",
            "other_treatment",
            "diabetes",
            "hypertension",
        ]
        widgets = {"sex": forms.RadioSelect, "affected_side": forms.RadioSelect}


class BaselineB12Form(SoftWarningsMixin, StudyModelForm):
    class Meta:
        model = LabPanel
        fields = ["sample_date", "b12_value", "b12_unit", "b12_qualifier"]
        widgets = {"sample_date": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["b12_value"].required = True
        self.fields["sample_date"].required = True


class WithdrawalForm(StudyModelForm):
    class Meta:
        model = Withdrawal
        fields = ["withdrawn_on", "reason", "reason_other"]
        widgets = {"withdrawn_on": DateInput()}


class AllocationGenerateForm(forms.Form):
    seed = forms.IntegerField(
        label=_("seed"),
        min_value=0,
        help_text=_("Keep it secret; the list is reproducible from it."),
    )
    per_stratum = forms.IntegerField(
        label=_("slots per stratum"), min_value=1, max_value=10000, initial=40
    )
    block_sizes = forms.CharField(
        label=_("block sizes"),
        initial="2,4,6",
        help_text=_("even numbers separated by commas, e.g. 2,4,6"),
    )

    def clean_block_sizes(self) -> list[int]:
        raw = self.cleaned_data["block_sizes"]
        try:
            sizes = [int(part) for part in raw.split(",") if part.strip()]
            return allocation_rules.check_block_sizes(sizes)
        except ValueError:
            raise forms.ValidationError(
                _("Give even whole numbers separated by commas, e.g. 2,4,6 (got %(raw)s).")
                % {"raw": raw}
            ) from None


class AllocationUploadForm(forms.Form):
    file = forms.FileField(
        label=_("allocation list (CSV)"),
        help_text=_("columns: site, b12_deficient, sequence, block, block_size, arm"),
    )
