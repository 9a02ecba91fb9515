from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.models import CRF_MODELS
from hfs_ecrf.forms import DateInput
from monitoring.models import Signature


class QueryRaiseForm(forms.Form):
    field_name = forms.ChoiceField(label=_("field"), required=False)
    text = forms.CharField(label=_("question"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, field_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field_name"].choices = [("", _("whole record")), *field_choices]


class QueryMessageForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("answer", "answer"), ("close", "close"), ("reopen", "reopen")],
        widget=forms.HiddenInput,
    )
    text = forms.CharField(
        label=_("message"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=300)


class StudyLockForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=300)
    override = forms.BooleanField(
        label=_("lock even though not every randomised patient is locked"), required=False
    )


class SignForm(forms.Form):
    meaning = forms.ChoiceField(
        label=_("meaning of the signature"), choices=Signature.Meaning.choices
    )
    password = forms.CharField(
        label=_("your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AuditFilterForm(forms.Form):
    """Filters of a patient's audit trail: one form, a date range (both ends included)."""

    form = forms.ChoiceField(label=_("form"), required=False)
    since = forms.DateField(label=_("from"), required=False, widget=DateInput())
    until = forms.DateField(label=_("to"), required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form"].choices = [("", _("all forms and records"))] + [
            (code, model.TITLE) for code, model in CRF_MODELS.items()
        ]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the range must not be before its start."))
        return data
