from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from analysis.dataset import build_dataset
from analysis.results import compute_results


class Command(BaseCommand):
    help = "Compute the statistical analysis plan on the stored data; write the results JSON."

    def add_arguments(self, parser):
        parser.add_argument("--out", default="-", help="file to write, or - for stdout")

    def handle(self, *args, **options):
        results = compute_results(build_dataset())
        text = json.dumps(results, ensure_ascii=False, indent=1)
        if options["out"] == "-":
            sys.stdout.write(text + "\n")
        else:
            Path(options["out"]).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(
                f"Results written to {options['out']} (data cut {results['data_cut']})."
            )
