"""Form helpers every case report form shares."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.validation import NEEDS_CONFIRMATION, UnconfirmedWarnings
from hfs_ecrf.versioning import ConflictError

CONFIRM_LABEL = _("Checked against the source document: the values are correct.")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"


class SoftWarningsMixin(forms.Form):
    """Adds 'value confirmed'. The service decides (hfs_ecrf.validation.refuse_unconfirmed); the
    view passes ``confirmed`` and shows a refusal with ``attach_errors``."""

    confirm_warnings = forms.BooleanField(label=CONFIRM_LABEL, required=False)

    @property
    def confirmed(self) -> bool:
        return bool(self.cleaned_data.get("confirm_warnings"))

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


class VersionedFormMixin(forms.Form):
    """Sends back the version the record was opened at (hfs_ecrf/versioning.py); a new record
    starts from 0. The view passes ``cleaned_data["base_version"]`` to the service (it decides)."""

    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    conflict = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        self.fields["base_version"].initial = instance.version if instance and instance.pk else 0


class SubmissionTokenMixin(forms.Form):
    """A one-time token per form page for a new record (hfs_ecrf/submissions.py): the same page
    submitted twice saves once."""

    submission_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["submission_token"].initial = uuid.uuid4()


class StudyModelForm(forms.ModelForm):
    """ModelForm defaults for the eCRF: radio buttons offer no empty '---------' choice.

    What does not depend on the instance is done once per form class, on its ``base_fields``
    (``prepare_fields``), not again for every form built from it."""

    def __init__(self, *args, **kwargs):
        cls = type(self)
        if not cls.__dict__.get("_fields_prepared", False):
            cls.prepare_fields(cls.base_fields)
            cls._fields_prepared = True
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # choices read from the database: per form
            if isinstance(field.widget, forms.RadioSelect) and _from_database(field):
                field.choices = [(v, label) for v, label in field.choices if v != ""]

    @classmethod
    def prepare_fields(cls, fields: dict[str, forms.Field]) -> None:
        """Adjust the class's fields once (subclasses extend it; it must be idempotent)."""
        for field in fields.values():
            if (
                isinstance(field.widget, forms.RadioSelect)
                and hasattr(field, "choices")
                and not _from_database(field)
            ):
                field.choices = [(v, label) for v, label in field.choices if v != ""]


def _from_database(field: forms.Field) -> bool:
    return isinstance(field, forms.ModelChoiceField)


class _SharedFields(dict):
    """Base fields that a form copies by reference, not by deep copy (``validation_form``)."""

    def __deepcopy__(self, memo: dict) -> dict:
        return dict(self)


def validation_form(form_class: type[StudyModelForm]) -> type[StudyModelForm]:
    """The same form, for validating data only (an import): its forms share their field objects
    instead of deep-copying them each time. Never render it: per-form state such as initial
    values would be shared too. Same fields, same cleaning, same model validation."""
    cls = type(form_class.__name__, (form_class,), {"__module__": form_class.__module__})
    cls.prepare_fields(cls.base_fields)
    cls._fields_prepared = True
    cls.base_fields = _SharedFields(cls.base_fields)
    return cls


def attach_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, on the field it names where it has one;
    unconfirmed soft warnings also ask for the 'value confirmed' tick; a conflict keeps the other
    person's changes on ``form.conflict`` (templates/includes/conflict.html)."""
    if isinstance(error, ConflictError):
        form.conflict = error.changes
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
    if isinstance(error, UnconfirmedWarnings) and "confirm_warnings" in form.fields:
        form.soft_warnings = error.warnings  # shown amber, not red
        form.add_error("confirm_warnings", NEEDS_CONFIRMATION)
