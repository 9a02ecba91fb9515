from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from analysis.exports.files import export_file
from analysis.exports.options import ExportOptions
from analysis.exports.views import file_response
from analysis.models import ExportLog, FinalResults
from hfs_ecrf.admin import ReadOnlyAdmin
from patients.admin import PatientAdmin
from patients.models import Patient


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "export_format", "rows", "filters"]
    list_filter = ["export_format"]


@admin.register(FinalResults)
class FinalResultsAdmin(ReadOnlyAdmin):
    """The final results of each database lock (shown on the dashboards while it holds)."""

    list_display = ["lock", "data_version", "dataset_sha256", "result"]
    list_select_related = ["lock", "result"]


# The patients' admin knows nothing of exports (analysis sits above patients); the export
# action is added here, to the same admin page.
admin.site.unregister(Patient)


@admin.register(Patient)
class PatientExportAdmin(PatientAdmin):
    actions = [*PatientAdmin.actions, "export_selected"]

    @admin.action(description=_("Export the selected patients (ZIP bundle)"))
    def export_selected(self, request, queryset):
        options = ExportOptions(study_ids=list(queryset.values_list("study_id", flat=True)))
        return file_response(export_file("bundle", options, request.user))
