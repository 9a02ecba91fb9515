from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from analysis.dataset import build_dataset
from analysis.results import compute_results
from analysis.services import results_refresh


class Command(BaseCommand):
    help = (
        "Compute the statistical analysis plan on the stored data; write the results JSON. "
        "With --store, compute and store the results of the current data version (as the "
        "background task does) instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", default="-", help="file to write, or - for stdout")
        parser.add_argument(
            "--store",
            action="store_true",
            help="store the results of the current data version for the dashboards",
        )

    def handle(self, *args, **options):
        if options["store"]:
            result = results_refresh()
            self.stderr.write(
                f"Results of data version {result.data_version} stored "
                f"({result.duration_seconds:.1f} s, data cut {result.document['data_cut']})."
            )
            return
        results = compute_results(build_dataset())
        text = json.dumps(results, ensure_ascii=False, indent=1)
        if options["out"] == "-":
            sys.stdout.write(text + "\n")
        else:
            Path(options["out"]).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(
                f"Results written to {options['out']} (data cut {results['data_cut']})."
            )
