from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.bands import UNIT_LABELS
from assessments.instruments import seriousness
from assessments.models import (
    AdverseEvent,
    CaseReportForm,
    ConcomitantMedication,
    Hads,
    Hdrs17,
    MissingCode,
    Rand36,
    TreatmentExposure,
    Visit,
)
from assessments.models.records import SERIOUSNESS_MESSAGES
from hfs_ecrf.forms import (
    DateInput,
    SoftWarningsMixin,
    StudyModelForm,
    SubmissionTokenMixin,
    TimeInput,
    VersionedFormMixin,
)

# "save" keeps the form's state (what Enter does); the others change it explicitly.
ACTIONS = [
    ("save", _("Save")),
    ("draft", _("Save as draft")),
    ("complete", _("Mark complete")),
    ("not_done", _("Form not done")),
]
QUESTIONNAIRES = (Rand36, Hads, Hdrs17)
CODE_SUFFIX = "_code"  # the missing-data code control of field x is "x_code"


def code_field_name(name: str) -> str:
    return f"{name}{CODE_SUFFIX}"


REASON_FOR_CHANGE = _("reason for change")


class CrfFormBase(VersionedFormMixin, SoftWarningsMixin, StudyModelForm):
    """What every case report form adds to its model's fields."""

    action = forms.ChoiceField(choices=ACTIONS, initial="save", widget=forms.HiddenInput)
    not_done_reason = forms.CharField(label=_("reason not done"), required=False, max_length=200)
    reason_for_change = forms.CharField(
        label=REASON_FOR_CHANGE,
        required=False,
        max_length=500,
        help_text=_("required once the form has been complete"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["not_done_reason"].initial = self.instance.not_done_reason
        codes = self.instance.missing_codes or {}
        for name in self._meta.model.codable_fields():
            self.fields[code_field_name(name)].initial = codes.get(name, "")

    @classmethod
    def prepare_fields(cls, fields):
        super().prepare_fields(fields)
        for name, field in fields.items():
            if name.endswith("_unit"):  # units in the user's language, codes stored
                field.choices = [(v, UNIT_LABELS.get(v, v)) for v, _label in field.choices]
            if isinstance(field.widget, forms.DateInput) and not isinstance(
                field.widget, DateInput
            ):
                field.widget = DateInput()
            elif isinstance(field.widget, forms.TimeInput) and not isinstance(
                field.widget, TimeInput
            ):
                field.widget = TimeInput()
        for name in cls._meta.model.codable_fields():
            fields.setdefault(
                code_field_name(name),
                forms.ChoiceField(
                    label=_("missing-data code"),
                    choices=[("", _("no code"))] + list(MissingCode.choices),
                    required=False,
                    widget=forms.Select(attrs={"class": "form-select form-select-sm missing-code"}),
                ),
            )

    def clean(self):
        data = super().clean()
        # The codes chosen go on the form; crf_save refuses a code next to a value.
        self.instance.missing_codes = {
            name: data[code_field_name(name)]
            for name in self._meta.model.codable_fields()
            if data.get(code_field_name(name))
        }
        return data

    def code_field(self, name: str):
        """The bound missing-data code control of field ``name`` (None if it has none)."""
        key = code_field_name(name)
        return self[key] if key in self.fields else None


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

    @classmethod
    def prepare_fields(cls, fields):
        super().prepare_fields(fields)
        fields["status"].choices = [
            c for c in fields["status"].choices if c[0] != Visit.Status.EXPECTED
        ]

    def clean(self):
        data = super().clean()
        if data.get("status") == Visit.Status.DONE and not data.get("visit_date"):
            self.add_error("visit_date", _("Give the date of a visit that was done."))
        return data


class TreatmentExposureForm(SubmissionTokenMixin, SoftWarningsMixin, StudyModelForm):
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
    """A new adverse event, or the follow-up of one (then versioned, with a reason)."""

    serious_answer = forms.TypedChoiceField(
        label=_("serious adverse event"),
        choices=[("yes", _("yes")), ("no", _("no"))],
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("if yes, tick every seriousness criterion that applies"),
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    submission_token = forms.UUIDField(widget=forms.HiddenInput, required=False)
    reason_for_change = forms.CharField(
        label=_("reason for change"),
        required=False,
        max_length=500,
        help_text=_("required for every change once the event has been saved"),
    )

    class Meta:
        model = AdverseEvent
        # "serious" is derived from the criteria, never entered.
        fields = [name for name in AdverseEvent.FIELDS if name != "serious"]
        widgets = {"onset_on": DateInput(), "ended_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The yes/no answer sits just before the criteria it is checked against.
        order = list(self.fields)
        order.remove("serious_answer")
        order.insert(order.index(AdverseEvent.CRITERIA[0]), "serious_answer")
        self.order_fields(order)
        if self.instance.pk:
            self.fields["serious_answer"].initial = "yes" if self.instance.serious else "no"
            self.fields["base_version"].initial = self.instance.version
            del self.fields["submission_token"]
        else:
            del self.fields["reason_for_change"]
            self.fields["submission_token"].initial = uuid.uuid4()

    def clean(self):
        data = super().clean()
        criteria = {name: data.get(name, False) for name in AdverseEvent.CRITERIA}
        problem = seriousness.declared_problem(data.get("serious_answer"), criteria)
        if problem:
            self.add_error("serious_answer", SERIOUSNESS_MESSAGES[problem])
        if self.instance.pk is None:
            self.instance.submission_token = data.get("submission_token")
        return data


PATIENT_RECORD_FORMS = {
    "exposure": TreatmentExposureForm,
    "conmed": ConcomitantMedicationForm,
    "ae": AdverseEventForm,
}
