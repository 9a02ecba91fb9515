from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analysis import export
from analysis.export_views import BINARY_FORMATS, CSV_TABLES


class Command(BaseCommand):
    help = "Export the study data (de-identified) as CSV, dictionary, SPSS or a ZIP bundle."

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            required=True,
            choices=[*CSV_TABLES, "dictionary", "spss", *BINARY_FORMATS, "bundle"],
        )
        parser.add_argument("--out", required=True, help="file to write, or - for stdout")
        parser.add_argument("--sites", help="comma-separated site codes")
        parser.add_argument(
            "--calendar-dates",
            action="store_true",
            help="calendar dates instead of days since randomisation",
        )

    def handle(self, *args, **options):
        export_options = export.ExportOptions(
            sites=options["sites"].split(",") if options["sites"] else None,
            relative_dates=not options["calendar_dates"],
        )
        fmt, out = options["format"], options["out"]
        if fmt in {"spss", "bundle", *BINARY_FORMATS} and out == "-":
            raise CommandError(f"--format {fmt} is binary; give a file with --out.")
        if fmt in CSV_TABLES:
            result = export.ExportResult()
            chunks = export.stream_csv(CSV_TABLES[fmt], export_options, result)
            if out == "-":
                sys.stdout.writelines(chunks)
            else:
                with Path(out).open("w", encoding="utf-8", newline="") as target:
                    target.writelines(chunks)
            rows = result.rows[CSV_TABLES[fmt]]
        elif fmt == "dictionary":
            text = export.to_csv_text(export.dictionary())
            (sys.stdout.write(text) if out == "-" else Path(out).write_text(text, encoding="utf-8"))
            rows = text.count("\n") - 1
        elif fmt == "spss":
            data, rows = export.spss_bytes(export_options)
            Path(out).write_bytes(data)
        elif fmt in BINARY_FORMATS:
            data, rows = BINARY_FORMATS[fmt][0](export_options)
            Path(out).write_bytes(data)
        else:
            data, counts = export.bundle_bytes(export_options, data_cut=timezone.now().isoformat())
            Path(out).write_bytes(data)
            rows = counts.get("long", 0)
        export.log_export(user=None, export_format=fmt, options=export_options, rows=rows)
        self.stderr.write(f"{fmt}: {rows} rows written to {out}")
