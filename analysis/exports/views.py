"""The data manager's export page and downloads (CSV and SPSS streamed; the others whole)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from analysis.dataset import draft_counts
from analysis.exports.files import FORMATS, ExportFile, export_file
from analysis.exports.options import ExportOptions, describe_filters, patient_queryset
from analysis.models import ExportLog
from assessments.models import CRF_MODELS
from assessments.schedule import VISIT_CODES
from hfs_ecrf.access import requires
from patients.selectors import sites_for


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=_("format"),
        choices=[(code, export_format.label) for code, export_format in FORMATS.items()],
        initial="bundle",
    )
    sites = forms.MultipleChoiceField(
        label=_("sites"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("none ticked: every site"),
    )
    visits = forms.MultipleChoiceField(
        label=_("visits"),
        required=False,
        choices=[(c, c) for c in VISIT_CODES],
        widget=forms.CheckboxSelectMultiple,
    )
    forms_ = forms.MultipleChoiceField(
        label=_("forms"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(code, model.TITLE) for code, model in CRF_MODELS.items()],
    )
    calendar_dates = forms.BooleanField(
        label=_("calendar dates instead of days since randomisation"), required=False
    )

    def __init__(self, *args, site_codes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sites"].choices = [(c, c) for c in site_codes]

    def options(self) -> ExportOptions:
        data = self.cleaned_data
        return ExportOptions(
            sites=data["sites"] or None,
            visits=data["visits"] or None,
            forms=data["forms_"] or None,
            relative_dates=not data["calendar_dates"],
        )


@require_GET
@requires("export_data")
def export_page(request: HttpRequest) -> HttpResponse:
    site_codes = list(sites_for(request.user).values_list("code", flat=True))
    form = ExportForm(request.GET or None, site_codes=site_codes)
    if request.GET and form.is_valid():
        return file_response(export_file(form.cleaned_data["format"], form.options(), request.user))
    drafts = draft_counts(patient_queryset(ExportOptions(sites=site_codes)))
    return render(
        request,
        "analysis/export.html",
        {
            "form": form,
            "log": [
                (entry, describe_filters(entry.filters))
                for entry in ExportLog.objects.select_related("user")[:20]
            ],
            "drafts": {code: n for code, n in drafts.items() if n},
            "drafts_total": sum(drafts.values()),
        },
    )


def file_response(file: ExportFile) -> HttpResponse:
    """An export file as a download: streamed when it is produced while read or read back
    from a temporary file."""
    if file.streamed or file.on_disk:
        response = StreamingHttpResponse(file.chunks, content_type=file.content_type)
    else:
        response = HttpResponse(b"".join(file.chunks), content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response
