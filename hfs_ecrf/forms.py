"""Form helpers every case report form shares."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CONFIRM_LABEL = _("Checked against the source document: the values are correct.")
NEEDS_CONFIRMATION = _(
    "Please check the values marked in amber. They are possible, so nothing is wrong yet: "
    "confirm them to save."
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"


class SoftWarningsMixin(forms.Form):
    """Adds 'value confirmed': a form with soft warnings saves only once the user ticks it."""

    confirm_warnings = forms.BooleanField(label=CONFIRM_LABEL, required=False)

    def apply_soft_warnings(self, warnings: dict[str, str]) -> bool:
        """True when the form may be saved; otherwise the warnings are shown on their fields."""
        self.soft_warnings = warnings
        if not warnings or self.cleaned_data.get("confirm_warnings"):
            return True
        for field, message in warnings.items():
            self.add_error(field if field in self.fields else None, message)
        self.add_error("confirm_warnings", NEEDS_CONFIRMATION)
        return False

    @property
    def soft_warning_messages(self) -> set[str]:
        """The messages that are warnings, not errors (templates show them amber, not red)."""
        messages = {str(message) for message in getattr(self, "soft_warnings", {}).values()}
        return messages | {str(NEEDS_CONFIRMATION)} if messages else messages

    @property
    def hard_error_count(self) -> int:
        """Errors that are not soft warnings (the amber ones do not count)."""
        warnings = self.soft_warning_messages
        return sum(
            1
            for name, errors in self.errors.items()
            if name != "confirm_warnings"
            for message in errors
            if message not in warnings
        )

    @staticmethod
    def confirmation_text(warnings: dict[str, str]) -> str:
        return "; ".join(f"{field}: {message}" for field, message in warnings.items())


class StudyModelForm(forms.ModelForm):
    """ModelForm defaults for the eCRF: radio buttons offer no empty '---------' choice."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect) and hasattr(field, "choices"):
                field.choices = [(v, label) for v, label in field.choices if v != ""]


def attach_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, on the field it names where it has one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
