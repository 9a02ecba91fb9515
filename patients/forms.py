from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.forms import DateInput, StudyModelForm, SubmissionTokenMixin
from patients.models import Consent, Identity, MedicalHistory, Screening, Withdrawal


class ScreeningForm(SubmissionTokenMixin, StudyModelForm):
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


class WithdrawalForm(StudyModelForm):
    class Meta:
        model = Withdrawal
        fields = ["withdrawn_on", "reason", "reason_other"]
        widgets = {"withdrawn_on": DateInput()}
