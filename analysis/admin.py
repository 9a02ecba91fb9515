from __future__ import annotations

from django.contrib import admin

from analysis.models import ExportLog
from hfs_ecrf.admin import ReadOnlyAdmin


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "export_format", "rows", "filters"]
    list_filter = ["export_format"]
