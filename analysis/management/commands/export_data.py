from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analysis.exports.files import FORMATS, export_file
from analysis.exports.options import ExportOptions


class Command(BaseCommand):
    help = "Export the study data (de-identified) as CSV, dictionary, SPSS or a ZIP bundle."

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=list(FORMATS))
        parser.add_argument("--out", required=True, help="file to write, or - for stdout")
        parser.add_argument("--sites", help="comma-separated site codes")
        parser.add_argument(
            "--calendar-dates",
            action="store_true",
            help="calendar dates instead of days since randomisation",
        )

    def handle(self, *args, **options):
        export_options = ExportOptions(
            sites=options["sites"].split(",") if options["sites"] else None,
            relative_dates=not options["calendar_dates"],
        )
        fmt, out = options["format"], options["out"]
        if FORMATS[fmt].binary and out == "-":
            raise CommandError(f"--format {fmt} is binary; give a file with --out.")
        file = export_file(fmt, export_options, user=None)
        if out == "-":
            sys.stdout.buffer.writelines(file.chunks)
            sys.stdout.flush()
        else:
            with Path(out).open("wb") as target:
                target.writelines(file.chunks)
        self.stderr.write(f"{fmt}: {file.log.rows} rows written to {out}")
