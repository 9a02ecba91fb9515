"""Benchmark: ``import_data`` of an export bundle at 100 and 1 000 patients (10 000 with
``BENCH_IMPORT_10K=1``), every row through the forms and services. Prints patients per second.
Not a test.

    .venv/bin/python bench/import_rate.py
    .venv/bin/python bench/import_rate.py --profile   # cProfile (CPU time) of 100 patients

The bundle is exported from the synthetic trial (bench/_synthetic_trial.py) on a throwaway
PostgreSQL, then imported into an emptied database with the same sites. Target: 10 000
patients in under 10 minutes (≥ 16.7 patients/s). Besides the rate it prints the importer's own
CPU time and the SQL statements per patient, and the load average (the machine may be shared).

Floor: the same rows the import wrote (every study and history table it filled, same columns and
values, checked equal in count) copied into empty tables of the same shape with ``COPY``: the
database work alone, without reading the file or validating anything.
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
    from django.db import connection

    from analysis.exports.bundle import bundle_bytes
    from analysis.exports.importer import import_data
    from analysis.exports.options import ExportOptions
    from bench._synthetic_trial import SITES, load
    from patients.models import Patient, Site

    call_command("migrate", verbosity=0)
    load(User.objects.create_user("bench").pk)
    study_ids = list(Patient.objects.order_by("pk").values_list("study_id", flat=True))
    sizes = [100, 1000] + ([10_000] if os.environ.get("BENCH_IMPORT_10K") else [])
    profile = "--profile" in sys.argv
    if profile:
        sizes = [100]
    print(
        f"{'patients':>9} {'visits':>7} {'forms':>7} {'seconds':>8} {'patients/s':>11} "
        f"{'cpu ms/pat.':>13} {'SQL/patient':>13} {'floor s':>8} {'load':>5}  target"
    )
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
            statements = [0]

            def count(execute, sql, params, many, context, statements=statements):
                statements[0] += 1
                return execute(sql, params, many, context)

            profiler = _profiler() if profile else None
            with connection.execute_wrapper(count):
                start, cpu = time.perf_counter(), time.process_time()
                if profiler is not None:
                    profiler.enable()
                report = import_data(bundles[n], user=user, accept_warnings=True)
                if profiler is not None:
                    profiler.disable()
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            if profiler is not None:
                _print_profile(profiler)
            floor = _floor_seconds()
            rate = report.patients / seconds
            print(
                f"{report.patients:>9} {report.visits:>7} {report.forms:>7} {seconds:>8.1f} "
                f"{rate:>11.2f} {1000 * cpu / report.patients:>13.0f} "
                f"{statements[0] / report.patients:>13.1f} {floor:>8.2f} "
                f"{os.getloadavg()[0]:>5.1f}  {'met' if rate >= 16.7 else 'NOT met'}",
                flush=True,
            )


def _profiler():
    import cProfile

    return cProfile.Profile(time.process_time)  # CPU time: waits for the database do not count


def _print_profile(profiler) -> None:
    import pstats

    stats = pstats.Stats(profiler, stream=sys.stdout)
    if os.environ.get("BENCH_PROFILE_OUT"):  # for pstats / snakeviz
        stats.dump_stats(os.environ["BENCH_PROFILE_OUT"])
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)


def _floor_seconds() -> float:
    """COPY the rows the import wrote into empty tables of the same shape (see the docstring)."""
    import io

    from django.db import connection, transaction

    from hfs_ecrf.dbguard import protected_tables

    tables = protected_tables()
    names = sorted(tables["study"] | tables["history"])
    dumps = {}
    with connection.cursor() as cursor:
        for name in names:
            out = io.StringIO()
            cursor.cursor.copy_expert(f'COPY "{name}" TO STDOUT', out)
            if out.tell():
                dumps[name] = out.getvalue()
    with transaction.atomic(), connection.cursor() as cursor:
        start = time.perf_counter()
        for name, text in dumps.items():
            cursor.execute(f'CREATE TEMP TABLE "floor_{name}" (LIKE "{name}" INCLUDING ALL)')
            cursor.cursor.copy_expert(f'COPY "floor_{name}" FROM STDIN', io.StringIO(text))
        seconds = time.perf_counter() - start
        for name in dumps:  # the same rows
            cursor.execute(f'SELECT (SELECT count(*) FROM "{name}"), count(*) FROM "floor_{name}"')
            ours, floor = cursor.fetchone()
            assert ours == floor, (name, ours, floor)
        transaction.set_rollback(True)
    return seconds


def main() -> None:
    from bench._cluster import on_postgres

    on_postgres(run)


if __name__ == "__main__":
    main()
