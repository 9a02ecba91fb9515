from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.models import (
    AdverseEvent,
    CaseReportForm,
    ConcomitantMedication,
    Hads,
    Hdrs17,
    Rand36,
    TreatmentExposure,
    Visit,
)
from hfs_ecrf.forms import (
    DateInput,
    SoftWarningsMixin,
    StudyModelForm,
    SubmissionTokenMixin,
    TimeInput,
    VersionedFormMixin,
)

ACTIONS = [
    ("draft", _("Save as draft")),
    ("complete", _("Save as complete")),
    ("not_done", _("Form not done")),
]
QUESTIONNAIRES = (Rand36, Hads, Hdrs17)


REASON_FOR_CHANGE = _("reason for change")


class CrfFormBase(VersionedFormMixin, SoftWarningsMixin, StudyModelForm):
    """What every case report form adds to its model's fields."""

    action = forms.ChoiceField(choices=ACTIONS, initial="draft", widget=forms.HiddenInput)
    not_done_reason = forms.CharField(label=_("reason not done"), required=False, max_length=200)
    reason_for_change = forms.CharField(
        label=REASON_FOR_CHANGE,
        required=False,
        max_length=500,
        help_text=_("required once the form has been complete"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.DateInput):
                field.widget = DateInput()
            elif isinstance(field.widget, forms.TimeInput):
                field.widget = TimeInput()


def crf_form_class(model: type[CaseReportForm]) -> type[CrfFormBase]:
    """A form for one CRF model, built from the model's own fields (one source of truth)."""
    widgets = {}
    if model in QUESTIONNAIRES:
        widgets = {name: forms.RadioSelect for name in model.ITEMS}
    elif model.FORM_CODE == "spasm":
        widgets = {"jankovic_severity": forms.RadioSelect, "jankovic_frequency": forms.RadioSelect}
    meta = type(
        "Meta", (), {"model": model, "fields": list(model.ENTRY_FIELDS), "widgets": widgets}
    )
    return type(f"{model.__name__}Form", (CrfFormBase,), {"Meta": meta})


class VisitForm(VersionedFormMixin, SoftWarningsMixin, StudyModelForm):
    reason_for_change = forms.CharField(
        label=REASON_FOR_CHANGE,
        required=False,
        max_length=500,
        help_text=_("required once a form of the visit has been complete"),
    )

    class Meta:
        model = Visit
        fields = ["visit_date", "status", "missed_reason"]
        widgets = {"visit_date": DateInput(), "status": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            c for c in self.fields["status"].choices if c[0] != Visit.Status.EXPECTED
        ]

    def clean(self):
        data = super().clean()
        if data.get("status") == Visit.Status.DONE and not data.get("visit_date"):
            self.add_error("visit_date", _("Give the date of a visit that was done."))
        return data


class TreatmentExposureForm(SubmissionTokenMixin, StudyModelForm):
    class Meta:
        model = TreatmentExposure
        fields = list(TreatmentExposure.FIELDS)
        widgets = {"given_on": DateInput()}


class ConcomitantMedicationForm(SubmissionTokenMixin, StudyModelForm):
    class Meta:
        model = ConcomitantMedication
        fields = list(ConcomitantMedication.FIELDS)
        widgets = {"started_on": DateInput(), "stopped_on": DateInput()}


class AdverseEventForm(StudyModelForm):
    class Meta:
        model = AdverseEvent
        fields = list(AdverseEvent.FIELDS)
        widgets = {"onset_on": DateInput(), "ended_on": DateInput()}


PATIENT_RECORD_FORMS = {
    "exposure": TreatmentExposureForm,
    "conmed": ConcomitantMedicationForm,
    "ae": AdverseEventForm,
}
