"""The ZIP bundle: every CSV table, the data dictionary, the SPSS file and a README."""

from __future__ import annotations

import io
import zipfile

from analysis.dataset import draft_counts
from analysis.exports.csv_tables import stream_csv
from analysis.exports.dictionary import dictionary_csv
from analysis.exports.options import ExportOptions, ExportResult, patient_queryset
from analysis.exports.spss import spss_bytes
from analysis.results import software_versions

ANCHOR_NOTE = "dates are days since randomisation (day 0); before randomisation, since consent"
BUNDLE_FILES = {
    "long": "hfs_b12_long.csv",
    "wide": "hfs_b12_wide.csv",
    "patients": "patients.csv",
    "adverse_events": "adverse_events.csv",
    "treatment_exposure": "treatment_exposure.csv",
    "concomitant_medication": "concomitant_medication.csv",
}


def bundle_bytes(options: ExportOptions, *, data_cut: str) -> tuple[bytes, dict[str, int]]:
    """The ZIP's bytes and the rows written per table."""
    result = ExportResult()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, filename in BUNDLE_FILES.items():
            archive.writestr(filename, "".join(stream_csv(name, options, result)))
        archive.writestr("data_dictionary.csv", dictionary_csv()[0])
        sav, _rows = spss_bytes(options)
        archive.writestr("hfs_b12_long.sav", sav)
        archive.writestr("README.txt", readme(options, data_cut=data_cut, rows=result.rows))
    return buffer.getvalue(), result.rows


def drafts_line(drafts: dict[str, int]) -> str:
    """How many draft forms the analysis files leave out (SAP §4: complete forms only)."""
    by_form = ", ".join(f"{form} {n}" for form, n in drafts.items() if n)
    total = sum(drafts.values())
    return f"analysis files hold complete forms only: {total} drafts excluded" + (
        f" ({by_form})" if by_form else ""
    )


def readme(options: ExportOptions, *, data_cut: str, rows: dict[str, int]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in software_versions().items())
    lines = [
        "HFS-B12 eCRF export",
        f"data cut: {data_cut}",
        f"filters: {options.as_dict()}",
        f"software: {versions}",
        "de-identified: no names, phone numbers, record numbers or birth dates; "
        + (ANCHOR_NOTE if options.relative_dates else "calendar dates"),
        drafts_line(draft_counts(patient_queryset(options))),
        "status columns: visit_out_of_window; per form <form>_status, <form>_verified "
        "(yes/no/changed), <form>_locked; missing-data codes in <variable>_code columns "
        "(see data_dictionary.csv)",
        "files:",
        *[f"  {BUNDLE_FILES.get(k, k)}: {n} rows" for k, n in rows.items()],
        "  data_dictionary.csv: variables, labels (en, ru), units, allowed values",
        "  hfs_b12_long.sav: SPSS, the long table with variable and value labels",
    ]
    return "\n".join(lines) + "\n"
