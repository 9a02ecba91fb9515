from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.models import LabPanel
from hfs_ecrf.forms import DateInput, SoftWarningsMixin, StudyModelForm, VersionedFormMixin
from randomisation import allocation


class BaselineB12Form(VersionedFormMixin, SoftWarningsMixin, StudyModelForm):
    class Meta:
        model = LabPanel
        fields = ["sample_date", "b12_value", "b12_unit", "b12_qualifier"]
        widgets = {"sample_date": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["b12_value"].required = True
        self.fields["sample_date"].required = True


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
            return allocation.check_block_sizes(sizes)
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
