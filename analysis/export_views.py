"""The data manager's export page and downloads (CSV streamed; SPSS and ZIP whole)."""

from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from analysis import export
from analysis.exports import stata_sas
from analysis.models import ExportLog
from assessments.models import CRF_MODELS
from assessments.schedule import VISIT_CODES
from hfs_ecrf.access import requires, sites_for

FORMAT_CHOICES = [
    ("csv-long", _("CSV, long (one row per patient and visit)")),
    ("csv-wide", _("CSV, wide (one row per patient)")),
    ("patients", _("CSV, patients")),
    ("adverse_events", _("CSV, adverse events")),
    ("treatment_exposure", _("CSV, treatment exposure")),
    ("concomitant_medication", _("CSV, concomitant medication")),
    ("dictionary", _("Data dictionary (CSV)")),
    ("spss", _("SPSS (.sav) with labels")),
    ("stata", _("Stata (.dta) with labels")),
    ("sas", _("SAS (XPORT .xpt and a PROC FORMAT program, ZIP)")),
    ("bundle", _("ZIP bundle: all of the above and a README")),
]
BINARY_FORMATS = {
    "stata": (stata_sas.stata_bytes, "application/x-stata-dta", "dta"),
    "sas": (stata_sas.sas_bytes, "application/zip", "sas.zip"),
}
CSV_TABLES = {
    "csv-long": "long",
    "csv-wide": "wide",
    "patients": "patients",
    "adverse_events": "adverse_events",
    "treatment_exposure": "treatment_exposure",
    "concomitant_medication": "concomitant_medication",
}


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("format"), choices=FORMAT_CHOICES, initial="bundle")
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

    def options(self) -> export.ExportOptions:
        data = self.cleaned_data
        return export.ExportOptions(
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
        return download(request.user, form.cleaned_data["format"], form.options())
    return render(
        request,
        "analysis/export.html",
        {"form": form, "log": ExportLog.objects.select_related("user")[:20]},
    )


def download(user, export_format: str, options: export.ExportOptions) -> HttpResponse:
    """The response for one format; every download is logged with its row count."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    if export_format in CSV_TABLES:
        return _stream(user, export_format, CSV_TABLES[export_format], options, stamp)
    if export_format == "dictionary":
        text = export.to_csv_text(export.dictionary())
        export.log_export(
            user=user, export_format=export_format, options=options, rows=text.count("\n") - 1
        )
        return _attachment(
            text.encode("utf-8"), "text/csv; charset=utf-8", f"hfs_b12_dictionary_{stamp}.csv"
        )
    if export_format == "spss":
        data, rows = export.spss_bytes(options)
        export.log_export(user=user, export_format=export_format, options=options, rows=rows)
        return _attachment(data, "application/x-spss-sav", f"hfs_b12_{stamp}.sav")
    if export_format in BINARY_FORMATS:
        maker, content_type, suffix = BINARY_FORMATS[export_format]
        data, rows = maker(options)
        export.log_export(user=user, export_format=export_format, options=options, rows=rows)
        return _attachment(data, content_type, f"hfs_b12_{stamp}.{suffix}")
    data, rows = export.bundle_bytes(options, data_cut=timezone.now().isoformat())
    export.log_export(
        user=user, export_format=export_format, options=options, rows=rows.get("long", 0)
    )
    return _attachment(data, "application/zip", f"hfs_b12_{stamp}.zip")


def _stream(user, export_format, table, options, stamp) -> StreamingHttpResponse:
    result = export.ExportResult()

    def chunks() -> Iterator[bytes]:
        yield "\ufeff".encode()  # a BOM, so spreadsheet programs read UTF-8
        for text in export.stream_csv(table, options, result):
            yield text.encode("utf-8")
        export.log_export(
            user=user, export_format=export_format, options=options, rows=result.rows.get(table, 0)
        )

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="hfs_b12_{table}_{stamp}.csv"'
    return response


def _attachment(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
