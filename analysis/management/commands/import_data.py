from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from analysis.exports.importer import ImportAborted, import_data


class Command(BaseCommand):
    help = (
        "Import an export bundle (ZIP or folder) or a long CSV: every row is validated like the "
        "web forms and saved through the same services; any hard error aborts everything."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate, save nothing")
        parser.add_argument(
            "--accept-warnings",
            action="store_true",
            help="save values that raise soft warnings (they are listed)",
        )
        parser.add_argument(
            "--user",
            required=True,
            help="username of the data manager doing the import (the author "
            "recorded in the audit trail)",
        )

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"--user {options['user']}: no active user of that name.")
        try:
            report = import_data(
                options["path"],
                user=user,
                dry_run=options["dry_run"],
                accept_warnings=options["accept_warnings"],
            )
        except FileNotFoundError as error:
            raise CommandError(str(error)) from None
        except ImportAborted as aborted:
            report = aborted.report
            for problem in report.errors:
                self.stderr.write(f"ERROR   {problem}")
            for problem in report.warnings:
                self.stderr.write(f"WARNING {problem}")
            hint = "" if report.errors else " Re-run with --accept-warnings to accept them."
            raise CommandError(
                f"Import aborted, nothing saved: {len(report.errors)} errors, "
                f"{len(report.warnings)} warnings.{hint}"
            ) from None
        for problem in report.warnings:
            self.stdout.write(f"WARNING (accepted) {problem}")
        verb = "would import" if options["dry_run"] else "imported"
        self.stdout.write(
            f"{verb}: {report.patients} patients, {report.visits} visits, "
            f"{report.forms} forms, {report.records} records."
        )
