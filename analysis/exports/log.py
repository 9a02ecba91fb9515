"""The export log's one write: who exported what, with which filters, how many rows."""

from __future__ import annotations

from typing import Any

from analysis.exports.options import ExportOptions
from analysis.models import ExportLog


def export_log_create(
    *, user: Any, export_format: str, options: ExportOptions, rows: int
) -> ExportLog:
    return ExportLog.objects.create(
        user=user, export_format=export_format, filters=options.as_dict(), rows=rows
    )
