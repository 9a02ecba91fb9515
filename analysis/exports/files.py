"""The one way to export: ``export_file(format, options, user)`` gives the file and writes the
export log. The web page, the admin action and the ``export_data`` command all call it.

A CSV table is produced lazily, chunk by chunk of patients, and logged (with its row count)
once it has been read to the end; the SPSS file is written chunk by chunk to a temporary file,
logged, and read back in blocks; the other formats are built whole and logged at once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analysis.exports import odm, stata_sas
from analysis.exports.bundle import bundle_bytes
from analysis.exports.csv_tables import stream_csv
from analysis.exports.dictionary import dictionary_csv
from analysis.exports.log import export_log_create
from analysis.exports.options import ExportOptions, ExportResult
from analysis.exports.spss import spss_write
from analysis.models import ExportLog

CSV_TYPE = "text/csv; charset=utf-8"
BLOCK = 1 << 20  # bytes per chunk of a file written to disk first
BOM = "\ufeff".encode()  # so spreadsheet programs read the CSV tables as UTF-8


@dataclass
class ExportFile:
    filename: str
    content_type: str
    chunks: Iterable[bytes]
    streamed: bool  # True: produced (and logged) while ``chunks`` is read
    log: ExportLog | None = None  # the export log entry, once written
    on_disk: bool = False  # True: written whole to a temporary file, read back in blocks


@dataclass(frozen=True)
class ExportFormat:
    label: Any  # lazily translated
    make: Callable[[str, ExportOptions, Any, str], ExportFile]  # (format, options, user, stamp)
    binary: bool = False


def export_file(export_format: str, options: ExportOptions, user: Any) -> ExportFile:
    """The file of one format for the chosen patients; ``user`` is None for the command line."""
    if export_format not in FORMATS:
        raise ValueError(
            f"format {export_format!r} is not an export format; allowed: {', '.join(FORMATS)}"
        )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return FORMATS[export_format].make(export_format, options, user, stamp)


def _csv_table(table: str) -> Callable[[str, ExportOptions, Any, str], ExportFile]:
    def make(export_format: str, options: ExportOptions, user: Any, stamp: str) -> ExportFile:
        result = ExportResult()
        file = ExportFile(f"hfs_b12_{table}_{stamp}.csv", CSV_TYPE, [], streamed=True)

        def chunks() -> Iterator[bytes]:
            yield BOM
            for text in stream_csv(table, options, result):
                yield text.encode("utf-8")
            file.log = export_log_create(
                user=user, export_format=export_format, options=options, rows=result.rows[table]
            )

        file.chunks = chunks()
        return file

    return make


def _whole(
    build: Callable[[ExportOptions, str], tuple[bytes, int, str, str]],
) -> Callable[[str, ExportOptions, Any, str], ExportFile]:
    """A format built whole by ``build(options, stamp)`` → (data, rows, filename, type)."""

    def make(export_format: str, options: ExportOptions, user: Any, stamp: str) -> ExportFile:
        data, rows, filename, content_type = build(options, stamp)
        log = export_log_create(user=user, export_format=export_format, options=options, rows=rows)
        return ExportFile(filename, content_type, [data], streamed=False, log=log)

    return make


def _dictionary(options: ExportOptions, stamp: str) -> tuple[bytes, int, str, str]:
    text, rows = dictionary_csv()
    return text.encode("utf-8"), rows, f"hfs_b12_dictionary_{stamp}.csv", CSV_TYPE


def _spss(export_format: str, options: ExportOptions, user: Any, stamp: str) -> ExportFile:
    """Written to a temporary file (memory flat in the number of patients), logged, then read
    back in blocks; the file goes when the last block has been read."""
    sink = tempfile.TemporaryFile()  # noqa: SIM115 - closed by blocks() once read
    try:
        rows = spss_write(options, sink)
    except BaseException:
        sink.close()
        raise
    log = export_log_create(user=user, export_format=export_format, options=options, rows=rows)

    def blocks() -> Iterator[bytes]:
        with sink:
            sink.seek(0)
            while block := sink.read(BLOCK):
                yield block

    return ExportFile(
        f"hfs_b12_{stamp}.sav", "application/x-spss-sav", blocks(), False, log, on_disk=True
    )


def _stata(options: ExportOptions, stamp: str) -> tuple[bytes, int, str, str]:
    data, rows = stata_sas.stata_bytes(options)
    return data, rows, f"hfs_b12_{stamp}.dta", "application/x-stata-dta"


def _sas(options: ExportOptions, stamp: str) -> tuple[bytes, int, str, str]:
    data, rows = stata_sas.sas_bytes(options)
    return data, rows, f"hfs_b12_{stamp}.sas.zip", "application/zip"


def _odm(options: ExportOptions, stamp: str) -> tuple[bytes, int, str, str]:
    data, rows = odm.odm_bytes(options)
    return data, rows, f"hfs_b12_{stamp}.odm.xml", "application/xml"


def _bundle(options: ExportOptions, stamp: str) -> tuple[bytes, int, str, str]:
    data, rows = bundle_bytes(options, data_cut=timezone.now().isoformat())
    return data, rows.get("long", 0), f"hfs_b12_{stamp}.zip", "application/zip"


FORMATS: dict[str, ExportFormat] = {
    "csv-long": ExportFormat(_("CSV, long (one row per patient and visit)"), _csv_table("long")),
    "csv-wide": ExportFormat(_("CSV, wide (one row per patient)"), _csv_table("wide")),
    "patients": ExportFormat(_("CSV, patients"), _csv_table("patients")),
    "adverse_events": ExportFormat(_("CSV, adverse events"), _csv_table("adverse_events")),
    "treatment_exposure": ExportFormat(
        _("CSV, treatment exposure"), _csv_table("treatment_exposure")
    ),
    "concomitant_medication": ExportFormat(
        _("CSV, concomitant medication"), _csv_table("concomitant_medication")
    ),
    "dictionary": ExportFormat(_("Data dictionary (CSV)"), _whole(_dictionary)),
    "spss": ExportFormat(_("SPSS (.sav) with labels"), _spss, binary=True),
    "stata": ExportFormat(_("Stata (.dta) with labels"), _whole(_stata), binary=True),
    "sas": ExportFormat(
        _("SAS (XPORT .xpt and a PROC FORMAT program, ZIP)"), _whole(_sas), binary=True
    ),
    "odm": ExportFormat(
        _("CDISC ODM 1.3.2 (XML) with the audit trail and signatures"), _whole(_odm)
    ),
    "bundle": ExportFormat(
        _("ZIP bundle: all of the above and a README"), _whole(_bundle), binary=True
    ),
}
