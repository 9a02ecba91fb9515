"""Benchmark: ``import_data`` of an export bundle at 100 and 1 000 patients (10 000 with
``BENCH_IMPORT_10K=1``), every row through the forms and services. Prints patients per second.
Not a test.

    .venv/bin/python bench/import_rate.py

The bundle is exported from the synthetic trial (bench/_synthetic_trial.py) on a throwaway
PostgreSQL, then imported into an emptied database with the same sites. Target: 10 000
patients in under 10 minutes (≥ 16.7 patients/s).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hfs_ecrf.settings")
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from analysis.exports.bundle import bundle_bytes
    from analysis.exports.importer import import_data
    from analysis.exports.options import ExportOptions
    from bench._synthetic_trial import SITES, load
    from patients.models import Patient, Site

    call_command("migrate", verbosity=0)
    load(User.objects.create_user("bench").pk)
    study_ids = list(Patient.objects.order_by("pk").values_list("study_id", flat=True))
    sizes = [100, 1000] + ([10_000] if os.environ.get("BENCH_IMPORT_10K") else [])
    print(f"{'patients':>9} {'visits':>7} {'forms':>7} {'seconds':>8} {'patients/s':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        bundles = {}
        for n in sizes:
            data, _rows = bundle_bytes(ExportOptions(study_ids=study_ids[:n]), data_cut="bench")
            bundles[n] = Path(tmp) / f"bundle{n}.zip"
            bundles[n].write_bytes(data)
        for n in sizes:
            call_command("flush", interactive=False, verbosity=0)
            for code in SITES:
                Site(code=code, name=f"Bench {code}").save_audited(user=None, reason="bench")
            user = User.objects.create_user("importer")
            start = time.perf_counter()
            report = import_data(bundles[n], user=user, accept_warnings=True)
            seconds = time.perf_counter() - start
            print(
                f"{report.patients:>9} {report.visits:>7} {report.forms:>7} {seconds:>8.1f} "
                f"{report.patients / seconds:>11.2f}",
                flush=True,
            )


def main() -> None:
    from bench._cluster import on_postgres

    on_postgres(run)


if __name__ == "__main__":
    main()
